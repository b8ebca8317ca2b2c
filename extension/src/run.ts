// `JIT Lens: Trace & Compile`: find the function, get its argument spec, ask the engine for
// a Report under a cancellable progress notification, then show the outcome: the CodeLens,
// annotations, the status bar, and either the IR viewer (opened beside the editor) or a
// diagnostic and a notification. A run has two steps so that the editor shows a first result
// quickly: trace + compile (the lens says how many kernels, the annotations appear), then the
// timed runs. Resolves to the final Report, or undefined when the user cancelled (or there was
// nothing to run).
import * as vscode from "vscode";
import { functionAt, type FunctionInfo } from "../../compiler-core/src/frontend/functions";
import type { AnalyzeParams } from "../../compiler-core/src/engine/protocol";
import { formatError, REPORT_VERSION, type Report } from "../../compiler-core/src/report";
import type { Ctx } from "./ctx";
import { EngineStoppedError } from "./engine";
import { functionsOf, snapshotIn } from "./locate";
import { fileNameOf } from "./spans";

/** A command's URI argument: a `vscode.Uri`, a URI string (`file:///a.py`) or a plain path. */
export function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg !== "string" || arg === "") return undefined;
  // A scheme has two or more letters; `C:\x.py` is a Windows path, not a URI.
  return /^[a-z][a-z0-9+.-]+:/i.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
}

/** The runs in progress; `jitlens.cancel` cancels them all. */
export const inFlight = new Set<vscode.CancellationTokenSource>();
/** The newest run of each function (`uri#fn`): an older run that was superseded writes nothing. */
const latest = new Map<string, vscode.CancellationTokenSource>();

/** `jitlens.cancel`: cancel every run in progress (the engine is killed). Resolves to how many. */
export function cancelRuns(): number {
  const n = inFlight.size;
  for (const s of inFlight) s.cancel();
  return n;
}

/** The document and function a command is about: its arguments, else the active editor and cursor. */
export async function target(uriArg: unknown, fnArg: unknown): Promise<{ doc: vscode.TextDocument; fn?: FunctionInfo; name: string } | undefined> {
  const doc = await documentFor(uriArg);
  if (!doc) {
    void vscode.window.showWarningMessage("JIT Lens: open a Python file and put the cursor in a function to trace it.");
    return undefined;
  }
  const fns = functionsOf(doc);
  if (typeof fnArg === "string" && fnArg) {
    // Unknown names go to the engine, whose Report says what is wrong.
    return { doc, fn: fns.find((f) => f.name === fnArg), name: fnArg };
  }
  const active = vscode.window.activeTextEditor;
  const editor = active?.document === doc ? active : vscode.window.visibleTextEditors.find((e) => e.document === doc);
  const at = editor?.selection.active ?? new vscode.Position(0, 0);
  const fn = functionAt(fns, doc.getText(), doc.offsetAt(at));
  if (!fn) {
    void vscode.window.showWarningMessage(`JIT Lens: no top-level def at line ${at.line + 1}; put the cursor inside the function to trace.`);
    return undefined;
  }
  return { doc, fn, name: fn.name };
}

