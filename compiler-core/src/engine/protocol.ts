// Typed JSON-RPC protocol between the extension (client) and the engine process (server).
// The extension imports only these types and method objects; it never reaches into the compiler.
import { NotificationType, RequestType } from "vscode-jsonrpc";
import type { CompareResult, Report } from "../report";

export type Backend = "auto" | "cpu" | "webgpu";

export interface AnalyzeParams {
  /** Absolute path (or a display name) of the Python file; used in spans and messages. */
  file: string;
  /** The file's full text (the editor's buffer, saved or not). */
  source: string;
  /** Function to trace: by name, or the innermost top-level `def` containing `offset`. */
  fn?: string;
  /** 0-based character offset of the cursor in `source`. */
  offset?: number;
  /** Argument spec, e.g. `x=f32[512,1024], n=3`; when absent, the `# jitlens:` comment above the def. */
  args?: string;
  /** Run and time eager vs compiled after tracing (default true). */
  run?: boolean;
  backend?: Backend;
  timing?: { minRuns?: number; minTimeMs?: number };
  /** Largest share (0..1] of the GPU's memory one run may allocate (WebGPU backend; default 0.5). */
  gpuMemoryShare?: number;
}

export interface LogParams {
  level: "info" | "warn" | "error";
  message: string;
}

export const AnalyzeRequest = new RequestType<AnalyzeParams, Report, void>("jitlens/analyze");
export const PingRequest = new RequestType<void, { pid: number; version: string }, void>("jitlens/ping");
export const LogNotification = new NotificationType<LogParams>("jitlens/log");

/** The engine process's resources (the soak test watches them stay flat). */
export interface EngineStats {
  pid: number;
  /** process.memoryUsage() after an optional full GC (when node runs with --expose-gc). */
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  gc: boolean;
  requests: number;
  /** The WebGPU layer's pool, when a GPU context exists. */
  gpu?: { buffers: number; heldBytes: number; inUseBytes: number; created: number; pipelines: number; layouts: number };
}
export const StatsRequest = new RequestType<{ gc?: boolean }, EngineStats, void>("jitlens/stats");

/**
 * `jitlens/compare`: run the function in the user's own Python (NumPy, JAX eager, `jax.jit`) and
 * compare with ours (compiler-core/src/compare.ts, docs/COMPARE.md). This EXECUTES the user's
 * code: the extension sends it only on an explicit command (or the `jitlens.compare.onRun`
 * setting) in a trusted workspace. Cancelling it kills the engine (and so the Python helper).
 */
export interface CompareParams {
  /** The Python file (absolute path), its text and the function, as for analyze. */
  file: string;
  source: string;
  fn: string;
  /** Argument spec; when absent, the `# jitlens:` comment (else inferred, as tracing). */
  args?: string;
  seed?: number;
  /** The interpreter chosen by the editor (the Python extension's environment) ... */
  python?: string;
  /** ... else this one (`jitlens.pythonPath`) ... else python3 on PATH. */
  pythonSetting?: string;
  /** Kill the helper after this long (default 120 s). */
  timeoutMs?: number;
  timing?: { minRuns?: number; minTimeMs?: number };
}
export const CompareRequest = new RequestType<CompareParams, CompareResult, void>("jitlens/compare");
