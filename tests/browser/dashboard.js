// dashboard.js URL SPEC_JSON OUTDIR: opens kpulse's dashboard in Debian's
// Chromium (playwright-core, a fresh profile), at 1280 px and at a phone's
// width, does what a person would (reads the tables, opens a container,
// hovers the charts, sorts, filters, follows a container's link,
// acknowledges an alert with a wrong and then the right token) and prints
// what the page showed as JSON for tests/integration/test_dashboard.py to
// judge. Screenshots go to OUTDIR. SPEC: {names: [...], open: NAME,
// alert: ID, token: TOKEN, hostile: [NAME, ...], glob, substring}.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");

const [url, specJson, outDir] = process.argv.slice(2);
const spec = JSON.parse(specJson);
const TIMEOUT = 20000;

// Everything the page logs or fails at, from any page of the run.
const problems = [];
let refused = 0;
function watch(page, view) {
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return;
    // Chromium logs the deliberate wrong-token ack's 403 as a failed load
    if (view === "ack" && /status of 403/.test(m.text())) refused++;
    else problems.push(view + " console " + m.type() + ": " + m.text());
  });
  page.on("pageerror", (e) => problems.push(view + " page error: " + e.message));
  page.on("requestfailed", (r) => problems.push(view + " request failed: " + r.url() + " " + (r.failure() || {}).errorText));
  page.on("response", (r) => {
    // the ack with a wrong token is meant to be refused
    if (r.status() >= 400 && !/\/ack$/.test(r.url())) problems.push(view + " HTTP " + r.status() + ": " + r.url());
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(url)) problems.push(view + " request elsewhere: " + r.url());
  });
  page.on("dialog", (d) => { problems.push(view + " dialog: " + d.message()); d.dismiss(); });
}

// What each chart card shows: its tick labels (as uPlot drew them), how many
// points and heatmap cells, and whether its canvas has any ink.
function charts(page, sel) {
  return page.$$eval(sel + " [data-chart]", (cards) => cards.map((c) => {
    const cv = c.querySelector("canvas");
    let ink = 0;
    if (cv && cv.width) {
      const d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
      for (let i = 3; i < d.length; i += 16) if (d[i]) ink++;
    }
    return {
      id: c.dataset.chart, title: c.querySelector("h3").textContent,
      xticks: (c.dataset.xticks || "").split("|").filter(Boolean),
      yticks: (c.dataset.yticks || "").split("|").filter(Boolean),
      points: Number(c.dataset.points || 0), cells: c.dataset.cells === undefined ? null : Number(c.dataset.cells),
      empty: !c.querySelector(".empty").hidden, ink,
      legend: [...c.querySelectorAll(".u-legend .u-series")].map((s) => s.textContent.trim()),
      foot: c.querySelector(".foot").textContent,
      width: c.getBoundingClientRect().width,
    };
  }));
}

async function rowsOf(page) {
  return page.$$eval("#rows tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
}

async function waitRows(page, names) {
  await page.waitForFunction((want) => {
    const got = new Set([...document.querySelectorAll("#rows td.name")].map((td) => td.textContent));
    return want.every((n) => got.has(n)) && Number(document.body.dataset.refreshes || 0) >= 1;
  }, names, { timeout: TIMEOUT });
}

async function openContainer(page, name) {
  await page.$$eval("#rows td.name a", (as, n) => as.find((a) => a.textContent === n).click(), name);
  await page.waitForFunction(() => {
    const c = document.querySelector('#d-charts [data-chart="runq"]');
    return c && Number(c.dataset.cells || 0) > 0 && document.querySelector('#d-charts [data-chart="cpu"]').dataset.xticks;
  }, null, { timeout: TIMEOUT });
}

// Hover the middle of a chart's plot area; returns its legend and foot.
async function hover(page, sel) {
  const over = page.locator(sel + " .u-over");
  await over.scrollIntoViewIfNeeded();
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5);
  await page.waitForTimeout(150);
  return page.$eval(sel, (c) => ({
    legend: [...c.querySelectorAll(".u-legend .u-series")].map((s) => s.textContent.trim()),
    foot: c.querySelector(".foot").textContent,
  }));
}

