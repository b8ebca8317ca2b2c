// Bundles the three targets with esbuild:
//   dist/extension.js  the VS Code extension (Node, CommonJS, `vscode` external)
//   dist/jitlens.js    the engine + CLI (Node): `jitlens trace|run|bench`, and `jitlens engine` (JSON-RPC on IPC)
//   dist/webview.js    the IR viewer (browser)
// plus out/test/suite/index.js, the in-extension-host integration suite.
// Native addons (the `webgpu` package's dawn.node) stay external: they cannot be bundled.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const watch = process.argv.includes("--watch");
const production = process.argv.includes("--production");

const common = {
  bundle: true,
  sourcemap: production ? false : "linked",
  minify: false,
  logLevel: "warning",
  absWorkingDir: root,
};
const nodeExternal = ["vscode", "webgpu"];

const targets = [
  { ...common, entryPoints: ["extension/src/extension.ts"], outfile: "dist/extension.js", platform: "node", format: "cjs", target: "node20", external: nodeExternal },
  { ...common, entryPoints: ["compiler-core/src/cli/main.ts"], outfile: "dist/jitlens.js", platform: "node", format: "cjs", target: "node20", external: nodeExternal },
  { ...common, entryPoints: ["webview/src/main.ts"], outfile: "dist/webview.js", platform: "browser", format: "iife", target: "es2022" },
  { ...common, entryPoints: ["test/suite/index.ts"], outfile: "out/test/suite/index.js", platform: "node", format: "cjs", target: "node20", external: [...nodeExternal, "mocha"] },
];

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  const t0 = Date.now();
  await Promise.all(targets.map((t) => esbuild.build(t)));
  console.log(`built ${targets.length} bundles in ${Date.now() - t0} ms`);
}
