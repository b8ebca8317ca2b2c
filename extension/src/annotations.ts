// Per-line annotations after a run: a colour band per compiled kernel on the lines that became
// it (palette shared with the IR viewer: compiler-core/src/palette.ts), and an end-of-line note
// with the type the line produced, its eager cost and its kernel:
//   f32[512,1024] · eager 0.18 ms → kernel 2
// Shown for the last Report of each function (or the first result of a run in progress), moved
// with edits above the function, dropped when the function itself is edited (stale).
// `jitlens.annotations.enabled` and the `jitlens.toggleAnnotations` command switch them.
import * as vscode from "vscode";
import { formatMs } from "../../compiler-core/src/format";
import { KERNEL_PALETTE, kernelColorIndex, paletteColor, translucent } from "../../compiler-core/src/palette";
import type { LineInfo, Report } from "../../compiler-core/src/report";
import type { Config } from "./config";
import { place } from "./locate";
import type { Results } from "./results";
import { fileNameOf } from "./spans";

/** One annotated line, as the extension's test API reports it. */
export interface Annotation {
  /** 1-based line in the document as it is now. */
  line: number;
  fn: string;
  /** The end-of-line note. */
  text: string;
  /** Kernel index (into Report.kernels) of the band, or -1 for none. */
  kernel: number;
  /** Palette entry of the band (`charts.blue`, ...), when there is one. */
  color?: string;
}

/** `f32[512,1024] · eager 0.18 ms → kernel 2` (kernels listed when the line went into several). */
export function lineNote(li: LineInfo): string {
  const parts = [li.type || "?"];
  if (typeof li.eagerMs === "number") parts.push(`eager ${formatMs(li.eagerMs)}`);
  const ks = li.kernels?.length ? li.kernels : li.kernel >= 0 ? [li.kernel] : [];
  const note = parts.join(" · ");
  if (!ks.length) return note;
  return `${note} → ${ks.length === 1 ? `kernel ${ks[0]}` : `kernels ${ks.join(", ")}`}`;
}

export class Annotations implements vscode.Disposable {
  private readonly bands = KERNEL_PALETTE.map((c, i) =>
    vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      borderStyle: "solid",
      borderWidth: "0 0 0 3px",
      borderColor: new vscode.ThemeColor(c.themeId),
      backgroundColor: translucent(i, 0.1),
      overviewRulerColor: new vscode.ThemeColor(c.themeId),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
    }));
  private readonly note = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), margin: "0 0 0 2.5em", fontStyle: "italic" },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly shown = new Map<string, Annotation[]>();
  private readonly subs: vscode.Disposable[];

  constructor(private readonly results: Results, private readonly config: Config) {
    this.subs = [
      results.onDidChange(() => this.refreshAll()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshAll()),
      vscode.workspace.onDidChangeTextDocument((e) => { if (e.contentChanges.length && results.all(e.document.uri).size) this.refreshDoc(e.document); }),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration("jitlens.annotations")) this.refreshAll(); }),
    ];
  }

  /** What is shown on `uri` now (for tests and hovers). */
  of(uri: vscode.Uri): Annotation[] {
    return this.shown.get(uri.toString()) ?? [];
  }

  refreshAll(): void {
    const docs = new Set(vscode.window.visibleTextEditors.map((e) => e.document));
    for (const d of docs) this.refreshDoc(d);
  }

  private refreshDoc(doc: vscode.TextDocument): void {
    const list = this.config.annotations ? this.compute(doc) : [];
    this.shown.set(doc.uri.toString(), list);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== doc) continue;
      const perBand = this.bands.map(() => [] as vscode.Range[]);
      const notes: vscode.DecorationOptions[] = [];
      for (const a of list) {
        const line = doc.lineAt(a.line - 1);
        if (a.kernel >= 0 && a.color !== undefined) perBand[KERNEL_PALETTE.findIndex((c) => c.themeId === a.color)].push(line.range);
        notes.push({ range: new vscode.Range(line.range.end, line.range.end), renderOptions: { after: { contentText: a.text } } });
      }
      this.bands.forEach((b, i) => editor.setDecorations(b, perBand[i]));
      editor.setDecorations(this.note, notes);
    }
  }

  private compute(doc: vscode.TextDocument): Annotation[] {
    const out: Annotation[] = [];
    for (const [fn, state] of this.results.all(doc.uri)) {
      const placed = place(doc, fn, state);
      if (!placed?.report || placed.stale) continue;
      out.push(...annotationsOf(placed.report, fileNameOf(doc), placed.delta, doc.lineCount, fn));
    }
    return out.sort((a, b) => a.line - b.line);
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
    for (const b of this.bands) b.dispose();
    this.note.dispose();
  }
}

/** The annotations of one Report, moved by `delta` lines, within a document of `lineCount` lines. */
export function annotationsOf(report: Report, file: string, delta: number, lineCount: number, fn = report.fn): Annotation[] {
  if (report.error || report.file !== file) return [];
  const out: Annotation[] = [];
  for (const li of report.lines ?? []) {
    const line = li.line + delta;
    if (line < 1 || line > lineCount) continue;
    const kernel = li.kernels?.[0] ?? li.kernel;
    const color = kernel >= 0 ? paletteColor(kernelColorIndex(report.kernels, kernel)).themeId : undefined;
    out.push({ line, fn, text: lineNote(li), kernel, ...(color ? { color } : {}) });
  }
  return out;
}
