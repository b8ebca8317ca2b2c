// CodeLenses above every top-level def of a Python file that uses JAX. Cheap to provide
// (one parse, no engine call); they change when a run starts or a Report arrives.
import * as vscode from "vscode";
import { listFunctions, usesJax } from "../../compiler-core/src/frontend/functions";
import { LENS_IDLE, LENS_IR, LENS_RUNNING, resultLensTitle } from "../../compiler-core/src/format";
import type { Results } from "./results";

export class JitLensCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly results: Results) {
    this.subscriptions = [
      results.onDidChange(() => this.changed.fire()),
      // VS Code can drop a refresh that arrives while the editor is not focused (seen when a run
      // finished with the Problems panel focused); refresh again when an editor comes back.
      vscode.window.onDidChangeActiveTextEditor(() => this.changed.fire()),
      vscode.window.onDidChangeWindowState((s) => { if (s.focused) this.changed.fire(); }),
      this.changed,
    ];
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const source = doc.getText();
    if (!usesJax(source)) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const fn of listFunctions(source)) {
      // Above the decorators, so the lens sits right under the `# jitlens:` comment.
      const range = new vscode.Range(fn.startLine - 1, 0, fn.startLine - 1, 0);
      const run: vscode.Command = { title: LENS_IDLE, command: "jitlens.traceAndCompile", arguments: [doc.uri.toString(), fn.name] };
      const state = this.results.get(doc.uri, fn.name);
      if (!state) {
        lenses.push(new vscode.CodeLens(range, run));
      } else if (state.status === "running") {
        // An empty command id: shown as text, not clickable.
        lenses.push(new vscode.CodeLens(range, { title: LENS_RUNNING, command: "" }));
      } else {
        const r = state.report;
        lenses.push(new vscode.CodeLens(range, { ...run, title: resultLensTitle(r), tooltip: r.error ? "Run again" : "Trace & compile again" }));
        if (!r.error) {
          lenses.push(new vscode.CodeLens(range, { title: LENS_IR, command: "jitlens.openViewer", arguments: [doc.uri.toString(), fn.name], tooltip: "Open the IR viewer" }));
        }
      }
    }
    return lenses;
  }
}
