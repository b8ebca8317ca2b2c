// `npm start`: the main job on a fresh clone. Builds JIT Lens, traces and compiles an example,
// prints its jaxpr and the measured interpreted-vs-compiled table for a few examples, and
// writes the VSIX to dist/.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist", "jitlens.js");
const example = path.join("examples", "elementwise.py");

// Dawn (the WebGPU backend) writes its adapter probing to stderr from native code, which the
// CLI cannot silence; the demo drops those lines and keeps everything JIT Lens says.
const DAWN_NOISE = [/XDG_RUNTIME_DIR/, /^Warning: Vulkan /, /^ - While initializing adapter/, /^\s+at \w+ \(.*third_party\/dawn\//];

function step(title, cmd, args) {
  console.log(`\n\x1b[1m== ${title}\x1b[0m\n$ ${[path.basename(cmd) === "node" ? "node" : cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: ["inherit", "inherit", "pipe"], encoding: "utf8" });
  const err = (r.stderr ?? "").split("\n").filter((l) => !DAWN_NOISE.some((re) => re.test(l)));
  const text = err.join("\n").replace(/^\n+/, "").replace(/\n{2,}/g, "\n");
  if (text.trim()) process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  if (r.status !== 0) {
    console.error(`\nnpm start: '${title}' failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

step("Build the extension, the engine + CLI and the IR viewer", process.execPath, [path.join(root, "scripts", "build.mjs")]);
step("Trace gelu: the jaxpr", process.execPath, [cli, "trace", example, "--fn", "gelu"]);
// An elementwise chain, a row-wise reduction (one fused kernel) and an MLP (matmuls with fused
// epilogues). `npm run bench` times every example.
for (const [file, fn] of [["elementwise.py", "gelu"], ["reductions.py", "layernorm"], ["networks.py", "mlp_forward"]]) {
  step(`Compile and time ${fn}: interpreted (one kernel per op) vs compiled (fused)`, process.execPath, [cli, "bench", path.join("examples", file), "--fn", fn]);
}
step("Package the VSIX", process.execPath, [path.join(root, "scripts", "package.mjs")]);
console.log("\nInstall it with: code --install-extension dist/jitlens-0.1.0.vsix");
