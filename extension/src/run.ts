// `JIT Lens: Trace & Compile`: find the function, get its argument spec, ask the engine for
// a Report under a cancellable progress notification, then show the outcome: the CodeLens,
// and either the IR viewer (opened beside the editor) or a diagnostic and a notification.
// Resolves to the Report, or undefined when the user cancelled (or there was nothing to run).
import * as vscode from "vscode";
import { functionAt, listFunctions, type FunctionInfo } from "../../compiler-core/src/frontend/functions";
import { formatError, REPORT_VERSION, type Report } from "../../compiler-core/src/report";
import type { Ctx } from "./ctx";
import { EngineStoppedError } from "./engine";
import { fileNameOf } from "./spans";

/** A command's URI argument: a `vscode.Uri`, a URI string (`file:///a.py`) or a plain path. */
export function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg !== "string" || arg === "") return undefined;
  // A scheme has two or more letters; `C:\x.py` is a Windows path, not a URI.
  return /^[a-z][a-z0-9+.-]+:/i.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
}

export async function traceAndCompile(ctx: Ctx, uriArg?: unknown, fnArg?: unknown, specArg?: unknown): Promise<Report | undefined> {
  const doc = await documentFor(uriArg);
  if (!doc) {
    void vscode.window.showWarningMessage("JIT Lens: open a Python file and put the cursor in a function to trace it.");
    return undefined;
  }
  const source = doc.getText();
  const fns = listFunctions(source);
  let fn: FunctionInfo | undefined;
  let name: string;
  if (typeof fnArg === "string" && fnArg) {
    fn = fns.find((f) => f.name === fnArg);
    name = fnArg; // unknown names go to the engine, whose Report says what is wrong
  } else {
    const active = vscode.window.activeTextEditor;
    const editor = active?.document === doc ? active : vscode.window.visibleTextEditors.find((e) => e.document === doc);
    const at = editor?.selection.active ?? new vscode.Position(0, 0);
    fn = functionAt(fns, source, doc.offsetAt(at));
    if (!fn) {
      void vscode.window.showWarningMessage(`JIT Lens: no top-level def at line ${at.line + 1}; put the cursor inside the function to trace.`);
      return undefined;
    }
    name = fn.name;
  }

  let args: string | undefined;
  if (typeof specArg === "string") args = specArg;
  else if (fn) {
    // After a failed run the input box opens again (prefilled), since the shapes may be why.
    const failedBefore = ctx.results.reportOf(doc.uri, name)?.error !== undefined;
    args = await ctx.specs.resolve(doc.uri, fn, failedBefore, source);
    if (args === undefined) return undefined;
  }

  const file = fileNameOf(doc);
  ctx.results.setRunning(doc.uri, name);
  let report: Report | undefined;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `JIT Lens: tracing & compiling ${name}…`, cancellable: true },
      (_progress, token) =>
        ctx.engine.analyze(
          { file, source, fn: name, args, run: true, timing: { minRuns: ctx.config.minRuns, minTimeMs: ctx.config.minTimeMs } },
          token,
        ),
    );
  } catch (err) {
    if (!(err instanceof EngineStoppedError)) {
      ctx.results.restore(doc.uri, name);
      throw err;
    }
    const message = `JIT Lens engine stopped unexpectedly (${err.reason}); it will restart on the next run`;
    ctx.log.error(message);
    void vscode.window.showErrorMessage(message);
    report = { version: REPORT_VERSION, file, fn: name, args: [], error: { kind: "EngineError", message } };
    ctx.results.setDone(doc.uri, name, report);
    return report;
  }
  if (!report) {
    ctx.results.restore(doc.uri, name);
    return undefined;
  }

  ctx.results.setDone(doc.uri, name, report);
  if (report.error) {
    ctx.diagnostics.show(doc, report.error);
    // Paths relative to the workspace read better in a notification than absolute ones.
    const e = report.error;
    const shown = e.span ? { ...e, span: { ...e.span, file: vscode.workspace.asRelativePath(e.span.file) } } : e;
    void vscode.window.showErrorMessage(formatError(shown, vscode.workspace.asRelativePath(file)));
    ctx.viewer.update(report);
  } else {
    ctx.diagnostics.clear(doc.uri);
    // Show the result beside the code, leaving the focus in the editor.
    ctx.viewer.show(report);
  }
  return report;
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
