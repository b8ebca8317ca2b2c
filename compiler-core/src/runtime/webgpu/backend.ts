// Backend choice and the WebGPU half of analyze()/the CLI: compile the traced function for the
// GPU next to the CPU executables, time it there, and on any fault (no adapter, float64, control
// flow, the memory guard, a limit, a lost device, a validation or out-of-memory error) fall
// back to the CPU with the reason in report.warnings. Nothing here throws at the caller.
//
// `auto` picks a real GPU when Dawn finds one. SwiftShader (a CPU implementation of Vulkan, what
// CI uses) is a WebGPU adapter but not a GPU: auto leaves it alone and says so, since the CPU
// backend runs the same work faster; --backend webgpu uses it.
import type { AnalyzeParams } from "../../engine/protocol";
import type { KernelInfo, LineInfo, Report, Timings } from "../../report";
import type { Prepared } from "../../api";
import { makeInputs, rankKernels, trafficBytes } from "../../api";
import { minimumBytes } from "../cpu";
import { maxRelDiffAll, measureAsync, nowMs, timingOptions } from "../timing";
import { probeGpu, WebGPUFault } from "./device";
import { compileWebGPU, webgpuRefusal, type WebGPUExecutable } from "./runtime";

export interface GpuPrepared {
  eager: WebGPUExecutable;
  compiled: WebGPUExecutable;
  device: string;
  compileMs: number;
  /** The CPU kernel list and line map, put back if the GPU run falls back. */
  cpuKernels?: KernelInfo[];
  cpuLines?: LineInfo[];
  dispose(): void;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function warn(report: Report, text: string): void {
  (report.warnings ??= []).push(text);
}

/**
 * Compiles for WebGPU when the backend asks for it (webgpu, or auto with a real GPU). Returns
 * undefined, with a warning in the report when that was not by choice, when the CPU runs it.
 */
export async function prepareWebGPU(p: Prepared, params: AnalyzeParams): Promise<GpuPrepared | undefined> {
  const backend = params.backend ?? "cpu";
  if (backend === "cpu") return undefined;
  const report = p.report;
  const refusal = webgpuRefusal(p.trace.jaxpr);
  if (refusal) {
    warn(report, `WebGPU backend not used: ${refusal}; running on the CPU instead`);
    return undefined;
  }
  const probe = await probeGpu();
  if (!probe.ok) {
    // auto: no GPU is an ordinary answer, said briefly; an explicit webgpu request gets the whole reason and the fix.
    warn(report, backend === "auto" ? "auto backend: no GPU adapter found; running on the CPU"
      : `WebGPU backend not available (${probe.reason}); running on the CPU instead`);
    return undefined;
  }
  if (backend === "auto" && probe.ctx.swiftshader) {
    warn(report, "auto backend: the only WebGPU adapter is SwiftShader, a CPU implementation of Vulkan, which is slower than the CPU backend; running on the CPU (use --backend webgpu to run on it anyway)");
    return undefined;
  }
  const t = nowMs();
  let eager: WebGPUExecutable | undefined;
  try {
    const memory = params.gpuMemoryShare !== undefined ? { share: params.gpuMemoryShare } : undefined;
    eager = await compileWebGPU(p.trace.jaxpr, "eager", { memory });
    const compiled = await compileWebGPU(p.trace.jaxpr, "compiled", { memory });
    const compileMs = nowMs() - t;
    (report.stageMs ??= {}).compile_webgpu = compileMs;
    const g: GpuPrepared = {
      eager, compiled, device: compiled.device, compileMs,
      cpuKernels: report.kernels, cpuLines: report.lines,
      dispose() { eager!.dispose(); compiled.dispose(); },
    };
    report.kernels = compiled.kernels;
    if (report.lines) report.lines = relinkLines(report.lines, compiled.kernels);
    return g;
  } catch (e) {
    eager?.dispose();
    warn(report, `WebGPU backend failed, running on the CPU instead: ${message(e)}`);
    return undefined;
  }
}

/** Points each source line at the kernels its equations went into (most equations first). */
function relinkLines(lines: LineInfo[], kernels: KernelInfo[]): LineInfo[] {
  const kernelsOf = new Map<number, number[]>();
  kernels.forEach((k, ki) => k.eqns.forEach((e) => {
    const list = kernelsOf.get(e) ?? [];
    list.push(ki);
    kernelsOf.set(e, list);
  }));
  return lines.map((li) => {
    const ranked = rankKernels(li.eqns, (e) => kernelsOf.get(e) ?? []);
    return { ...li, kernel: ranked[0] ?? -1, ...(li.kernels ? { kernels: ranked } : {}) };
  });
}

/** Undo prepareWebGPU's changes to the report (the CPU runs after all). */
export function restoreCpuReport(p: Prepared, g: GpuPrepared): void {
  if (g.cpuKernels) p.report.kernels = g.cpuKernels;
  if (g.cpuLines) p.report.lines = g.cpuLines;
}

/** Eager against compiled on the GPU, timed to completion of the GPU work (inputs resident). */
export async function runAndMeasureWebGPU(p: Prepared, g: GpuPrepared, params: AnalyzeParams, seed = 0): Promise<Timings> {
  const inputs = makeInputs(p.trace, seed);
  const t0 = nowMs();
  const compiledOut = await g.compiled.runAsync(inputs);
  const firstRun = nowMs() - t0;
  const eagerOut = await g.eager.runAsync(inputs);
  const diff = maxRelDiffAll(compiledOut, eagerOut);
  const opts = timingOptions(params.timing);
  const resE = g.eager.upload(inputs);
  const resC = g.compiled.upload(inputs);
  try {
    const eager = await measureAsync(() => g.eager.execute(resE), opts);
    const compiled = await measureAsync(() => g.compiled.execute(resC), opts);
    // Per-kernel GPU time from timestamp queries; 0 means below the timer's resolution and is
    // left out (never shown as 0).
    const times = await g.compiled.profile(resC, 5).catch(() => null);
    if (times && p.report.kernels === g.compiled.kernels) {
      times.forEach((t, k) => { if (t !== null && t > 0) g.compiled.kernels[k].timeMs = t; });
    }
    return {
      backend: "webgpu",
      device: g.device,
      eager,
      compiled,
      speedup: eager.median_ms / compiled.median_ms,
      first_call_ms: (p.report.stageMs?.trace ?? 0) + g.compileMs + firstRun,
      kernels: { eager: g.eager.launches, compiled: g.compiled.launches },
      bytes: { minimum: minimumBytes(p.trace.jaxpr), eager: trafficBytes(g.eager.kernels), compiled: trafficBytes(g.compiled.kernels) },
      max_rel_diff: diff,
    };
  } finally {
    g.eager.release(resE);
    g.compiled.release(resC);
  }
}

/**
 * Timings on the chosen backend: the GPU when prepared, else (or after a GPU fault, with a
 * warning) the CPU through `cpu`.
 */
export async function measureOnBackend(p: Prepared, g: GpuPrepared | undefined, params: AnalyzeParams, cpu: () => Timings, seed = 0): Promise<Timings> {
  if (!g) return cpu();
  try {
    return await runAndMeasureWebGPU(p, g, params, seed);
  } catch (e) {
    restoreCpuReport(p, g);
    warn(p.report, `WebGPU run failed, measured on the CPU instead: ${e instanceof WebGPUFault ? e.message : `internal error in the WebGPU backend: ${message(e)}`}`);
    return cpu();
  }
}
