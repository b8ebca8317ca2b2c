// Messages between the extension (panel host) and the IR viewer webview: one discriminated
// union per direction, shared by both sides. Every message that crosses is checked with the
// guards below and anything else is ignored: neither side trusts the other's shape.
// No DOM and no `vscode` here: both tsconfigs compile this file.
import type { Report } from "../../compiler-core/src/report";

/** Extension -> webview. */
export type HostMessage =
  /** Show this Report (replaces whatever was shown). */
  | { type: "report"; report: Report }
  /** The editor's cursor is on this 1-based source line (null: not in the shown file). */
  | { type: "sourceLine"; line: number | null };

/** Webview -> extension. */
export type ViewerMessage =
  /** The script has loaded and listens for messages. */
  | { type: "ready" }
  /** Highlight this 1-based source line in the editor (null: clear); `lines` adds more (a kernel's). */
  | { type: "highlight"; line: number | null; lines?: number[] }
  /** Show this 1-based source line in the editor. */
  | { type: "reveal"; line: number };

/** What the webview keeps in `vscode.setState` (and the panel serializer gets back after a reload). */
export interface ViewerState {
  report?: Report;
  tab?: number;
}

type Fields = Record<string, unknown>;

function isObject(x: unknown): x is Fields {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isLine(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 1;
}

/** A light structural check of a Report: enough that the viewer can render it without throwing. */
export function isReport(x: unknown): x is Report {
  if (!isObject(x)) return false;
  if (x.version !== 1 || typeof x.file !== "string" || typeof x.fn !== "string" || !Array.isArray(x.args)) return false;
  if (x.error !== undefined && !(isObject(x.error) && typeof x.error.kind === "string" && typeof x.error.message === "string")) return false;
  if (x.jaxpr !== undefined && !(Array.isArray(x.jaxpr) && x.jaxpr.every((l) => isObject(l) && typeof l.text === "string" && Array.isArray(l.spans)))) return false;
  if (x.kernels !== undefined && !(Array.isArray(x.kernels) && x.kernels.every((k) => isObject(k) && typeof k.name === "string" && typeof k.source === "string"))) return false;
  if (x.timings !== undefined) {
    const t = x.timings;
    if (!isObject(t) || !isObject(t.eager) || !isObject(t.compiled) || typeof t.speedup !== "number") return false;
    if (typeof t.eager.median_ms !== "number" || typeof t.compiled.median_ms !== "number") return false;
  }
  return true;
}

export function isHostMessage(x: unknown): x is HostMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case "report":
      return isReport(x.report);
    case "sourceLine":
      return x.line === null || isLine(x.line);
    default:
      return false;
  }
}

export function isViewerMessage(x: unknown): x is ViewerMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case "ready":
      return true;
    case "highlight":
      return (x.line === null || isLine(x.line)) && (x.lines === undefined || (Array.isArray(x.lines) && x.lines.every(isLine)));
    case "reveal":
      return isLine(x.line);
    default:
      return false;
  }
}

export function isViewerState(x: unknown): x is ViewerState {
  return isObject(x) && (x.report === undefined || isReport(x.report)) && (x.tab === undefined || typeof x.tab === "number");
}
