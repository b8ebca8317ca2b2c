// The argument spec for a run (`x=f32[512,1024], n=3`): the `# jitlens:` comment above the
// def wins; else what the user typed last time for this function (workspaceState); else
// jaxtyping annotations or a call with literal shapes in the same file; else (or after a failed
// run, prefilled) the input box, whose prompt names the arguments that need shapes.
import * as vscode from "vscode";
import { parsePython, type FunctionInfo } from "../../compiler-core/src/frontend/functions";
import { inferSpec } from "../../compiler-core/src/frontend/specs";
import { paramNames } from "./locate";

export class Specs {
  constructor(private readonly state: vscode.Memento) {}

  /**
   * The spec to run `fn` with, or undefined when the user dismissed the input box.
   * `ask` forces the box (prefilled with the remembered spec), e.g. after a failed run.
   */
  async resolve(uri: vscode.Uri, fn: FunctionInfo, ask: boolean, source?: string): Promise<string | undefined> {
    if (fn.specComment !== undefined) return fn.specComment;
    const remembered = this.remembered(uri, fn.name);
    if (!ask && remembered === undefined && source !== undefined) {
      const inferred = inferSpec(source, parsePython(source), fn);
      if (inferred) return inferred.spec;
    }
    if (remembered !== undefined && !ask) return remembered;
    const typed = await this.ask(fn, source, remembered, remembered === undefined);
    if (typed === undefined) return undefined;
    await this.remember(uri, fn.name, typed);
    return typed;
  }

  /** The spec a run would use now without asking: comment, remembered, inferred; else undefined. */
  current(uri: vscode.Uri, fn: FunctionInfo, source: string): string | undefined {
    if (fn.specComment !== undefined) return fn.specComment;
    return this.remembered(uri, fn.name) ?? inferSpec(source, parsePython(source), fn)?.spec;
  }

  /** The input box, prefilled with `value`; `missing` says no shapes were found. */
  async ask(fn: FunctionInfo, source: string | undefined, value: string | undefined, missing: boolean): Promise<string | undefined> {
    const params = source !== undefined ? paramNames(source, fn) : [];
    const list = params.length ? params.join(", ") : "its arguments";
    const typed = await vscode.window.showInputBox({
      title: "JIT Lens: Trace & Compile",
      prompt: missing
        ? `Argument shapes for ${fn.name}: none found for ${list} (no "# jitlens:" comment, annotations or call with shapes)`
        : `Argument shapes for ${fn.name} (${list})`,
      placeHolder: params.length ? params.map((p, i) => `${p}=${i === 0 ? "f32[1024]" : "…"}`).join(", ") : "x=f32[1024], n=3",
      value,
      ignoreFocusOut: true,
    });
    return typed === undefined ? undefined : typed.trim();
  }

  remembered(uri: vscode.Uri, fn: string): string | undefined {
    return this.state.get<string>(this.key(uri, fn));
  }

  async remember(uri: vscode.Uri, fn: string, spec: string): Promise<void> {
    await this.state.update(this.key(uri, fn), spec.trim());
  }

  private key(uri: vscode.Uri, fn: string): string {
    return `jitlens.spec:${uri.toString()}#${fn}`;
  }
}
