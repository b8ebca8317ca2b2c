// `npm run bench -- --backend webgpu`: the measuring half of the GPU bench (scripts/bench.ts
// calls benchWebGPU; scripts/bench-gpu-report.ts says what is measured and renders it):
// - the adapter, named; SwiftShader (a CPU Vulkan) is measured but labelled, never published
//   as GPU numbers;
// - the GPU's copy bandwidth: a WGSL vec4 grid-stride copy, timestamp queries when offered,
//   else wall time to onSubmittedWorkDone;
// - our compiled kernels at GPU sizes: bandwidth workloads as a share of that copy, matmuls in
//   TFLOP/s, and each against @jax-js/jax's jit on its webgpu device (the same Dawn instance
//   through a navigator.gpu shim), with the peer's dispatch count per call;
// - eager vs compiled on the GPU for every example (the product's own prepareWebGPU and
//   runAndMeasureWebGPU; the fallback reason where the GPU refuses one);
// - the real-JAX fixtures of scripts/compare-examples.mjs, when present.
import { readFileSync } from "node:fs";
import path from "node:path";
import { defaultDevice, getWebGPUDevice, init, jit, numpy as np } from "@jax-js/jax";
import { makeInputs, prepare, toErrorInfo, type Prepared } from "../compiler-core/src/api";
import type { AnalyzeParams } from "../compiler-core/src/engine/protocol";
import type { ArrayValue } from "../compiler-core/src/ir/types";
import { minimumBytes } from "../compiler-core/src/runtime/cpu";
import { measureAsync, nowMs, type MeasureOptions } from "../compiler-core/src/runtime/timing";
import { prepareWebGPU, runAndMeasureWebGPU } from "../compiler-core/src/runtime/webgpu/backend";
import { dawnInstance, getGpu, type GpuContext } from "../compiler-core/src/runtime/webgpu/device";
import { compileWebGPU, type WebGPUExecutable } from "../compiler-core/src/runtime/webgpu/runtime";
import { PEER_FNS, REFERENCES } from "./bench-peer";
import {
  GPU_WORKLOADS, gpuTimingRule, loadRealJax, renderGpuResults,
  type GpuBenchResults, type GpuCopyResult, type GpuExampleResult, type GpuInfo, type GpuWorkloadResult,
} from "./bench-gpu-report";
import {
  BenchUsageError, better, discoverExamples, firstSentence, scaledDiff, WORKLOADS_FILE, WORKLOADS_PY, workloadLabel,
  type BenchOptions, type MachineInfo,
} from "./bench-report";

type Log = (s: string) => void;

const errText = (e: unknown): string => firstSentence(e instanceof Error ? e.message : String(e));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

// ---------------------------------------------------------------------------------------------
// The adapter

function gpuInfo(ctx: GpuContext): GpuInfo {
  const i = ctx.adapter.info;
  return {
    name: ctx.name, vendor: i.vendor, architecture: i.architecture, description: i.description || i.device,
    swiftshader: ctx.swiftshader, timestamps: ctx.timestamps, subgroups: ctx.subgroups, limits: { ...ctx.limits },
  };
}

// ---------------------------------------------------------------------------------------------
// Copy bandwidth: a vec4 grid-stride copy kernel

export const COPY_WGSL = `@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = arrayLength(&src);
  let stride = nwg.x * 256u;
  var i = gid.x;
  loop {
    if (i >= n) { break; }
    dst[i] = src[i];
    i = i + stride;
  }
}
`;

