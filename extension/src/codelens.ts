// CodeLenses above every top-level def of a Python file that uses JAX. Cheap to provide
// (one cached parse, no engine call): `provideCodeLenses` only places them; the titles are
// filled in lazily by `resolveCodeLens`, and `onDidChangeCodeLenses` fires when a run starts,
// gives its first result, finishes, or the function's text changes (stale).
import * as vscode from "vscode";
import { usesJax } from "../../compiler-core/src/frontend/functions";
import { LENS_IDLE, LENS_IR, LENS_RUNNING, resultLensTitle } from "../../compiler-core/src/format";
import type { Config } from "./config";
import { functionsOf, place } from "./locate";
import type { Results } from "./results";

/** Before the measured result: the first result (traced and compiled) while timing runs. */
export const LENS_MEASURING = "$(sync~spin) measuring…";
/** The third lens after a successful run (trusted workspaces only): `jitlens.compareWithJax`. */
export const LENS_COMPARE = "Compare with JAX";
/** Prefix of a result whose function was edited since it ran. */
export const LENS_STALE_PREFIX = "↻ stale: ";

/** `↻ stale: 6.1× compiled vs interpreted · …` from the result's title. */
export function staleTitle(title: string): string {
  return LENS_STALE_PREFIX + title.replace(/^⚡ /, "");
}

class FnLens extends vscode.CodeLens {
  constructor(range: vscode.Range, readonly uri: vscode.Uri, readonly fn: string, readonly kind: "main" | "ir" | "compare") {
    super(range);
  }
}

export class JitLensCodeLensProvider implements vscode.CodeLensProvider<FnLens>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly results: Results, private readonly config: Config) {
    this.subscriptions = [
      results.onDidChange(() => this.changed.fire()),
      // VS Code can drop a refresh that arrives while the editor is not focused (seen when a run
      // finished with the Problems panel focused); refresh again when an editor comes back.
      vscode.window.onDidChangeActiveTextEditor(() => this.changed.fire()),
      vscode.window.onDidChangeWindowState((s) => { if (s.focused) this.changed.fire(); }),
      // An edit may make a result stale (its function's text changed): re-resolve the titles.
      vscode.workspace.onDidChangeTextDocument((e) => { if (e.contentChanges.length && results.all(e.document.uri).size) this.changed.fire(); }),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration("jitlens.codeLens")) this.changed.fire(); }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
      this.changed,
    ];
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }

  provideCodeLenses(doc: vscode.TextDocument): FnLens[] {
    if (!this.config.codeLens || !usesJax(doc.getText())) return [];
    const lenses: FnLens[] = [];
    for (const fn of functionsOf(doc)) {
      // Above the decorators, so the lens sits right under the `# jitlens:` comment.
      const range = new vscode.Range(fn.startLine - 1, 0, fn.startLine - 1, 0);
      lenses.push(new FnLens(range, doc.uri, fn.name, "main"));
      const s = this.results.get(doc.uri, fn.name);
      const report = s?.status === "done" ? s.report : s?.partial;
      if (report && !report.error) lenses.push(new FnLens(range, doc.uri, fn.name, "ir"));
      // Comparing runs the user's code: offered only in a trusted workspace, after a successful run.
      if (s?.status === "done" && !s.report.error && vscode.workspace.isTrusted) lenses.push(new FnLens(range, doc.uri, fn.name, "compare"));
    }
    return lenses;
  }

  resolveCodeLens(lens: FnLens): FnLens {
    const uri = lens.uri.toString();
    const run: vscode.Command = { title: LENS_IDLE, command: "jitlens.traceAndCompile", arguments: [uri, lens.fn], tooltip: "Trace, compile and measure this function" };
    if (lens.kind === "compare") {
      lens.command = { title: LENS_COMPARE, command: "jitlens.compareWithJax", arguments: [uri, lens.fn], tooltip: "Run this function in your own Python with NumPy, JAX eager and jax.jit, and compare (runs your code)" };
      return lens;
    }
    if (lens.kind === "ir") {
      lens.command = { title: LENS_IR, command: "jitlens.openViewer", arguments: [uri, lens.fn], tooltip: "Open the IR viewer" };
      return lens;
    }
    const state = this.results.get(lens.uri, lens.fn);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    const placed = state && doc ? place(doc, lens.fn, state) : undefined;
    if (!state) {
      lens.command = run;
    } else if (state.status === "running") {
      // An empty command id: shown as text, not clickable.
      lens.command = state.partial && !state.partial.error
        ? { title: `${resultLensTitle(state.partial)} · ${LENS_MEASURING}`, command: "", tooltip: "Traced and compiled; measuring interpreted vs compiled" }
        : { title: LENS_RUNNING, command: "" };
    } else if (placed?.stale) {
      lens.command = { ...run, title: staleTitle(resultLensTitle(state.report)), tooltip: "The function changed since this run: click to trace & compile again" };
    } else {
      const r = state.report;
      lens.command = { ...run, title: resultLensTitle(r), tooltip: r.error ? "Run again" : "Trace & compile again" };
    }
    return lens;
  }
}
