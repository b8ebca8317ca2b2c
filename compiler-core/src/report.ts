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
  /** The same function run by the user's own NumPy and JAX (`jitlens compare`, "Compare with JAX"). */
  compare?: CompareResult;
}

// ---------------------------------------------------------------------------------------------
// Ground truth: the user's own NumPy and JAX (compiler-core/src/compare.ts, docs/COMPARE.md)

export const COMPARE_VERSION = 1;

/** One way the Python helper ran the function: plain NumPy, JAX eager, or `jax.jit`. */
export interface CompareRun {
  /** The first call in ms: for `jax.jit` this is trace + compile + run (XLA's compile time). */
  first_call_ms?: number;
  /** Warm timings: warm-up, then at least `minRuns` runs and `minTimeMs`, as for ours. */
  timing?: TimingStat;
  /** Types of the output leaves in pytree order, e.g. `["f32[512]"]`. */
  outputs?: string[];
  /** Difference of its outputs from our compiled outputs on the same inputs: max |theirs - ours| / max |ours|, the largest over the outputs;
   *  absent when either side did not run or the shapes differ (then `warnings` says why). */
  max_rel_diff?: number;
  /** Why it did not run, e.g. `does not run under NumPy: AttributeError: ...` with the user's file:line as span. */
  error?: ErrorInfo;
}

/** One input array, as the Python side loaded it. */
export interface CompareInput {
  /** Path of the leaf in the arguments, e.g. `x` or `params[0][1]` (JAX's flattening order). */
  path: string;
  /** e.g. `f32[512,1024]`. */
  type: string;
  /** SHA-256 of the array's bytes as Python saw them. */
  sha256: string;
  /** True when the bytes are identical to the inputs JIT Lens itself ran on. */
  matches: boolean;
}

/** A reference to one equation in a jaxpr text. */
export interface JaxprEqnRef {
  /** Index in the (flattened) equation list that was compared. */
  index: number;
  /** 0-based line of the text where the equation starts: ours index `Report.jaxpr`, JAX's `compare.jaxpr.split("\n")`. */
  line: number;
  prim: string;
  /** Result types, e.g. `["f32[512]"]`. */
  outs: string[];
  /** The equation's first line, trimmed. */
  text: string;
}

export interface JaxprMismatch {
  /** `type`: same primitive, different result shape/dtype; `params`: same primitive and types, different params;
   *  `only_ours` / `only_jax`: an equation with no partner; `inputs` / `outputs`: the jaxprs' signatures differ. */
  kind: "type" | "params" | "only_ours" | "only_jax" | "inputs" | "outputs";
  ours?: JaxprEqnRef;
  jax?: JaxprEqnRef;
  /** One line for people, e.g. `exp: ours gives f32[8], JAX gives f32[8,1]`. */
  message: string;
}

/** Structural diff of our jaxpr against `jax.make_jaxpr`'s (equations aligned by primitive name). */
export interface JaxprDiff {
  /** Same primitive sequence, same result types, same inputs and number of outputs (params not required). */
  same: boolean;
  samePrimitives: boolean;
  sameTypes: boolean;
  /** Aligned equations also agree on their params (e.g. `dimension_numbers`, `axes`). */
  sameParams: boolean;
  counts: { ours: number; jax: number; matched: number };
  /** Aligned equations, in order: indices into the compared lists and their 0-based text lines (for side-by-side views). */
  pairs: { ours: number; jax: number; oursLine: number; jaxLine: number }[];
  /** At most 200; `truncated` when there were more. */
  mismatches: JaxprMismatch[];
  truncated?: boolean;
  /** How the texts were normalised, e.g. JAX's custom_jvp_call replaced by its body. */
  notes: string[];
}

/** Kernels of XLA's compiled HLO (counted by compare_diff.ts's countXlaKernels). */
export interface XlaKernels {
  /** `fusion` instructions outside fused computations: one kernel each. */
  fusions: number;
  /** Fusions by kind: kLoop, kInput, kOutput, kCustom. */
  byKind: Record<string, number>;
  /** `custom-call` instructions (cuBLAS/cuDNN GEMMs and convolutions, CPU runtime calls). */
  customCalls: number;
  /** Other data-moving or computing instructions left unfused (copy, dot, sort, ...). */
  otherOps: number;
  otherByOp: Record<string, number>;
  /** fusions + customCalls + otherOps: comparable to our compiled kernel count. */
  kernels: number;
}

export interface CompareResult {
  version: typeof COMPARE_VERSION;
  /** The interpreter that ran the helper and how it was chosen. */
  python: { path: string; source: "explicit" | "setting" | "PATH" };
  /** Versions found in that environment (absent: not installed). */
  versions: { python?: string; numpy?: string; jax?: string; jaxlib?: string };
  /** JAX's default backend (`cpu`, `gpu`, `tpu`) and its first device, e.g. `NVIDIA H100 80GB HBM3 (cuda:0)`. */
  jax?: { backend: string; device: string; devices: number };
  /** What could not be compared and why, one sentence each (e.g. JAX is not installed). */
  missing: string[];
  warnings: string[];
  /** A failure that stopped the comparison (no interpreter, timeout, syntax error in the file, ...). */
  error?: ErrorInfo;
  /** The seed of the random inputs (as `--seed`); the inputs themselves are JIT Lens's, passed as .npy files. */
  seed: number;
  inputs: CompareInput[];
  /** Every input matched ours bit for bit. */
  inputsMatch: boolean;
  runs: { numpy?: CompareRun; jax_eager?: CompareRun; jax_jit?: CompareRun };
  /** `str(jax.make_jaxpr(f)(*args))`. */
  jaxpr?: string;
  /** `jax.jit(f).lower(*args).as_text()` (StableHLO). */
  stablehlo?: string;
  /** `jax.jit(f).lower(*args).compile().as_text()` (XLA's optimized HLO for this backend). */
  hlo?: string;
  /** Errors of the jaxpr / lowering / compile steps (the runs keep their own). */
  stageErrors?: { jaxpr?: ErrorInfo; stablehlo?: ErrorInfo; hlo?: ErrorInfo };
  /** Kernels of the compiled HLO. */
  xla?: XlaKernels;
  /** Our jaxpr against JAX's, when both exist. */
  jaxprDiff?: JaxprDiff;
  /** Wall-clock ms of the whole comparison (helper start to result). */
  elapsed_ms: number;
  /** Only in hand-made samples (test fixtures): says that nothing in it was measured. */
  synthetic?: string;
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
