// The argument spec for a run (`x=f32[512,1024], n=3`): the `# jitlens:` comment above the
// def wins; else jaxtyping annotations or a call with literal shapes in the same file; else
// what the user typed in the input box last time for this function (workspaceState); else
// (or after a failed run, prefilled) the input box.
import * as vscode from "vscode";
import { parsePython, type FunctionInfo } from "../../compiler-core/src/frontend/functions";
import { inferSpec } from "../../compiler-core/src/frontend/specs";

export class Specs {
  constructor(private readonly state: vscode.Memento) {}

  /**
   * The spec to run `fn` with, or undefined when the user dismissed the input box.
   * `ask` forces the box (prefilled with the remembered spec), e.g. after a failed run.
   */
  async resolve(uri: vscode.Uri, fn: FunctionInfo, ask: boolean, source?: string): Promise<string | undefined> {
    if (fn.specComment !== undefined) return fn.specComment;
    const key = this.key(uri, fn.name);
    const remembered = this.state.get<string>(key);
    if (!ask && remembered === undefined && source !== undefined) {
      const inferred = inferSpec(source, parsePython(source), fn);
      if (inferred) return inferred.spec;
    }
    if (remembered !== undefined && !ask) return remembered;
    const typed = await vscode.window.showInputBox({
      title: "JIT Lens: Trace & Compile",
      prompt: `Argument shapes for ${fn.name}`,
      placeHolder: "x=f32[1024], n=3",
      value: remembered,
      ignoreFocusOut: true,
    });
    if (typed === undefined) return undefined;
    await this.state.update(key, typed.trim());
    return typed.trim();
  }

  private key(uri: vscode.Uri, fn: string): string {
    return `jitlens.spec:${uri.toString()}#${fn}`;
  }
}
