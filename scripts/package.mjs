// Packages the extension into platform-specific VSIX files with vsce (`vsce package --target`).
// Each carries the bundles (dist/*.js), the manifest, README, LICENSE, and the one native part
// the engine loads at run time: the `webgpu` package (kept external by scripts/build.mjs) with
// only its platform's Dawn binary (node_modules/webgpu/dist/<platform>/), staged as
// dist/node_modules/webgpu so that `import("webgpu")` from dist/jitlens.js finds it.
//
//   node scripts/package.mjs                  build (production), package for this machine's
//                                             platform (linux-x64 elsewhere) to dist/jitlens-<version>.vsix
//   node scripts/package.mjs --target T       one target, to dist/jitlens-<T>-<version>.vsix
//   node scripts/package.mjs --all            every target, each to dist/jitlens-<T>-<version>.vsix
//   node scripts/package.mjs --no-build       package what dist/ already holds
//   node scripts/package.mjs --out FILE       write the (one) VSIX elsewhere (the tests use a scratch path)
// Targets: linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64.
// Before packaging it checks vsce's file list: the bundles, the manifest and this target's
// Dawn go in; sources, tests, source maps and other platforms' binaries stay out. For the
// machine's own target it also checks that the staged engine can load `webgpu`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const vsce = path.join(root, "node_modules", "@vscode", "vsce", "vsce");
const webgpu = path.join(root, "node_modules", "webgpu");

/** VS Code target -> the folder of node_modules/webgpu/dist/ that holds its dawn.node. */
const TARGETS = {
  "linux-x64": "linux-x64",
  "linux-arm64": "linux-arm64",
  "darwin-x64": "darwin-universal",
  "darwin-arm64": "darwin-universal",
  "win32-x64": "win32-x64",
  "win32-arm64": "win32-arm64",
};
const hostTarget = `${process.platform}-${process.arch}`;

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function run(cmd, args, cwd) {
  // stdin from /dev/null: vsce must never wait on a prompt.
  const r = spawnSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

const all = process.argv.includes("--all");
const asked = arg("--target");
if (asked && !TARGETS[asked]) fail(`unknown target ${asked}; one of ${Object.keys(TARGETS).join(", ")}`);
const targets = all ? Object.keys(TARGETS) : [asked ?? (TARGETS[hostTarget] ? hostTarget : "linux-x64")];
const outArg = arg("--out");
if (outArg && targets.length > 1) fail("--out names one file: use it with one target, not --all");
const outFor = (t) => outArg ? path.resolve(outArg)
  : path.join(root, "dist", asked || all ? `${manifest.name}-${t}-${manifest.version}.vsix` : `${manifest.name}-${manifest.version}.vsix`);

if (!fs.existsSync(vsce)) fail("@vscode/vsce is not installed: run `npm ci` first");
if (!fs.existsSync(path.join(webgpu, "package.json"))) fail("node_modules/webgpu is missing: run `npm ci` first");

if (!process.argv.includes("--no-build")) {
  const b = spawnSync(process.execPath, [path.join(root, "scripts", "build.mjs"), "--production"], { cwd: root, stdio: "inherit" });
  if (b.status !== 0) fail("the build failed (node scripts/build.mjs --production)");
}

/** Copies `rel` (a file or folder under `from`) to the same place under `to`, if it exists. */
function copy(from, to, rel, filter = () => true) {
  const src = path.join(from, rel);
  if (!fs.existsSync(src)) return;
  fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
  fs.cpSync(src, path.join(to, rel), { recursive: true, filter: (s) => filter(path.relative(from, s)) });
}

/** A folder under out/package/ holding exactly what the VSIX for `target` carries. */
function stage(target) {
  const dir = path.join(root, "out", "package", target);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ["package.json", "README.md", "LICENSE", "LICENSE.md", "LICENSE.txt", "CHANGELOG.md"]) copy(root, dir, f);
  for (const f of fs.readdirSync(path.join(root, "dist"))) if (/\.(js|css)$/.test(f)) copy(root, dir, path.join("dist", f));
  copy(root, dir, "media");
  copy(root, dir, path.join("extension", "python"), (rel) => !rel.includes("__pycache__")); // the compare helper (jitlens compare)
  if (fs.existsSync(path.join(root, "docs"))) for (const f of fs.readdirSync(path.join(root, "docs"))) if (f.endsWith(".png")) copy(root, dir, path.join("docs", f));
  // The webgpu package: its JS, manifest and licence, and this target's Dawn only.
  const to = path.join(dir, "dist", "node_modules", "webgpu");
  for (const f of ["package.json", "index.js", "LICENSE.md", "README.md"]) copy(webgpu, to, f);
  copy(webgpu, to, path.join("dist", TARGETS[target]));
  fs.writeFileSync(path.join(dir, ".vscodeignore"), "**/*.map\n**/*.vsix\n");
  return dir;
}

