// The pipeline behind every interface: source + function + argument spec -> trace -> compile
// (eager and fused) -> run and measure -> Report. The engine, the CLI and tests call this.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AnalyzeParams } from "./engine/protocol";
import { JitError } from "./frontend/source";
import { printJaxpr } from "./ir/print";
import { lower } from "./lower/lower";
import { printHlo } from "./lower/print";
import { runPipeline } from "./passes/pipeline";
import { typeString, type ArrayValue } from "./ir/types";
import { readNpy } from "./npy";
import { REPORT_VERSION, type ErrorInfo, type KernelInfo, type LineInfo, type Report, type Timings } from "./report";
import { compileEager, compileFused, minimumBytes, type Executable } from "./runtime/cpu";
import { fillRandom } from "./runtime/random";
import { checkRunMemory } from "./runtime/limits";
import { maxRelDiffAll, measure, nowMs, timingOptions } from "./runtime/timing";
import { traceFunction, type TraceResult } from "./trace/trace";
import { measureOnBackend, prepareWebGPU } from "./runtime/webgpu/backend";

export interface Prepared {
  trace: TraceResult;
  eager: Executable;
  compiled: Executable;
  report: Report;
}

/** Reads `.npy` files named in `load("...")` specs, relative to the Python file's folder, then the working directory. */
export function npyLoader(pyFile: string): (p: string) => ArrayValue {
  return (p: string) => {
    const candidates = path.isAbsolute(p) ? [p] : [path.resolve(path.dirname(pyFile), p), path.resolve(p)];
    for (const c of candidates) {
      let buf: Buffer;
      try {
        buf = readFileSync(c);
      } catch {
        continue;
      }
      try {
        return readNpy(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), p);
      } catch (e) {
        throw new JitError("SpecError", e instanceof Error ? e.message : String(e));
      }
    }
    throw new JitError("SpecError", `load("${p}"): no such file (looked in ${[...new Set(candidates.map((c) => path.dirname(c)))].join(" and ")})`);
  };
}

/** A Report with no results yet: what an error is reported in. */
export function baseReport(params: Pick<AnalyzeParams, "file" | "fn">): Report {
  return { version: REPORT_VERSION, file: params.file, fn: params.fn ?? "", args: [] };
}

/** A user-facing error from anything thrown: JitErrors as they are; anything else is our bug. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof JitError) return e.info();
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "InternalError", message: `JIT Lens failed unexpectedly: ${message}. Please report this with the function that caused it.` };
}

/** Trace and compile (no run). Throws JitError for errors in the user's code or input. */
export function prepare(params: AnalyzeParams): Prepared {
  const stageMs: Record<string, number> = {};
  let t = nowMs();
  const trace = traceFunction({
    file: params.file,
    source: params.source,
    fn: params.fn,
    offset: params.offset,
    args: params.args,
    loadNpy: npyLoader(params.file),
  });
  stageMs.trace = nowMs() - t;
  t = nowMs();
  // The lowered IR and its passes are shown to users; the CPU backend compiles from the jaxpr,
  // so a lowering failure costs the HLO view, never the run.
  const warnings: string[] = [];
  let hloView: Pick<Report, "lowered" | "passes"> = {};
  try {
    const hlo = lower(trace.jaxpr, `jit_${trace.fn.name}`);
    const optimized = runPipeline(hlo);
    hloView = { lowered: printHlo(hlo), passes: optimized.snapshots.map((p) => ({ name: p.name, changed: p.changed, lines: printHlo(p.module) })) };
  } catch (e) {
    warnings.push(`the lowered IR is not available for this function: ${e instanceof Error ? e.message : String(e)}`);
  }
  stageMs.lower = nowMs() - t;
  t = nowMs();
  const eager = compileEager(trace.jaxpr);
  const compiled = compileFused(trace.jaxpr);
  stageMs.compile = nowMs() - t;
  const jaxpr = trace.jaxpr;
  const kernelOf = new Map<number, number>();
  compiled.kernels.forEach((k, ki) => k.eqns.forEach((e) => kernelOf.set(e, ki)));
  const report: Report = {
    ...baseReport(params),
    fn: trace.fn.name,
    defSpan: trace.defSpan,
    args: trace.args,
    jaxpr: printJaxpr(jaxpr),
    eqnCount: jaxpr.eqns.length,
    ...hloView,
    kernels: compiled.kernels,
    lines: lineInfo(trace, kernelOf),
    stageMs,
    ...(warnings.length ? { warnings } : {}),
  };
  return { trace, eager, compiled, report };
}

