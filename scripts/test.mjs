// The project's test command.
//   node scripts/test.mjs            everything: build, unit, golden, browser, real-editor (suite + UI)
//   node scripts/test.mjs unit       unit and golden tests (node:test through tsx; no build)
//   node scripts/test.mjs browser    build, then the IR viewer in headless chromium (test/browser/*.test.mjs)
//   node scripts/test.mjs e2e        build, package, in-extension-host suite, UI test
//   node scripts/test.mjs suite|ui   one of the two real-editor tests (after build/package)
// Counts tests (node:test tests, suite tests, UI steps) plus the build and packaging steps,
// and ends with the line `N passed, N failed`. Exits 1 on any failure.
//
// The real-editor tests need chromium and code-server (bash scripts/setup-code-server.sh).
// Without them this fails. JITLENS_SKIP_E2E=1 skips them, with a warning.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { missingPrerequisites } from "../test/e2e/lib/harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jitlens-test-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

const known = ["all", "unit", "browser", "e2e", "suite", "ui"];
const asked = process.argv.slice(2);
const bad = asked.filter((a) => !known.includes(a));
if (bad.length) {
  console.error(`test: unknown part ${bad.join(", ")}; use one or more of ${known.join(", ")}`);
  process.exit(2);
}
const parts = new Set(asked.length === 0 || asked.includes("all") ? ["unit", "browser", "e2e"] : asked);
if (parts.has("e2e")) parts.add("suite").add("ui");

/** One row of the summary per part: passed and failed counts, plus notes. */
const tally = [];
function record(name, passed, failed, note = "", skipped = false) {
  tally.push({ name, passed, failed, note, skipped });
}

function banner(text) {
  console.log(`\n━━ ${text}`);
}

