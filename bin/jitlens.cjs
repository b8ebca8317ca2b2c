#!/usr/bin/env node
// The `jitlens` command: runs the bundled CLI. In a checkout it (re)builds the bundle first
// when it is missing or older than the compiler's sources, so it never runs stale code.
const fs = require("node:fs");
const path = require("node:path");
const root = path.join(__dirname, "..");
const bundle = path.join(root, "dist", "jitlens.js");
const buildScript = path.join(root, "scripts", "build.mjs");

function newestSource(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : e.name.endsWith(".ts") ? fs.statSync(p).mtimeMs : 0);
  }
  return newest;
}

function stale() {
  if (!fs.existsSync(bundle)) return true;
  const sources = path.join(root, "compiler-core", "src");
  return fs.existsSync(buildScript) && fs.existsSync(sources) && newestSource(sources) > fs.statSync(bundle).mtimeMs;
}

if (stale()) {
  const r = require("node:child_process").spawnSync(process.execPath, [buildScript], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) { process.stderr.write("jitlens: build failed\n"); process.exit(2); }
}
require(bundle);
