// Quick fixes for JIT Lens diagnostics: add the argument a traced value came from to
// `static_argnums` (edits the jit decorator or adds one), rewrite a simple `if`/`else` on a
// traced condition into `jnp.where`, and "Set argument shapes…" (the edit-shapes command).
import * as vscode from "vscode";
import type { ErrorInfo } from "../../compiler-core/src/report";
import type { Diagnostics, Problem } from "./diagnostics";
import { addStaticArgnum, ifToWhere, type LineEdit } from "./fixes";
import { functionsOf, paramNamesIn } from "./locate";

/** Titles, as the contract (docs/CONTRACTS.md) names them. */
export const FIX_STATIC = (arg: string) => `Add '${arg}' to static_argnums`;
export const FIX_WHERE = "Rewrite the if/else with jnp.where";
export const FIX_SHAPES = "Set argument shapes…";

/** Errors raised when Python asks a traced value for a concrete bool/int/float/array. */
const CONCRETE = /TracerBoolConversion|Concretization|TracerIntegerConversion|TracerArrayConversion/;

/** The argument a traced value came from, as the error names it (`the argument 'x'`). */
export function tracedArgument(e: ErrorInfo): string | undefined {
  for (const text of [e.message, ...(e.related ?? []).map((r) => r.message)]) {
    const m = /argument '([A-Za-z_]\w*)'/.exec(text);
    if (m) return m[1];
  }
  return undefined;
}

export class JitLensCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly diagnostics: Diagnostics) {}

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const p of this.diagnostics.on(doc.uri)) {
      if (!p.diagnostic.range.intersection(new vscode.Range(range.start.line, 0, range.end.line, Number.MAX_SAFE_INTEGER))) continue;
      actions.push(...this.fixes(doc, p));
    }
    return actions;
  }

  private fixes(doc: vscode.TextDocument, p: Problem): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    if (CONCRETE.test(p.error.kind)) {
      const lines = doc.getText().split(/\r?\n/);
      const sameDoc = p.doc.toString() === doc.uri.toString();
      const fn = sameDoc ? functionsOf(doc).find((f) => f.name === p.fn) : undefined;
      const line = p.diagnostic.range.start.line;
      const where = ifToWhere(lines, line);
      if (where) out.push(this.edit(FIX_WHERE, doc, p, where, true));
      const arg = tracedArgument(p.error);
      const index = arg && fn ? paramNamesIn(doc, fn).indexOf(arg) : -1;
      if (arg && fn && index >= 0) {
        const edits = addStaticArgnum(lines, fn.startLine - 1, fn.defLine - 1, index);
        if (edits) out.push(this.edit(FIX_STATIC(arg), doc, p, edits, !where));
      }
    }
    const shapes = new vscode.CodeAction(FIX_SHAPES, vscode.CodeActionKind.QuickFix);
    shapes.command = { title: FIX_SHAPES, command: "jitlens.editArgumentShapes", arguments: [p.doc.toString(), p.fn] };
    shapes.diagnostics = [p.diagnostic];
    out.push(shapes);
    return out;
  }

  private edit(title: string, doc: vscode.TextDocument, p: Problem, edits: LineEdit[], preferred: boolean): vscode.CodeAction {
    const a = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
    a.diagnostics = [p.diagnostic];
    a.isPreferred = preferred;
    const we = new vscode.WorkspaceEdit();
    const eol = doc.eol === vscode.EndOfLine.CRLF ? "\r\n" : "\n";
    for (const e of edits) {
      const start = new vscode.Position(e.start, 0);
      if (e.start === e.end) {
        we.insert(doc.uri, start, e.lines.map((l) => l + eol).join(""));
      } else {
        const end = doc.lineAt(e.end - 1).range.end;
        we.replace(doc.uri, new vscode.Range(start, end), e.lines.join(eol));
      }
    }
    a.edit = we;
    return a;
  }
}
