// The extension's settings (declared under `contributes.configuration` in package.json),
// read fresh on every access so changes apply to the next run without a reload.
import * as vscode from "vscode";
import type { Backend } from "../../compiler-core/src/engine/protocol";

export const BACKENDS: readonly Backend[] = ["auto", "cpu", "webgpu"];

export class Config {
  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("jitlens");
  }

  /** `jitlens.backend`: where the function runs (`auto` picks WebGPU when there is a GPU). */
  get backend(): Backend {
    const b = this.section.get<string>("backend");
    return (BACKENDS as readonly string[]).includes(b ?? "") ? (b as Backend) : "auto";
  }

  async setBackend(backend: Backend): Promise<void> {
    // Where the user set it before (workspace or user settings), else in the user settings.
    const i = this.section.inspect<string>("backend");
    const target = i?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
      : i?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await this.section.update("backend", backend, target);
  }

  /** `jitlens.timing.minRuns`: timed runs of each mode, at least. */
  get minRuns(): number {
    return positive(this.section.get<number>("timing.minRuns"), 5, 1);
  }

  /** `jitlens.timing.minTimeMs`: keep timing each mode until this many ms were measured. */
  get minTimeMs(): number {
    return positive(this.section.get<number>("timing.minTimeMs"), 200, 0);
  }

  /** `jitlens.gpu.memoryShare`: the largest share of the GPU's memory one run may allocate. */
  get gpuMemoryShare(): number {
    const v = this.section.get<number>("gpu.memoryShare");
    return typeof v === "number" && v > 0 && v <= 1 ? v : 0.5;
  }

  /** `jitlens.annotations.enabled`: kernel bands and end-of-line notes after a run. */
  get annotations(): boolean {
    return this.section.get<boolean>("annotations.enabled") !== false;
  }

  async setAnnotations(on: boolean): Promise<void> {
    const i = this.section.inspect<boolean>("annotations.enabled");
    const target = i?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
      : i?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await this.section.update("annotations.enabled", on, target);
  }

  /** `jitlens.pythonPath`: the interpreter for "Compare with JAX" when the Python extension gives none (runs user code). */
  get pythonPath(): string | undefined {
    const v = this.section.get<string>("pythonPath");
    return typeof v === "string" && v.trim() ? v.trim() : undefined;
  }

  /** `jitlens.compare.onRun`: compare with the user's NumPy and JAX after each successful run (trusted workspaces only). */
  get compareOnRun(): boolean {
    return this.section.get<boolean>("compare.onRun") === true;
  }

  /** `jitlens.compare.timeoutS`: stop the Python helper after this many seconds. */
  get compareTimeoutMs(): number {
    return positive(this.section.get<number>("compare.timeoutS"), 120, 1) * 1000;
  }

  /** `jitlens.codeLens.enabled`: the lenses above each def. */
  get codeLens(): boolean {
    return this.section.get<boolean>("codeLens.enabled") !== false;
  }
}

function positive(value: number | undefined, fallback: number, min: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= min ? value : fallback;
}
