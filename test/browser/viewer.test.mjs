// The IR viewer (dist/webview.js) in headless Debian chromium, fed REAL Reports made by the
// compiler (compiler-core's `analyze`, run through tsx): an elementwise function (gelu),
// softmax, an MLP and a `scan` (ema), each in a light and a dark theme, every stage
// asserted on what is drawn; plus a 2,000-equation function whose graph must draw completely
// off the UI thread (its draw time logged, not asserted), a 5,060-equation one past the size
// limits (webview/src/limits.ts), the stale marker, malformed messages, keyboard navigation and state across a reload.
// Screenshots go to test-results/browser/. Run: node --import tsx --test test/browser/viewer.test.mjs
// (after `npm run build`). Needs chromium at /usr/bin/chromium (or JITLENS_CHROMIUM).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { analyze } from "../../compiler-core/src/api.ts";
import { formatSpeedup } from "../../compiler-core/src/format.ts";
import { parseJaxpr } from "../../webview/src/graph-model.ts";
import { GRAPH_MAX_EQNS, graphTooBigMessage, STATE_MAX_CHARS, TEXT_MAX_LINES } from "../../webview/src/limits.ts";
import { startServer } from "./page.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shots = path.join(root, "test-results", "browser");
const chromiumPath = process.env.JITLENS_CHROMIUM || "/usr/bin/chromium";
const STAGES = ["jaxpr", "lowered", "passes", "kernels", "graph", "timings"];

const CASES = [
  { name: "elementwise", file: "elementwise.py", fn: "gelu" },
  { name: "softmax", file: "reductions.py", fn: "softmax" },
  { name: "mlp", file: "networks.py", fn: "mlp_forward" },
  { name: "scan", file: "transforms.py", fn: "ema" },
];

async function realReport(file, fn, extra = {}) {
  const abs = path.join(root, "examples", file);
  const report = await analyze({ file: abs, source: fs.readFileSync(abs, "utf8"), fn, timing: { minRuns: 3, minTimeMs: 10 }, ...extra });
  assert.equal(report.error, undefined, `${file}:${fn} compiled without error`);
  return report;
}

/** The first source line of an IR line in the report's own file (what the viewer must send). */
function firstLine(report, irLine) {
  const own = irLine.spans.filter((s) => s.file === report.file);
  return (own.length ? own : irLine.spans)[0]?.line;
}

