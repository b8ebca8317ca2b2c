// Runs the in-extension-host suite (out/test/suite/index.js) inside the bare VS Code server
// that ships in code-server, with the smoke-test driver enabled. A headless chromium opens
// the workbench with extensionDevelopmentPath / extensionTestsPath in its payload; the suite
// runs in the real extension host and its exit code comes back through codeAutomationExit.
// No VSIX needed: the extension is loaded from the checkout, like F5 does.
//
//   node test/suite/run-code-server.mjs [--no-build]
// Environment:
//   JITLENS_E2E_RESULT=file          write {passed, failed, skipped, results} there
//   JITLENS_SUITE_TIMEOUT_S=n        hard limit (default 420)
//   JITLENS_SUITE_EXTENSION_PATH=dir load the extension from dir instead of the checkout
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  root, node24, vscodeServerMain, resultsDir, cleanSettings, missingPrerequisites, scratchDir,
  freePort, startProcess, tail, waitForHttp, serverEnv, launchBrowser, populateWorkspace, indent,
} from "../e2e/lib/harness.mjs";

const missing = missingPrerequisites();
if (missing.length) {
  console.error(`suite: cannot run, missing:\n  - ${missing.join("\n  - ")}`);
  process.exit(2);
}

const resultFile = process.env.JITLENS_E2E_RESULT;
const extensionPath = path.resolve(process.env.JITLENS_SUITE_EXTENSION_PATH || root);
const testsPath = path.join(root, "out", "test", "suite", "index.js");
const outDir = path.join(resultsDir, "suite");
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

/** Records a failure of the runner itself (not of a test) and exits. */
function harnessFailure(message) {
  console.error(`suite: ${message}`);
  if (resultFile) fs.writeFileSync(resultFile, JSON.stringify({ name: "suite", passed: 0, failed: 1, skipped: 0, results: [{ title: "suite runner", status: "failed", message }] }));
  process.exit(1);
}

if (!process.argv.includes("--no-build")) {
  const b = spawnSync(process.execPath, [path.join(root, "scripts", "build.mjs")], { cwd: root, encoding: "utf8" });
  if (b.status !== 0) harnessFailure(`the build failed (node scripts/build.mjs):\n${(b.stdout + b.stderr).trim()}`);
}
if (!fs.existsSync(testsPath)) harnessFailure(`${path.relative(root, testsPath)} is missing: scripts/build.mjs should bundle test/suite/index.ts there`);
const main = JSON.parse(fs.readFileSync(path.join(extensionPath, "package.json"), "utf8")).main;
if (main && !fs.existsSync(path.join(extensionPath, main))) harnessFailure(`the extension's main ${main} is not built in ${extensionPath}`);

const scratch = scratchDir("suite");
process.on("exit", () => scratch.cleanup()); // after the harness's hook killed our processes
const ws = path.join(scratch.dir, "workspace");
const dataDir = path.join(scratch.dir, "server-data");
const suiteResult = path.join(scratch.dir, "suite-result.json");
const env = { ...serverEnv(scratch.dir), JITLENS_SUITE_RESULT: suiteResult };
const serverLog = path.join(outDir, "vscode-server.log");
const workbenchLog = path.join(outDir, "workbench.log");
let server, context;

