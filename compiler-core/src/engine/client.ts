// The client side of the engine protocol: starts `jitlens engine` as a child process on
// demand and sends it typed requests. No `vscode` here, so it can be tested in plain Node.
//
// Lifecycle: the process starts on the first request; cancelling the request in flight
// kills it (the only way to stop a runaway trace or benchmark); a crash rejects the
// request in flight with `EngineStoppedError`; the next request starts a fresh process.
// Requests run one at a time, in order, so timings never compete with each other.
import { fork, type ChildProcess } from "node:child_process";
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, type MessageConnection } from "vscode-jsonrpc/node";
import type { CompareResult, Report } from "../report";
import { AnalyzeRequest, CompareRequest, LogNotification, PingRequest, StatsRequest, type AnalyzeParams, type CompareParams, type EngineStats, type LogParams } from "./protocol";

export interface EngineClientOptions {
  /** The bundled CLI (dist/jitlens.js), started as `node <script> engine`. */
  script: string;
  /** Extra arguments for node itself (e.g. `--import tsx` to run from source in tests). */
  execArgv?: string[];
  cwd?: string;
  /** A fresh engine process was started. */
  onStart?: (pid: number | undefined) => void;
  /** The engine's log notifications. */
  onLog?: (params: LogParams) => void;
  /** Each line the engine writes to stdout or stderr. */
  onOutput?: (line: string, stream: "stdout" | "stderr") => void;
  /** The process ended; `expected` is false for a crash. */
  onExit?: (info: { code: number | null; signal: NodeJS.Signals | null; expected: boolean }) => void;
}

/** The request was cancelled (and the engine killed). */
export class EngineCancelledError extends Error {
  constructor() {
    super("cancelled");
    this.name = "EngineCancelledError";
  }
}

/** The engine exited while a request was in flight (or could not be started). */
export class EngineStoppedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "EngineStoppedError";
  }
}

interface Running {
  proc: ChildProcess;
  connection: MessageConnection;
  /** Resolves when the process has exited; rejects requests racing against it. */
  exited: Promise<never>;
  /** Last lines of stderr, to explain a crash. */
  stderrTail: string[];
  killedOnPurpose: boolean;
}

export class EngineClient {
  private running: Running | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: EngineClientOptions) {}

  /** Whether an engine process is alive right now. */
  get isRunning(): boolean {
    return this.running !== undefined;
  }

  analyze(params: AnalyzeParams, signal?: AbortSignal): Promise<Report> {
    return this.enqueue((engine) => engine.connection.sendRequest(AnalyzeRequest, params), signal);
  }

  /** Run the function in the user's Python and compare (executes their code); cancelling kills the engine and the helper. */
  compare(params: CompareParams, signal?: AbortSignal): Promise<CompareResult> {
    return this.enqueue((engine) => engine.connection.sendRequest(CompareRequest, params), signal);
  }

  ping(signal?: AbortSignal): Promise<{ pid: number; version: string }> {
    return this.enqueue((engine) => engine.connection.sendRequest(PingRequest, undefined), signal);
  }

  /** The engine's memory (after a full GC when `gc` and node's --expose-gc) and GPU pool. */
  stats(gc = false, signal?: AbortSignal): Promise<EngineStats> {
    return this.enqueue((engine) => engine.connection.sendRequest(StatsRequest, { gc }), signal);
  }

  /** Kill the engine (if any). Requests in flight reject with `EngineCancelledError`. */
  stop(): void {
    const r = this.running;
    if (!r) return;
    r.killedOnPurpose = true;
    this.running = undefined;
    r.connection.dispose();
    r.proc.kill();
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  /** Run `send` after the requests before it; cancelling kills the engine only if it is ours in flight. */
  private enqueue<T>(send: (engine: Running) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const result = this.queue.then(() => this.runOne(send, signal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runOne<T>(send: (engine: Running) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.disposed) throw new EngineStoppedError("the engine client was disposed");
    if (signal?.aborted) throw new EngineCancelledError();
    const engine = this.running ?? this.start();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.stop();
        reject(new EngineCancelledError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([send(engine), engine.exited, aborted]);
    } catch (err) {
      if (err instanceof EngineCancelledError || err instanceof EngineStoppedError) throw err;
      if (engine.killedOnPurpose) throw new EngineCancelledError();
      // The connection broke mid-request. Usually the process is dying: wait a moment for
      // its exit, whose code and stderr explain more than the JSON-RPC error does.
      await Promise.race([engine.exited, new Promise((r) => setTimeout(r, 2000))]);
      this.stop();
      throw new EngineStoppedError(err instanceof Error ? err.message : String(err));
    } finally {
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  private start(): Running {
    const { script, execArgv = [], cwd, onStart, onLog, onOutput, onExit } = this.options;
    // An explicit execArgv: the child must not inherit the extension host's node flags.
    const proc = fork(script, ["engine"], { stdio: ["ignore", "pipe", "pipe", "ipc"], execArgv, cwd });
    onStart?.(proc.pid);
    const stderrTail: string[] = [];
    const connection = createMessageConnection(new IPCMessageReader(proc), new IPCMessageWriter(proc));
    let running: Running | undefined = undefined;
    let finished = false;
    const exited = new Promise<never>((_, reject) => {
      // `close` (not `exit`) so that the last stderr lines have been read.
      const finish = (code: number | null, signal: NodeJS.Signals | null, startError?: Error) => {
        if (finished) return;
        finished = true;
        if (this.running === running) this.running = undefined;
        connection.dispose();
        const expected = running?.killedOnPurpose ?? false;
        onExit?.({ code, signal, expected });
        if (expected) return reject(new EngineCancelledError());
        const how = startError ? `could not start: ${startError.message}` : signal ? `killed by ${signal}` : `exit code ${code}`;
        const last = stderrTail.filter((l) => l.trim()).pop();
        reject(new EngineStoppedError(last ? `${how}: ${last}` : how));
      };
      proc.once("close", (code, signal) => finish(code, signal));
      proc.once("error", (err) => finish(null, null, err));
    });
    running = { proc, connection, exited, stderrTail, killedOnPurpose: false };
    // Nobody may be awaiting `exited` when the engine goes idle and dies: keep that quiet.
    exited.catch(() => undefined);
    forEachLine(proc.stdout, (line) => onOutput?.(line, "stdout"));
    forEachLine(proc.stderr, (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      onOutput?.(line, "stderr");
    });
    connection.onNotification(LogNotification, (p) => onLog?.(p));
    // Errors on the channel show up as a process exit (handled above) or a rejected request.
    connection.onError(() => undefined);
    connection.listen();
    this.running = running;
    return running;
  }
}

function forEachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? "";
    for (const l of lines) onLine(l);
  });
  stream.on("end", () => {
    if (pending) onLine(pending);
    pending = "";
  });
}
