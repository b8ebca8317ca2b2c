// `JIT Lens: Compare with JAX`: run the function in the user's own Python — plain NumPy, JAX
// eagerly and `jax.jit` — on the same inputs as ours, and show real JAX's jaxpr, HLO, kernel
// count and times next to ours (the viewer's JAX stage; docs/COMPARE.md).
//
// This EXECUTES the user's code (the helper imports the module and calls the function), unlike
// everything else JIT Lens does. So: only on this explicit command (or the `jitlens.compare.onRun`
// setting), and only in a trusted workspace. The work runs in the engine process (a
// `jitlens/compare` request), never on the extension host's thread; cancelling kills the engine
// and with it the Python helper.
import * as vscode from "vscode";
import type { CompareParams } from "../../compiler-core/src/engine/protocol";
import { formatError, type CompareResult, type ErrorInfo, type Report } from "../../compiler-core/src/report";
import type { Ctx } from "./ctx";
import { EngineStoppedError } from "./engine";
import { place } from "./locate";
import { inFlight, target, traceAndCompile } from "./run";
import { fileNameOf } from "./spans";
import { compareRefusal } from "./trust";

/** The subset of the Python extension's API (`ms-python.python` exports) used here; every member may be missing. */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?: (resource?: vscode.Uri) => { id?: string; path?: string } | undefined;
    resolveEnvironment?: (env: unknown) => Promise<{ executable?: { uri?: vscode.Uri } } | undefined> | { executable?: { uri?: vscode.Uri } } | undefined;
  };
}