export async function traceAndCompile(ctx: Ctx, uriArg?: unknown, fnArg?: unknown, specArg?: unknown): Promise<Report | undefined> {
  const t = await target(uriArg, fnArg);
  if (!t) return undefined;
  const { doc, fn, name } = t;
  const source = doc.getText();

  let args: string | undefined;
  if (typeof specArg === "string") args = specArg;
  else if (fn) {
    // After a failed run the input box opens again (prefilled), since the shapes may be why.
    const failedBefore = ctx.results.reportOf(doc.uri, name)?.error !== undefined;
    args = await ctx.specs.resolve(doc.uri, fn, failedBefore, source);
    if (args === undefined) return undefined;
  }

  const file = fileNameOf(doc);
  const snapshot = fn ? snapshotIn(doc, fn) : { text: "", startLine: 0 };
  const backend = ctx.config.backend;
  const params: AnalyzeParams = {
    file, source, fn: name, args, backend,
    timing: { minRuns: ctx.config.minRuns, minTimeMs: ctx.config.minTimeMs },
    gpuMemoryShare: ctx.config.gpuMemoryShare,
  };
  // The last request wins: a new run supersedes the runs in flight (cancelled; the engine is
  // killed if one of them was running in it, and the next request starts a fresh one).
  cancelRuns();
  const key = `${doc.uri.toString()}#${name}`;
  const cancel = new vscode.CancellationTokenSource();
  const superseded = () => latest.get(key) !== cancel;
  latest.set(key, cancel);
  ctx.results.setRunning(doc.uri, name, snapshot);
  inFlight.add(cancel);
  void vscode.commands.executeCommand("setContext", "jitlens.running", true);
  const t0 = Date.now();
  let report: Report | undefined;
  let cancelled = false;
  let wasSuperseded = false;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `JIT Lens: ${name}`, cancellable: true },
      async (progress, token) => {
        const sub = token.onCancellationRequested(() => cancel.cancel());
        try {
          progress.report({ message: "tracing & compiling…" });
          const first = await ctx.engine.analyze({ ...params, run: false }, cancel.token);
          if (!first || first.error || cancel.token.isCancellationRequested) return first;
          ctx.log.info(`first result for ${name} in ${Date.now() - t0} ms`);
          ctx.results.setPartial(doc.uri, name, first);
          if (ctx.viewer.isOpen) ctx.viewer.update(first);
          progress.report({ message: `measuring interpreted vs compiled (${backend})…` });
          return await ctx.engine.analyze({ ...params, run: true }, cancel.token);
        } finally {
          sub.dispose();
        }
      },
    );
  } catch (err) {
    if (superseded()) return undefined;
    if (!(err instanceof EngineStoppedError)) {
      ctx.results.restore(doc.uri, name);
      throw err;
    }
    const message = `JIT Lens engine stopped unexpectedly (${err.reason}); it will restart on the next run`;
    ctx.log.error(message);
    void vscode.window.showErrorMessage(message);
    report = { version: REPORT_VERSION, file, fn: name, args: [], error: { kind: "EngineError", message } };
    ctx.results.setDone(doc.uri, name, report, snapshot);
    return report;
  } finally {
    inFlight.delete(cancel);
    cancelled = cancel.token.isCancellationRequested;
    wasSuperseded = superseded();
    if (!wasSuperseded) latest.delete(key);
    cancel.dispose();
    void vscode.commands.executeCommand("setContext", "jitlens.running", inFlight.size > 0);
  }
  // Superseded by a newer run of the same function: that run owns the function's state now.
  if (wasSuperseded) return undefined;
  if (!report || cancelled) {
    ctx.results.restore(doc.uri, name);
    return undefined;
  }

  ctx.results.setDone(doc.uri, name, report, snapshot);
  if (report.timings) ctx.status.ran(report.timings, backend);
  if (report.error) {
    ctx.diagnostics.show(doc, name, report.error);
    // Paths relative to the workspace read better in a notification than absolute ones.
    const e = report.error;
    const shown = e.span ? { ...e, span: { ...e.span, file: vscode.workspace.asRelativePath(e.span.file) } } : e;
    void vscode.window.showErrorMessage(formatError(shown, vscode.workspace.asRelativePath(file)));
    ctx.viewer.update(report);
  } else {
    ctx.diagnostics.clear(doc.uri, name);
    // Show the result beside the code, leaving the focus in the editor.
    ctx.viewer.show(report);
  }
  return report;
}

/**
 * `JIT Lens: Edit Argument Shapes…` `(uri?, fnName?, spec?)`: the input box prefilled with the
 * spec in use (or `spec`); writes it into the `# jitlens:` comment when the function has one,
 * else remembers it for the function; then traces & compiles with it (resolves to the Report).
 */
export async function editArgumentShapes(ctx: Ctx, uriArg?: unknown, fnArg?: unknown, specArg?: unknown): Promise<Report | undefined> {
  const t = await target(uriArg, fnArg);
  if (!t) return undefined;
  const { doc, fn } = t;
  if (!fn) {
    void vscode.window.showWarningMessage(`JIT Lens: no function ${t.name} in ${vscode.workspace.asRelativePath(doc.uri)}.`);
    return undefined;
  }
  const source = doc.getText();
  const current = ctx.specs.current(doc.uri, fn, source);
  const spec = typeof specArg === "string" ? specArg.trim() : await ctx.specs.ask(fn, source, current, current === undefined);
  if (spec === undefined) return undefined;
  if (fn.specLine !== undefined) {
    const line = doc.lineAt(fn.specLine - 1);
    const indent = /^\s*/.exec(line.text)![0];
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, line.range, `${indent}# jitlens: ${spec}`);
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error("could not edit the # jitlens: comment");
  } else {
    await ctx.specs.remember(doc.uri, fn.name, spec);
  }
  return traceAndCompile(ctx, doc.uri, fn.name, spec);
}

/** `JIT Lens: Open IR Viewer`: one function's last Report, or the most recent one. */
export function openViewer(ctx: Ctx, uriArg?: unknown, fnArg?: unknown): Report | undefined {
  const uri = toUri(uriArg);
  const report = (uri && typeof fnArg === "string" ? ctx.results.reportOf(uri, fnArg) : undefined) ?? ctx.results.last?.report;
  ctx.viewer.show(report);
  return report;
}

async function documentFor(uriArg: unknown): Promise<vscode.TextDocument | undefined> {
  const uri = toUri(uriArg);
  if (!uri) return vscode.window.activeTextEditor?.document;
  return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()) ?? (await vscode.workspace.openTextDocument(uri));
}
