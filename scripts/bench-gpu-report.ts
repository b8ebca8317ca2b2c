// The pure half of `npm run bench -- --backend webgpu`: what is measured on the GPU (the
// workloads at GPU sizes, their targets and predictions against @jax-js/jax's webgpu jit), the
// result types, the real-JAX fixtures' summary, and the markdown. No timing here: unit tests run it.
// scripts/bench-gpu.ts measures.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { formatBytes } from "../compiler-core/src/format";
import type { Report, Timings } from "../compiler-core/src/report";
import {
  bestCopy, diffText, geomean, markdownTable, ms, PARITY_BAND, predictedVsSeen, ratio, verdict, type Workload, type WorkloadResult,
} from "./bench-report";

// ---------------------------------------------------------------------------------------------
// What is measured

/** A workload at GPU sizes: `bandwidth` ones are judged as a share of the copy bandwidth, `flops` ones in TFLOP/s. */
export interface GpuWorkload extends Workload {
  measure: "bandwidth" | "flops";
  /** The issue's target share of the copy bandwidth (0.7 fused elementwise, 0.5 row softmax). */
  target?: number;
}

const M = 1 << 20;

/** Same function names as WORKLOADS_PY / PEER_FNS (scripts/bench-report.ts, scripts/bench-peer.ts). */
export const GPU_WORKLOADS: GpuWorkload[] = [
  { fn: "axpb_chain", title: "y = a·x + b chain (fused elementwise)", args: (q) => `x=f32[${q ? M : 64 * M}]`, measure: "bandwidth", target: 0.7, elementwise: true, eager: true,
    predicted: "parity", why: "one fused memory-bound kernel on both sides; both should approach the copy kernel" },
  { fn: "gelu", title: "gelu, tanh form (fused elementwise)", args: (q) => `x=f32[${q ? M : 64 * M}]`, measure: "bandwidth", target: 0.7, elementwise: true, eager: true,
    predicted: "parity", why: "one fused kernel on both sides; on a GPU the tanh is cheap next to the memory traffic (ours: a Cephes-style float32 tanh)" },
  { fn: "softmax", title: "row softmax", args: (q) => `x=f32[${q ? "256,256" : "4096,4096"}]`, measure: "bandwidth", target: 0.5, eager: true,
    predicted: "ours", why: "ours is one row kernel (the row stays in workgroup memory); the peer's jit splits at each reduction and re-reads the rows" },
  { fn: "layernorm", title: "layer norm over rows", args: (q) => (q ? "x=f32[256,256], scale=f32[256], shift=f32[256]" : "x=f32[4096,4096], scale=f32[4096], shift=f32[4096]"), measure: "bandwidth", eager: true,
    predicted: "ours", why: "one row kernel against the peer's kernels split at the reductions" },
  { fn: "sum_of_squares", title: "reduction sum(x·x)", args: (q) => `x=f32[${q ? M : 64 * M}]`, measure: "bandwidth", eager: true,
    predicted: "parity", why: "one read-reduce pass on both sides, memory-bound" },
  { fn: "matmul", title: "float32 matmul", args: (q) => (q ? "a=f32[256,256], b=f32[256,256]" : "a=f32[4096,4096], b=f32[4096,4096]"), measure: "flops", eager: false,
    predicted: "peer", why: "ours accumulates with Dot2 (compensated, ~10× the flops of a plain MAC) in 16×16 tiles without register blocking; the peer's matmul is tuned for WebGPU" },
  { fn: "mlp", title: "MLP forward (3 layers, gelu)", args: (q) => q
      ? "x=f32[64,256], w1=f32[256,256], b1=f32[256], w2=f32[256,256], b2=f32[256], w3=f32[256,64], b3=f32[64]"
      : "x=f32[2048,2048], w1=f32[2048,2048], b1=f32[2048], w2=f32[2048,2048], b2=f32[2048], w3=f32[2048,256], b3=f32[256]", measure: "flops", eager: true,
    predicted: "peer", why: "matmul-bound: the epilogue fusion (bias + gelu in the matmul kernel) saves little next to the matmul itself" },
];

