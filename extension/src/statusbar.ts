// The status bar item: the backend and device the last run used (or the `jitlens.backend`
// setting before any run); clicking it picks the backend (`jitlens.selectBackend`).
// Shown while a Python editor is active, and after any run.
import * as vscode from "vscode";
import type { Backend } from "../../compiler-core/src/engine/protocol";
import type { Timings } from "../../compiler-core/src/report";
import { BACKENDS, type Config } from "./config";

export const STATUS_ID = "jitlens.backend";

const LABEL: Record<Backend, string> = { auto: "auto", cpu: "CPU", webgpu: "WebGPU" };
const DETAIL: Record<Backend, string> = {
  auto: "WebGPU when a GPU adapter is found, else the CPU",
  cpu: "Generated JavaScript kernels on one CPU thread",
  webgpu: "Generated WGSL kernels on the GPU (Dawn)",
};

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(STATUS_ID, vscode.StatusBarAlignment.Right, 100);
  private last: Pick<Timings, "backend" | "device"> | undefined;
  private lastSetting: Backend | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly config: Config) {
    this.item.name = "JIT Lens backend";
    this.item.command = "jitlens.selectBackend";
    this.subs = [
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration("jitlens.backend")) this.render(); }),
    ];
    this.render();
  }

  /** A run finished on `t.backend`/`t.device` with the setting `setting`. */
  ran(t: Pick<Timings, "backend" | "device">, setting: Backend): void {
    this.last = t;
    this.lastSetting = setting;
    this.render();
  }

  /** The item's text now (for tests). */
  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const setting = this.config.backend;
    const fresh = this.last && this.lastSetting === setting;
    const used = fresh ? (this.last!.backend === "webgpu" ? `WebGPU: ${this.last!.device}` : "CPU") : undefined;
    const label = used ? (setting === "auto" ? `auto → ${used}` : used) : LABEL[setting];
    this.item.text = `$(circuit-board) JIT Lens: ${label}`;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**JIT Lens backend**: \`${setting}\` (setting \`jitlens.backend\`)\n\n`);
    if (fresh) tip.appendMarkdown(`Last run: ${this.last!.backend === "webgpu" ? "WebGPU" : "CPU"} — ${this.last!.device}\n\n`);
    tip.appendMarkdown("Click to choose the backend.");
    this.item.tooltip = tip;
    const python = vscode.window.activeTextEditor?.document.languageId === "python";
    if (python || this.last) this.item.show();
    else this.item.hide();
  }

  /** `jitlens.selectBackend [backend]`: a quick pick (or the argument), saved to the setting. */
  async select(arg?: unknown): Promise<Backend | undefined> {
    let picked: Backend | undefined;
    if (typeof arg === "string" && (BACKENDS as readonly string[]).includes(arg)) picked = arg as Backend;
    else {
      const current = this.config.backend;
      const item = await vscode.window.showQuickPick(
        BACKENDS.map((b) => ({ label: b, description: b === current ? "current" : LABEL[b], detail: DETAIL[b], backend: b })),
        { title: "JIT Lens: backend", placeHolder: `Where to run and time functions (now: ${current})` },
      );
      picked = item?.backend;
    }
    if (picked) await this.config.setBackend(picked);
    this.render();
    return picked;
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
  }
}
