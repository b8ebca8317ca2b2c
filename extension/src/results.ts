// What the editor knows about each function: never run, running (maybe with a first,
// trace-only Report), or its last Report. Keyed by document URI and function name; fires
// `onDidChange` so CodeLenses, annotations and the status bar refresh. Each Report keeps a
// snapshot of the function's text when it ran, so that an edit of the function marks the
// result stale and an edit above it only moves its annotations (see `locate.ts`).
import * as vscode from "vscode";
import type { Report } from "../../compiler-core/src/report";

/** The function's text (its `# jitlens:` comment, decorators and body) and first line when it ran. */
export interface Snapshot {
  text: string;
  /** 1-based line of the first decorator, or of `def`. */
  startLine: number;
}

export type FnState =
  | { status: "running"; previous?: Report; previousSnapshot?: Snapshot; partial?: Report; snapshot: Snapshot }
  | { status: "done"; report: Report; snapshot: Snapshot };

/** A Report and the document it was made from. */
export interface Result {
  uri: vscode.Uri;
  report: Report;
}

export class Results implements vscode.Disposable {
  private readonly byDoc = new Map<string, Map<string, FnState>>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private latest: Result | undefined;

  readonly onDidChange = this.changed.event;

  get(uri: vscode.Uri, fn: string): FnState | undefined {
    return this.byDoc.get(uri.toString())?.get(fn);
  }

  /** Every function of a document that has a state, by name. */
  all(uri: vscode.Uri): ReadonlyMap<string, FnState> {
    return this.byDoc.get(uri.toString()) ?? new Map();
  }

  /** The most recent Report of any function (what `Open IR Viewer` shows by default). */
  get last(): Result | undefined {
    return this.latest;
  }

  /** The last Report of one function, if it has one. */
  reportOf(uri: vscode.Uri, fn: string): Report | undefined {
    const s = this.get(uri, fn);
    return s?.status === "done" ? s.report : s?.previous;
  }

  setRunning(uri: vscode.Uri, fn: string, snapshot: Snapshot): void {
    const s = this.get(uri, fn);
    const previous = s?.status === "done" ? { previous: s.report, previousSnapshot: s.snapshot } : s ? { previous: s.previous, previousSnapshot: s.previousSnapshot } : {};
    this.set(uri, fn, { status: "running", ...previous, snapshot });
  }

  /** The first result of a run (traced and compiled, not yet measured). */
  setPartial(uri: vscode.Uri, fn: string, partial: Report): void {
    const s = this.get(uri, fn);
    if (s?.status !== "running") return;
    this.set(uri, fn, { ...s, partial });
  }

  setDone(uri: vscode.Uri, fn: string, report: Report, snapshot: Snapshot): void {
    this.latest = { uri, report };
    this.set(uri, fn, { status: "done", report, snapshot });
  }

  /** A run was cancelled: back to what was there before it. */
  restore(uri: vscode.Uri, fn: string): void {
    const s = this.get(uri, fn);
    if (s?.status === "running" && s.previous && s.previousSnapshot) this.set(uri, fn, { status: "done", report: s.previous, snapshot: s.previousSnapshot });
    else if (s?.status === "running") {
      this.byDoc.get(uri.toString())?.delete(fn);
      this.changed.fire(uri);
    }
  }

  forget(uri: vscode.Uri): void {
    if (this.byDoc.delete(uri.toString())) this.changed.fire(uri);
  }

  /** Tell listeners that something about `uri` changed (e.g. its text: staleness). */
  touch(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  private set(uri: vscode.Uri, fn: string, state: FnState): void {
    const key = uri.toString();
    let fns = this.byDoc.get(key);
    if (!fns) this.byDoc.set(key, (fns = new Map()));
    fns.set(fn, state);
    this.changed.fire(uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
