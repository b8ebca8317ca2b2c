// The contributed commands as a table of factories: each gets the shared context and
// returns the handler. Handlers report failures as notifications, never as stacks.
import * as vscode from "vscode";
import type { Ctx } from "./ctx";
import { cancelRuns, editArgumentShapes, openViewer, traceAndCompile } from "./run";

type Handler = (...args: unknown[]) => unknown;
type CommandFactory = (ctx: Ctx) => Handler;

const factories: Record<string, CommandFactory> = {
  /** `(uri?, fnName?, spec?)`: resolves to the Report, or undefined when cancelled. */
  "jitlens.traceAndCompile": (ctx) => (uri, fn, spec) => traceAndCompile(ctx, uri, fn, spec),
  /** `(uri?, fnName?)`: that function's last Report, else the most recent one. */
  "jitlens.openViewer": (ctx) => (uri, fn) => openViewer(ctx, uri, fn),
  /** `(uri?, fnName?, spec?)`: edit the function's argument shapes, then trace & compile. */
  "jitlens.editArgumentShapes": (ctx) => (uri, fn, spec) => editArgumentShapes(ctx, uri, fn, spec),
  /** Cancel the runs in progress (kills the engine); resolves to how many there were. */
  "jitlens.cancel": () => () => cancelRuns(),
  /** `(on?: boolean)`: switch the per-line annotations (the setting); resolves to the new state. */
  "jitlens.toggleAnnotations": (ctx) => async (on) => {
    const next = typeof on === "boolean" ? on : !ctx.config.annotations;
    await ctx.config.setAnnotations(next);
    ctx.annotations.refreshAll();
    return next;
  },
  /** `(backend?)`: pick the backend (quick pick without an argument); resolves to it. */
  "jitlens.selectBackend": (ctx) => (backend) => ctx.status.select(backend),
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(factories).map(([id, factory]) => {
    const handler = factory(ctx);
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        ctx.log.error(`${id}: ${message}`);
        if (err instanceof Error && err.stack) ctx.log.debug(err.stack);
        void vscode.window.showErrorMessage(`JIT Lens: ${message}`);
        return undefined;
      }
    });
  });
}
