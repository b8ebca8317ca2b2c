// Where a function's last Report applies in the document as it is now: the functions of a
// document (one parse per document version, shared by CodeLenses, annotations and hovers),
// the text snapshot a run records, and whether a result is stale (the function's text changed)
// or only moved (lines added above it).
import * as vscode from "vscode";
import { listFunctions, parsePython, ParseTimeoutError, type FunctionInfo } from "../../compiler-core/src/frontend/functions";
import type { Report } from "../../compiler-core/src/report";
import type { FnState, Snapshot } from "./results";

/** The most the extension host spends parsing one document version for CodeLenses (ms). */
export const EDITOR_PARSE_LIMIT_MS = 1000;

const cache = new WeakMap<vscode.TextDocument, { version: number; fns: FunctionInfo[] }>();

/** The top-level functions of `doc` at its current version. */
export function functionsOf(doc: vscode.TextDocument): FunctionInfo[] {
  const hit = cache.get(doc);
  if (hit && hit.version === doc.version) return hit.fns;
  // This runs on the extension host's thread: the parse is bounded (a pathological file, e.g.
  // megabytes of one generated expression, gets no CodeLenses rather than a frozen editor).
  let fns: FunctionInfo[];
  try {
    const text = doc.getText();
    fns = listFunctions(text, parsePython(text, EDITOR_PARSE_LIMIT_MS));
  } catch (e) {
    if (!(e instanceof ParseTimeoutError)) throw e;
    fns = [];
  }
  cache.set(doc, { version: doc.version, fns });
  return fns;
}

/** The function's text as a run sees it: its `# jitlens:` comment, decorators and body. */
export function snapshotOf(source: string, fn: FunctionInfo): Snapshot {
  const lines = source.split("\n");
  const first = fn.specLine ?? fn.startLine;
  return { text: lines.slice(first - 1, fn.endLine).join("\n"), startLine: fn.startLine };
}

export function snapshotIn(doc: vscode.TextDocument, fn: FunctionInfo): Snapshot {
  return snapshotOf(doc.getText(), fn);
}

export interface Placed {
  fn: FunctionInfo;
  /** The Report to show: the last finished one, or the first result of a run in progress. */
  report: Report | undefined;
  /** The function's text changed since that Report was made. */
  stale: boolean;
  /** Lines to add to the Report's line numbers to get today's (an edit above the function). */
  delta: number;
}

/** Where `state`'s Report applies in `doc` now; undefined when the function is gone. */
export function place(doc: vscode.TextDocument, name: string, state: FnState): Placed | undefined {
  const fn = functionsOf(doc).find((f) => f.name === name);
  if (!fn) return undefined;
  const shown = state.status === "done"
    ? { report: state.report, snapshot: state.snapshot }
    : state.partial
      ? { report: state.partial, snapshot: state.snapshot }
      : { report: state.previous, snapshot: state.previousSnapshot };
  if (!shown.report || !shown.snapshot) return { fn, report: undefined, stale: false, delta: 0 };
  const now = snapshotIn(doc, fn);
  return { fn, report: shown.report, stale: now.text !== shown.snapshot.text, delta: fn.startLine - shown.snapshot.startLine };
}

/** Parameter names of a def, in order (`*args`/`**kw` without stars; bare `*` and `/` skipped). */
export function paramNames(source: string, fn: FunctionInfo): string[] {
  const tree = parsePython(source);
  const node = tree.resolveInner(fn.defFrom, 1);
  let def = node;
  while (def.name !== "FunctionDefinition" && def.parent) def = def.parent;
  const list = def.getChild("ParamList");
  if (!list) return [];
  const names: string[] = [];
  let afterEquals = false;
  for (let c = list.firstChild; c; c = c.nextSibling) {
    if (c.name === "," || c.name === "(" || c.name === ")") afterEquals = false;
    if (c.name === "AssignOp" || source.slice(c.from, c.to) === "=") afterEquals = true;
    if (c.name === "VariableName" && !afterEquals) names.push(source.slice(c.from, c.to));
  }
  return names;
}
