// The IR viewer's host: one webview panel (viewType `jitlens.irViewer`) that shows one
// Report. The viewer (dist/webview.js) renders from the Report alone; this side only sends
// it, follows the editor's cursor, and turns the viewer's hover/click into editor
// highlights and reveals. After a window reload the serializer brings the panel back with
// the Report the viewer saved in its state. When the function's text changes after the
// Report was made (the CodeLens says `↻ stale:`), the viewer is told so (`{type:'stale'}`).
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import type { Report } from "../../compiler-core/src/report";
import { isViewerMessage, isViewerState, type HostMessage, type StageId, type ViewerMessage } from "../../webview/src/protocol";
import { place } from "./locate";
import type { Results } from "./results";
import { fileNameOf, uriOfFile } from "./spans";

export const VIEW_TYPE = "jitlens.irViewer";

export class Viewer implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private report: Report | undefined;
  /** A stage to open on the next Report the viewer gets (a fresh panel loses the first post). */
  private pendingStage: StageId | undefined;
  /** The stale flag the live viewer was last told (a new Report clears it there). */
  private staleShown = false;
  /** The last 100 messages posted to the panel, newest last, without the Reports (the in-host tests read it); `n` counts from 1. */
  readonly posted: { n: number; type: HostMessage["type"]; stale?: boolean; fn?: string }[] = [];
  private postedCount = 0;
  private readonly panelSubs: vscode.Disposable[] = [];
  private readonly subs: vscode.Disposable[] = [];
  private readonly highlight = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("editor.rangeHighlightBackground"),
    outlineColor: new vscode.ThemeColor("contrastActiveBorder"),
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.rangeHighlightForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Center,
  });

  constructor(private readonly extensionUri: vscode.Uri, private readonly results: Results) {
    this.subs.push(
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state) => this.adopt(panel, isViewerState(state) ? state.report : undefined),
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.followCursor(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((e) => e && this.followCursor(e)),
      // An edit of the shown function (or a new state of it) may make the shown Report stale.
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && this.report && fileNameOf(e.document) === this.report.file) this.syncStale();
      }),
      results.onDidChange(() => this.syncStale()),
    );
  }

  /** Whether the function of the shown Report changed since it was made (as its CodeLens says). */
  isStale(): boolean {
    const r = this.report;
    if (!r) return false;
    const doc = vscode.workspace.textDocuments.find((d) => fileNameOf(d) === r.file);
    const state = doc && this.results.get(doc.uri, r.fn);
    if (!doc || !state) return false;
    return place(doc, r.fn, state)?.stale ?? false;
  }

  /** Tell a live viewer when the staleness of its Report changed. */
  private syncStale(): void {
    if (!this.panel || !this.report) return;
    const stale = this.isStale();
    if (stale === this.staleShown) return;
    this.staleShown = stale;
    this.post({ type: "stale", stale });
  }

  /** Open (or reveal) the panel showing `report`; without one, the panel says how to get one. */
  show(report: Report | undefined, stage?: StageId): void {
    if (this.panel) {
      this.panel.reveal(undefined, true);
    } else {
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, "JIT Lens", { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.options());
      this.adopt(panel, report);
    }
    if (report) this.update(report, stage);
  }

  /** Show `report` if the panel is open (a finished run replaces what it shows); `stage` selects a tab. */
  update(report: Report, stage?: StageId): void {
    this.report = report;
    this.pendingStage = stage;
    if (!this.panel) return;
    this.panel.title = `JIT Lens: ${report.fn || "?"}`;
    this.postReport(report, stage);
  }

  /** A Report replaces the view (clearing its stale banner); `stale: true` follows when it is. */
  private postReport(report: Report, stage?: StageId): void {
    this.post(stage ? { type: "report", report, stage } : { type: "report", report });
    this.staleShown = false;
    this.syncStale();
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, "dist")],
    };
  }

  private adopt(panel: vscode.WebviewPanel, report: Report | undefined): void {
    this.disposePanel();
    this.panel = panel;
    this.report = report ?? this.report;
    panel.webview.options = this.options();
    panel.webview.html = this.html(panel.webview);
    panel.title = this.report ? `JIT Lens: ${this.report.fn || "?"}` : "JIT Lens";
    this.panelSubs.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
          this.disposePanel();
          this.clearHighlight();
        }
      }),
    );
  }

  /**
   * A message from the webview, which is untrusted: every field is checked (isViewerMessage)
   * before use, anything else is dropped; a handler's failure is logged, never thrown into the
   * webview channel. Resolves to whether the message was accepted (the in-host tests send
   * hostile messages through here).
   */
  async receive(m: unknown): Promise<boolean> {
    if (!isViewerMessage(m)) return false;
    try {
      await this.onMessage(m);
    } catch (e) {
      console.warn(`JIT Lens viewer: ${m.type} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return true;
  }

  private async onMessage(m: ViewerMessage): Promise<void> {
    switch (m.type) {
      case "ready": {
        // The viewer (re)loaded: a new panel, a reload, or the panel shown again after
        // being hidden (its context is not retained). Give it the Report.
        const stage = this.pendingStage;
        this.pendingStage = undefined;
        if (this.report) this.postReport(this.report, stage);
        const editor = vscode.window.activeTextEditor;
        if (editor) this.followCursor(editor);
        return;
      }
      case "highlight": {
        this.clearHighlight();
        const editor = this.reportEditor();
        if (!editor || m.line === null) return;
        // At most a screenful of ranges, whatever the viewer asks for.
        const lines = [m.line, ...(m.lines ?? []).slice(0, 10_000)].filter((l) => l <= editor.document.lineCount);
        editor.setDecorations(this.highlight, lines.map((l) => new vscode.Range(l - 1, 0, l - 1, 0)));
        return;
      }
      case "reveal": {
        const uri = this.report && uriOfFile(this.report.file);
        if (!uri) return;
        const visible = this.reportEditor();
        const doc = visible?.document ?? (await vscode.workspace.openTextDocument(uri));
        const line = Math.min(m.line, doc.lineCount) - 1;
        const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: false });
        const at = new vscode.Position(line, doc.lineAt(line).firstNonWhitespaceCharacterIndex);
        editor.selection = new vscode.Selection(at, at);
        editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        return;
      }
      default: {
        const unhandled: never = m;
        return unhandled;
      }
    }
  }

  /** Tell the viewer which source line the cursor is on (it highlights that line's IR). */
  private followCursor(editor: vscode.TextEditor): void {
    // A hidden panel has no live webview (its context is not retained): nothing to tell.
    if (!this.panel?.visible || !this.report) return;
    if (fileNameOf(editor.document) !== this.report.file) return;
    this.post({ type: "sourceLine", line: editor.selection.active.line + 1 });
  }

  private reportEditor(): vscode.TextEditor | undefined {
    const file = this.report?.file;
    return file === undefined ? undefined : vscode.window.visibleTextEditors.find((e) => fileNameOf(e.document) === file);
  }

  private clearHighlight(): void {
    for (const e of vscode.window.visibleTextEditors) e.setDecorations(this.highlight, []);
  }

  private post(message: HostMessage): void {
    if (!this.panel) return;
    this.posted.push({ n: ++this.postedCount, type: message.type, ...(message.type === "stale" ? { stale: message.stale } : {}), ...(message.type === "report" ? { fn: message.report.fn } : {}) });
    if (this.posted.length > 100) this.posted.splice(0, this.posted.length - 100);
    void this.panel.webview.postMessage(message);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "dist", "webview.js"));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'unsafe-inline'`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
      // The graph's layout runs in a Worker started from a Blob URL (webview/src/graph.ts).
      "worker-src blob:",
    ].join("; ");
    return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>JIT Lens</title>
</head>
<body>
  <div id="root"></div>
  <script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  private disposePanel(): void {
    for (const d of this.panelSubs.splice(0)) d.dispose();
  }

  dispose(): void {
    this.disposePanel();
    this.panel?.dispose();
    this.highlight.dispose();
    for (const d of this.subs.splice(0)) d.dispose();
  }
}
