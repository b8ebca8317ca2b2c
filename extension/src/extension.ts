// JIT Lens: the VS Code side. Kept thin: it finds functions, asks the engine process for a
// Report, and shows what the Report says. It never knows how a kernel is made.
import * as vscode from "vscode";
import type { Annotation } from "./annotations";
import { JitLensCodeActions } from "./codeactions";
import { JitLensCodeLensProvider } from "./codelens";
import { registerCommands } from "./commands";
import { Ctx } from "./ctx";
import { JitLensHoverProvider } from "./hovers";
import { place } from "./locate";

let ctx: Ctx | undefined;

/** What `activate` returns (`extension.exports`): read-only views for the in-host tests. */
export interface JitLensApi {
  /** The engine process's id while it runs. */
  enginePid(): number | undefined;
  /** The per-line annotations shown on a document now. */
  annotations(uri: vscode.Uri): Annotation[];
  /** The status bar item's text. */
  statusText(): string;
  /** Deliver a message as if the IR viewer had sent it; resolves to whether it was accepted. */
  viewerMessage(m: unknown): Promise<boolean>;
  /** Whether the IR viewer panel is open. */
  viewerOpen(): boolean;
  /** The last 100 messages posted to the IR viewer, newest last, `n` counting from 1 (Reports as their `fn`; `stale` with its flag). */
  viewerPosted(): { n: number; type: string; stale?: boolean; fn?: string }[];
}

export function activate(context: vscode.ExtensionContext): JitLensApi {
  const c = (ctx = new Ctx(context));
  const lenses = new JitLensCodeLensProvider(c.results, c.config);
  const python: vscode.DocumentSelector = { language: "python" };
  context.subscriptions.push(
    c,
    ...registerCommands(c),
    lenses,
    vscode.languages.registerCodeLensProvider(python, lenses),
    vscode.languages.registerHoverProvider(python, new JitLensHoverProvider(c.results)),
    vscode.languages.registerCodeActionsProvider(python, new JitLensCodeActions(c.diagnostics), { providedCodeActionKinds: JitLensCodeActions.kinds }),
    // A diagnostic is about the function as it was traced: an edit of that function drops it.
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (!e.contentChanges.length) return;
      for (const [fn, state] of c.results.all(e.document.uri)) {
        if (state.status === "done" && state.report.error && place(e.document, fn, state)?.stale) c.diagnostics.clear(e.document.uri, fn);
      }
    }),
  );
  return {
    enginePid: () => c.engine.pid,
    annotations: (uri) => c.annotations.of(uri),
    statusText: () => c.status.text,
    viewerMessage: (m) => c.viewer.receive(m),
    viewerOpen: () => c.viewer.isOpen,
    viewerPosted: () => [...c.viewer.posted],
  };
}

export function deactivate(): void {
  // Also disposed through `subscriptions`; stopping the engine twice is harmless.
  ctx?.engine.dispose();
  ctx = undefined;
}
