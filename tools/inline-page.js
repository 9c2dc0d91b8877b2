// inline-page.js PAGE JS CSS: prints PAGE with the charting library's
// minified JS and CSS put in place of its two markers, so that the page the
// binary embeds is one self-contained file (it loads nothing at run time).
// Markers: <style data-inline="uplot"></style> and
// <script data-inline="uplot"></script>.
"use strict";
const fs = require("fs");
const [page, js, css] = process.argv.slice(2).map((f) => fs.readFileSync(f, "utf8"));
const marks = {
  '<style data-inline="uplot"></style>': "<style>" + css + "</style>",
  // "</script" inside the library would end the element early
  '<script data-inline="uplot"></script>': "<script>" + js.replace(/<\/script/gi, "<\\/script") + "</script>",
};
let out = page;
for (const [mark, text] of Object.entries(marks)) {
  if (out.split(mark).length !== 2) {
    console.error("inline-page: expected exactly one " + mark);
    process.exit(1);
  }
  out = out.replace(mark, () => text);
}
process.stdout.write(out);