/** The repeat rules of the GPU run. */
export function gpuTimingRule(quick: boolean) {
  return quick
    ? { examples: { minRuns: 2, minTimeMs: 10 }, workloads: { minRuns: 3, minTimeMs: 20, maxTimeMs: 500 }, copyElements: M, copyRuns: 5, profileRuns: 3, rounds: 1 }
    : { examples: { minRuns: 5, minTimeMs: 200 }, workloads: { minRuns: 10, minTimeMs: 300, maxTimeMs: 3000 }, copyElements: 64 * M, copyRuns: 30, profileRuns: 10, rounds: 2 };
}

/** The label every GPU-section heading and table carries when the adapter is SwiftShader. */
export const SWIFTSHADER_LABEL = "SwiftShader (CPU emulation): not GPU performance";

// ---------------------------------------------------------------------------------------------
// Results

export interface GpuInfo {
  /** The product's adapter name (device.ts), e.g. "WebGPU: nvidia hopper (NVIDIA H100 …)". */
  name?: string;
  vendor?: string;
  architecture?: string;
  description?: string;
  swiftshader: boolean;
  timestamps: boolean;
  subgroups: boolean;
  limits?: Record<string, number>;
  /** No usable adapter: why (then nothing else was measured). */
  error?: string;
}

export interface GpuCopyResult {
  workgroups: number;
  /** Size of one array in bytes. */
  bytes: number;
  timer: "timestamps" | "wall";
  /** The timer's times (timestamps: GPU time of the pass; wall: submit to onSubmittedWorkDone). */
  best_ms: number;
  median_ms: number;
  /** Wall time of the same runs, submit to onSubmittedWorkDone (also with timestamps). */
  wall_median_ms: number;
  /** (read + write) / median time. */
  gbps: number;
}

export interface GpuWorkloadResult extends WorkloadResult {
  measure: "bandwidth" | "flops";
  target?: number;
  /** Flops of the compiled kernels (their KernelInfo.flops), for TFLOP/s. */
  flops?: number;
  /** GPU time of one compiled call: the sum of its kernels' timestamp medians; absent without timestamps. */
  gpuMs?: number;
  /** Names and kinds of our compiled kernels. */
  kernelList?: string[];
  /** Dispatches the peer encoded for one jit call, and its queue submits (counted on the prototypes). */
  peerDispatches?: number;
  peerSubmits?: number;
  /** How ours was checked: "f64" (whole output), "f64 sampled (N entries)", or absent. */
  refKind?: string;
}

export interface GpuExampleResult {
  file: string;
  fn: string;
  args: string;
  timings?: Timings;
  /** Sum of the compiled kernels' timestamp times (ms), where measured. */
  gpuMs?: number;
  /** The GPU did not take it: the product's fallback reason (report.warnings). */
  fallback?: string;
  error?: string;
}

/** One example as run by scripts/compare-examples.mjs (a Report with its `compare` part). */
export interface RealJaxRow {
  example: string;
  oursBackend?: string;
  oursDevice?: string;
  oursCompiledMs?: number;
  oursEagerMs?: number;
  jitMs?: number;
  jaxEagerMs?: number;
  oursKernels?: number;
  xlaKernels?: number;
  xlaFusions?: number;
  jaxpr: string;
  /** First few jaxpr mismatches, one line each. */
  mismatches: string[];
  error?: string;
}

export interface RealJax {
  dir: string;
  rows: RealJaxRow[];
  /** JAX version, backend and device of the first report that has them. */
  env?: string;
}

