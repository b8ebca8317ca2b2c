#!/usr/bin/env node
// The `jitlens` command: runs the bundled CLI, building it first on a fresh checkout.
const fs = require("node:fs");
const path = require("node:path");
const bundle = path.join(__dirname, "..", "dist", "jitlens.js");
if (!fs.existsSync(bundle)) {
  const r = require("node:child_process").spawnSync(process.execPath, [path.join(__dirname, "..", "scripts", "build.mjs")], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) { process.stderr.write("jitlens: build failed\n"); process.exit(2); }
}
require(bundle);
