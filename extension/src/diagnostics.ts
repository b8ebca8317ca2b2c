// Errors in the user's code as diagnostics (collection `jitlens`, source `JIT Lens`) at the
// error's span, with its related locations. Cleared for a file by its next successful run.
import * as vscode from "vscode";
import type { ErrorInfo } from "../../compiler-core/src/report";
import { fileNameOf, rangeOf, uriOfFile } from "./spans";

export class Diagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("jitlens");

  /** Show `error` for the run of `doc`; an error without a span shows only as a notification. */
  show(doc: vscode.TextDocument, error: ErrorInfo): void {
    const span = error.span;
    if (!span) {
      this.collection.delete(doc.uri);
      return;
    }
    const inDoc = span.file === fileNameOf(doc);
    const uri = inDoc ? doc.uri : uriOfFile(span.file);
    if (!uri) return;
    const d = new vscode.Diagnostic(rangeOf(span, inDoc ? doc : undefined), `${error.kind}: ${error.message}`, vscode.DiagnosticSeverity.Error);
    d.source = "JIT Lens";
    d.relatedInformation = (error.related ?? []).flatMap((r) => {
      const ru = r.span.file === fileNameOf(doc) ? doc.uri : uriOfFile(r.span.file);
      return ru ? [new vscode.DiagnosticRelatedInformation(new vscode.Location(ru, rangeOf(r.span)), r.message)] : [];
    });
    if (uri.toString() !== doc.uri.toString()) this.collection.delete(doc.uri);
    this.collection.set(uri, [d]);
  }

  clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