/** Per source line of the traced function: its equations, the type it produced, its kernel. */
function lineInfo(trace: TraceResult, kernelOf: Map<number, number>): LineInfo[] {
  const byLine = new Map<number, LineInfo>();
  trace.jaxpr.eqns.forEach((e, i) => {
    // Inside a helper, the line in the traced function is the outermost call site.
    const span = e.callStack?.length ? e.callStack[e.callStack.length - 1] : e.span;
    let li = byLine.get(span.line);
    if (!li) { li = { line: span.line, eqns: [], type: "", kernel: -1 }; byLine.set(span.line, li); }
    li.eqns.push(i);
    li.type = typeString(e.outputs[0].aval);
  });
  for (const li of byLine.values()) {
    const ranked = rankKernels(li.eqns, (e) => { const k = kernelOf.get(e); return k === undefined ? [] : [k]; });
    li.kernel = ranked[0] ?? -1;
    if (ranked.length) li.kernels = ranked;
  }
  return [...byLine.values()].sort((a, b) => a.line - b.line);
}

/** The kernels that a line's equations went into, most equations first (ties: lower index first). */
export function rankKernels(eqns: number[], kernelsOf: (eqn: number) => readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const e of eqns) for (const k of kernelsOf(e)) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([k]) => k);
}

/** Bytes that a list of kernels reads and writes in all. */
export const trafficBytes = (kernels: KernelInfo[]): number => kernels.reduce((s, k) => s + k.bytesRead + k.bytesWritten, 0);

/** The inputs of a run: loaded `.npy` data, else seeded standard-normal draws. */
export function makeInputs(trace: TraceResult, seed: number): ArrayValue[] {
  // Every run starts here: refuse one that would not fit in memory before allocating anything.
  checkRunMemory(trace.jaxpr, trace.defSpan);
  return trace.inputs.map((leaf, i) => leaf.loaded ?? fillRandom(leaf.aval, seed + i));
}

export function deviceName(): string {
  const cpu = os.cpus()[0]?.model?.replace(/\s+/g, " ").trim() ?? "unknown CPU";
  return `${cpu} (1 thread)`;
}

/** Times eager against compiled on the same inputs, after cross-checking their outputs. */
export function runAndMeasure(p: Prepared, params: AnalyzeParams, seed = 0): Timings {
  const inputs = makeInputs(p.trace, seed);
  const t0 = nowMs();
  const compiledOut = p.compiled.run(inputs);
  const firstRun = nowMs() - t0;
  const eagerOut = p.eager.run(inputs);
  const diff = maxRelDiffAll(compiledOut, eagerOut);
  const opts = timingOptions(params.timing);
  // Each timed call drops its outputs, as a loop calling the function does: both modes reuse
  // their buffers from call to call (runRecycling), so neither pays fresh page faults per call.
  const eager = measure(() => p.eager.runRecycling(inputs), opts);
  const compiled = measure(() => p.compiled.runRecycling(inputs), opts);
  profileInto(p, inputs, eager.median_ms, compiled.median_ms);
  return {
    backend: "cpu",
    device: deviceName(),
    eager,
    compiled,
    speedup: eager.median_ms / compiled.median_ms,
    first_call_ms: (p.report.stageMs?.trace ?? 0) + (p.report.stageMs?.compile ?? 0) + firstRun,
    kernels: { eager: p.eager.launches, compiled: p.compiled.launches },
    bytes: { minimum: minimumBytes(p.trace.jaxpr), eager: trafficBytes(p.eager.kernels), compiled: trafficBytes(p.compiled.kernels) },
    max_rel_diff: diff,
  };
}

/**
 * Per-kernel times for the viewer and per-line eager costs for the editor: a few extra runs of
 * each executable with a clock around every kernel (about 100 ms each at most).
 */
function profileInto(p: Prepared, inputs: ArrayValue[], eagerMs: number, compiledMs: number): void {
  const runs = (ms: number) => Math.max(1, Math.min(15, Math.floor(100 / Math.max(ms, 1e-3))));
  const compiled = p.compiled.profile(inputs, runs(compiledMs));
  p.compiled.kernels.forEach((k, i) => { if (compiled[i] !== undefined) k.timeMs = compiled[i]; });
  const eager = p.eager.profile(inputs, runs(eagerMs));
  const eqnMs = new Map<number, number>();
  p.eager.kernels.forEach((k, i) => {
    const t = eager[i];
    if (t !== undefined && k.eqns.length) eqnMs.set(k.eqns[0], (eqnMs.get(k.eqns[0]) ?? 0) + t);
  });
  for (const li of p.report.lines ?? []) {
    let total = 0, any = false;
    for (const e of li.eqns) { const t = eqnMs.get(e); if (t !== undefined) { total += t; any = true; } }
    if (any) li.eagerMs = total;
  }
}

export async function analyze(params: AnalyzeParams): Promise<Report> {
  let p: Prepared;
  try {
    p = prepare(params);
  } catch (e) {
    return { ...baseReport(params), error: toErrorInfo(e) };
  }
  // backend webgpu / auto: compile for the GPU too; any fault falls back to the CPU with a warning.
  const gpu = await prepareWebGPU(p, params);
  try {
    if (params.run === false) return p.report;
    const t = nowMs();
    p.report.timings = await measureOnBackend(p, gpu, params, () => runAndMeasure(p, params));
    p.report.stageMs!.run = nowMs() - t;
  } catch (e) {
    p.report.error = toErrorInfo(e);
  } finally {
    gpu?.dispose();
  }
  return p.report;
}
