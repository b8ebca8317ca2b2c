// Where a function's last Report applies in the document as it is now: the functions of a
// document (one parse per document version, shared by CodeLenses, annotations and hovers),
// the text snapshot a run records, and whether a result is stale (the function's text changed)
// or only moved (lines added above it).
import * as vscode from "vscode";
import type { Tree } from "@lezer/common";
import { listFunctions, parsePython, ParseTimeoutError, type FunctionInfo } from "../../compiler-core/src/frontend/functions";
import type { Report } from "../../compiler-core/src/report";
import type { FnState, Snapshot } from "./results";

/** The most the extension host spends parsing one document version for CodeLenses (ms). */
export const EDITOR_PARSE_LIMIT_MS = 1000;

interface Parsed {
  version: number;
  fns: FunctionInfo[];
  /** Undefined when the parse ran out of time. */
  tree?: Tree;
  /** The text's lines, split on first use (snapshots). */
  lines?: string[];
}

const cache = new WeakMap<vscode.TextDocument, Parsed>();

/** The parse of `doc` at its current version (one per version). */
function parsed(doc: vscode.TextDocument): Parsed {
  const hit = cache.get(doc);
  if (hit && hit.version === doc.version) return hit;
  // This runs on the extension host's thread: the parse is bounded (a pathological file, e.g.
  // megabytes of one generated expression, gets no CodeLenses rather than a frozen editor).
  let entry: Parsed;
  try {
    const text = doc.getText();
    const tree = parsePython(text, EDITOR_PARSE_LIMIT_MS);
    entry = { version: doc.version, fns: listFunctions(text, tree), tree };
  } catch (e) {
    if (!(e instanceof ParseTimeoutError)) throw e;
    entry = { version: doc.version, fns: [] };
  }
  cache.set(doc, entry);
  return entry;
}

/** The top-level functions of `doc` at its current version. */
export function functionsOf(doc: vscode.TextDocument): FunctionInfo[] {
  return parsed(doc).fns;
}

/** The function's text as a run sees it: its `# jitlens:` comment, decorators and body. */
export function snapshotOf(source: string, fn: FunctionInfo): Snapshot {
  return snapshotFromLines(source.split("\n"), fn);
}

function snapshotFromLines(lines: string[], fn: FunctionInfo): Snapshot {
  const first = fn.specLine ?? fn.startLine;
  return { text: lines.slice(first - 1, fn.endLine).join("\n"), startLine: fn.startLine };
}

/** `snapshotOf` the document's current text (its lines split once per version: `place` runs on every edit). */
export function snapshotIn(doc: vscode.TextDocument, fn: FunctionInfo): Snapshot {
  const p = parsed(doc);
  p.lines ??= doc.getText().split("\n");
  return snapshotFromLines(p.lines, fn);
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

/** `paramNames` of a function of `doc`, from the parse `functionsOf` already made. */
export function paramNamesIn(doc: vscode.TextDocument, fn: FunctionInfo): string[] {
  const text = doc.getText();
  return paramNames(text, fn, parsed(doc).tree ?? parsePython(text));
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
export function paramNames(source: string, fn: FunctionInfo, tree: Tree = parsePython(source)): string[] {
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