export interface GpuBenchResults {
  date: string;
  quick: boolean;
  backend: "webgpu";
  host: { cpu: string; cores: number; node: string; platform: string; loadavg: number[]; peerVersion: string };
  gpu: GpuInfo;
  rule: ReturnType<typeof gpuTimingRule>;
  copy: GpuCopyResult[];
  workloads: GpuWorkloadResult[];
  examples: GpuExampleResult[];
  /** The peer's webgpu device: the adapter it got, or why it has none. */
  peer: { device?: string; error?: string };
  realJax: RealJax;
  totalSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// Real JAX fixtures (scripts/compare-examples.mjs writes them on a machine with JAX)

export const REAL_JAX_DIR = "test/fixtures/compare/real";

/** Reads DIR/*.json (Reports with `compare`); an absent or empty folder gives no rows. */
export function loadRealJax(root: string, dir = REAL_JAX_DIR): RealJax {
  const abs = path.join(root, dir);
  const reports: { name: string; report: Report }[] = [];
  if (existsSync(abs)) {
    for (const f of readdirSync(abs).filter((x) => x.endsWith(".json")).sort()) {
      try {
        reports.push({ name: f.replace(/\.json$/, ""), report: JSON.parse(readFileSync(path.join(abs, f), "utf8")) as Report });
      } catch { /* not a report */ }
    }
  }
  return summarizeRealJax(dir, reports);
}

export function summarizeRealJax(dir: string, reports: { name: string; report: Report }[]): RealJax {
  let env: string | undefined;
  const rows = reports.filter((r) => r.report.compare && !r.report.compare.synthetic).map(({ name, report }): RealJaxRow => {
    const c = report.compare!;
    if (!env && c.versions?.jax) env = `JAX ${c.versions.jax}${c.jax ? ` on ${c.jax.backend}: ${c.jax.device}` : ""}, NumPy ${c.versions.numpy ?? "–"}, Python ${c.versions.python ?? "–"}`;
    const d = c.jaxprDiff;
    return {
      example: name.replace(/^(.+?)__/, "$1.py:"), // compare-examples.mjs names them <file>__<fn>.json
      oursBackend: report.timings?.backend,
      oursDevice: report.timings?.device,
      oursCompiledMs: report.timings?.compiled.median_ms,
      oursEagerMs: report.timings?.eager.median_ms,
      jitMs: c.runs?.jax_jit?.timing?.median_ms,
      jaxEagerMs: c.runs?.jax_eager?.timing?.median_ms,
      oursKernels: report.timings?.kernels.compiled ?? report.kernels?.length,
      xlaKernels: c.xla?.kernels,
      xlaFusions: c.xla?.fusions,
      jaxpr: d ? (d.same ? (d.sameParams ? "same" : "same (params differ)") : `${d.mismatches.length}${d.truncated ? "+" : ""} differences`) : c.stageErrors?.jaxpr ? `error: ${c.stageErrors.jaxpr.kind}` : "–",
      mismatches: d && !d.same ? d.mismatches.slice(0, 3).map((m) => m.message) : [],
      error: report.error ? `${report.error.kind}` : c.error ? `${c.error.kind}` : c.runs?.jax_jit?.error ? `jax.jit: ${c.runs.jax_jit.error.kind}` : undefined,
    };
  });
  return { dir, rows, env };
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** Three significant digits, for rates that span orders of magnitude (SwiftShader to an H100). */
const sig = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : x === 0 ? "0" : x >= 100 ? x.toFixed(0) : x.toPrecision(3));
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(0)}%`);

/** Time a workload is judged by: GPU time from timestamps when measured, else the wall median. */
export function workloadTime(w: GpuWorkloadResult): { ms: number; timer: "GPU" | "wall" } | undefined {
  if (w.gpuMs !== undefined && w.gpuMs > 0) return { ms: w.gpuMs, timer: "GPU" };
  if (w.ours) return { ms: w.ours.compiled.median_ms, timer: "wall" };
  return undefined;
}

/** Share of the copy bandwidth a bandwidth workload reaches (minimum traffic / its time / copy GB/s). */
export function bandwidthShare(w: GpuWorkloadResult, copy: GpuCopyResult | undefined): number | undefined {
  const t = workloadTime(w);
  if (!t || !copy || !w.minimumBytes) return undefined;
  return w.minimumBytes / (t.ms * 1e6) / copy.gbps;
}

/** The generated WebGPU section. */
export function renderGpuResults(r: GpuBenchResults): string {
  const out: string[] = [];
  const ss = r.gpu.swiftshader;
  const tag = (h: string) => (ss ? `${h} — ${SWIFTSHADER_LABEL}` : h);
  out.push(`_Generated ${r.date} by \`npm run bench -- --backend webgpu${r.quick ? " --quick" : ""}\` in ${r.totalSeconds.toFixed(0)} s${r.quick ? " — QUICK smoke run: small sizes and few repeats; do not quote these numbers" : ""}._`);
  out.push("");
  if (ss) {
    out.push(`> **${SWIFTSHADER_LABEL}.** The only WebGPU adapter was SwiftShader, a CPU implementation of Vulkan. Every number below is CPU emulation: it checks that the GPU bench runs, and says nothing about a GPU. A run on a real GPU (the section "On the lent GPU machine" above) replaces it.`);
    out.push("");
  }
  out.push(tag("### GPU"));
  out.push("");
  if (r.gpu.error) {
    out.push(`No WebGPU adapter: ${r.gpu.error}. Nothing was measured.`);
    return out.join("\n");
  }
  out.push(`- Adapter: ${r.gpu.name ?? "?"}${r.gpu.description ? ` — vendor \`${r.gpu.vendor ?? ""}\`, architecture \`${r.gpu.architecture ?? ""}\`, description \`${r.gpu.description}\`` : ""}`);
  out.push(`- Features: timestamp queries ${r.gpu.timestamps ? "yes" : "no (wall times around onSubmittedWorkDone instead)"}, subgroups ${r.gpu.subgroups ? "yes" : "no"}`);
  if (r.gpu.limits) out.push(`- Limits: ${Object.entries(r.gpu.limits).map(([k, v]) => `${k} ${v >= 1 << 20 ? formatBytes(v) : v}`).join(", ")}`);
  out.push(`- Host: ${r.host.cpu}, ${r.host.cores} logical cores; Node ${r.host.node}, ${r.host.platform}; load average ${r.host.loadavg.map((x) => x.toFixed(2)).join(", ")}`);
  out.push(`- Peer: @jax-js/jax ${r.host.peerVersion} on its \`webgpu\` device through a \`navigator.gpu\` shim (the same Dawn instance): ${r.peer.error ? `not available: ${r.peer.error}` : r.peer.device ?? "?"}`);
  out.push("");
  const rule = r.rule;
  out.push("### How measured (GPU)");
  out.push("");
  out.push(`- Copy bandwidth: a WGSL kernel copying one ${formatBytes(rule.copyElements * 4)} buffer of \`vec4<f32>\` into another, grid-stride, 256 threads per workgroup, for several workgroup counts; ${rule.copyRuns} runs after warm-up each, one dispatch per command buffer. Timer: ${r.gpu.timestamps ? "timestamp queries at the start and end of the compute pass (GPU time)" : "wall time from submit to `onSubmittedWorkDone`"}. GB/s = (bytes read + bytes written) / median time, 1 GB = 10⁹ B. The fastest workgroup count is the reference.`);
  out.push(`- Our kernels: \`compileWebGPU\` (compiled = the fusion plan's kernels in one command buffer; eager = one kernel and one submit per primitive). GPU time = the sum over the compiled kernels of each kernel's median timestamp time (\`profile\`, ${rule.profileRuns} calls, one pass per kernel)${r.gpu.timestamps ? "" : " — not available here, so wall times are used"}. Wall times: inputs resident, submit to \`onSubmittedWorkDone\`, runtime/timing.ts's rule (N=${rule.workloads.minRuns}, T=${rule.workloads.minTimeMs} ms, cap ${rule.workloads.maxTimeMs} ms${rule.rounds > 1 ? `, ${rule.rounds} interleaved rounds with the peer, best median kept` : ""}).`);
  out.push("- Share of copy = (minimum traffic: each input read once, each output written once) / GPU time / copy GB/s. TFLOP/s = the compiled kernels' flops (2·M·N·K for a matmul) / GPU time.");
  out.push("- Peer: the same functions in @jax-js/jax's API, wrapped in its `jit`, inputs already on its `webgpu` device; a call is timed to `blockUntilReady()` (wall), like our wall times. Its kernel count is the number of `dispatchWorkgroups` calls during one warm jit call (counted by wrapping Dawn's `GPUComputePassEncoder.prototype.dispatchWorkgroups`).");
  out.push("");

  // Copy bandwidth
  const copy = bestCopy(r.copy); // the fastest median: the one shares are taken against
  out.push(tag("### GPU copy bandwidth (WGSL vec4 grid-stride copy)"));
  out.push("");
  out.push(markdownTable(["workgroups × 256 threads", "array", "timer", "median", "best", "wall median", "GB/s (read + write, median)"],
    r.copy.map((c) => [String(c.workgroups), formatBytes(c.bytes), c.timer, ms(c.median_ms), ms(c.best_ms), ms(c.wall_median_ms), sig(c.gbps)]), ["r", "r", "l", "r", "r", "r", "r"]));
  out.push("");
  if (copy) out.push(`Reference copy bandwidth: **${sig(copy.gbps)} GB/s** (${copy.workgroups} workgroups).`);
  out.push("");

  // Bandwidth shares
  const bw = r.workloads.filter((w) => w.measure === "bandwidth");
  out.push(tag("### Fused kernels as a share of the copy bandwidth"));
  out.push("");
  out.push(markdownTable(["workload", "kernels (eager → compiled)", "minimum traffic", "compiled time", "GB/s", `share of copy (${sig(copy?.gbps)} GB/s)`, "target", "met"],
    bw.map((w) => {
      const t = workloadTime(w);
      const share = bandwidthShare(w, copy);
      return [w.label, w.kernels ? `${w.kernels.eager} → ${w.kernels.compiled}` : "–", w.minimumBytes ? formatBytes(w.minimumBytes) : "–",
        t ? `${ms(t.ms)} (${t.timer})` : w.error ? `failed: ${w.error}` : "–",
        t && w.minimumBytes ? sig(w.minimumBytes / (t.ms * 1e6)) : "–", pct(share),
        w.target ? `≥ ${pct(w.target)}` : "–", w.target && share !== undefined ? (share >= w.target ? "yes" : "**no**") : "–"];
    }), ["l", "c", "r", "r", "r", "r", "r", "c"]));
  out.push("");

  // TFLOP/s
  const fl = r.workloads.filter((w) => w.measure === "flops");
  out.push(tag("### Matmul throughput"));
  out.push("");
  out.push(markdownTable(["workload", "kernels (compiled)", "flops per call", "compiled time", "TFLOP/s", "ours vs float64 reference"],
    fl.map((w) => {
      const t = workloadTime(w);
      return [w.label, w.kernels ? String(w.kernels.compiled) : "–", w.flops ? `${sig(w.flops / 1e9)} G` : "–",
        t ? `${ms(t.ms)} (${t.timer})` : w.error ? `failed: ${w.error}` : "–",
        t && w.flops ? sig(w.flops / (t.ms * 1e9)) : "–", w.oursRefDiff === undefined ? "–" : `${diffText(w.oursRefDiff)}${w.refKind ? ` (${w.refKind})` : ""}`];
    }), ["l", "c", "r", "r", "r", "r"]));
  out.push("");

  // Examples
  out.push(tag("### Examples: compiled vs eager on the GPU"));
  out.push("");
  const ok = r.examples.filter((e) => e.timings);
  const speedups = ok.map((e) => e.timings!.speedup).filter((s) => Number.isFinite(s) && s > 0);
  if (speedups.length) {
    out.push(`${ok.length} of ${r.examples.length} functions ran on the GPU; geometric-mean speedup ${ratio(geomean(speedups))} (wall medians), compiled slower than eager on ${speedups.filter((s) => s < 1).length}.`);
    out.push("");
  }
  out.push(markdownTable(["example", "args", "eager", "compiled", "speedup", "compiled GPU time", "launches (eager → compiled)", "bytes min / compiled", "eager vs compiled diff"],
    ok.map((e) => {
      const t = e.timings!;
      return [`${e.file.replace(/\.py$/, "")}.${e.fn}`, `\`${e.args}\``, ms(t.eager), ms(t.compiled), ratio(t.speedup), e.gpuMs !== undefined ? ms(e.gpuMs) : "–",
        `${t.kernels.eager} → ${t.kernels.compiled}`, `${formatBytes(t.bytes.minimum)} / ${formatBytes(t.bytes.compiled)}`, diffText(t.max_rel_diff)];
    }), ["l", "l", "r", "r", "r", "r", "c", "r", "r"]));
  const fallbacks = r.examples.filter((e) => !e.timings);
  if (fallbacks.length) {
    out.push("");
    out.push("Not run on the GPU (the product's fallback reason, or the error; `errors.py` fails on purpose):");
    out.push("");
    for (const e of fallbacks) out.push(`- \`${e.file}\` \`${e.fn}\`: ${e.fallback ? `falls back to the CPU — ${e.fallback}` : e.error ?? "unknown"}`);
  }
  out.push("");

  // Peer
  out.push(tag("### Peer: @jax-js/jax `jit` on its `webgpu` device, same adapter"));
  out.push("");
  out.push(`\`peer ÷ ours\` is the peer's jit wall median over our compiled wall median: above 1, ours is faster; ${PARITY_BAND[0]}–${PARITY_BAND[1]} is parity. Predictions were written before the first GPU run.`);
  out.push("");
  out.push(markdownTable(["workload", "ours compiled", "ours eager", "peer jit", "peer eager", "peer jit ÷ ours", "our launches (eager → compiled)", "peer dispatches per jit call", "predicted", "seen", "diff ours–peer", "error vs f64: ours / peer"],
    r.workloads.map((w) => {
      const pr = w.peer?.jit && w.ours ? w.peer.jit.median_ms / w.ours.compiled.median_ms : undefined;
      const seen: string = w.error ? `ours failed: ${w.error}` : w.peer?.error ? `peer failed: ${w.peer.error}` : pr === undefined ? "–" : verdict(pr);
      return [w.label, ms(w.ours?.compiled), ms(w.ours?.eager), ms(w.peer?.jit), ms(w.peer?.eager), ratio(pr),
        w.kernels ? `${w.kernels.eager} → ${w.kernels.compiled}` : "–", w.peerDispatches === undefined ? "not observed" : String(w.peerDispatches),
        w.predicted, seen, diffText(w.peer?.maxDiff), w.oursRefDiff === undefined ? "–" : `${diffText(w.oursRefDiff)} / ${diffText(w.peer?.refDiff)}`];
    }), ["l", "r", "r", "r", "r", "r", "c", "c", "c", "l", "r", "r"]));
  out.push("");
  out.push(peerSoftmaxLine(r.workloads));
  out.push("");
  out.push(predictedVsSeen(r.workloads));
  out.push("");
  out.push("Why each prediction:");
  out.push("");
  for (const w of r.workloads) out.push(`- ${w.label}: ${w.predicted} — ${w.why}.`);
  out.push("");

  out.push(renderRealJax(r.realJax));
  return out.join("\n");
}

