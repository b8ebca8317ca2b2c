// `npm run bench`: in one run, this machine's copy bandwidth, every example compiled vs eager,
// compiled elementwise throughput as a share of copy bandwidth, and the same workloads through
// the peer @jax-js/jax (its jit on its wasm device). Writes the generated section of
// docs/BENCHMARKS.md (scripts/bench-report.ts renders it). `--quick` is a smoke run.
// `--backend webgpu` measures the GPU instead (scripts/bench-gpu.ts, its own section).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultDevice, init, jit, numpy as np } from "@jax-js/jax";
import { makeInputs, prepare, runAndMeasure, toErrorInfo } from "../compiler-core/src/api";
import type { AnalyzeParams } from "../compiler-core/src/engine/protocol";
import { minimumBytes } from "../compiler-core/src/runtime/cpu";
import { measure, measureAsync, nowMs, type MeasureOptions } from "../compiler-core/src/runtime/timing";
import { PEER_FNS, REFERENCES } from "./bench-peer";
import { benchWebGPU } from "./bench-gpu";
import {
  BENCH_USAGE, BenchUsageError, DOC_SKELETON, WEBGPU_MARKS, WORKLOADS, WORKLOADS_FILE, WORKLOADS_PY,
  better, discoverExamples, firstSentence, parseBenchArgs, renderResults, replaceGenerated, scaledDiff, timingRule, workloadLabel,
  type BenchOptions, type BenchResults, type CopyResult, type ExampleResult, type MachineInfo, type WorkloadResult,
} from "./bench-report";

const root = path.resolve(__dirname, "..");
const log = (s: string) => process.stderr.write(s + "\n");

// ---------------------------------------------------------------------------------------------
// Copy bandwidth

function copyLoop(dst: Float32Array, src: Float32Array): void {
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = src[i];
}

/** Best time to allocate a fresh array of `mib` MiB and touch each page: what an output that is not reused costs. */
function measureFreshArray(mib: number, runs: number): number {
  const n = (mib * 1024 * 1024) / 4;
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < runs + 2; r++) {
    const t0 = nowMs();
    const a = new Float32Array(n);
    for (let i = 0; i < n; i += 1024) a[i] = 1;
    const dt = nowMs() - t0;
    sink += a[n - 1];
    if (r >= 2) best = Math.min(best, dt);
  }
  return sink >= 0 ? best : best;
}

function measureCopy(mib: number, runs: number): CopyResult[] {
  const n = (mib * 1024 * 1024) / 4;
  const src = new Float32Array(n);
  for (let i = 0; i < n; i++) src[i] = i & 1023;
  const dst = new Float32Array(n);
  const methods: [string, () => void][] = [
    ["JS loop `dst[i] = src[i]`", () => copyLoop(dst, src)],
    ["`TypedArray.prototype.set`", () => dst.set(src)],
  ];
  return methods.map(([method, fn]) => {
    for (let i = 0; i < 2; i++) fn(); // warm-up: V8 optimises the loop, pages are touched
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const t0 = nowMs();
      fn();
      best = Math.min(best, nowMs() - t0);
    }
    if (dst[n - 1] !== src[n - 1]) throw new Error("copy check failed");
    return { method, bytes: 4 * n, best_ms: best, gbps: (2 * 4 * n) / (best * 1e6) };
  });
}

// ---------------------------------------------------------------------------------------------
// The sections

function benchExamples(o: BenchOptions): ExampleResult[] {
  const dir = path.join(root, "examples");
  const rule = timingRule(o.quick).examples;
  return discoverExamples(dir).map((ex) => {
    const params: AnalyzeParams = {
      file: path.join(dir, ex.file), source: readFileSync(path.join(dir, ex.file), "utf8"),
      fn: ex.fn, args: ex.args, backend: o.backend, timing: rule,
    };
    try {
      const timings = runAndMeasure(prepare(params), params);
      log(`  ${ex.file} ${ex.fn}: ${timings.speedup.toFixed(2)}× (${timings.kernels.eager} → ${timings.kernels.compiled} kernels)`);
      return { ...ex, timings };
    } catch (e) {
      const error = toErrorInfo(e);
      log(`  ${ex.file} ${ex.fn}: ${error.kind}`);
      return { ...ex, error: `${error.kind}: ${firstSentence(error.message)}` };
    }
  });
}

