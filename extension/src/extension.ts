// JIT Lens: the VS Code side. Kept thin: it finds functions, asks the engine process for a
// Report, and shows what the Report says. It never knows how a kernel is made.
import * as vscode from "vscode";
import { JitLensCodeLensProvider } from "./codelens";
import { registerCommands } from "./commands";
import { Ctx } from "./ctx";

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): void {
  ctx = new Ctx(context);
  const lenses = new JitLensCodeLensProvider(ctx.results);
  context.subscriptions.push(
    ctx,
    ...registerCommands(ctx),
    lenses,
    vscode.languages.registerCodeLensProvider({ language: "python" }, lenses),
  );
}

export function deactivate(): void {
  // Also disposed through `subscriptions`; stopping the engine twice is harmless.
  ctx?.engine.dispose();
  ctx = undefined;
}
