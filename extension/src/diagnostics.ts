// Errors in the user's code as diagnostics (collection `jitlens`, source `JIT Lens`, code =
// the error's kind) at the error's span, with its related locations (where a traced value came
// from). One per function; cleared for that function by its next successful run. Keeps which
// function and error each diagnostic belongs to, for the code actions.
import * as vscode from "vscode";
import type { ErrorInfo } from "../../compiler-core/src/report";
import { fileNameOf, rangeOf, uriOfFile } from "./spans";

export interface Problem {
  /** The document that was traced. */
  doc: vscode.Uri;
  fn: string;
  error: ErrorInfo;
  diagnostic: vscode.Diagnostic;
  /** The document the diagnostic is on (the traced one, or a helper's file). */
  uri: vscode.Uri;
}

export class Diagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("jitlens");
  /** By traced document, then function. */
  private readonly problems = new Map<string, Map<string, Problem>>();

  /** Show `error` of `fn`'s run in `doc`; an error without a span shows only as a notification. */
  show(doc: vscode.TextDocument, fn: string, error: ErrorInfo): void {
    this.clear(doc.uri, fn);
    const span = error.span;
    if (!span) return;
    const inDoc = span.file === fileNameOf(doc);
    const uri = inDoc ? doc.uri : uriOfFile(span.file);
    if (!uri) return;
    const d = new vscode.Diagnostic(rangeOf(span, inDoc ? doc : undefined), `${error.kind}: ${error.message}`, vscode.DiagnosticSeverity.Error);
    d.source = "JIT Lens";
    d.code = error.kind;
    d.relatedInformation = (error.related ?? []).flatMap((r) => {
      const ru = r.span.file === fileNameOf(doc) ? doc.uri : uriOfFile(r.span.file);
      return ru ? [new vscode.DiagnosticRelatedInformation(new vscode.Location(ru, rangeOf(r.span)), r.message)] : [];
    });
    let fns = this.problems.get(doc.uri.toString());
    if (!fns) this.problems.set(doc.uri.toString(), (fns = new Map()));
    fns.set(fn, { doc: doc.uri, fn, error, diagnostic: d, uri });
    this.publish(uri);
  }

  /** Clear `fn`'s diagnostic (every function's, without `fn`) for runs of `uri`. */
  clear(uri: vscode.Uri, fn?: string): void {
    const fns = this.problems.get(uri.toString());
    if (!fns) return;
    const gone = fn === undefined ? [...fns.values()] : [fns.get(fn)].filter((p): p is Problem => !!p);
    if (fn === undefined) fns.clear();
    else fns.delete(fn);
    for (const p of gone) this.publish(p.uri);
  }

  /** The problems shown on `uri` (whichever document's run they came from). */
  on(uri: vscode.Uri): Problem[] {
    const out: Problem[] = [];
    for (const fns of this.problems.values()) for (const p of fns.values()) if (p.uri.toString() === uri.toString()) out.push(p);
    return out;
  }

  private publish(uri: vscode.Uri): void {
    const ds = this.on(uri).map((p) => p.diagnostic);
    if (ds.length) this.collection.set(uri, ds);
    else this.collection.delete(uri);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