async function measureGpuCopy(ctx: GpuContext, elements: number, runs: number, log: Log): Promise<GpuCopyResult[]> {
  const dev = ctx.device;
  const bytes = elements * 4;
  const n4 = elements / 4;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const src = dev.createBuffer({ size: bytes, usage });
  const dst = dev.createBuffer({ size: bytes, usage });
  const init = new Float32Array(elements);
  for (let i = 0; i < elements; i++) init[i] = i & 1023;
  dev.queue.writeBuffer(src, 0, init);
  const module = dev.createShaderModule({ code: COPY_WGSL });
  const pipe = dev.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const bind = dev.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }] });
  const qs = ctx.timestamps ? dev.createQuerySet({ type: "timestamp", count: 2 }) : undefined;
  const resolve = qs ? dev.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : undefined;
  const read = qs ? dev.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : undefined;
  const check = dev.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const maxWg = Math.min(ctx.limits.maxComputeWorkgroupsPerDimension, Math.ceil(n4 / 256));
  const counts = [...new Set([64, 256, 1024, 4096, 16384, maxWg].map((c) => Math.min(c, maxWg)))].sort((a, b) => a - b);
  const results: GpuCopyResult[] = [];
  try {
    for (const wg of counts) {
      const gpu: number[] = [];
      const wall: number[] = [];
      for (let r = 0; r < runs + 2; r++) {
        const enc = dev.createCommandEncoder();
        const pass = enc.beginComputePass(qs ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined);
        pass.setPipeline(pipe);
        pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(wg);
        pass.end();
        if (qs) {
          enc.resolveQuerySet(qs, 0, 2, resolve!, 0);
          enc.copyBufferToBuffer(resolve!, 0, read!, 0, 16);
        }
        const t0 = nowMs();
        dev.queue.submit([enc.finish()]);
        await dev.queue.onSubmittedWorkDone();
        const dt = nowMs() - t0;
        if (qs) {
          await read!.mapAsync(GPUMapMode.READ);
          const t = new BigInt64Array(read!.getMappedRange().slice(0));
          read!.unmap();
          if (r >= 2) gpu.push(Number(t[1] - t[0]) / 1e6);
        }
        if (r >= 2) wall.push(dt);
      }
      // The copy is checked once per workgroup count: the last vec4 arrived.
      const enc = dev.createCommandEncoder();
      enc.copyBufferToBuffer(dst, bytes - 16, check, 0, 16);
      dev.queue.submit([enc.finish()]);
      await check.mapAsync(GPUMapMode.READ);
      const last = new Float32Array(check.getMappedRange().slice(0));
      check.unmap();
      if (last[3] !== init[elements - 1]) throw new Error(`the copy kernel did not copy (last element ${last[3]}, expected ${init[elements - 1]})`);
      const useGpu = gpu.length > 0 && gpu.every((t) => t > 0);
      const times = useGpu ? gpu : wall;
      const med = median(times);
      const res: GpuCopyResult = { workgroups: wg, bytes, timer: useGpu ? "timestamps" : "wall", best_ms: Math.min(...times), median_ms: med, wall_median_ms: median(wall), gbps: (2 * bytes) / (med * 1e6) };
      results.push(res);
      log(`  ${wg} workgroups: ${res.gbps.toFixed(1)} GB/s (${res.timer}, median ${med.toFixed(3)} ms, wall ${res.wall_median_ms.toFixed(3)} ms)`);
    }
  } finally {
    src.destroy(); dst.destroy(); check.destroy(); qs?.destroy(); resolve?.destroy(); read?.destroy();
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// The peer on its webgpu device

/** Counts the dispatches and submits every WebGPU user in the process makes (read around one peer call). */
const counter = { dispatches: 0, submits: 0, installed: false };

function installCounters(): boolean {
  if (counter.installed) return true;
  const g = globalThis as unknown as { GPUComputePassEncoder?: { prototype: Record<string, unknown> }; GPUQueue?: { prototype: Record<string, unknown> } };
  const pe = g.GPUComputePassEncoder?.prototype;
  const q = g.GPUQueue?.prototype;
  if (!pe || !q || typeof pe.dispatchWorkgroups !== "function" || typeof q.submit !== "function") return false;
  const dispatch = pe.dispatchWorkgroups as (...a: unknown[]) => unknown;
  const submit = q.submit as (...a: unknown[]) => unknown;
  pe.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) { counter.dispatches++; return dispatch.apply(this, a); };
  q.submit = function (this: unknown, ...a: unknown[]) { counter.submits++; return submit.apply(this, a); };
  counter.installed = true;
  return true;
}

