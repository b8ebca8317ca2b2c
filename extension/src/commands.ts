// The contributed commands as a table of factories: each gets the shared context and
// returns the handler. Handlers report failures as notifications, never as stacks.
import * as vscode from "vscode";
import { compareAfterRun, compareWithJax } from "./compare";
import type { Ctx } from "./ctx";
import { cancelRuns, editArgumentShapes, openViewer, traceAndCompile } from "./run";

type Handler = (...args: unknown[]) => unknown;
type CommandFactory = (ctx: Ctx) => Handler;

const factories: Record<string, CommandFactory> = {
  /** `(uri?, fnName?, spec?)`: resolves to the Report, or undefined when cancelled. */
  "jitlens.traceAndCompile": (ctx) => async (uri, fn, spec) => {
    const report = await traceAndCompile(ctx, uri, fn, spec);
    compareAfterRun(ctx, report, spec); // `jitlens.compare.onRun`: in the background
    return report;
  },
  /** `(uri?, fnName?)`: that function's last Report, else the most recent one. */
  "jitlens.openViewer": (ctx) => (uri, fn) => openViewer(ctx, uri, fn),
  /** `(uri?, fnName?, spec?)`: edit the function's argument shapes, then trace & compile. */
  "jitlens.editArgumentShapes": (ctx) => async (uri, fn, spec) => {
    const report = await editArgumentShapes(ctx, uri, fn, spec);
    compareAfterRun(ctx, report);
    return report;
  },
  /**
   * `(uri?, fnName?, spec?)`: run the function in the user's own NumPy and JAX and compare (runs
   * their code: refused in an untrusted workspace). Resolves to the Report with `compare`.
   */
  "jitlens.compareWithJax": (ctx) => (uri, fn, spec) => compareWithJax(ctx, uri, fn, spec),
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
