// What the editor knows about each function: never run, running, or its last Report.
// Keyed by document URI and function name; fires `onDidChange` so CodeLenses refresh.
import * as vscode from "vscode";
import type { Report } from "../../compiler-core/src/report";

export type FnState =
  | { status: "running"; previous?: Report }
  | { status: "done"; report: Report };

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

  /** The most recent Report of any function (what `Open IR Viewer` shows by default). */
  get last(): Result | undefined {
    return this.latest;
  }

  /** The last Report of one function, if it has one. */
  reportOf(uri: vscode.Uri, fn: string): Report | undefined {
    const s = this.get(uri, fn);
    return s?.status === "done" ? s.report : s?.previous;
  }

  setRunning(uri: vscode.Uri, fn: string): void {
    this.set(uri, fn, { status: "running", previous: this.reportOf(uri, fn) });
  }

  setDone(uri: vscode.Uri, fn: string, report: Report): void {
    this.latest = { uri, report };
    this.set(uri, fn, { status: "done", report });
  }

  /** A run was cancelled: back to what was there before it. */
  restore(uri: vscode.Uri, fn: string): void {
    const previous = this.reportOf(uri, fn);
    if (previous) this.set(uri, fn, { status: "done", report: previous });
    else {
      this.byDoc.get(uri.toString())?.delete(fn);
      this.changed.fire(uri);
    }
  }

  forget(uri: vscode.Uri): void {
    if (this.byDoc.delete(uri.toString())) this.changed.fire(uri);
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