async function benchWorkloads(o: BenchOptions): Promise<WorkloadResult[]> {
  const rule = timingRule(o.quick);
  const opts: MeasureOptions = { ...rule.workloads, maxRuns: 10_000 };
  const results: WorkloadResult[] = [];
  for (const w of WORKLOADS) {
    const r: WorkloadResult = { fn: w.fn, label: workloadLabel(w, o.quick), predicted: w.predicted, why: w.why, elementwise: !!w.elementwise };
    results.push(r);
    let p: ReturnType<typeof prepare>;
    try {
      p = prepare({ file: WORKLOADS_FILE, source: WORKLOADS_PY, fn: w.fn, args: w.args(o.quick), backend: o.backend });
    } catch (e) {
      r.error = firstSentence(toErrorInfo(e).message);
      log(`  ${r.label}: ours failed: ${r.error}`);
      continue;
    }
    const inputs = makeInputs(p.trace, 0);
    r.minimumBytes = minimumBytes(p.trace.jaxpr);
    r.kernels = { eager: p.eager.launches, compiled: p.compiled.launches };
    const ours = p.compiled.run(inputs)[0];
    const reference = REFERENCES[w.fn]?.(inputs.map((v) => ({ data: v.data, shape: v.aval.shape })));
    if (reference) r.oursRefDiff = scaledDiff(reference, ours.data);

    // The peer, on the same input data.
    const peerFn = PEER_FNS[w.fn];
    let args: np.Array[] = [];
    let peerJit: ((...xs: np.Array[]) => np.Array) & { dispose: () => void } | undefined;
    r.peer = {};
    try {
      args = inputs.map((v) => np.array(v.data as Float32Array).reshape([...v.aval.shape]));
      peerJit = jit(peerFn);
      const y = peerJit(...args.map((a) => a.ref));
      const peerOut = y.dataSync() as ArrayLike<number>;
      r.peer.maxDiff = scaledDiff(ours.data, peerOut);
      if (reference) r.peer.refDiff = scaledDiff(reference, peerOut);
    } catch (e) {
      r.peer.error = e instanceof Error ? e.message.split("\n")[0] : String(e);
    }

    const call = async (f: (...xs: np.Array[]) => np.Array) => {
      const y = f(...args.map((a) => a.ref));
      await y.blockUntilReady();
      y.dispose();
    };
    try {
      for (let round = 0; round < rule.rounds; round++) {
        r.ours = { compiled: better(r.ours?.compiled, measure(() => p.compiled.runRecycling(inputs), opts)), eager: r.ours?.eager };
        if (peerJit && !r.peer.error) r.peer.jit = better(r.peer.jit, await measureAsync(() => call(peerJit!), opts));
        if (w.eager) {
          r.ours.eager = better(r.ours.eager, measure(() => p.eager.runRecycling(inputs), opts));
          if (peerJit && !r.peer.error) r.peer.eager = better(r.peer.eager, await measureAsync(() => call(peerFn), opts));
        }
      }
    } catch (e) {
      r.peer.error ??= e instanceof Error ? e.message.split("\n")[0] : String(e);
    }
    args.forEach((a) => { try { a.dispose(); } catch { /* already freed */ } });
    peerJit?.dispose();
    const ratio = r.peer.jit && r.ours ? (r.peer.jit.median_ms / r.ours.compiled.median_ms).toFixed(2) : "–";
    log(`  ${r.label}: ours ${r.ours?.compiled.median_ms.toFixed(2)} ms, peer jit ${r.peer.jit?.median_ms.toFixed(2) ?? "–"} ms, peer/ours ${ratio}, diff ${r.peer.maxDiff?.toExponential(1) ?? r.peer.error}`);
  }
  return results;
}