/** Whether the peer's softmax is one kernel, from its dispatch count. */
export function peerSoftmaxLine(ws: GpuWorkloadResult[]): string {
  const w = ws.find((x) => x.fn === "softmax");
  if (!w) return "";
  const ours = w.kernels ? `ours: ${w.kernels.compiled} kernel${w.kernels.compiled === 1 ? "" : "s"}` : "ours: not compiled";
  if (w.peerDispatches === undefined) return `**Softmax as one kernel.** ${ours}; the peer's kernel count was not observed (${w.peer?.error ?? "its dispatches could not be counted"}).`;
  return `**Softmax as one kernel.** ${ours}; the peer's jit dispatched ${w.peerDispatches} kernel${w.peerDispatches === 1 ? "" : "s"} per call (${w.peerSubmits ?? "?"} queue submits)${w.peerDispatches === 1 ? ": one kernel too" : ": not one kernel"}.`;
}

export function renderRealJax(rj: RealJax): string {
  const out: string[] = [];
  out.push("### Real JAX on the same machine (`jax.jit`, XLA's fusions, jaxprs)");
  out.push("");
  if (!rj.rows.length) {
    out.push(`Not measured yet: run scripts/compare-examples.mjs on a machine with JAX (it writes ${rj.dir}/*.json; see docs/COMPARE.md), then rerun this bench.`);
    return out.join("\n");
  }
  out.push(`From ${rj.rows.length} reports in \`${rj.dir}\`${rj.env ? ` — ${rj.env}` : ""}. Ours is the backend the reports were made with (its column); \`ours ÷ jit\` above 1 means jax.jit is faster. XLA kernels = fusions + custom calls + unfused ops of \`jit(f).lower(...).compile().as_text()\`.`);
  out.push("");
  out.push(markdownTable(["example", "ours (backend)", "ours compiled", "ours eager", "jax.jit", "JAX eager", "ours ÷ jit", "kernels: ours / XLA (fusions)", "jaxpr vs JAX"],
    rj.rows.map((x) => [x.example, x.oursBackend ?? "–", x.error && x.oursCompiledMs === undefined ? `error: ${x.error}` : ms(x.oursCompiledMs), ms(x.oursEagerMs),
      ms(x.jitMs), ms(x.jaxEagerMs), ratio(x.oursCompiledMs !== undefined && x.jitMs ? x.oursCompiledMs / x.jitMs : undefined),
      `${x.oursKernels ?? "–"} / ${x.xlaKernels ?? "–"}${x.xlaFusions !== undefined ? ` (${x.xlaFusions})` : ""}`, x.jaxpr]),
    ["l", "c", "r", "r", "r", "r", "r", "c", "l"]));
  const diffs = rj.rows.filter((x) => x.mismatches.length);
  if (diffs.length) {
    out.push("");
    out.push("Where our jaxpr differs from JAX's (first three differences each):");
    out.push("");
    for (const x of diffs) out.push(`- ${x.example}: ${x.mismatches.join("; ")}`);
  }
  return out.join("\n");
}
