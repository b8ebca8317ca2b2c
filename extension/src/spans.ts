// Report spans (1-based lines and columns, end exclusive) to VS Code positions (0-based),
// and the file names in a Report back to documents.
import * as path from "node:path";
import * as vscode from "vscode";
import type { Span } from "../../compiler-core/src/report";

/** The name the engine gets for a document, and that its Report's spans carry. */
export function fileNameOf(doc: vscode.TextDocument): string {
  return doc.uri.scheme === "file" ? doc.uri.fsPath : doc.uri.toString();
}

/** The document URI for a file name in a Report (an open document first, else a path on disk). */
export function uriOfFile(file: string): vscode.Uri | undefined {
  const open = vscode.workspace.textDocuments.find((d) => fileNameOf(d) === file);
  if (open) return open.uri;
  return path.isAbsolute(file) ? vscode.Uri.file(file) : undefined;
}

/** The range of a span; an empty span widens to the rest of its line so that it can be seen. */
export function rangeOf(span: Span, doc?: vscode.TextDocument): vscode.Range {
  const line = Math.max(0, span.line - 1);
  const col = Math.max(0, span.col - 1);
  const endLine = Math.max(line, span.endLine - 1);
  let endCol = Math.max(0, span.endCol - 1);
  if (endLine === line && endCol <= col) {
    endCol = doc && line < doc.lineCount ? Math.max(col + 1, doc.lineAt(line).range.end.character) : col + 1;
  }
  return new vscode.Range(line, col, endLine, endCol);
}