/** jax-js picks its device from navigator.gpu (init("webgpu")): hand it our Dawn instance, so it gets the same adapter. */
async function initPeer(ctx: GpuContext): Promise<{ device?: string; error?: string }> {
  const g = globalThis as { navigator?: { gpu?: unknown; userAgent?: string } };
  const gpu = dawnInstance();
  if (!gpu) return { error: "no Dawn instance" };
  if (!g.navigator) {
    Object.defineProperty(globalThis, "navigator", { value: { gpu, userAgent: `Node.js/${process.version}` }, configurable: true, writable: true });
  } else if (!g.navigator.gpu) {
    Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
  }
  try {
    const devs = await init("webgpu");
    if (!devs.includes("webgpu")) return { error: "init('webgpu') found no adapter through the navigator.gpu shim" };
    defaultDevice("webgpu");
    const d = getWebGPUDevice() as GPUDevice & { adapterInfo?: GPUAdapterInfo };
    const info = d.adapterInfo;
    const same = info ? `${info.vendor} ${info.architecture}`.trim() === `${ctx.adapter.info.vendor} ${ctx.adapter.info.architecture}`.trim() : undefined;
    return { device: info ? `${[info.vendor, info.architecture].filter(Boolean).join(" ")}${info.description ? ` (${info.description})` : ""}${same === false ? " — NOT the adapter ours runs on" : same ? ", the adapter ours runs on" : ""}` : "a webgpu device (adapter info not exposed)" };
  } catch (e) {
    return { error: errText(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// Workloads

/** max |ours − ref| / max |ref| over `samples` random entries of C = A·B (float64): a 4096³ reference is too slow whole. */
function sampledMatmulDiff(inputs: ArrayValue[], out: ArrayLike<number>, samples = 256): number {
  const [a, b] = inputs;
  const [m, k] = a.aval.shape;
  const n = b.aval.shape[1];
  let worst = 0;
  let scale = 0;
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let s = 0; s < samples; s++) {
    const i = Math.floor(rnd() * m);
    const j = Math.floor(rnd() * n);
    let acc = 0;
    for (let p = 0; p < k; p++) acc += a.data[i * k + p] * b.data[p * n + j];
    worst = Math.max(worst, Math.abs(out[i * n + j] - acc));
    scale = Math.max(scale, Math.abs(acc));
  }
  return worst / Math.max(scale, 1e-30);
}

async function benchGpuWorkloads(o: BenchOptions, ctx: GpuContext, peerOk: boolean, log: Log): Promise<GpuWorkloadResult[]> {
  const rule = gpuTimingRule(o.quick);
  const opts: MeasureOptions = { ...rule.workloads, maxRuns: 10_000 };
  const results: GpuWorkloadResult[] = [];
  for (const w of GPU_WORKLOADS) {
    const r: GpuWorkloadResult = { fn: w.fn, label: workloadLabel(w, o.quick), predicted: w.predicted, why: w.why, elementwise: !!w.elementwise, measure: w.measure, target: w.target };
    results.push(r);
    let p: Prepared;
    let exC: WebGPUExecutable | undefined;
    let exE: WebGPUExecutable | undefined;
    try {
      p = prepare({ file: WORKLOADS_FILE, source: WORKLOADS_PY, fn: w.fn, args: w.args(o.quick), backend: "webgpu", run: false });
      exC = await compileWebGPU(p.trace.jaxpr, "compiled");
      if (w.eager) exE = await compileWebGPU(p.trace.jaxpr, "eager");
    } catch (e) {
      exC?.dispose();
      r.error = errText(e);
      log(`  ${r.label}: ours failed: ${r.error}`);
      continue;
    }
    const inputs = makeInputs(p.trace, 0);
    r.minimumBytes = minimumBytes(p.trace.jaxpr);
    r.kernels = { eager: exE?.launches ?? exC.launches, compiled: exC.launches };
    r.flops = exC.kernels.reduce((s, k) => s + (k.flops ?? 0), 0);
    r.kernelList = exC.kernels.map((k) => `${k.name} (${k.kind})`);
    // The float64 reference (not for matmul: sampled instead), computed once for ours and the peer.
    let refOut: Float64Array | undefined;
    const reference = (): Float64Array | undefined =>
      (refOut ??= REFERENCES[w.fn]?.(inputs.map((v) => ({ data: v.data, shape: v.aval.shape }))));
    let oursOut: ArrayLike<number> | undefined;
    try {
      oursOut = (await exC.runAsync(inputs))[0].data;
      if (w.fn === "matmul") {
        r.oursRefDiff = sampledMatmulDiff(inputs, oursOut);
        r.refKind = "f64, 256 sampled entries";
      } else {
        const ref = reference();
        if (ref) {
          r.oursRefDiff = scaledDiff(ref, oursOut);
          r.refKind = "f64";
        }
      }
    } catch (e) {
      r.error = errText(e);
    }

    // The peer, on the same input data, on its webgpu device.
    const peerFn = PEER_FNS[w.fn];
    let args: np.Array[] = [];
    let peerJit: ((...xs: np.Array[]) => np.Array) & { dispose: () => void } | undefined;
    r.peer = {};
    if (!peerOk) r.peer.error = "no webgpu device";
    else {
      try {
        args = inputs.map((v) => np.array(v.data as Float32Array).reshape([...v.aval.shape]));
        peerJit = jit(peerFn);
        const y = peerJit(...args.map((a) => a.ref));
        const peerOut = (await y.data()) as ArrayLike<number>; // data() consumes y
        if (oursOut) r.peer.maxDiff = scaledDiff(oursOut, peerOut);
        if (w.fn === "matmul") r.peer.refDiff = sampledMatmulDiff(inputs, peerOut);
        else if (REFERENCES[w.fn]) r.peer.refDiff = scaledDiff(reference()!, peerOut);
        // Its kernels: the dispatches of one warm call, from the call to blockUntilReady.
        if (installCounters()) {
          await ctx.device.queue.onSubmittedWorkDone();
          const d0 = counter.dispatches;
          const s0 = counter.submits;
          const y2 = peerJit(...args.map((a) => a.ref));
          await y2.blockUntilReady();
          r.peerDispatches = counter.dispatches - d0;
          r.peerSubmits = counter.submits - s0;
          y2.dispose();
        }
      } catch (e) {
        r.peer.error = errText(e);
      }
    }

    const call = async (f: (...xs: np.Array[]) => np.Array) => {
      const y = f(...args.map((a) => a.ref));
      await y.blockUntilReady();
      y.dispose();
    };
    const resC = exC.upload(inputs);
    const resE = exE?.upload(inputs);
    try {
      if (!r.error) {
        for (let round = 0; round < rule.rounds; round++) {
          r.ours = { compiled: better(r.ours?.compiled, await measureAsync(() => exC!.execute(resC), opts)), eager: r.ours?.eager };
          if (peerJit && !r.peer.error) r.peer.jit = better(r.peer.jit, await measureAsync(() => call(peerJit!), opts));
          if (exE && resE) {
            r.ours.eager = better(r.ours.eager, await measureAsync(() => exE!.execute(resE), opts));
            if (peerJit && !r.peer.error) r.peer.eager = better(r.peer.eager, await measureAsync(() => call(peerFn), opts));
          }
        }
        const times = await exC.profile(resC, rule.profileRuns);
        if (times && times.every((t) => t !== null)) r.gpuMs = (times as number[]).reduce((s, t) => s + t, 0);
      }
    } catch (e) {
      if (!r.ours) r.error ??= errText(e);
      else r.peer.error ??= errText(e);
    } finally {
      exC.release(resC);
      if (resE) exE!.release(resE);
      exC.dispose();
      exE?.dispose();
      args.forEach((a) => { try { a.dispose(); } catch { /* already freed */ } });
      peerJit?.dispose();
      ctx.pool.trim();
    }
    const ratio = r.peer.jit && r.ours ? (r.peer.jit.median_ms / r.ours.compiled.median_ms).toFixed(2) : "–";
    const share = r.gpuMs ?? r.ours?.compiled.median_ms;
    log(`  ${r.label}: ours ${r.ours?.compiled.median_ms.toFixed(3) ?? "–"} ms wall, ${r.gpuMs?.toFixed(3) ?? "–"} ms GPU (${r.kernels.compiled} kernels, ${share && r.minimumBytes ? (r.minimumBytes / (share * 1e6)).toFixed(1) : "–"} GB/s), peer jit ${r.peer.jit?.median_ms.toFixed(3) ?? "–"} ms (${r.peerDispatches ?? "?"} dispatches), peer/ours ${ratio}, diff ${r.peer.maxDiff?.toExponential(1) ?? r.peer.error ?? "–"}${r.error ? `; ours failed: ${r.error}` : ""}`);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Examples: the product's own GPU path (prepareWebGPU, runAndMeasureWebGPU)

async function benchGpuExamples(root: string, o: BenchOptions, log: Log): Promise<GpuExampleResult[]> {
  const dir = path.join(root, "examples");
  const rule = gpuTimingRule(o.quick).examples;
  const out: GpuExampleResult[] = [];
  for (const ex of discoverExamples(dir)) {
    const params: AnalyzeParams = {
      file: path.join(dir, ex.file), source: readFileSync(path.join(dir, ex.file), "utf8"),
      fn: ex.fn, args: ex.args, backend: "webgpu", timing: rule,
    };
    let p: Prepared;
    try {
      p = prepare(params);
    } catch (e) {
      const error = toErrorInfo(e);
      out.push({ ...ex, error: `${error.kind}: ${firstSentence(error.message)}` });
      log(`  ${ex.file} ${ex.fn}: ${error.kind}`);
      continue;
    }
    const g = await prepareWebGPU(p, params);
    if (!g) {
      const why = (p.report.warnings ?? []).filter((w) => /WebGPU/.test(w)).pop() ?? "the WebGPU backend did not take it";
      out.push({ ...ex, fallback: firstSentence(why) });
      log(`  ${ex.file} ${ex.fn}: CPU fallback — ${why}`);
      continue;
    }
    try {
      const timings = await runAndMeasureWebGPU(p, g, params);
      const kt = g.compiled.kernels.map((k) => k.timeMs);
      const gpuMs = kt.some((t) => t !== undefined) ? kt.reduce<number>((s, t) => s + (t ?? 0), 0) : undefined;
      out.push({ ...ex, timings, gpuMs });
      log(`  ${ex.file} ${ex.fn}: ${timings.speedup.toFixed(2)}× (${timings.kernels.eager} → ${timings.kernels.compiled} launches)`);
    } catch (e) {
      out.push({ ...ex, fallback: `the GPU run failed: ${errText(e)}` });
      log(`  ${ex.file} ${ex.fn}: GPU run failed — ${errText(e)}`);
    } finally {
      g.dispose();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export async function benchWebGPU(o: BenchOptions, env: { root: string; log: Log; cpu: MachineInfo }): Promise<{ results: GpuBenchResults; generated: string }> {
  const { root, log, cpu } = env;
  const t0 = nowMs();
  const rule = gpuTimingRule(o.quick);
  const results: GpuBenchResults = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"), quick: o.quick, backend: "webgpu",
    host: { cpu: cpu.cpu, cores: cpu.cores, node: cpu.node, platform: cpu.platform, loadavg: cpu.loadavg, peerVersion: cpu.peerVersion },
    gpu: { swiftshader: false, timestamps: false, subgroups: false }, rule, copy: [], workloads: [], examples: [], peer: {},
    realJax: loadRealJax(root), totalSeconds: 0,
  };
  let ctx: GpuContext;
  try {
    ctx = await getGpu();
  } catch (e) {
    results.gpu.error = e instanceof Error ? e.message : String(e);
    log(`no WebGPU adapter: ${results.gpu.error}`);
    results.totalSeconds = (nowMs() - t0) / 1000;
    return { results, generated: renderGpuResults(results) };
  }
  results.gpu = gpuInfo(ctx);
  if (ctx.swiftshader && !o.quick) {
    // A 4096³ matmul and 64M-element kernels on a CPU emulation take hours and say nothing about a GPU.
    throw new BenchUsageError("--backend webgpu found only SwiftShader (CPU emulation): not GPU performance. A full run there would take hours; use --quick to check the bench, and run the full bench on a real GPU (docs/BENCHMARKS.md, \"On the lent GPU machine\")");
  }
  log(`adapter: ${ctx.name}${ctx.swiftshader ? " — SwiftShader (CPU emulation): not GPU performance" : ""}; timestamps ${ctx.timestamps ? "yes" : "no"}, subgroups ${ctx.subgroups ? "yes" : "no"}`);

  log(`GPU copy bandwidth (${(rule.copyElements * 4) / 2 ** 20} MiB arrays, vec4 grid-stride, ${rule.copyRuns} runs each)`);
  results.copy = await measureGpuCopy(ctx, rule.copyElements, rule.copyRuns, log);
  results.peer = await initPeer(ctx);
  log(`peer: ${results.peer.error ? `no webgpu device: ${results.peer.error}` : results.peer.device}`);
  log("workloads: ours vs @jax-js/jax on webgpu");
  results.workloads = await benchGpuWorkloads(o, ctx, !results.peer.error, log);
  log("examples: compiled vs eager on the GPU");
  results.examples = await benchGpuExamples(root, o, log);
  results.totalSeconds = (nowMs() - t0) / 1000;
  return { results, generated: renderGpuResults(results) };
}