/** Whether the staged engine bundle resolves and loads `webgpu` (only for the machine's own target). */
function checkLoads(dir) {
  const probe = path.join(dir, "dist", "probe-webgpu.cjs");
  fs.writeFileSync(probe, 'new Function("m", "return import(m)")("webgpu").then((m) => { if (typeof m.create !== "function") throw new Error("no create()"); console.log("ok"); }).catch((e) => { console.error(e.message); process.exit(1); });\n');
  const r = spawnSync(process.execPath, [probe], { cwd: path.parse(dir).root, encoding: "utf8" });
  fs.rmSync(probe);
  if (r.status !== 0) fail(`the staged extension cannot load webgpu: ${(r.stderr || r.stdout).trim()}`);
}

for (const target of targets) {
  const dir = stage(target);
  if (TARGETS[target] === TARGETS[hostTarget]) checkLoads(dir);

  const flags = ["--no-dependencies", "--allow-missing-repository", "--no-rewrite-relative-links", "--target", target];
  if (!["LICENSE", "LICENSE.md", "LICENSE.txt"].some((f) => fs.existsSync(path.join(dir, f)))) flags.push("--skip-license");

  const ls = run(process.execPath, [vsce, "ls", "--no-dependencies"], dir);
  if (ls.code !== 0) fail(`vsce ls failed:\n${ls.stdout}${ls.stderr}`);
  const files = ls.stdout.split("\n").map((l) => l.trim()).filter(Boolean);

  const required = ["package.json", "dist/extension.js", "dist/jitlens.js", "dist/webview.js",
    "dist/node_modules/webgpu/package.json", "dist/node_modules/webgpu/index.js", `dist/node_modules/webgpu/dist/${TARGETS[target]}/dawn.node`];
  const missing = required.filter((f) => !files.includes(f));
  if (missing.length) fail(`${target}: would not contain ${missing.join(", ")} (is the build complete?)`);
  const allowed = (f) => /^(package\.json|README\.md|LICENSE(\.md|\.txt)?|CHANGELOG\.md|dist\/[^/]+\.(js|css)|docs\/[^/]+\.png|media\/.+)$/.test(f) ||
    /^extension\/python\/[^/]+\.py$/.test(f) ||
    f.startsWith(`dist/node_modules/webgpu/dist/${TARGETS[target]}/`) || /^dist\/node_modules\/webgpu\/[^/]+$/.test(f);
  const leaked = files.filter((f) => !allowed(f));
  if (leaked.length) fail(`${target}: would contain files that must stay out:\n  ${leaked.slice(0, 20).join("\n  ")}`);

  const out = outFor(target);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const p = run(process.execPath, [vsce, "package", ...flags, "-o", out], dir);
  process.stdout.write(p.stdout);
  if (p.code !== 0) fail(`${target}: vsce package failed:\n${p.stderr}`);
  const size = fs.statSync(out).size;
  console.log(`packaged ${path.relative(root, out) || out} for ${target} (${(size / 1024).toFixed(0)} KiB, ${files.length} files: ${files.join(", ")})`);
}