function withTimeout<T>(p: Thenable<T> | T, ms: number): Promise<T | undefined> {
  return Promise.race([Promise.resolve(p), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

/**
 * The interpreter the Python extension has selected for `resource`, when that extension is
 * installed (activated if needed): its active environment, resolved to the executable. Never
 * throws and never waits long: any failure (no extension, an older API, a broken environment)
 * is undefined, and the caller falls back to `jitlens.pythonPath`, then python3 on PATH.
 */
export async function pythonFromExtension(resource: vscode.Uri | undefined, log?: vscode.LogOutputChannel): Promise<string | undefined> {
  try {
    const ext = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
    if (!ext) return undefined;
    const api = ext.isActive ? ext.exports : await withTimeout(ext.activate(), 15_000);
    const envs = api?.environments;
    if (!envs || typeof envs.getActiveEnvironmentPath !== "function") return undefined;
    const active = envs.getActiveEnvironmentPath(resource);
    if (!active) return undefined;
    if (typeof envs.resolveEnvironment === "function") {
      const env = await withTimeout(envs.resolveEnvironment(active), 15_000);
      const exe = env?.executable?.uri?.fsPath;
      if (typeof exe === "string" && exe) return exe;
    }
    // Without a resolved executable, the environment path is the interpreter when it names one.
    return typeof active.path === "string" && /python[\d.]*(\.exe)?$/i.test(active.path) ? active.path : undefined;
  } catch (e) {
    log?.warn(`the Python extension did not give an interpreter (${e instanceof Error ? e.message : String(e)}); using jitlens.pythonPath or python3`);
    return undefined;
  }
}

export interface CompareOptions {
  /** Started by `jitlens.compare.onRun` after a run, not by the user: no run of its own first. */
  auto?: boolean;
}

/**
 * `(uri?, fnName?, spec?)`: compares the function (the one under the cursor without arguments)
 * with the user's NumPy and JAX. Runs Trace & Compile first when the function has no Report yet
 * (or a stale one); the result goes into that Report (`report.compare`) and the viewer opens on
 * its JAX stage. Resolves to the Report, or undefined when refused, cancelled or superseded.
 */
export async function compareWithJax(ctx: Ctx, uriArg?: unknown, fnArg?: unknown, specArg?: unknown, opts: CompareOptions = {}): Promise<Report | undefined> {
  const refusal = compareRefusal(vscode.workspace.isTrusted);
  if (refusal) {
    ctx.log.warn("Compare with JAX refused: the workspace is not trusted");
    void vscode.window.showWarningMessage(refusal, "Manage Workspace Trust").then((choice) => {
      if (choice) void vscode.commands.executeCommand("workbench.trust.manage");
    });
    return undefined;
  }
  const t = await target(uriArg, fnArg);
  if (!t) return undefined;
  const { doc, fn, name } = t;

  // The comparison belongs to a Report of the function as it is now.
  const state = ctx.results.get(doc.uri, name);
  let report = state?.status === "done" && !place(doc, name, state)?.stale ? state.report : undefined;
  if (!report) {
    if (opts.auto) return undefined;
    report = await traceAndCompile(ctx, doc.uri, name, typeof specArg === "string" ? specArg : undefined);
    if (!report) return undefined;
  }

  const source = doc.getText();
  const args = typeof specArg === "string" ? specArg : fn ? ctx.specs.current(doc.uri, fn, source) : undefined;
  const python = await pythonFromExtension(doc.uri, ctx.log);
  const shownPython = python ?? ctx.config.pythonPath ?? "python3";
  const params: CompareParams = {
    file: fileNameOf(doc),
    source,
    fn: name,
    args,
    python,
    pythonSetting: ctx.config.pythonPath,
    timeoutMs: ctx.config.compareTimeoutMs,
    timing: { minRuns: ctx.config.minRuns, minTimeMs: ctx.config.minTimeMs },
  };
  ctx.log.info(`comparing ${name} with ${shownPython} (${python ? "the Python extension's environment" : ctx.config.pythonPath ? "jitlens.pythonPath" : "PATH"})`);

  // Registered with the runs: `JIT Lens: Cancel` and a new Trace & Compile cancel it.
  const cancel = new vscode.CancellationTokenSource();
  inFlight.add(cancel);
  void vscode.commands.executeCommand("setContext", "jitlens.running", true);
  let result: CompareResult | undefined;
  let cancelled = false;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `JIT Lens: comparing ${name} with NumPy and JAX`, cancellable: true },
      async (progress, token) => {
        const sub = token.onCancellationRequested(() => cancel.cancel());
        try {
          progress.report({ message: `running your code in ${shownPython}…` });
          return await ctx.engine.compare(params, cancel.token);
        } finally {
          sub.dispose();
        }
      },
    );
  } catch (err) {
    if (!(err instanceof EngineStoppedError)) throw err;
    const message = `JIT Lens engine stopped unexpectedly while comparing (${err.reason}); it will restart on the next run`;
    ctx.log.error(message);
    void vscode.window.showErrorMessage(message);
    return undefined;
  } finally {
    inFlight.delete(cancel);
    cancelled = cancel.token.isCancellationRequested;
    cancel.dispose();
    void vscode.commands.executeCommand("setContext", "jitlens.running", inFlight.size > 0);
  }
  if (!result || cancelled) return undefined;
  // A newer run of the function replaced the Report meanwhile: this comparison is of older code.
  if (ctx.results.reportOf(doc.uri, name) !== report) return undefined;

  report.compare = result;
  ctx.results.touch(doc.uri);
  ctx.viewer.show(report, "jax");
  const errors = [result.error].filter((e): e is ErrorInfo => !!e);
  for (const e of errors) void vscode.window.showErrorMessage(`JIT Lens: Compare with JAX: ${relative(e, params.file)}`);
  if (!errors.length) {
    const done = [result.runs.numpy?.timing && "NumPy", result.runs.jax_eager?.timing && "JAX eager", result.runs.jax_jit?.timing && "jax.jit"].filter(Boolean);
    ctx.log.info(`compared ${name}: ${done.length ? done.join(", ") : "nothing"} timed${result.missing.length ? `; missing: ${result.missing.join(" ")}` : ""}`);
  }
  return report;
}

/** `FILE:LINE:COL: Kind: message` with paths relative to the workspace. */
function relative(e: ErrorInfo, file: string): string {
  const shown = e.span ? { ...e, span: { ...e.span, file: vscode.workspace.asRelativePath(e.span.file) } } : e;
  return formatError(shown, vscode.workspace.asRelativePath(file));
}

/** After a successful Trace & Compile: compare too when `jitlens.compare.onRun` is on (trusted workspaces only). */
export function compareAfterRun(ctx: Ctx, report: Report | undefined, spec?: unknown): void {
  if (!report || report.error || !ctx.config.compareOnRun || !vscode.workspace.isTrusted) return;
  const uri = vscode.workspace.textDocuments.find((d) => fileNameOf(d) === report.file)?.uri;
  if (!uri) return;
  compareWithJax(ctx, uri, report.fn, spec, { auto: true }).catch((err: unknown) => {
    ctx.log.error(`compare after run: ${err instanceof Error ? err.message : String(err)}`);
  });
}
