// Typed JSON-RPC protocol between the extension (client) and the engine process (server).
// The extension imports only these types and method objects; it never reaches into the compiler.
import { NotificationType, RequestType } from "vscode-jsonrpc";
import type { Report } from "../report";

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