/** The peer's version: from node_modules, or baked in by scripts/bench-bundle.mjs (dist/bench.cjs runs without node_modules). */
export function peerVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, "node_modules/@jax-js/jax/package.json"), "utf8")) as { version: string }).version;
  } catch {
    const baked = (globalThis as { __JITLENS_PEER_VERSION__?: string }).__JITLENS_PEER_VERSION__;
    return typeof baked === "string" ? baked : "unknown";
  }
}

function machineInfo(): MachineInfo {
  const g = globalThis as { Worker?: unknown; SharedArrayBuffer?: unknown };
  return {
    cpu: os.cpus()[0]?.model?.replace(/\s+/g, " ").trim() ?? "unknown CPU",
    cores: os.cpus().length,
    node: process.versions.node,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg(),
    peerVersion: peerVersion(),
    peerThreads: g.Worker !== undefined && g.SharedArrayBuffer !== undefined
      ? "multi-threaded (Web Workers + SharedArrayBuffer)"
      : "single-threaded (Node has no global `Worker`, so its worker pool is off — one core, as ours)",
  };
}

/** Rewrites the generated section (between `marks`, default the CPU run's) of the markdown file `out`, starting from DOC_SKELETON when it is absent; returns its path for the log. */
function writeSection(out: string, generated: string, marks?: typeof WEBGPU_MARKS): string {
  const file = path.resolve(out);
  const doc = existsSync(file) ? readFileSync(file, "utf8") : DOC_SKELETON;
  writeFileSync(file, replaceGenerated(doc, generated, marks));
  return path.relative(process.cwd(), file);
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(BENCH_USAGE + "\n");
    return 0;
  }
  const o = parseBenchArgs(argv);
  if (o.backend === "webgpu") return benchWebGPUMain(o);
  const t0 = nowMs();
  const rule = timingRule(o.quick);
  const machine = machineInfo();
  await init("wasm"); // init() without a device probes navigator.gpu, which Node lacks
  defaultDevice("wasm");

  log(`copy bandwidth (${rule.copyMiB} MiB arrays, best of ${rule.copyRuns})`);
  const copy = measureCopy(rule.copyMiB, rule.copyRuns);
  for (const c of copy) log(`  ${c.method}: ${c.gbps.toFixed(1)} GB/s`);
  const freshArrayMs = measureFreshArray(rule.copyMiB, rule.copyRuns);
  log("examples: compiled vs eager");
  const examples = benchExamples(o);
  log("workloads: ours vs @jax-js/jax");
  const workloads = await benchWorkloads(o);

  const results: BenchResults = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"), quick: o.quick, backend: o.backend, machine, rule,
    copy, freshArrayMs, examples, workloads, totalSeconds: (nowMs() - t0) / 1000,
  };
  const generated = renderResults(results);
  if (o.json) writeFileSync(o.json, JSON.stringify(results, null, 2) + "\n");
  if (o.out) {
    log(`wrote ${writeSection(o.out, generated)} (${results.totalSeconds.toFixed(0)} s)`);
  } else {
    process.stdout.write(generated + "\n");
  }
  return 0;
}

async function benchWebGPUMain(o: BenchOptions): Promise<number> {
  const { results, generated } = await benchWebGPU(o, { root, log, cpu: machineInfo() });
  if (o.json) writeFileSync(o.json, JSON.stringify(results, null, 2) + "\n");
  let out = o.out;
  if (out && o.outDefault && results.gpu.swiftshader) {
    log(`not writing ${out}: the adapter is SwiftShader (CPU emulation), not a GPU; printing the section instead (give --out FILE to write it anyway, labelled as such)`);
    out = undefined;
  }
  if (out) {
    log(`wrote the WebGPU section of ${writeSection(out, generated, WEBGPU_MARKS)} (${results.totalSeconds.toFixed(0)} s)`);
  } else {
    process.stdout.write(generated + "\n");
  }
  return results.gpu.error ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof BenchUsageError) {
      process.stderr.write(`bench: ${e.message}\n\n${BENCH_USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