function elapsed(t0) {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** Runs a command with inherited output; resolves to its exit code. */
function run(cmd, args, env = {}) {
  console.log(`$ ${[cmd === process.execPath ? "node" : cmd, ...args].join(" ")}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on("error", (e) => { console.error(e.message); resolve(1); });
  });
}

function testFiles(dir, suffix = ".test.ts") {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs).filter((f) => f.endsWith(suffix)).sort().map((f) => path.join(dir, f));
}

/** Runs node:test files through tsx; counts from a TAP copy of the results. */
async function nodeTests(name, dir, suffix = ".test.ts") {
  const files = testFiles(dir, suffix);
  banner(`${name}: ${files.length ? `${files.length} file(s) in ${dir}/` : `no *.test.ts in ${dir}/`}`);
  if (!files.length) {
    console.log(`(nothing to run in ${dir}/)`);
    record(name, 0, 0, "no test files");
    return;
  }
  const t0 = Date.now();
  const tap = path.join(tmp, `${name}.tap`);
  const code = await run(process.execPath, ["--import", "tsx", "--test",
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=tap", `--test-reporter-destination=${tap}`, ...files]);
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, "utf8") : "";
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  const passed = count("pass");
  let failed = count("fail") + count("cancelled");
  let note = `${elapsed(t0)}`;
  if (count("skipped") + count("todo")) note += `, ${count("skipped") + count("todo")} skipped/todo`;
  if (code !== 0 && failed === 0) {
    failed = 1;
    note += `, the test runner exited ${code}`;
  }
  record(name, passed, failed, note);
}

let built;
async function build() {
  if (built !== undefined) return built;
  banner("build: node scripts/build.mjs");
  const t0 = Date.now();
  built = (await run(process.execPath, ["scripts/build.mjs"])) === 0;
  record("build", built ? 1 : 0, built ? 0 : 1, elapsed(t0));
  return built;
}

/** Runs one real-editor test script, which writes its counts to a result file. */
async function realEditor(name, script, args, env = {}) {
  banner(`${name}: node ${script} ${args.join(" ")}`);
  const t0 = Date.now();
  const resultFile = path.join(tmp, `${name}.json`);
  const code = await run(process.execPath, [script, ...args], { ...env, JITLENS_E2E_RESULT: resultFile });
  let r = { passed: 0, failed: 1, skipped: 0 };
  try {
    r = JSON.parse(fs.readFileSync(resultFile, "utf8"));
  } catch {
    console.log(`${name}: ${script} exited ${code} without writing results`);
  }
  if (code !== 0 && r.failed + (r.skipped ?? 0) === 0) r.failed = 1;
  const note = [elapsed(t0), r.skipped ? `${r.skipped} step(s) not run after an earlier failure, counted as failed` : ""].filter(Boolean).join(", ");
  record(name, r.passed, r.failed + (r.skipped ?? 0), note);
}

const t00 = Date.now();

// A full run builds first, so a broken bundle shows before the slower tests.
if (parts.has("unit") && parts.has("e2e")) await build();

if (parts.has("unit")) {
  await nodeTests("unit", "test/unit");
  await nodeTests("golden", "test/golden");
}

// The IR viewer (dist/webview.js) in headless chromium, fed real Reports (test/browser/).
if (parts.has("browser")) {
  if (await build()) await nodeTests("browser", "test/browser", ".test.mjs");
  else record("browser", 0, 1, "not run: build failed");
}

if (parts.has("suite") || parts.has("ui")) {
  const missing = missingPrerequisites();
  if (process.env.JITLENS_SKIP_E2E === "1") {
    banner("real-editor tests SKIPPED (JITLENS_SKIP_E2E=1)");
    console.log("!!! The suite and UI tests in a real VS Code were NOT run.");
    if (missing.length) console.log(`!!! Missing:\n!!!   - ${missing.join("\n!!!   - ")}`);
    record("real-editor", 0, 0, "SKIPPED (JITLENS_SKIP_E2E=1)", true);
  } else if (missing.length) {
    banner("real-editor tests cannot run");
    console.log(`The real-editor tests need:\n  - ${missing.join("\n  - ")}\n` +
      "Install them (bash scripts/setup-code-server.sh; sudo apt-get install -y chromium libkrb5-dev), " +
      "or set JITLENS_SKIP_E2E=1 to skip these tests.");
    record("real-editor", 0, 1, "prerequisites missing");
  } else if (!(await build())) {
    console.log("real-editor tests not run: the build failed");
    record("real-editor", 0, 1, "not run: build failed");
  } else {
    let vsix;
    if (parts.has("ui")) {
      banner("package: node scripts/package.mjs");
      const t0 = Date.now();
      const out = path.join(tmp, "package.log");
      const code = await new Promise((resolve) => {
        // Into our scratch folder: dist/ is shared with whoever else builds in this checkout.
        const child = spawn(process.execPath, ["scripts/package.mjs", "--out", path.join(tmp, "jitlens.vsix")], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
        const log = fs.createWriteStream(out);
        child.stdout.on("data", (d) => { process.stdout.write(d); log.write(d); });
        child.on("exit", (c) => { log.end(); resolve(c ?? 1); });
      });
      const m = /packaged (\S+\.vsix)/.exec(fs.readFileSync(out, "utf8"));
      vsix = code === 0 && m ? path.resolve(root, m[1]) : undefined;
      record("package", vsix ? 1 : 0, vsix ? 0 : 1, elapsed(t0));
    }
    // The suite loads the extension from the checkout: dist/ as the last build left it.
    if (parts.has("suite")) await realEditor("suite", "test/suite/run-code-server.mjs", ["--no-build"]);
    if (parts.has("ui")) {
      if (vsix) await realEditor("ui", "test/e2e/ui.test.mjs", [], { JITLENS_E2E_VSIX: vsix });
      else record("ui", 0, 1, "not run: packaging failed");
    }
  }
}

banner(`summary (${elapsed(t00)})`);
let passed = 0;
let failed = 0;
for (const t of tally) {
  passed += t.passed;
  failed += t.failed;
  console.log(`  ${t.failed ? "✘" : t.skipped ? "!" : "✔"} ${t.name.padEnd(12)} ${t.passed} passed, ${t.failed} failed${t.note ? `  (${t.note})` : ""}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
