// Everything the commands share, created once in `activate()` and disposed with the extension.
import * as vscode from "vscode";
import { Annotations } from "./annotations";
import { Config } from "./config";
import { Diagnostics } from "./diagnostics";
import { Engine } from "./engine";
import { Viewer } from "./panel";
import { Results } from "./results";
import { Specs } from "./specs";
import { StatusBar } from "./statusbar";

export class Ctx implements vscode.Disposable {
  readonly log = vscode.window.createOutputChannel("JIT Lens", { log: true });
  readonly config = new Config();
  readonly results = new Results();
  readonly diagnostics = new Diagnostics();
  readonly annotations: Annotations;
  readonly status: StatusBar;
  readonly specs: Specs;
  readonly engine: Engine;
  readonly viewer: Viewer;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.specs = new Specs(extension.workspaceState);
    this.engine = new Engine(extension.extensionPath, this.log);
    this.viewer = new Viewer(extension.extensionUri, this.results);
    this.annotations = new Annotations(this.results, this.config);
    this.status = new StatusBar(this.config);
  }

  dispose(): void {
    // The engine first: deactivating must never leave a process behind.
    this.engine.dispose();
    this.viewer.dispose();
    this.annotations.dispose();
    this.status.dispose();
    this.diagnostics.dispose();
    this.results.dispose();
    this.log.dispose();
  }
}
