// The Report: the one contract between the compiler and every user interface
// (extension, webview, CLI). Plain, versioned, JSON-serialisable data. Interfaces only
// read it. Lines and columns are 1-based, as users and `FILE:LINE:COL` messages count.

export const REPORT_VERSION = 1;

/** A source range. `col`/`endCol` are 1-based character columns; the range is [start, end). */
export interface Span {
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

/** An error in the user's code or input (never a stack trace). */
export interface ErrorInfo {
  /** e.g. SyntaxError, NameError, AttributeError, TypeError, ConcretizationError, ShapeError, SpecError, UnsupportedError */
  kind: string;
  message: string;
  span?: Span;
  /** Extra locations a user should see (e.g. where a traced value came from). */
  related?: { message: string; span: Span }[];
}

/** One line of an IR text: its text and the source spans it came from. */
export interface IRLine {
  text: string;
  spans: Span[];
}

export interface ArgInfo {
  name: string;
  /** The argument spec as the user wrote it, e.g. `f32[512,1024]` or `3`. */
  spec: string;
  /** Abstract value of each leaf, e.g. `f32[512,1024]`; static arguments give their Python repr. */
  type: string;
}

export interface BufferInfo {
  name: string;
  type: string; // e.g. f32[512,1024]
  bytes: number;
}

export interface KernelInfo {
  name: string;
  /** elementwise | reduction | rowwise | matmul | gather | copy ... */
  kind: string;
  /** Indices into the jaxpr's equations that this kernel computes. */
  eqns: number[];
  /** Number of primitive operations fused into the kernel. */
  ops: number;
  inputs: BufferInfo[];
  outputs: BufferInfo[];
  bytesRead: number;
  bytesWritten: number;
  flops: number;
  /** Generated source and its language (javascript for the CPU backend, wgsl for WebGPU). */
  language: string;
  source: string;
  /** Source spans of the Python lines this kernel came from. */
  spans: Span[];
  /** Why the kernel ends where it ends. */
  reason: string;
  /** Measured time of one launch of this kernel (median over profiled calls), when profiled. */
  timeMs?: number;
  /** Index of the fusion group's colour (same for the editor's bands and the viewer); kernels of one call differ. */
  color?: number;
}

export interface TimingStat {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
}

export interface Timings {
  backend: "cpu" | "webgpu";
  device: string;
  eager: TimingStat;
  compiled: TimingStat;
  /** eager median over compiled median, measured in the same run. */
  speedup: number;
  /** Trace + lower + compile of the first call, in ms. */
  first_call_ms: number;
  /** Kernel launches per call. */
  kernels: { eager: number; compiled: number };
  /** Memory traffic per call in bytes; `minimum` reads each input once and writes each output once. */
  bytes: { minimum: number; eager: number; compiled: number };
  /** Largest relative difference between eager and compiled outputs (cross-check). */
  max_rel_diff: number;
}

/** What one source line of the traced function produced. */
export interface LineInfo {
  line: number;
  /** Indices of the jaxpr equations whose span starts on this line. */
  eqns: number[];
  /** Type of the last value the line produced, e.g. f32[512,1024]. */
  type: string;
  /** Index of the compiled kernel most of the line's equations went into, or -1. */
  kernel: number;
  /** Every compiled kernel this line's equations went into (first: \`kernel\`). */
  kernels?: number[];
  /** Measured eager (interpreted) time of this line's equations per call, when profiled. */
  eagerMs?: number;
}

export interface Report {
  version: typeof REPORT_VERSION;
  file: string;
  /** The function's name and the span of its `def` line (decorators excluded). */
  fn: string;
  defSpan?: Span;
  args: ArgInfo[];
  /** Present when tracing, compiling or running failed. */
  error?: ErrorInfo;
  /** The jaxpr in JAX's text format, one entry per printed line. */
  jaxpr?: IRLine[];
  /** The HLO module right after lowering, one entry per printed line. */
  lowered?: IRLine[];
  /** The HLO module after each pass of the optimization pipeline, in order. */
  passes?: { name: string; changed: boolean; lines: IRLine[] }[];
  /** Number of jaxpr equations (primitive applications). */
  eqnCount?: number;
  /** Compiled kernels (fused). */
  kernels?: KernelInfo[];
  /** Per-line summary for editor annotations. */
  lines?: LineInfo[];
  /** Present when the function was run. */
  timings?: Timings;
  /** Things that did not stop the run but that a user should know (e.g. a missing IR view). */
  warnings?: string[];
  /** Wall-clock ms of each stage of this request (trace, compile, run). */
  stageMs?: Record<string, number>;
}

export function irText(lines: IRLine[]): string {
  return lines.map((l) => l.text).join("\n");
}

export function formatSpan(s: Span): string {
  return `${s.file}:${s.line}:${s.col}`;
}

/** `FILE:LINE:COL: Kind: message` — the one way errors are shown as text. */
export function formatError(e: ErrorInfo, fallbackFile: string): string {
  const where = e.span ? formatSpan(e.span) : `${fallbackFile}:1:1`;
  return `${where}: ${e.kind}: ${e.message}`;
}