async function view(ctx, name, width, height, out) {
  const page = await ctx.newPage();
  await page.setViewportSize({ width, height });
  watch(page, name);
  await page.goto(url + "/", { waitUntil: "load" });
  await waitRows(page, spec.names);
  const r = { rows: await rowsOf(page) };
  r.head = await page.$$eval("#head th", (ths) => ths.map((th) => th.textContent));
  r.nodeCharts = await charts(page, "#n-charts");
  r.nics = await page.$$eval("#n-nics tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  r.kpis = await page.$$eval("#n-kpis .kpi", (ks) => Object.fromEntries(ks.map((k) => [k.dataset.kpi, k.querySelector(".v").textContent])));
  r.images = await page.$$eval("img", (is) => is.length);
  r.xss = await page.evaluate(() => window.__kpulse_xss === undefined ? null : String(window.__kpulse_xss));
  r.hostileCells = [];
  for (const n of spec.hostile)
    r.hostileCells.push(await page.$$eval("#rows td.name", (tds, n) => tds.filter((td) => td.textContent === n)
      .map((td) => ({ text: td.textContent, elements: td.querySelectorAll("*").length })), n));

  await openContainer(page, spec.open);
  r.detailTitle = await page.textContent("#d-title");
  r.detailCharts = await charts(page, "#d-charts");
  r.factors = await page.textContent("#d-factors");
  r.cpuFacts = await page.$$eval("#d-cpu span", (ss) => ss.map((x) => x.textContent));
  await page.waitForFunction(() => document.querySelectorAll("#d-ports tbody td").length > 1, null, { timeout: TIMEOUT });
  r.ports = await page.$$eval("#d-ports tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  r.heatHover = await hover(page, '#d-charts [data-chart="runq"]');
  r.cpuHover = await hover(page, '#d-charts [data-chart="cpu"]');
  r.link = await page.$$eval("#rows td.name a", (as, n) => as.find((a) => a.textContent === n).getAttribute("href"), spec.open);
  const hostileLinks = [];
  for (const n of spec.hostile)
    hostileLinks.push(await page.$$eval("#rows td.name a", (as, n) => as.find((a) => a.textContent === n).getAttribute("href"), n));
  r.hash = await page.evaluate(() => location.hash);
  r.overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.mouse.move(0, 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(outDir, "dashboard-" + name + ".png"), fullPage: true });
  await page.locator("#detail").screenshot({ path: path.join(outDir, "dashboard-" + name + "-detail.png") });

  // sort: by name ascending, then CPU descending
  const col = (h) => r.head.findIndex((x) => x.replace(/ [▲▼]$/, "") === h);
  await page.click("#head th:nth-child(" + (col("container") + 1) + ")");
  r.sortedByName = (await rowsOf(page)).map((x) => x[0]);
  await page.click("#head th:nth-child(" + (col("CPU cores") + 1) + ")");
  await page.click("#head th:nth-child(" + (col("CPU cores") + 1) + ")");
  r.sortedByCpu = (await rowsOf(page)).map((x) => x[col("CPU cores")]);

  // filter by a glob and by a substring
  await page.fill("#filter", spec.glob);
  r.filteredGlob = (await rowsOf(page)).map((x) => x[0]);
  await page.fill("#filter", spec.substring);
  r.filteredSub = (await rowsOf(page)).map((x) => x[0]);
  r.filterHash = await page.evaluate(() => location.hash);
  await page.fill("#filter", "");
  await page.close();

  // the shared link opens that container on a page of its own
  const p2 = await ctx.newPage();
  await p2.setViewportSize({ width, height });
  watch(p2, name + " link");
  await p2.goto(url + "/" + r.link, { waitUntil: "load" });
  await p2.waitForFunction(() => !document.querySelector("#detail").hidden &&
    document.querySelector("#d-title").textContent, null, { timeout: TIMEOUT });
  r.linkTitle = await p2.textContent("#d-title");
  // and each hostile name's link opens its container under the same text
  r.hostileTitles = [];
  for (const [i, n] of spec.hostile.entries()) {
    await p2.goto(url + "/" + hostileLinks[i], { waitUntil: "load" });
    await p2.waitForFunction((n) => !document.querySelector("#detail").hidden &&
      document.querySelector("#d-title").textContent === n, n, { timeout: TIMEOUT });
    r.hostileTitles.push(await p2.textContent("#d-title"));
  }
  await p2.close();
  out[name] = r;
}

async function ack(ctx, out) {
  const page = await ctx.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  watch(page, "ack");
  await page.goto(url + "/", { waitUntil: "load" });
  const button = 'tr[data-alert="' + spec.alert + '"] button.ack';
  await page.waitForSelector(button, { timeout: TIMEOUT });
  const a = {};
  // a wrong token: the server's 403 is shown, and the token is forgotten
  await page.click(button);
  await page.waitForSelector("#token-dlg[open]", { timeout: TIMEOUT });
  await page.fill("#token-in", "wrong-token-123");
  await page.click("#token-ok");
  await page.waitForFunction(() => /HTTP/.test(document.querySelector("#ack-msg").textContent), null, { timeout: TIMEOUT });
  a.wrong = await page.textContent("#ack-msg");
  a.storedAfterWrong = await page.evaluate((k) => sessionStorage.getItem(k), "kpulse-admin-token");
  // the right one: asked again, then acknowledged
  await page.click(button);
  await page.waitForSelector("#token-dlg[open]", { timeout: TIMEOUT });
  await page.fill("#token-in", spec.token);
  await page.click("#token-ok");
  await page.waitForFunction(() => /HTTP 200/.test(document.querySelector("#ack-msg").textContent), null, { timeout: TIMEOUT });
  a.right = await page.textContent("#ack-msg");
  a.session = await page.evaluate((k) => sessionStorage.getItem(k), "kpulse-admin-token");
  a.local = await page.evaluate(() => localStorage.length);
  a.row = await page.$eval('tr[data-alert="' + spec.alert + '"]', (tr) => tr.textContent);
  out.ack = a;
  await page.close();
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "kpulse-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const out = {};
  try {
    await view(ctx, "1280", 1280, 900, out);
    await view(ctx, "phone", 390, 844, out);
    await ack(ctx, out);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  out.problems = problems;
  out.refusedLogged = refused;
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: e.stack, problems }));
  process.exit(1);
});