let browser;
let server;
before(async () => {
  assert.ok(fs.existsSync(path.join(root, "dist", "webview.js")), "dist/webview.js is built (npm run build)");
  assert.ok(fs.existsSync(chromiumPath), `chromium at ${chromiumPath}`);
  fs.mkdirSync(shots, { recursive: true });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
  server = await startServer(root);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh page in `theme`, checked for script errors and CSP violations at the end. */
async function openViewer(theme, { width = 1100, height = 800 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${server.base}/${theme}.html`);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === "ready"));
  return { page, problems };
}

async function post(page, message) {
  await page.evaluate((m) => window.postMessage(m, "*"), message);
}

async function showStage(page, stage) {
  await page.click(`[data-testid="tab-${stage}"]`);
  await page.locator(`vscode-tab-panel[data-stage="${stage}"]`).waitFor({ state: "visible" });
}

async function lastPosted(page, type) {
  return page.evaluate((t) => window.__posted.filter((m) => m.type === t).at(-1), type);
}

for (const c of CASES) {
  describe(`viewer: ${c.name} (${c.file} ${c.fn})`, () => {
    let report;
    before(async () => {
      report = await realReport(c.file, c.fn);
    });

    for (const theme of ["light", "dark"]) {
      test(`draws every stage from the real Report, ${theme} theme`, async () => {
        const { page, problems } = await openViewer(theme);
        try {
          await post(page, { type: "report", report });
          await page.locator("header.summary h1").waitFor();
          assert.match(await page.locator("header.summary h1").innerText(), new RegExp(c.fn));

          // Jaxpr: one element per printed line, same text, coloured by kernel; hover and click link to the source line.
          await showStage(page, "jaxpr");
          const jaxprLines = page.locator('[data-testid="jaxpr"] .ir-line');
          assert.equal(await jaxprLines.count(), report.jaxpr.length, "one element per jaxpr line");
          const eqIdx = report.jaxpr.findIndex((l) => l.spans.length > 0);
          assert.equal(await jaxprLines.nth(eqIdx).innerText(), report.jaxpr[eqIdx].text);
          await jaxprLines.nth(eqIdx).hover();
          const hl = await lastPosted(page, "highlight");
          assert.equal(hl.line, firstLine(report, report.jaxpr[eqIdx]), "hovering a jaxpr line highlights its source line");
          await jaxprLines.nth(eqIdx).click();
          assert.equal((await lastPosted(page, "reveal")).line, firstLine(report, report.jaxpr[eqIdx]), "clicking reveals it");
          assert.notEqual(await jaxprLines.nth(eqIdx).evaluate((el) => el.style.getPropertyValue("--line-color")), "", "the line has its kernel's colour");
          await page.screenshot({ path: path.join(shots, `${c.name}-${theme}-jaxpr.png`), fullPage: true });

          // Lowered.
          await showStage(page, "lowered");
          assert.equal(await page.locator('[data-testid="lowered"] .ir-line').count(), report.lowered.length);
          assert.match(await page.locator('[data-testid="lowered"]').innerText(), /HloModule/);
          await page.screenshot({ path: path.join(shots, `${c.name}-${theme}-lowered.png`), fullPage: true });

          // Passes: unchanged ones hidden until the toggle; changed ones show their diff.
          await showStage(page, "passes");
          const changed = report.passes.filter((p) => p.changed).length;
          assert.equal(await page.locator('[data-testid="pass"]:visible').count(), changed, "only passes that changed something");
          for (const p of report.passes.filter((q) => q.changed)) {
            const sec = page.locator(`[data-testid="pass"][data-pass="${p.name}"]`);
            assert.ok((await sec.locator(".ir-line.add, .ir-line.del").count()) > 0, `${p.name} shows what it added or removed`);
          }
          await page.click('[data-testid="show-unchanged"]');
          assert.equal(await page.locator('[data-testid="pass"]:visible').count(), report.passes.length, "the toggle shows all passes");
          await page.screenshot({ path: path.join(shots, `${c.name}-${theme}-passes.png`), fullPage: true });

          // Kernels: one section per kernel with its highlighted source, metrics and reason.
          await showStage(page, "kernels");
          const sections = page.locator('[data-testid="kernels"] section.kernel');
          assert.equal(await sections.count(), report.kernels.length);
          for (let i = 0; i < report.kernels.length; i++) {
            const k = report.kernels[i];
            const sec = sections.nth(i);
            assert.equal(await sec.locator('[data-testid="kernel-source"]').textContent(), k.source, `${k.name}: the generated source, verbatim`);
            if (/\b(function|for|let|const|fn|func|loop|local)\b/.test(k.source.replace(/(\/\/|;;)[^\n]*/g, ""))) assert.ok((await sec.locator(".tok-kw").count()) > 0, `${k.name}: keywords of its language (${k.language}) highlighted`);
            assert.match(await sec.locator('[data-testid="kernel-reason"]').innerText(), /Why it ends here/);
            assert.ok((await sec.locator('[data-testid="kernel-reason"]').innerText()).includes(k.reason));
            const stats = await sec.locator("dl.stats").innerText();
            for (const word of ["inputs", "outputs", "bytes", "FLOPs", "arithmetic intensity"]) assert.ok(stats.includes(word), `${k.name}: ${word}`);
          }
          await page.screenshot({ path: path.join(shots, `${c.name}-${theme}-kernels.png`), fullPage: true });

          // Graph: one cluster per kernel, one node per equation; clicking a node reveals its line.
          await showStage(page, "graph");
          const graph = page.locator('[data-testid="graph"]');
          await page.waitForFunction(() => document.querySelector('[data-testid="graph"]')?.dataset.state !== "layout", null, { timeout: 10_000 });
          assert.equal(await graph.getAttribute("data-state"), "ready", await graph.innerText());
          assert.equal(await page.locator('[data-testid="graph-cluster"]').count(), report.kernels.length, "kernel clusters == kernels");
          assert.equal(await page.locator('[data-testid="graph-node"][data-eqn]').count(), report.eqnCount, "a node per equation");
          assert.ok((await page.locator("svg.graph path.edge").count()) > 0, "edges drawn");
          const withLine = page.locator('[data-testid="graph-node"][data-line]').first();
          const nodeLine = Number(await withLine.getAttribute("data-line"));
          await withLine.click();
          assert.equal((await lastPosted(page, "reveal")).line, nodeLine);
          await page.screenshot({ path: path.join(shots, `${c.name}-${theme}-graph.png`) });

          // Timings: interpreted and compiled bars, the speedup labelled.
          await showStage(page, "timings");
          const timings = page.locator('[data-testid="timings"]');
          assert.equal(await page.locator('[data-testid="timing-bar"]').count(), 2, "interpreted and compiled bars for the one backend measured");
          const label = await page.locator('[data-testid="speedup-label"]').textContent();
          assert.ok(label.includes(formatSpeedup(report.timings.speedup)), `speedup labelled (${label})`);
          const text = await timings.innerText();
          for (const w of ["eager", "compiled", formatSpeedup(report.timings.speedup)]) assert.ok(text.includes(w), w);
          await page.screenshot({ path: path.join(shots, `${c.name}-${theme}-timings.png`), fullPage: true });

          // The editor's cursor line marks the IR lines and graph nodes it produced.
          const line = firstLine(report, report.jaxpr[eqIdx]);
          await post(page, { type: "sourceLine", line });
          const marked = await page.locator('[data-testid="jaxpr"] .ir-line.cursor').count();
          const expected = report.jaxpr.filter((l) => l.spans.some((s) => s.file === report.file && s.line === line)).length;
          assert.equal(marked, expected, "jaxpr lines of the cursor's source line are marked");
          assert.ok((await page.locator('[data-testid="graph-node"].cursor').count()) > 0, "graph nodes of that line are marked");

          assert.deepEqual(problems, []);
        } finally {
          await page.close();
        }
      });
    }
  });
}

describe("viewer: behaviour", () => {
  let softmax;
  before(async () => {
    softmax = await realReport("reductions.py", "softmax");
  });

  test("ignores malformed messages without throwing, and keeps showing the last good Report", async () => {
    const { page, problems } = await openViewer("dark");
    try {
      await post(page, { type: "report", report: softmax });
      await page.locator("header.summary").waitFor();
      const junk = [
        null,
        5,
        "report",
        { type: "report" },
        { type: "report", report: { ...softmax, version: 2 } },
        { type: "report", report: { ...softmax, jaxpr: [{ text: 3, spans: [] }] } },
        { type: "report", report: { ...softmax, kernels: [{ name: "k" }] } },
        { type: "report", report: { ...softmax, timings: { ...softmax.timings, eager: null } } },
        { type: "sourceLine", line: "7" },
        { type: "sourceLine", line: 0 },
        { type: "nope" },
      ];
      for (const m of junk) await post(page, m);
      await page.waitForTimeout(100);
      assert.match(await page.locator("header.summary h1").innerText(), /softmax/);
      assert.equal(await page.locator('[data-testid="jaxpr"] .ir-line').count(), softmax.jaxpr.length);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test("stale marker: {type:'stale', stale:true} shows the banner, false removes it, the next Report clears it; malformed ones are dropped", async () => {
    const { page, problems } = await openViewer("light");
    try {
      // Before any Report: nothing to mark, no error.
      await post(page, { type: "stale", stale: true });
      await post(page, { type: "report", report: softmax });
      await page.locator("header.summary").waitFor();
      const banner = page.locator('[data-testid="stale"]');
      assert.equal(await banner.count(), 0, "a fresh Report is not stale");
      for (const m of [{ type: "stale" }, { type: "stale", stale: "yes" }, { type: "stale", stale: 1 }, { type: "stale", stale: null }]) await post(page, m);
      await page.waitForTimeout(50);
      assert.equal(await banner.count(), 0, "malformed stale messages are dropped");
      await post(page, { type: "stale", stale: true });
      await banner.waitFor();
      assert.equal(await banner.innerText(), "↻ stale: the function changed since this run — run Trace & Compile again");
      await post(page, { type: "stale", stale: true });
      assert.equal(await banner.count(), 1, "one banner, however often it is said");
      // It sits right under the summary, above the tabs, whatever stage is shown.
      assert.equal(await page.evaluate(() => document.querySelector("header.summary").nextElementSibling?.dataset.testid), "stale");
      await showStage(page, "kernels");
      assert.ok(await banner.isVisible());
      await page.screenshot({ path: path.join(shots, "stale-light.png") });
      await post(page, { type: "stale", stale: false });
      await page.waitForTimeout(50);
      assert.equal(await banner.count(), 0, "stale:false removes it");
      await post(page, { type: "stale", stale: true });
      await banner.waitFor();
      await post(page, { type: "report", report: softmax });
      await page.waitForTimeout(50);
      assert.equal(await banner.count(), 0, "the next Report clears it");
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test("keyboard: number keys and [ ] move between stages; the stage and pass toggle survive a reload", async () => {
    const { page, problems } = await openViewer("light");
    try {
      await post(page, { type: "report", report: softmax });
      await page.locator("header.summary").waitFor();
      await page.locator("body").click({ position: { x: 5, y: 5 } });
      await page.keyboard.press("4");
      await page.locator('vscode-tab-panel[data-stage="kernels"]').waitFor({ state: "visible" });
      await page.keyboard.press("]");
      await page.locator('vscode-tab-panel[data-stage="graph"]').waitFor({ state: "visible" });
      await page.keyboard.press("[");
      await page.keyboard.press("[");
      await page.locator('vscode-tab-panel[data-stage="passes"]').waitFor({ state: "visible" });
      await page.click('[data-testid="show-unchanged"]');
      await page.reload();
      await page.waitForFunction(() => window.__posted.some((m) => m.type === "ready"));
      // No new report message: the Report, the stage and the toggle come back from the saved state.
      await page.locator('vscode-tab-panel[data-stage="passes"]').waitFor({ state: "visible" });
      assert.match(await page.locator("header.summary h1").innerText(), /softmax/);
      assert.equal(await page.locator('[data-testid="pass"]:visible').count(), softmax.passes.length);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test("per-kernel chart: measured time against the bandwidth floor, one bar per profiled kernel", async () => {
    // The compiler does not profile kernels one by one yet: this gives the real softmax
    // Report a per-kernel profile (a share of the compiled median by bytes moved).
    const total = softmax.kernels.reduce((s, k) => s + k.bytesRead + k.bytesWritten, 0);
    const profiled = {
      ...softmax,
      kernels: softmax.kernels.map((k, i) => ({ ...k, timeMs: (softmax.timings.compiled.median_ms * (k.bytesRead + k.bytesWritten + 1)) / (total + 1) * (1 + i * 0.5) })),
    };
    const { page, problems } = await openViewer("dark");
    try {
      await post(page, { type: "report", report: profiled });
      await showStage(page, "timings");
      assert.equal(await page.locator('[data-testid="kernel-bar"]').count(), softmax.kernels.length);
      assert.equal(await page.locator('[data-testid="kernel-chart"] line.floor').count(), softmax.kernels.length);
      await showStage(page, "kernels");
      assert.match(await page.locator("section.kernel").first().locator("dl.stats").innerText(), /bandwidth floor/);
      await showStage(page, "timings");
      await page.screenshot({ path: path.join(shots, "softmax-dark-kernel-chart.png"), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  // The 2 s target is a speed target: measured and logged here (docs/BENCHMARKS.md keeps the
  // figures), never asserted, since this machine is shared. What is asserted: the graph is
  // complete and the page's own timer kept running during the layout (it ran off the UI thread).
  test("a 2,000-equation function's graph lays out off the UI thread and draws completely", async () => {
    const big = await realReport("transforms.py", "unrolled_heat", { args: "x=f32[64], steps=182", run: false });
    assert.ok(big.eqnCount >= 2000, `${big.eqnCount} equations`);
    assert.equal(parseJaxpr(big.jaxpr).eqns.length, big.eqnCount, "every equation read back from the jaxpr text");
    let best;
    for (let attempt = 1; attempt <= 1; attempt++) {
      const { page, problems } = await openViewer("dark");
      try {
        // The graph is the stage shown: the report's arrival starts the layout.
        await page.evaluate(() => sessionStorage.setItem("state", JSON.stringify({ stage: "graph" })));
        await page.reload();
        await page.waitForFunction(() => window.__posted.some((m) => m.type === "ready"));
        const ms = await measureGraph(page, big);
        console.log(`# 2,000-equation graph (attempt ${attempt}): ${big.eqnCount} equations, ${big.kernels.length} kernels: drawn ${ms.total.toFixed(0)} ms after the report arrived (graph stage: ${ms.layoutMs} ms, of which drawing ${ms.drawMs} ms), ${ms.ticks} 10-ms timer ticks meanwhile, longest gap ${ms.longestGap.toFixed(0)} ms`);
        assert.equal(ms.state, "ready");
        assert.ok(ms.ticks > 0, "the page's timer ticked during the layout (the UI thread was not blocked)");
        assert.equal(await page.locator('[data-testid="graph-cluster"]').count(), big.kernels.length);
        assert.equal(await page.locator('[data-testid="graph-node"][data-eqn]').count(), big.eqnCount);
        await page.screenshot({ path: path.join(shots, "heat2000-dark-graph.png") });
        assert.deepEqual(problems, []);
        if (!best || ms.total < best.ms.total) best = { ms };
      } finally {
        await page.close();
      }
    }
    assert.ok(best.ms.total > 0);
  });

  // Size limits (webview/src/limits.ts): past GRAPH_MAX_EQNS the Graph stage says so instead of
  // laying out; a text stage past TEXT_MAX_LINES draws its head and a "show all" button; a
  // Report whose JSON is tens of MB still renders every other stage and stays out of the
  // webview state. A real Report: unrolled_heat at 460 steps (5,060 equations), traced and
  // compiled only (run: false) to keep the test fast.
  test("past the size it can draw: the graph says so (5,060 equations), text stages show their head and a 'show all' button, a 30 MB Report renders the other stages", async () => {
    const t0 = performance.now();
    const big = await realReport("transforms.py", "unrolled_heat", { args: "x=f32[64], steps=460", run: false });
    const json = JSON.stringify(big).length;
    const eqns = parseJaxpr(big.jaxpr).eqns.length;
    console.log(`# over the limits: ${big.eqnCount} equations, ${big.kernels.length} kernels, ${big.jaxpr.length} jaxpr / ${big.lowered.length} lowered lines, JSON ${(json / 1e6).toFixed(1)} MB, made in ${(performance.now() - t0).toFixed(0)} ms`);
    assert.ok(eqns > GRAPH_MAX_EQNS, `${eqns} equations`);
    assert.ok(json > STATE_MAX_CHARS, `${json} characters of JSON`);
    const { page, problems } = await openViewer("dark");
    try {
      await page.evaluate(() => sessionStorage.setItem("state", JSON.stringify({ stage: "graph" })));
      await page.reload();
      await page.waitForFunction(() => window.__posted.some((m) => m.type === "ready"));
      // The Report is handed to the page first (31 MB over the DevTools protocol takes seconds),
      // then posted and timed inside the page.
      await page.evaluate((r) => { window.__big = r; }, big);
      const shownMs = await page.evaluate(async () => {
        const t = performance.now();
        window.postMessage({ type: "report", report: window.__big }, "*");
        while (document.querySelector('[data-testid="graph"]')?.dataset.state !== "too-big") await new Promise((r) => requestAnimationFrame(r));
        return performance.now() - t;
      });
      const graph = page.locator('[data-testid="graph"]');
      console.log(`# the graph's refusal shown ${shownMs.toFixed(0)} ms after the 31 MB report was posted (validation and structured clone included)`);
      assert.ok(await graph.isVisible());
      assert.equal(await graph.locator('[data-testid="graph-too-big"]').innerText(), graphTooBigMessage(eqns));
      assert.match(graphTooBigMessage(eqns), /^This function has 5,060 equations; the graph draws up to 5,000\. The Jaxpr and Kernels stages show everything\.$/);
      assert.equal(await page.locator('[data-testid="graph-svg"]').count(), 0, "nothing laid out");
      await page.screenshot({ path: path.join(shots, "heat5000-dark-graph-too-big.png") });

      // Every other stage renders.
      await showStage(page, "jaxpr");
      assert.equal(await page.locator('[data-testid="jaxpr"] .ir-line').count(), big.jaxpr.length, "all 5,062 jaxpr lines (under the text limit)");
      assert.equal(await page.locator('[data-testid="jaxpr"] [data-testid="text-limit"]').count(), 0);
      await showStage(page, "lowered");
      assert.equal(await page.locator('[data-testid="lowered"] .ir-line').count(), big.lowered.length);
      await showStage(page, "kernels");
      assert.equal(await page.locator('[data-testid="kernels"] section.kernel').count(), big.kernels.length);
      assert.equal(await page.locator('[data-testid="kernel-source-more"]').count(), big.kernels.filter((k) => k.source.length > 60_000).length, "megabyte kernel sources show their head");
      await showStage(page, "timings");
      assert.match(await page.locator('[data-testid="timings"]').innerText(), /Not run \(trace only\)/);
      // Passes: one line budget for the stage; what is past it waits behind "show all".
      await showStage(page, "passes");
      await page.click('[data-testid="show-unchanged"]');
      const passLines = page.locator('[data-testid="passes"] .ir-line');
      const drawn = await passLines.count();
      assert.ok(drawn <= TEXT_MAX_LINES, `${drawn} pass lines drawn at first`);
      const limits = page.locator('[data-testid="passes"] [data-testid="text-limit"]');
      console.log(`# passes: ${drawn} diff lines drawn, ${await limits.count()} pass(es) with more behind "show all"`);
      await page.screenshot({ path: path.join(shots, "heat5000-dark-passes.png") });
      if (await limits.count()) {
        const hidden = await limits.evaluateAll((els) => els.reduce((n, el) => n + Number(el.dataset.total) - Number(el.dataset.shown), 0));
        const folds = await page.locator('[data-testid="passes"] .fold').count();
        while (await limits.count()) await limits.first().locator('[data-testid="show-all-lines"]').click();
        const after = (await passLines.count()) + (await page.locator('[data-testid="passes"] .fold').count()) - folds;
        assert.equal(after, drawn + hidden, "show all draws every remaining row");
      }
      // The 31 MB Report is kept out of the webview state (the stage is kept).
      const saved = await page.evaluate(() => JSON.parse(sessionStorage.getItem("state") ?? "null"));
      assert.equal(saved?.report, undefined);
      assert.equal(saved?.stage, "passes");
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }

    // Text past TEXT_MAX_LINES: the same Report with its lowered module repeated twice (13,810
    // lines; a real one that long needs ~10,000 equations, a slow trace for a test).
    const long = { ...big, lowered: [...big.lowered, ...big.lowered] };
    const second = await openViewer("light");
    try {
      const p = second.page;
      await p.evaluate(() => sessionStorage.setItem("state", JSON.stringify({ stage: "lowered" })));
      await p.reload();
      await p.waitForFunction(() => window.__posted.some((m) => m.type === "ready"));
      await p.evaluate((r) => { window.__long = r; }, long);
      await p.evaluate(() => window.postMessage({ type: "report", report: window.__long }, "*"));
      const view = p.locator('[data-testid="lowered"]');
      await view.waitFor();
      assert.equal(await view.locator(".ir-line").count(), TEXT_MAX_LINES, "the first 10,000 lines");
      const limit = view.locator('[data-testid="text-limit"]');
      assert.equal(await limit.getAttribute("data-total"), String(long.lowered.length));
      assert.match(await limit.innerText(), /Showing the first 10,000 of 13,810 lines/);
      assert.equal(await limit.locator('[data-testid="show-all-lines"]').innerText(), "Show all 13,810 lines");
      await limit.scrollIntoViewIfNeeded();
      await p.screenshot({ path: path.join(shots, "lowered-light-text-limit.png") });
      const t2 = Date.now();
      await limit.locator('[data-testid="show-all-lines"]').click();
      await p.waitForFunction((n) => document.querySelectorAll('[data-testid="lowered"] .ir-line').length === n, long.lowered.length);
      console.log(`# show all ${long.lowered.length} lowered lines: ${Date.now() - t2} ms`);
      assert.equal(await view.locator('[data-testid="text-limit"]').count(), 0);
      assert.equal(await view.locator(".ir-line").last().innerText(), long.lowered.at(-1).text);
      assert.deepEqual(second.problems, []);
    } finally {
      await second.page.close();
    }
  });
});

