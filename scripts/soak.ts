// Soak: many trace-compile-run cycles in ONE engine process (the real JSON-RPC engine, as the
// extension runs it), then the engine's memory before and after (after a full GC), and with
// `--backend webgpu` the GPU layer's buffer pool. Memory must stay flat: a leak per request
// shows up as growth proportional to the cycle count.
//
//   npm run soak -- [--cycles 1000] [--backend cpu|webgpu] [--json FILE]
//
// test/unit/soak.test.ts runs 50 cycles in CI. WebGPU without a GPU: SwiftShader
// (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json, set here when unset).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { EngineClient } from "../compiler-core/src/engine/client";
import type { Backend, EngineStats } from "../compiler-core/src/engine/protocol";

const root = path.resolve(__dirname, "..");

/** The functions cycled through: each traced, compiled and run (small shapes, one timed run). */
export const WORKLOAD: { file: string; fn: string; args: string }[] = [
  { file: "examples/elementwise.py", fn: "gelu", args: "x=f32[4096]" },
  { file: "examples/reductions.py", fn: "softmax", args: "x=f32[64,128]" },
  { file: "examples/networks.py", fn: "linear_relu", args: "x=f32[32,64], w=f32[64,32], b=f32[32]" },
  { file: "examples/elementwise.py", fn: "smooth_max", args: "x=f32[1000], y=f32[1000]" },
  { file: "examples/transforms.py", fn: "ema", args: "xs=f32[16,32]" },
  { file: "examples/transforms.py", fn: "linreg_grad", args: "w=f32[8], x=f32[32,8], y=f32[32]" },
];

export interface SoakResult {
  cycles: number;
  backend: Backend;
  errors: string[];
  restarts: number;
  before: EngineStats;
  after: EngineStats;
  /** Heap after a GC, sampled every `every` cycles (MiB). */
  samples: { cycle: number; rssMiB: number; heapMiB: number; gpuBuffers?: number }[];
  ms: number;
  /** Timed runs per backend that ran them. */
  ranOn: Record<string, number>;
}

const MiB = 2 ** 20;

export async function soak(opts: { cycles: number; backend?: Backend; warmup?: number; onProgress?: (s: SoakResult["samples"][number]) => void }): Promise<SoakResult> {
  const backend = opts.backend ?? "cpu";
  if (backend !== "cpu") process.env.VK_ICD_FILENAMES ??= "/usr/lib/chromium/vk_swiftshader_icd.json";
  const warmup = opts.warmup ?? Math.min(20, Math.max(5, Math.floor(opts.cycles / 10)));
  const starts: (number | undefined)[] = [];
  // From source through tsx (this checkout's compiler, not the last build); --expose-gc so that
  // the stats are taken after a full collection.
  const client = new EngineClient({
    script: path.join(root, "compiler-core/src/cli/main.ts"),
    execArgv: ["--import", "tsx", "--expose-gc"],
    cwd: root,
    onStart: (pid) => starts.push(pid),
  });
  const sources = new Map(WORKLOAD.map((w) => [w.file, readFileSync(path.join(root, w.file), "utf8")]));
  const errors: string[] = [];
  const backends = new Map<string, number>();
  const samples: SoakResult["samples"] = [];
  const one = async (i: number) => {
    const w = WORKLOAD[i % WORKLOAD.length];
    const file = path.join(root, w.file);
    // A run is two requests, as in the editor: trace + compile, then the measured run.
    for (const run of [false, true]) {
      const r = await client.analyze({ file, source: sources.get(w.file)!, fn: w.fn, args: w.args, run, backend, timing: { minRuns: 1, minTimeMs: 0 } });
      if (r.error) errors.push(`cycle ${i} ${w.fn}: ${r.error.kind}: ${r.error.message}`);
      // (A function the WebGPU backend does not cover, e.g. lax.scan, runs on the CPU with a warning: counted, not an error.)
      if (run && r.timings) backends.set(r.timings.backend, (backends.get(r.timings.backend) ?? 0) + 1);
    }
  };
  const sample = async (cycle: number) => {
    const s = await client.stats(true);
    const row = { cycle, rssMiB: s.rss / MiB, heapMiB: s.heapUsed / MiB, ...(s.gpu ? { gpuBuffers: s.gpu.buffers } : {}) };
    samples.push(row);
    opts.onProgress?.(row);
    return s;
  };
  const t0 = performance.now();
  try {
    for (let i = 0; i < warmup; i++) await one(i);
    const before = await sample(0);
    const every = Math.max(1, Math.floor(opts.cycles / 10));
    for (let i = 0; i < opts.cycles; i++) {
      await one(i);
      if ((i + 1) % every === 0 && i + 1 < opts.cycles) await sample(i + 1);
    }
    const after = await sample(opts.cycles);
    return { cycles: opts.cycles, backend, errors, restarts: starts.length - 1, before, after, samples, ms: performance.now() - t0, ranOn: Object.fromEntries(backends) };
  } finally {
    client.dispose();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const cycles = Number(opt("cycles") ?? 1000);
  const backend = (opt("backend") ?? "cpu") as Backend;
  console.log(`soak: ${cycles} trace-compile-run cycles (2 requests each) in one engine, backend ${backend}`);
  const r = await soak({
    cycles, backend,
    onProgress: (s) => console.log(`  after ${String(s.cycle).padStart(5)} cycles: rss ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB${s.gpuBuffers !== undefined ? `, GPU buffers ${s.gpuBuffers}` : ""}`),
  });
  const f = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  console.log(`requests served: ${r.after.requests}; engine restarts: ${r.restarts}; errors: ${r.errors.length}${r.errors.length ? ` (first: ${r.errors[0]})` : ""}; timed runs by backend: ${JSON.stringify(r.ranOn)}`);
  console.log(`rss:  ${f(r.before.rss)} -> ${f(r.after.rss)} (${(((r.after.rss - r.before.rss) / r.before.rss) * 100).toFixed(1)}%)`);
  console.log(`heap: ${f(r.before.heapUsed)} -> ${f(r.after.heapUsed)} (${(((r.after.heapUsed - r.before.heapUsed) / r.before.heapUsed) * 100).toFixed(1)}%), after a full GC: ${r.after.gc}`);
  console.log(`external + array buffers: ${f(r.before.external)} -> ${f(r.after.external)}`);
  if (r.before.gpu && r.after.gpu) console.log(`GPU pool: ${r.before.gpu.buffers} -> ${r.after.gpu.buffers} buffers, ${f(r.before.gpu.heldBytes)} -> ${f(r.after.gpu.heldBytes)} held, in use ${f(r.after.gpu.inUseBytes)}; pipelines ${r.before.gpu.pipelines} -> ${r.after.gpu.pipelines}`);
  console.log(`time: ${(r.ms / 1000).toFixed(1)} s (${(r.ms / cycles).toFixed(1)} ms per cycle)`);
  const json = opt("json");
  if (json) writeFileSync(json, JSON.stringify(r, null, 2));
  process.exitCode = r.errors.length || r.restarts ? 1 : 0;
}

if (require.main === module) void main();
