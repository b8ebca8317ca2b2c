// The engine process as the extension sees it: the JSON-RPC client from compiler-core,
// started from the bundled CLI, with its log and output going to the `JIT Lens` channel.
import * as path from "node:path";
import * as vscode from "vscode";
import { EngineCancelledError, EngineClient, EngineStoppedError } from "../../compiler-core/src/engine/client";
import type { AnalyzeParams, CompareParams } from "../../compiler-core/src/engine/protocol";
import type { CompareResult, Report } from "../../compiler-core/src/report";

export { EngineStoppedError };

export class Engine implements vscode.Disposable {
  private readonly client: EngineClient;
  private currentPid: number | undefined;

  constructor(extensionPath: string, private readonly log: vscode.LogOutputChannel) {
    this.client = new EngineClient({
      script: path.join(extensionPath, "dist", "jitlens.js"),
      onStart: (pid) => {
        this.currentPid = pid;
        log.info(`engine started (pid ${pid ?? "?"})`);
      },
      onLog: ({ level, message }) => log[level](message),
      onOutput: (line, stream) => (stream === "stderr" ? log.warn(`[engine] ${line}`) : log.info(`[engine] ${line}`)),
      onExit: ({ code, signal, expected }) => {
        this.currentPid = undefined;
        if (expected) log.info("engine stopped");
        else log.error(`engine exited (${signal ? `signal ${signal}` : `code ${code}`})`);
      },
    });
  }

  /**
   * Analyze in the engine. Resolves to undefined when `token` cancelled it (the engine is
   * killed, the next request starts a fresh one); rejects with `EngineStoppedError` on a crash.
   */
  async analyze(params: AnalyzeParams, token?: vscode.CancellationToken): Promise<Report | undefined> {
    const abort = new AbortController();
    const sub = token?.onCancellationRequested(() => abort.abort());
    if (token?.isCancellationRequested) abort.abort();
    try {
      return await this.client.analyze(params, abort.signal);
    } catch (err) {
      if (err instanceof EngineCancelledError) {
        this.log.info(`cancelled: ${params.fn ?? "function"} in ${path.basename(params.file)}`);
        return undefined;
      }
      throw err;
    } finally {
      sub?.dispose();
    }
  }

  /**
   * Run the function in the user's Python and compare (this executes their code: callers check
   * workspace trust). Resolves to undefined when `token` cancelled it (the engine, and with it
   * the Python helper, is killed); rejects with `EngineStoppedError` on a crash.
   */
  async compare(params: CompareParams, token?: vscode.CancellationToken): Promise<CompareResult | undefined> {
    const abort = new AbortController();
    const sub = token?.onCancellationRequested(() => abort.abort());
    if (token?.isCancellationRequested) abort.abort();
    try {
      return await this.client.compare(params, abort.signal);
    } catch (err) {
      if (err instanceof EngineCancelledError) {
        this.log.info(`cancelled: comparing ${params.fn} in ${path.basename(params.file)}`);
        return undefined;
      }
      throw err;
    } finally {
      sub?.dispose();
    }
  }

  /** The engine process's id while one is running (tests check that cancelling ends it). */
  get pid(): number | undefined {
    return this.client.isRunning ? this.currentPid : undefined;
  }

  dispose(): void {
    this.client.dispose();
  }
}
