// dashboard_check.js URL [CONTAINER]: runs the dashboard's own script (as
// served at URL/) against the live JSON API with a minimal DOM, refreshes
// once, clicks CONTAINER's row, and prints what the page shows as JSON:
// {err, header: {id: text}, head: [...], rows: [[cell...]], alerts: [[...]],
//  charts: [text...]}. Node 18+ (global fetch).
"use strict";
const vm = require("vm");
const base = process.argv[2];
const pick = process.argv[3];

class El {
  constructor(tag, id) {
    this.tag = tag; this.id = id || ""; this.children = []; this.attrs = {};
    this._text = ""; this.className = ""; this.hidden = false; this.onclick = null;
  }
  get textContent() { return this._text + this.children.map((c) => c.textContent).join(""); }
  set textContent(v) { this._text = String(v); this.children = []; }
  appendChild(c) { this.children.push(c); return c; }
  replaceChildren(...c) { this._text = ""; this.children = c; }
  setAttribute(k, v) { this.attrs[k] = String(v); }
}

async function main() {
  const page = await (await fetch(base + "/")).text();
  const script = page.match(/<script>([\s\S]*)<\/script>/)[1];
  const byId = {};
  for (const m of page.matchAll(/<(\w+)[^>]*\sid="([^"]+)"/g))
    byId[m[2]] = new El(m[1], m[2]);
  const document = {
    getElementById: (id) => byId[id] || (byId[id] = new El("div", id)),
    createElement: (t) => new El(t),
    createElementNS: (ns, t) => new El(t),
  };
  const ctx = vm.createContext({
    document, console, encodeURIComponent, Promise, Math, Object, String, Number, Error,
    fetch: (p, o) => fetch(base + p, o),
    setInterval: () => 0,
  });
  vm.runInContext(script, ctx);
  await ctx.refresh();
  const text = (el) => el.children.map((tr) => tr.children.map((td) => td.textContent));
  const out = {
    err: byId.err.textContent,
    header: Object.fromEntries(Object.keys(byId).filter((k) => k.startsWith("n-"))
      .map((k) => [k, byId[k].textContent])),
    head: byId.head.children.map((th) => th.textContent),
    rows: text(byId.rows),
    alerts: text(byId.alerts),
    charts: [],
  };
  if (pick) {
    const tr = byId.rows.children.find((r) => r.children[0].textContent === pick);
    if (tr) {
      await tr.onclick();
      out.title = byId["d-title"].textContent;
      out.charts = byId["d-charts"].children.map((d) => ({
        text: d.children.length ? d.children[0].textContent : d.textContent,
        path: d.children.length > 1 && d.children[1].children.length
          ? d.children[1].children[0].attrs.d : null,
      }));
    }
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error("dashboard_check: " + e.stack); process.exit(1); });