const limitS = Number(process.env.JITLENS_SUITE_TIMEOUT_S || 420);
let exitCode = 1;
let failure = "";
try {
  const copied = populateWorkspace(ws);
  console.log(`suite: workspace ${ws} with ${copied.join(", ")}; extension ${extensionPath}`);
  // The web workbench keeps user settings in the browser's storage, so the clean settings
  // go into the remote machine's settings and the workspace's (each honours its scopes).
  const machine = path.join(dataDir, "data", "Machine");
  for (const dir of [machine, path.join(ws, ".vscode")]) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "settings.json"), JSON.stringify(cleanSettings, null, 2));
  }

  const port = await freePort();
  server = startProcess(node24, [vscodeServerMain, "--host", "127.0.0.1", "--port", String(port),
    "--without-connection-token", "--accept-server-license-terms", "--enable-smoke-test-driver",
    "--disable-telemetry", "--disable-workspace-trust", "--server-data-dir", dataDir, "--user-data-dir", dataDir,
    "--extensions-dir", path.join(scratch.dir, "extensions")], { env, cwd: scratch.dir, logFile: serverLog });
  await waitForHttp(`http://127.0.0.1:${port}/version`, server, 60_000);

  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [["extensionDevelopmentPath", remote(extensionPath)], ["extensionTestsPath", remote(testsPath)]];
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

  context = await launchBrowser(path.join(scratch.dir, "browser"));
  const page = context.pages()[0] ?? (await context.newPage());
  let resolveExit;
  const exited = new Promise((r) => { resolveExit = r; });
  await page.exposeFunction("codeAutomationLog", (level, message) => {
    fs.appendFileSync(workbenchLog, `[${level}] ${message}\n`);
  });
  await page.exposeFunction("codeAutomationExit", (code, logs) => {
    // The workbench hands over its log files on the way out; keep them for a post-mortem.
    for (const { relativePath, contents } of logs ?? []) {
      const file = path.join(outDir, "logs", relativePath);
      if (!file.startsWith(path.join(outDir, "logs"))) continue;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, contents);
    }
    resolveExit(code);
  });
  page.on("pageerror", (e) => fs.appendFileSync(workbenchLog, `pageerror: ${e.message}\n`));
  await page.goto(url);

  const timeout = new Promise((r) => setTimeout(r, limitS * 1000, "timeout"));
  const died = server.exitPromise.then(() => "server-exited");
  const outcome = await Promise.race([exited, timeout, died]);
  await page.screenshot({ path: path.join(outDir, "workbench.png") }).catch(() => {});
  if (outcome === "timeout") failure = `no exit code from the extension host within ${limitS} s (JITLENS_SUITE_TIMEOUT_S)`;
  else if (outcome === "server-exited") failure = `the VS Code server exited early; log tail:\n${tail(serverLog)}`;
  else exitCode = outcome;
} catch (e) {
  failure = `runner error: ${e.message}`;
} finally {
  await context?.close().catch(() => {});
  await server?.stop();
  // The server side's logs: the extension host's (activation errors, output channels).
  const serverLogs = path.join(dataDir, "logs");
  if (fs.existsSync(serverLogs)) fs.cpSync(serverLogs, path.join(outDir, "server-logs"), { recursive: true });
}

// Report per test from the suite's own result file, else say why there is none.
let result;
try {
  result = JSON.parse(fs.readFileSync(suiteResult, "utf8"));
} catch {
  const why = failure || `the suite wrote no results (exit code ${exitCode}); did out/test/suite/index.js load? workbench log tail:\n${tail(workbenchLog, 30)}`;
  result = { name: "suite", passed: 0, failed: 1, results: [{ title: "suite runner", status: "failed", message: why }] };
}
if (failure && result.failed === 0) result.results.push({ title: "suite runner", status: "failed", message: failure }), result.failed++;
for (const r of result.results) {
  console.log(r.status === "passed" ? `  ✔ ${r.title} (${((r.ms ?? 0) / 1000).toFixed(1)} s)` : `  ✘ ${r.title}\n${indent(r.message ?? "", 6)}`);
}
if (exitCode !== 0 && result.failed === 0) {
  result.results.push({ title: "suite exit code", status: "failed", message: `extension host exited ${exitCode}` });
  result.failed++;
}
if (resultFile) fs.writeFileSync(resultFile, JSON.stringify({ skipped: 0, ...result }, null, 2));
console.log(`suite: ${result.passed} passed, ${result.failed} failed (extension host exit code ${exitCode}); logs in ${path.relative(root, outDir)}/`);
process.exit(result.failed ? 1 : 0);
