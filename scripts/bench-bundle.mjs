// Bundles `npm run bench` (scripts/bench.ts and everything it imports, @jax-js/jax included)
// into one file, dist/bench.cjs, for the lent GPU machine: node_modules (hundreds of MiB) does
// not travel there, and the bundle needs only the `webgpu` package's loader and Dawn binary
// (node_modules/webgpu/{package.json,index.js,dist/linux-x64}), which stay external because
// dawn.node is a native addon (device.ts loads it with a run-time import).
// Separate from scripts/build.mjs on purpose: it adds no output to the extension's build.
//
//   node scripts/bench-bundle.mjs            # writes dist/bench.cjs
//   node dist/bench.cjs --backend webgpu     # from the repository root (reads examples/, writes docs/)
import * as esbuild from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const peer = JSON.parse(readFileSync(path.join(root, "node_modules/@jax-js/jax/package.json"), "utf8"));
const outfile = path.join(root, "dist", "bench.cjs");
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["scripts/bench.ts"],
  outfile,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["webgpu", "vscode"],
  // bench.ts reads the peer's version from node_modules, which the GPU machine lacks.
  banner: { js: `globalThis.__JITLENS_PEER_VERSION__ = ${JSON.stringify(peer.version)};` },
  logLevel: "warning",
});
console.log(`wrote ${path.relative(process.cwd(), outfile)} (@jax-js/jax ${peer.version} inside; needs node_modules/webgpu beside it)`);
