// Real-editor UI test: the packaged extension in a real VS Code workbench (code-server),
// driven like a user would through headless chromium. Run with `node test/e2e/ui.test.mjs`
// (or `npm run test:e2e`). Screenshots and logs go to test-results/e2e/.
//
// Environment:
//   JITLENS_E2E_VSIX=path     test this VSIX instead of packaging the checkout
//   JITLENS_E2E_RESULT=file   write {passed, failed, skipped, results} there (scripts/test.mjs)
//   JITLENS_E2E_TIMEOUT_S=n   hard limit for the whole test (default 420)
//   JITLENS_KEEP_SCRATCH=1    keep the scratch folders for a look afterwards
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import {
  root, node24, codeServerEntry, resultsDir, cleanSettings, missingPrerequisites, scratchDir,
  freePort, startProcess, runToEnd, tail, waitForHttp, serverEnv, launchBrowser, Steps,
  populateWorkspace, locateFunction,
} from "./lib/harness.mjs";

const FIRST_LOAD_MS = 60_000; // the first workbench load is slow on a cold machine
const UI_MS = 15_000; // a palette row, a tab, a panel
const RUN_MS = 120_000; // trace, compile and measure one function

const missing = missingPrerequisites();
if (missing.length) {
  console.error(`ui.test: cannot run, missing:\n  - ${missing.join("\n  - ")}`);
  process.exit(2);
}

fs.mkdirSync(resultsDir, { recursive: true });
for (const f of fs.readdirSync(resultsDir)) if (/\.(png|log|txt)$/.test(f) || f === "vscode-logs") fs.rmSync(path.join(resultsDir, f), { recursive: true });

const steps = new Steps("ui");
const scratch = scratchDir("ui");
process.on("exit", () => scratch.cleanup()); // after the harness's hook killed our processes
const ws = path.join(scratch.dir, "workspace");
const userData = path.join(scratch.dir, "user-data");
const extensions = path.join(scratch.dir, "extensions");
const serverLog = path.join(resultsDir, "code-server.log");
const env = serverEnv(scratch.dir);
let server, context, page;
let shotNo = 0;

async function shot(name) {
  if (!page) return;
  const file = path.join(resultsDir, `${String(++shotNo).padStart(2, "0")}-${name}.png`);
  try {
    await page.screenshot({ path: file, timeout: 10_000 });
  } catch (e) {
    console.log(`    (screenshot ${path.basename(file)} failed: ${e.message.split("\n")[0]})`);
  }
}

/** Waits for `locator` to be visible; on timeout, says in words what was not found. */
async function expectVisible(locator, what, timeout = UI_MS) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch {
    throw new Error(`${what} did not appear within ${timeout / 1000} s`);
  }
}

/** CodeLens texts in all editors, for failure messages. */
async function lensTexts() {
  const texts = await page.locator(".codelens-decoration").allInnerTexts().catch(() => []);
  return texts.length ? texts.map((t) => JSON.stringify(t)).join(", ") : "none";
}

async function quickOpen(fileName) {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await expectVisible(input, "the Quick Open box");
  await input.fill(fileName);
  await expectVisible(page.locator(".quick-input-list .monaco-list-row.focused", { hasText: fileName }), `Quick Open row for ${fileName}`);
  await page.keyboard.press("Enter");
  await expectVisible(page.locator(".tab.active", { hasText: fileName }), `an editor tab for ${fileName}`);
  await expectVisible(page.locator(".editor-group-container.active .monaco-editor .view-lines"), `the editor for ${fileName}`);
}

async function goToLine(line) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await expectVisible(input, "the Go to Line box");
  await input.fill(`:${line}`);
  await page.keyboard.press("Enter");
  await expectVisible(page.locator(".statusbar-item", { hasText: new RegExp(`Ln ${line},`) }), `the cursor on line ${line} (status bar "Ln ${line}")`);
}

async function runCommand(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await expectVisible(input, "the command palette");
  await input.fill(`>${title}`);
  await expectVisible(page.locator(".quick-input-list .monaco-list-row.focused", { hasText: title }),
    `the palette entry "${title}" (is the command contributed and enabled for Python files?)`);
  await page.keyboard.press("Enter");
}

