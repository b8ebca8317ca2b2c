// The extension's settings (declared under `contributes.configuration` in package.json),
// read fresh on every access so changes apply to the next run without a reload.
import * as vscode from "vscode";

export class Config {
  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("jitlens");
  }

  /** `jitlens.timing.minRuns`: timed runs of each mode, at least. */
  get minRuns(): number {
    return positive(this.section.get<number>("timing.minRuns"), 5, 1);
  }

  /** `jitlens.timing.minTimeMs`: keep timing each mode until this many ms were measured. */
  get minTimeMs(): number {
    return positive(this.section.get<number>("timing.minTimeMs"), 200, 0);
  }
}

function positive(value: number | undefined, fallback: number, min: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= min ? value : fallback;
}
