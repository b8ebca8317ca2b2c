// Packages the extension into dist/jitlens-<version>.vsix with vsce.
//   node scripts/package.mjs              build (production) and package
//   node scripts/package.mjs --no-build   package what dist/ already holds
//   node scripts/package.mjs --out FILE   write the VSIX elsewhere (the tests use a scratch path)
// Before packaging it checks vsce's file list against .vscodeignore's intent: the bundles
// and the manifest go in; sources, tests, node_modules, .e2e and docs stay out.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 && process.argv[outArg + 1]
  ? path.resolve(process.argv[outArg + 1])
  : path.join("dist", `${manifest.name}-${manifest.version}.vsix`);
const vsce = path.join(root, "node_modules", "@vscode", "vsce", "vsce");

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function run(cmd, args) {
  // stdin from /dev/null: vsce must never wait on a prompt.
  const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

if (!fs.existsSync(vsce)) fail("@vscode/vsce is not installed: run `npm ci` first");

if (!process.argv.includes("--no-build")) {
  const b = spawnSync(process.execPath, [path.join(root, "scripts", "build.mjs"), "--production"], { cwd: root, stdio: "inherit" });
  if (b.status !== 0) fail("the build failed (node scripts/build.mjs --production)");
}

// Flags that turn vsce's interactive questions into decisions. README links stay relative
// (VS Code resolves them inside the installed extension; there is no repository URL).
const flags = ["--no-dependencies", "--allow-missing-repository", "--no-rewrite-relative-links"];
if (!["LICENSE", "LICENSE.md", "LICENSE.txt"].some((f) => fs.existsSync(path.join(root, f)))) flags.push("--skip-license");

const ls = run(process.execPath, [vsce, "ls", "--no-dependencies"]);
if (ls.code !== 0) fail(`vsce ls failed:\n${ls.stdout}${ls.stderr}`);
const files = ls.stdout.split("\n").map((l) => l.trim()).filter(Boolean);

const required = ["package.json", "dist/extension.js", "dist/jitlens.js", "dist/webview.js"];
const missing = required.filter((f) => !files.includes(f));
if (missing.length) fail(`would not contain ${missing.join(", ")} (is the build complete? is .vscodeignore right?)`);
const forbidden = /^(node_modules|\.e2e|\.git|\.ci|test|test-results|out|docs|scripts|compiler-core|extension|webview)\/|\.ts$|\.map$|\.vsix$/;
const leaked = files.filter((f) => forbidden.test(f) && !/^docs\/[^/]+\.png$/.test(f));
if (leaked.length) fail(`would contain files that must stay out (fix .vscodeignore):\n  ${leaked.slice(0, 20).join("\n  ")}`);

const p = run(process.execPath, [vsce, "package", ...flags, "-o", out]);
process.stdout.write(p.stdout);
if (p.code !== 0) fail(`vsce package failed:\n${p.stderr}`);
const size = fs.statSync(path.resolve(root, out)).size;
console.log(`packaged ${out} (${(size / 1024).toFixed(0)} KiB, ${files.length} files: ${files.join(", ")})`);