/** Posts `report` (the graph stage shown) and waits for the drawing; a timer checks the UI thread stays free meanwhile. */
async function measureGraph(page, report) {
  return page.evaluate(async (report) => {
    const t0 = performance.now();
    window.postMessage({ type: "report", report }, "*");
    let ticks = 0;
    let longest = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 10);
    await new Promise((resolve, reject) => {
      const poll = () => {
        const state = document.querySelector('[data-testid="graph"]')?.dataset.state;
        if (state && state !== "layout") resolve();
        else if (performance.now() - t0 > 30_000) reject(new Error(`no graph after 30 s (state ${state})`));
        else requestAnimationFrame(poll);
      };
      poll();
    });
    clearInterval(timer);
    return { total: performance.now() - t0, ticks, longestGap: longest, layoutMs: Number(document.querySelector('[data-testid="graph"]').dataset.layoutMs), drawMs: Number(document.querySelector('[data-testid="graph"]').dataset.drawMs), state: document.querySelector('[data-testid="graph"]').dataset.state };
  }, report);
}

// Compare with JAX (issue 9): Report.compare from the fixtures — a hand-made GPU sample (its
// `synthetic` field says so) and a real NumPy-only run — drawn in the JAX stage and the Timings chart.
describe("viewer: Compare with JAX (Report.compare)", () => {
  const fixture = (f) => JSON.parse(fs.readFileSync(path.join(root, "test", "fixtures", "compare", f), "utf8"));
  const synthetic = fixture("sample_linear_relu_SYNTHETIC.json");
  const numpyOnly = fixture("sample_gelu_numpy_only.json");

  for (const theme of ["light", "dark"]) {
    test(`synthetic JAX sample: jaxprs side by side and aligned, the params mismatch highlighted, XLA's kernels, JAX bars, the banner (${theme})`, async () => {
      const { page, problems } = await openViewer(theme, { height: 900 });
      try {
        const c = synthetic.compare;
        // `stage: "jax"` (what the extension sends after a comparison) opens the JAX tab.
        await post(page, { type: "report", report: synthetic, stage: "jax" });
        await page.locator('vscode-tab-panel[data-stage="jax"]').waitFor({ state: "visible" });
        const stage = page.locator('[data-testid="jax"]');
        assert.match(await page.locator('[data-testid="compare-synthetic"]').innerText(), /Not a measurement: SYNTHETIC SAMPLE/);
        const env = await stage.locator('[data-testid="compare-env"]').innerText();
        assert.match(env, /Python 3\.12\.3 · NumPy 2\.1\.3 · JAX 0\.7\.2 · on gpu: NVIDIA H100 80GB HBM3 \(cuda:0\)/);
        assert.equal(await stage.locator('[data-testid="compare-missing"]').count(), 0, "nothing missing");
        assert.match(await stage.locator('[data-testid="compare-kernels"]').innerText(), new RegExp(`JIT Lens: ${synthetic.kernels.length} kernels? · XLA: 2 kernels: 1 fusion \\(1 kLoop\\), 1 custom call, 0 unfused ops`));
        assert.match(await stage.locator('[data-testid="compare-inputs"]').innerText(), /3 arrays \(seed 0\), bit-for-bit/);
        const runs = stage.locator('[data-testid="compare-runs"]');
        for (const r of ["ours-eager", "ours-compiled", "numpy", "jax_eager", "jax_jit"]) assert.equal(await runs.locator(`tr[data-run="${r}"]`).count(), 1, `a row for ${r}`);
        assert.match(await runs.locator('tr[data-run="jax_jit"]').innerText(), /^jax\.jit \(gpu\)\s+13 µs\s+12 µs\s+21 µs\s+15152\s+61 ms\s+2 \(XLA\)\s+4\.8e-4$/);
        assert.match(await stage.locator('[data-testid="jaxpr-diff-verdict"]').innerText(), /Same primitives, shapes and dtypes as JAX's \(4 equations\); some params differ/);

        // Side by side: every line of both texts, each aligned pair on one row.
        const sbs = stage.locator('[data-testid="jaxpr-side-by-side"]');
        const jaxLines = c.jaxpr.split("\n");
        assert.equal(await sbs.locator("td.ours .ir-line").count(), synthetic.jaxpr.length, "all our jaxpr lines");
        assert.equal(await sbs.locator("td.jax .ir-line").count(), jaxLines.length, "all of JAX's jaxpr lines");
        for (const p of c.jaxprDiff.pairs) {
          const row = sbs.locator(`tr.sbs-row[data-ours-line="${p.oursLine}"]`);
          assert.equal(await row.getAttribute("data-jax-line"), String(p.jaxLine), `our line ${p.oursLine} beside JAX's line ${p.jaxLine}`);
          assert.equal(await row.locator("td.ours .ir-line").innerText(), synthetic.jaxpr[p.oursLine].text);
          assert.equal(await row.locator("td.jax .ir-line").innerText(), jaxLines[p.jaxLine]);
        }
        // The one mismatch (broadcast_in_dim's params): both cells highlighted, its message under the row.
        const m = c.jaxprDiff.mismatches[0];
        const bad = sbs.locator("tr.sbs-row.mismatch");
        assert.equal(await bad.count(), 1);
        assert.equal(await bad.getAttribute("data-kind"), "params");
        assert.equal(await bad.locator("td.ours .mm-params").innerText(), synthetic.jaxpr[m.ours.line].text);
        assert.equal(await bad.locator("td.jax .mm-params").innerText(), jaxLines[m.jax.line]);
        assert.equal(await sbs.locator('[data-testid="jaxpr-mismatch-note"]').innerText(), `⚠ ${m.message}`);
        assert.notEqual(await bad.locator("td.ours .ir-line").evaluate((el) => getComputedStyle(el).backgroundColor), "rgba(0, 0, 0, 0)", "the mismatch has a background");
        assert.deepEqual(await stage.locator('[data-testid="jaxpr-mismatch"]').allInnerTexts(), [m.message]);
        assert.equal(await stage.locator('[data-testid="jaxpr-diff-note"]').count(), c.jaxprDiff.notes.length);
        // HLO: ours beside XLA's, XLA's two launches marked.
        assert.match(await stage.locator('[data-testid="hlo-ours"]').innerText(), /HloModule/);
        assert.match(await stage.locator('[data-testid="hlo-xla"]').innerText(), /__cublas\$gemm/);
        assert.equal(await stage.locator('[data-testid="hlo-xla"] .launch').count(), 2, "the cuBLAS call and the loop fusion");
        assert.equal(await stage.locator('[data-testid="compare-stablehlo"]').count(), c.stablehlo ? 1 : 0);
        await page.screenshot({ path: path.join(shots, `compare-synthetic-${theme}-jax.png`), fullPage: true });
        // Our side stays linked to the source.
        const oursEq = sbs.locator(`tr.sbs-row[data-ours-line="${m.ours.line}"] td.ours .ir-line`);
        await oursEq.hover();
        assert.equal((await lastPosted(page, "highlight")).line, firstLine(synthetic, synthetic.jaxpr[m.ours.line]));

        // Timings: our two bars plus NumPy, JAX eager and jax.jit.
        await showStage(page, "timings");
        const bars = page.locator('[data-testid="timing-chart"] [data-testid="timing-bar"]');
        assert.deepEqual(await bars.evaluateAll((els) => els.map((e) => e.dataset.mode)), ["eager", "compiled", "numpy", "jax_eager", "jax_jit"]);
        assert.equal(await page.locator('[data-testid="timing-run-note"]').count(), 0);
        assert.match(await page.locator('[data-testid="timing-chart"]').textContent(), /jax\.jit[\s\S]*13 µs/);
        assert.match(await page.locator('[data-testid="timings"]').innerText(), /\d+(\.\d+)?× compiled vs eager/, "our own speedup is still there");
        await page.screenshot({ path: path.join(shots, `compare-synthetic-${theme}-timings.png`), fullPage: true });
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    });
  }

  for (const theme of ["light", "dark"]) {
    test(`NumPy-only run (real, no JAX): what is missing as sentences, a NumPy bar and no JAX bars, no banner (${theme})`, async () => {
      const { page, problems } = await openViewer(theme);
      try {
        await post(page, { type: "report", report: numpyOnly });
        await showStage(page, "jax");
        const stage = page.locator('[data-testid="jax"]');
        const missing = await stage.locator('[data-testid="compare-missing"] li').allInnerTexts();
        assert.equal(missing.length, 1);
        assert.match(missing[0], /^JAX is not installed in this Python environment .* to compare with jax\.jit\.$/, "a sentence");
        assert.match(await stage.locator('[data-testid="compare-env"]').innerText(), /NumPy 2\.4\.6 · no JAX/);
        assert.match(await stage.locator('[data-testid="compare-no-jaxpr"]').innerText(), /JAX did not run/);
        assert.match(await stage.locator('[data-testid="compare-kernels"]').innerText(), /XLA: not available/);
        assert.equal(await stage.locator('[data-testid="compare-runs"] tr[data-run="numpy"]').count(), 1);
        assert.equal(await stage.locator('[data-testid="compare-runs"] tr[data-run="jax_jit"]').count(), 0);
        assert.equal(await page.locator('[data-testid="compare-synthetic"]').count(), 0, "a real run has no banner");
        await page.screenshot({ path: path.join(shots, `compare-numpy-only-${theme}-jax.png`), fullPage: true });
        await showStage(page, "timings");
        const modes = await page.locator('[data-testid="timing-bar"]').evaluateAll((els) => els.map((e) => e.dataset.mode));
        assert.deepEqual(modes, ["eager", "compiled", "numpy"]);
        await page.screenshot({ path: path.join(shots, `compare-numpy-only-${theme}-timings.png`), fullPage: true });
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    });
  }

  test("a run that failed shows its error instead of a bar; a malformed compare is dropped like any malformed Report; without one the JAX tab says how to get it", async () => {
    const { page, problems } = await openViewer("light");
    try {
      // No comparison yet: a hint.
      const { compare: _, ...plain } = numpyOnly;
      await post(page, { type: "report", report: plain });
      await showStage(page, "jax");
      assert.match(await page.locator('[data-testid="jax"]').innerText(), /Not compared yet[\s\S]*Compare with JAX[\s\S]*trusted workspace/);
      // NumPy could not run it: the error (FILE:LINE:COL) in the table and in place of the bar.
      const span = { file: numpyOnly.file, line: 7, col: 5, endLine: 7, endCol: 20 };
      const failed = structuredClone(numpyOnly);
      failed.compare.runs.numpy = { error: { kind: "AttributeError", message: "does not run under NumPy: module 'numpy' has no attribute 'frobnicate'", span } };
      await post(page, { type: "report", report: failed });
      await showStage(page, "jax");
      assert.match(await page.locator('[data-testid="compare-run-error"]').innerText(), /:7:5: AttributeError: does not run under NumPy/);
      await showStage(page, "timings");
      assert.deepEqual(await page.locator('[data-testid="timing-bar"]').evaluateAll((els) => els.map((e) => e.dataset.mode)), ["eager", "compiled"]);
      assert.match(await page.locator('[data-testid="timing-run-note"]').textContent(), /^AttributeError: does not run under NumPy/);
      // Malformed comparisons: the message is dropped, the view stays as it was.
      const bad = [
        { ...numpyOnly.compare, runs: { numpy: { timing: "fast" } } },
        { ...numpyOnly.compare, missing: "JAX" },
        { ...synthetic.compare, jaxprDiff: { ...synthetic.compare.jaxprDiff, pairs: [{ ours: 0 }] } },
        { ...synthetic.compare, jaxprDiff: { ...synthetic.compare.jaxprDiff, mismatches: [{ kind: "weird", message: "x" }] } },
        { ...synthetic.compare, version: 2 },
      ];
      for (const compare of bad) await post(page, { type: "report", report: { ...numpyOnly, compare } });
      await post(page, { type: "report", report: synthetic, stage: "nope" });
      await page.waitForTimeout(100);
      assert.equal(await page.locator('[data-testid="timing-run-note"]').count(), 1, "still the report with the failed NumPy run");
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
