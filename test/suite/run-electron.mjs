// Runs the in-extension-host suite in a desktop VS Code downloaded by @vscode/test-electron
// (needs access to update.code.visualstudio.com, which this project's CI machines lack; there
// test/suite/run-code-server.mjs runs the same suite). `npm run test:electron`.
//   VSCODE_VERSION=stable|insiders|1.100.0   which VS Code to test against (default stable)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runTests } from "@vscode/test-electron";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const build = spawnSync(process.execPath, [path.join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(1);

// A scratch workspace with the same files the code-server runner provides.
const ws = fs.mkdtempSync(path.join(os.tmpdir(), "jitlens-electron-"));
for (const dir of [path.join(root, "examples"), path.join(root, "test", "e2e", "fixtures")]) {
  if (!fs.existsSync(dir)) continue;
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith(".py") && !fs.existsSync(path.join(ws, f))) fs.copyFileSync(path.join(dir, f), path.join(ws, f));
  }
}

const resultFile = path.join(ws, "..", `${path.basename(ws)}-result.json`);
let code = 1;
try {
  code = await runTests({
    version: process.env.VSCODE_VERSION || "stable",
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, "out", "test", "suite", "index.js"),
    extensionTestsEnv: { JITLENS_SUITE_RESULT: resultFile },
    launchArgs: [ws, "--disable-extensions", "--disable-workspace-trust", "--skip-welcome", "--skip-release-notes"],
  });
} catch (e) {
  console.error(`run-electron: ${e?.message ?? e}`);
} finally {
  fs.rmSync(ws, { recursive: true, force: true });
}
if (fs.existsSync(resultFile)) {
  const r = JSON.parse(fs.readFileSync(resultFile, "utf8"));
  console.log(`${r.passed} passed, ${r.failed} failed`);
  fs.rmSync(resultFile);
}
process.exit(code);
