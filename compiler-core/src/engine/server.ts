// The engine process's side of the JSON-RPC protocol (see ./protocol.ts). Started by
// `jitlens engine` as a child of the extension host, talking over Node's IPC channel.
// Every request answers with a Report: a bug of ours becomes an `InternalError` Report,
// never a dropped connection, so the editor always has something to show.
import { createMessageConnection, IPCMessageReader, IPCMessageWriter } from "vscode-jsonrpc/node";
import { analyze } from "../api";
import { plural } from "../format";
import { gpuStats } from "../runtime/webgpu/device";
import { REPORT_VERSION, type Report } from "../report";
import { AnalyzeRequest, CompareRequest, LogNotification, PingRequest, StatsRequest, type AnalyzeParams, type LogParams } from "./protocol";
import { compareSafely } from "./compare_request";

/** What `PingRequest` answers as `version`: the Report format this engine speaks. */
export const ENGINE_VERSION = `report/${REPORT_VERSION}`;

export function startEngineServer(): void {
  if (typeof process.send !== "function") {
    process.stderr.write("jitlens engine: no IPC channel; the engine is started by the JIT Lens extension (child_process.fork)\n");
    process.exitCode = 2;
    return;
  }
  // A stray exception from an async callback (a GPU device loss, say) leaves the process in
  // an unknown state: say what happened on stderr (the extension shows it) and stop. The
  // extension reports the crash and starts a fresh engine on the next run.
  process.on("uncaughtException", (err) => {
    process.stderr.write(`jitlens engine: uncaught exception: ${describe(err)}\n`);
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    process.stderr.write(`jitlens engine: unhandled rejection: ${describe(err)}\n`);
  });

  const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));
  const log = (params: LogParams) => void connection.sendNotification(LogNotification, params).catch(() => undefined);

  let requests = 0;
  connection.onRequest(AnalyzeRequest, async (params) => {
    requests++;
    const { report, summary } = await analyzeSafely(params);
    log({ level: report.error ? (report.error.kind === "InternalError" ? "error" : "warn") : "info", message: summary });
    return report;
  });
  // Runs the user's code in their Python (the extension asks only in trusted workspaces). The
  // helper is a child of this process: cancelling (= killing the engine) ends it too.
  connection.onRequest(CompareRequest, async (params) => {
    requests++;
    const result = await compareSafely(params);
    const what = `compare ${params.fn} in ${baseName(params.file)}`;
    if (result.error) log({ level: result.error.kind === "InternalError" ? "error" : "warn", message: `${what}: ${result.error.kind}: ${result.error.message} (${result.elapsed_ms} ms)` });
    else log({ level: "info", message: `${what} with ${result.python.path}: ${[result.versions.numpy ? `NumPy ${result.versions.numpy}` : "no NumPy", result.versions.jax ? `JAX ${result.versions.jax}` : "no JAX"].join(", ")} in ${result.elapsed_ms} ms` });
    return result;
  });
  connection.onRequest(PingRequest, () => ({ pid: process.pid, version: ENGINE_VERSION }));
  connection.onRequest(StatsRequest, async (params) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (params?.gc && gc) gc();
    const m = process.memoryUsage();
    // undefined unless a run already started the GPU context (a stats call never starts Dawn).
    const gpu = await gpuStats().catch(() => undefined);
    return { pid: process.pid, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, gc: Boolean(params?.gc && gc), requests, ...(gpu ? { gpu } : {}) };
  });
  // The extension closed the channel (or died): nothing left to serve.
  connection.onClose(() => process.exit(0));
  process.on("disconnect", () => process.exit(0));
  connection.listen();
}

/**
 * `analyze()` that cannot throw: an exception becomes an `InternalError` Report. Also returns
 * a one-line summary for the log, e.g. `analyze f in gelu.py: 12 eqns, 1 kernel, 6.1× in 340 ms`.
 */
export async function analyzeSafely(params: AnalyzeParams): Promise<{ report: Report; summary: string }> {
  const t0 = performance.now();
  let report: Report;
  try {
    report = await analyze(params);
  } catch (err) {
    report = {
      version: REPORT_VERSION,
      file: params.file,
      fn: params.fn ?? "",
      args: [],
      error: { kind: "InternalError", message: describe(err) },
    };
    // The stack goes to the log (stderr), never into the Report the user sees.
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  }
  return { report, summary: summarize(params, report, performance.now() - t0) };
}

function summarize(params: AnalyzeParams, r: Report, ms: number): string {
  const fn = r.fn || params.fn || (params.offset !== undefined ? `<def at offset ${params.offset}>` : "<?>");
  const head = `analyze ${fn} in ${baseName(params.file)}`;
  const took = `${Math.round(ms)} ms`;
  if (r.error) return `${head}: ${r.error.kind}: ${r.error.message} (${took})`;
  const parts: string[] = [];
  if (r.eqnCount !== undefined) parts.push(plural(r.eqnCount, "eqn"));
  if (r.kernels) parts.push(plural(r.kernels.length, "kernel"));
  if (r.timings) parts.push(`${r.timings.speedup.toFixed(1)}× on ${r.timings.backend}`);
  return `${head}: ${parts.length ? parts.join(", ") + " " : ""}in ${took}`;
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() || file;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name === "Error" ? "" : err.name + ": "}${err.message}`;
  return String(err);
}