/** Polls `probe` every 250 ms until it returns a value or `ms` passes (then undefined). */
async function until(probe, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The JIT Lens decorations in the active editor: end-of-line notes (CSS ::after text) and coloured bands. */
function annotationsInActiveEditor() {
  return page.evaluate(() => {
    const root = document.querySelector(".editor-group-container.active .monaco-editor");
    if (!root) return { notes: [], bands: 0, colors: [] };
    const notes = [];
    for (const el of root.querySelectorAll(".view-lines span")) {
      for (const pseudo of ["::after", "::before"]) {
        const c = getComputedStyle(el, pseudo).content;
        if (c && c !== "none" && c !== "normal" && c.includes("kernel")) notes.push(c.replace(/^"|"$/g, ""));
      }
    }
    let bands = 0;
    const colors = new Set();
    for (const el of root.querySelectorAll(".view-overlays div")) {
      const cs = getComputedStyle(el);
      if (cs.borderLeftWidth === "3px" && cs.borderLeftStyle === "solid") { bands++; colors.add(cs.borderLeftColor); }
    }
    return { notes, bands, colors: [...colors] };
  });
}

const watchdogS = Number(process.env.JITLENS_E2E_TIMEOUT_S || 420);
const watchdog = setTimeout(() => {
  console.error(`ui.test: gave up after ${watchdogS} s (JITLENS_E2E_TIMEOUT_S); killing code-server and the browser`);
  steps.results.push({ title: "whole test within time limit", status: "failed", message: `over ${watchdogS} s` });
  steps.writeResult(process.env.JITLENS_E2E_RESULT);
  process.exit(1); // exit hooks: kill every process group we started, then drop the scratch
}, watchdogS * 1000);
watchdog.unref();

try {
  const copied = populateWorkspace(ws);
  console.log(`ui.test: workspace ${ws} with ${copied.join(", ")}`);
  const ok = locateFunction(ws, "gelu");
  const bad = locateFunction(ws, "typo", "tanhh");

  // scripts/test.mjs packages once and hands the VSIX over; run alone, we package here.
  let vsix = process.env.JITLENS_E2E_VSIX;
  if (vsix) console.log(`ui.test: testing ${vsix}`);
  else await steps.run("package the extension (scripts/package.mjs)", async () => {
    const r = spawnSync(process.execPath, [path.join(root, "scripts", "package.mjs"), "--out", path.join(scratch.dir, "jitlens.vsix")], { cwd: root, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`scripts/package.mjs exited ${r.status}:\n${(r.stdout + r.stderr).trim().split("\n").slice(-15).join("\n")}`);
    const m = /packaged (\S+\.vsix)/.exec(r.stdout);
    if (!m) throw new Error(`scripts/package.mjs did not say which VSIX it wrote:\n${r.stdout}`);
    vsix = path.resolve(root, m[1]);
  });

  await steps.run("install the VSIX into a fresh extensions folder", async () => {
    const installLog = path.join(resultsDir, "install.log");
    const code = await runToEnd(node24, [codeServerEntry, "--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", vsix],
      { env, cwd: scratch.dir, logFile: installLog, timeoutMs: 60_000 });
    if (code !== 0) throw new Error(`code-server --install-extension exited ${code}:\n${tail(installLog, 15)}`);
    const installed = fs.readdirSync(extensions).filter((d) => d.startsWith("jitlens."));
    if (!installed.length) throw new Error(`no jitlens.* folder in ${extensions} after install:\n${tail(installLog, 15)}`);
  }, { needs: ["package the extension (scripts/package.mjs)"] });

  let url;
  await steps.run("start code-server and wait for /healthz", async () => {
    fs.mkdirSync(path.join(userData, "User"), { recursive: true });
    fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(cleanSettings, null, 2));
    const config = path.join(scratch.dir, "code-server.yaml");
    fs.writeFileSync(config, "auth: none\ncert: false\n");
    const port = await freePort();
    server = startProcess(node24, [codeServerEntry, "--config", config, "--auth", "none", "--bind-addr", `127.0.0.1:${port}`,
      "--user-data-dir", userData, "--extensions-dir", extensions, "--disable-telemetry", "--disable-update-check",
      "--disable-workspace-trust", "--disable-getting-started-override", ws], { env, cwd: scratch.dir, logFile: serverLog });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, server, 60_000);
    url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`;
  });

  await steps.run("the workbench loads in chromium", async () => {
    context = await launchBrowser(path.join(scratch.dir, "browser"));
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => fs.appendFileSync(path.join(resultsDir, "browser.log"), `pageerror: ${e.message}\n`));
    page.on("console", (m) => { if (m.type() === "error") fs.appendFileSync(path.join(resultsDir, "browser.log"), `console: ${m.text()}\n`); });
    await page.goto(url);
    await expectVisible(page.locator(".monaco-workbench"), "the VS Code workbench (.monaco-workbench)", FIRST_LOAD_MS);
    await expectVisible(page.getByRole("treeitem", { name: ok.file }), `${ok.file} in the Explorer`, FIRST_LOAD_MS);
    await shot("workbench");
  }, { needs: ["start code-server and wait for /healthz"] });

  const wb = ["the workbench loads in chromium", "install the VSIX into a fresh extensions folder"];
  await steps.run(`open ${ok.file} with Quick Open`, async () => {
    await quickOpen(ok.file);
    await shot("opened-python-file");
  }, { needs: ["the workbench loads in chromium"] });

  await steps.run("CodeLens \"⚡ Trace & Compile\" appears above the defs", async () => {
    const lens = page.locator(".editor-group-container.active .codelens-decoration a", { hasText: "⚡ Trace & Compile" });
    try {
      await expectVisible(lens, `CodeLens "⚡ Trace & Compile" in ${ok.file}`, FIRST_LOAD_MS);
    } catch (e) {
      throw new Error(`${e.message}; lenses seen: ${await lensTexts()} (does the extension activate on Python files? see test-results/e2e/vscode-logs)`);
    } finally {
      await shot("codelens-before-run");
    }
  }, { needs: [...wb, `open ${ok.file} with Quick Open`] });

  await steps.run(`run "JIT Lens: Trace & Compile" with the cursor in ${ok.file}:${ok.line} (gelu)`, async () => {
    await goToLine(ok.line);
    await runCommand("JIT Lens: Trace & Compile");
    await shot("command-started");
  }, { needs: [...wb, `open ${ok.file} with Quick Open`] });

  const ran = `run "JIT Lens: Trace & Compile" with the cursor in ${ok.file}:${ok.line} (gelu)`;
  await steps.run("the IR viewer shows gelu's jaxpr", async () => {
    const viewerTab = page.locator(".tab", { hasText: "JIT Lens: gelu" });
    try {
      await expectVisible(viewerTab, `the IR viewer tab "JIT Lens: gelu"`, RUN_MS);
      const jaxpr = page.frameLocator("iframe.webview.ready").last().frameLocator("#active-frame").locator('[data-testid="jaxpr"]');
      await expectVisible(jaxpr, `[data-testid="jaxpr"] inside the IR viewer webview`, RUN_MS);
      const text = (await jaxpr.first().innerText()).trim();
      fs.writeFileSync(path.join(resultsDir, "gelu.jaxpr.txt"), text + "\n");
      if (!text.startsWith("{ lambda ; ")) throw new Error(`the jaxpr should start with "{ lambda ; " but starts with ${JSON.stringify(text.slice(0, 60))}`);
      if (!/\btanh\b/.test(text)) throw new Error(`the jaxpr has no tanh equation:\n${text}`);
    } finally {
      await shot("ir-viewer");
    }
  }, { needs: [ran] });

  await steps.run("gelu's CodeLens shows the measured speedup", async () => {
    const lens = page.locator(".codelens-decoration a", { hasText: /⚡ [\d.]+× compiled vs interpreted/ });
    try {
      await expectVisible(lens, "a CodeLens matching /⚡ [\\d.]+× compiled vs interpreted/", RUN_MS);
      console.log(`    lens: ${(await lens.first().innerText()).trim()}`);
    } catch (e) {
      throw new Error(`${e.message}; lenses seen: ${await lensTexts()}`);
    } finally {
      await shot("codelens-after-run");
    }
  }, { needs: [ran] });

  const ann = locateFunction(ws, "attention_scores");
  const annRan = `per-line annotations in ${ann.file}: a colour band per kernel and \"type · eager → kernel N\" notes`;
  await steps.run(annRan, async () => {
    try {
      await quickOpen(ann.file);
      await goToLine(ann.line);
      await runCommand("JIT Lens: Trace & Compile");
      await expectVisible(page.locator(".editor-group-container.active .codelens-decoration a", { hasText: /⚡ [\d.]+× compiled vs interpreted/ }), "the result CodeLens", RUN_MS);
      const found = await until(async () => {
        const a = await annotationsInActiveEditor();
        return a.notes.filter((n) => /^f32\[[\d,]+\]( · eager [\d.]+ (µs|ms|s))? → kernels? \d/.test(n)).length >= 5 && a.bands >= 5 ? a : undefined;
      }, UI_MS);
      if (!found) throw new Error(`expected 5 notes and bands; seen ${JSON.stringify(await annotationsInActiveEditor())}`);
      console.log(`    notes: ${found.notes.join(" | ")}; ${found.bands} band(s) in ${found.colors.length} colours`);
      if (found.colors.length < 3) throw new Error(`kernels 0-2 should have different band colours: ${JSON.stringify(found.colors)}`);
    } finally {
      await shot("annotations");
    }
  }, { needs: wb });

  await steps.run("a hover on a traced line shows its jaxpr equations, kernel and why it ends", async () => {
    try {
      await goToLine(ann.line + 1);
      await runCommand("Show or Focus Hover");
      const hover = page.locator(".monaco-hover", { hasText: "Ends here" });
      await expectVisible(hover, "a hover with the kernel and why it ends");
      const text = (await hover.first().innerText()).replace(/\s+/g, " ");
      console.log(`    hover: ${text.slice(0, 200)}…`);
      if (!/reduce_max/.test(text) || !/kernel 1/.test(text)) throw new Error(`the hover should list reduce_max and kernel 1: ${text}`);
    } finally {
      await shot("hover");
      await page.keyboard.press("Escape");
    }
  }, { needs: [annRan] });

  await steps.run("an edit inside the function marks its CodeLens stale and drops its annotations", async () => {
    try {
      await goToLine(ann.line);
      await page.keyboard.press("End");
      await page.keyboard.type(" * 1.0");
      const lens = page.locator(".editor-group-container.active .codelens-decoration a", { hasText: /^↻ stale: [\d.]+× compiled vs interpreted/ });
      try {
        await expectVisible(lens, "a CodeLens \"↻ stale: …\"");
      } catch (e) {
        throw new Error(`${e.message}; lenses seen: ${await lensTexts()}`);
      }
      const gone = await until(async () => ((await annotationsInActiveEditor()).notes.length === 0 ? true : undefined), UI_MS);
      if (!gone) throw new Error("the annotations of a stale result should go");
      await shot("codelens-stale");
    } finally {
      await page.keyboard.press("Control+Z");
    }
  }, { needs: [annRan] });

  await steps.run("the status bar shows the backend; clicking it picks one (cpu)", async () => {
    const item = page.locator(".statusbar-item", { hasText: "JIT Lens:" });
    try {
      await expectVisible(item, "a status bar item \"JIT Lens: …\"");
      console.log(`    status: ${(await item.first().innerText()).trim()}`);
      await item.first().click();
      const row = page.locator(".quick-input-list .monaco-list-row", { hasText: "Generated JavaScript kernels" });
      await expectVisible(row, "the backend quick pick with a \"cpu\" row");
      await page.waitForTimeout(300); // let the quick pick finish fading in, for the screenshot
      await shot("status-bar-pick");
      await page.locator(".quick-input-widget input").fill("cpu");
      await expectVisible(page.locator(".quick-input-list .monaco-list-row.focused", { hasText: "Generated JavaScript kernels" }), "the \"cpu\" row focused");
      await page.keyboard.press("Enter");
      await expectVisible(page.locator(".statusbar-item", { hasText: /JIT Lens: CPU$/ }), "the status bar item \"JIT Lens: CPU\"");
    } finally {
      await shot("status-bar");
    }
  }, { needs: [ran] });

  const errRan = `run it on typo in ${bad.file}:${bad.line}: an error squiggle appears`;
  await steps.run(errRan, async () => {
    try {
      await quickOpen(bad.file);
      await goToLine(bad.line);
      await runCommand("JIT Lens: Trace & Compile");
      await expectVisible(page.locator(".editor-group-container.active .squiggly-error"), `an error squiggle in ${bad.file}`, RUN_MS);
    } finally {
      await shot("error-squiggle");
    }
  }, { needs: wb });

  // Checked before the Problems panel takes the focus: a lens refresh that arrives while
  // the focus moves to the panel was seen to be dropped by the workbench.
  await steps.run("typo's CodeLens reads \"⚠ Kind: message\"", async () => {
    const lens = page.locator(".editor-group-container.active .codelens-decoration a", { hasText: /^⚠ \w+: / });
    try {
      await expectVisible(lens, `a CodeLens "⚠ Kind: message" above typo in ${bad.file}`);
    } catch (e) {
      throw new Error(`${e.message}; lenses seen: ${await lensTexts()}`);
    } finally {
      await shot("error-codelens");
    }
  }, { needs: [errRan] });

  await steps.run(`the Problems panel lists it on line ${bad.line}, source JIT Lens`, async () => {
    try {
      await page.keyboard.press("Control+Shift+M");
      const row = page.locator(".markers-panel .monaco-list-row", { hasText: "tanhh" });
      await expectVisible(row, "a Problems panel entry mentioning tanhh");
      const rowText = (await row.first().innerText()).replace(/\s+/g, " ");
      console.log(`    problem: ${rowText}`);
      if (!rowText.includes(`Ln ${bad.line},`)) throw new Error(`the problem should be on line ${bad.line}: ${rowText}`);
      if (!rowText.includes("JIT Lens")) throw new Error(`the problem's source should be "JIT Lens": ${rowText}`);
    } finally {
      await shot("problems-panel");
    }
  }, { needs: [errRan] });

  await steps.run("the error notification says FILE:LINE:COL: Kind: message", async () => {
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: new RegExp(`${bad.file}:${bad.line}:\\d+: \\w+: `) });
    try {
      await expectVisible(toast, `a notification matching "${bad.file}:${bad.line}:COL: Kind: message"`);
    } catch (e) {
      const seen = await page.locator(".notifications-toasts .notification-toast").allInnerTexts().catch(() => []);
      throw new Error(`${e.message}; notifications seen: ${seen.length ? seen.map((t) => JSON.stringify(t.replace(/\s+/g, " "))).join(", ") : "none"}`);
    } finally {
      await shot("error-notification");
    }
  }, { needs: [errRan] });

  const fix = locateFunction(ws, "pick_positive", "if ");
  const fixRan = `a quick fix rewrites ${fix.file}:${fix.line}'s if/else with jnp.where`;
  await steps.run(fixRan, async () => {
    try {
      await quickOpen(fix.file);
      await goToLine(fix.line);
      await runCommand("JIT Lens: Trace & Compile");
      await expectVisible(page.locator(".editor-group-container.active .squiggly-error"), `an error squiggle in ${fix.file}`, RUN_MS);
      await goToLine(fix.line);
      await page.keyboard.press("Control+.");
      const item = page.locator(".action-widget .monaco-list-row", { hasText: "Rewrite the if/else with jnp.where" });
      await expectVisible(item, "the quick fix \"Rewrite the if/else with jnp.where\"");
      await shot("code-actions");
      await item.first().click();
      await expectVisible(page.locator(".editor-group-container.active .view-lines", { hasText: "return jnp.where(x.sum() > 0, x * 2.0, -x)" }),
        "the rewritten line \"return jnp.where(x.sum() > 0, x * 2.0, -x)\"");
    } finally {
      await shot("code-action-applied");
    }
  }, { needs: wb });

  const slow = locateFunction(ws, "slow_matmul");
  await steps.run("cancelling a long run from its progress notification", async () => {
    try {
      await quickOpen(slow.file);
      await goToLine(slow.line);
      await runCommand("JIT Lens: Trace & Compile");
      const measuring = page.locator(".editor-group-container.active .codelens-decoration", { hasText: "measuring…" });
      await expectVisible(measuring, "the CodeLens \"⚡ Traced · … · measuring…\"", RUN_MS);
      const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "slow_matmul" });
      await expectVisible(toast, "the progress notification for slow_matmul");
      await shot("codelens-running-and-progress");
      const t0 = Date.now();
      await toast.first().getByRole("button", { name: "Cancel" }).click();
      await expectVisible(page.locator(".editor-group-container.active .codelens-decoration a", { hasText: "⚡ Trace & Compile" }), "the idle CodeLens back after Cancel", 5000);
      console.log(`    cancel → idle lens in ${Date.now() - t0} ms`);
    } finally {
      await shot("cancelled");
    }
  }, { needs: wb });
} catch (e) {
  steps.results.push({ title: "set-up", status: "failed", message: e.message });
  console.log(`  ✘ set-up: ${e.message}`);
} finally {
  await shot("final");
  await context?.close().catch(() => {});
  await server?.stop();
  // The extension host's own logs (activation errors, the JIT Lens output channel) for a post-mortem.
  const logs = path.join(userData, "logs");
  if (fs.existsSync(logs)) fs.cpSync(logs, path.join(resultsDir, "vscode-logs"), { recursive: true });
  clearTimeout(watchdog);
}

const c = steps.counts();
steps.writeResult(process.env.JITLENS_E2E_RESULT);
console.log(`ui.test: ${c.passed} passed, ${c.failed} failed, ${c.skipped} not run; screenshots in ${path.relative(root, resultsDir)}/`);
process.exit(c.failed || c.skipped ? 1 : 0);
