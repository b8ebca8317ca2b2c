// Messages between the extension (panel host) and the IR viewer webview: one discriminated
// union per direction, shared by both sides. Every message that crosses is checked with the
// guards below and anything else is ignored: neither side trusts the other's shape.
// No DOM and no `vscode` here: both tsconfigs compile this file.
import type { Report } from "../../compiler-core/src/report";

/** Extension -> webview. */
export type HostMessage =
  /** Show this Report (replaces whatever was shown); `stage` opens that tab (e.g. `jax` after a comparison). */
  | { type: "report"; report: Report; stage?: StageId }
  /** The editor's cursor is on this 1-based source line (null: not in the shown file). */
  | { type: "sourceLine"; line: number | null }
  /**
   * Whether the function's text changed since the shown Report was made (the CodeLens's
   * `↻ stale:`). A new Report clears it; the host sends `stale: true` again when it applies.
   */
  | { type: "stale"; stale: boolean };

/** Webview -> extension. */
export type ViewerMessage =
  /** The script has loaded and listens for messages. */
  | { type: "ready" }
  /** Highlight this 1-based source line in the editor (null: clear); `lines` adds more (a kernel's). */
  | { type: "highlight"; line: number | null; lines?: number[] }
  /** Show this 1-based source line in the editor. */
  | { type: "reveal"; line: number };

/** The viewer's stages, in tab order. */
export const STAGES = ["jaxpr", "lowered", "passes", "kernels", "graph", "timings", "jax"] as const;
export type StageId = (typeof STAGES)[number];

/** What the webview keeps in `vscode.setState` (and the panel serializer gets back after a reload). */
export interface ViewerState {
  report?: Report;
  /** The stage shown last. */
  stage?: StageId;
  /** Older viewers kept the tab's index; read when `stage` is absent. */
  tab?: number;
  /** The Passes stage also lists the passes that changed nothing. */
  showUnchanged?: boolean;
}

type Fields = Record<string, unknown>;

function isObject(x: unknown): x is Fields {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isLine(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 1;
}

const isNum = (x: unknown): x is number => typeof x === "number" && !Number.isNaN(x);
const isStr = (x: unknown): x is string => typeof x === "string";
const isBool = (x: unknown): x is boolean => typeof x === "boolean";
const isStage = (x: unknown): x is StageId => (STAGES as readonly unknown[]).includes(x);
const optional = (x: unknown, ok: (y: unknown) => boolean) => x === undefined || ok(x);
const arrayOf = (x: unknown, ok: (y: unknown) => boolean) => Array.isArray(x) && x.every(ok);

function isSpan(x: unknown): boolean {
  return isObject(x) && isStr(x.file) && isNum(x.line) && isNum(x.col) && isNum(x.endLine) && isNum(x.endCol);
}

function isIRLines(x: unknown): boolean {
  return arrayOf(x, (l) => isObject(l) && isStr(l.text) && arrayOf(l.spans, isSpan));
}

function isBuffer(x: unknown): boolean {
  return isObject(x) && isStr(x.name) && isStr(x.type) && isNum(x.bytes);
}

function isKernel(x: unknown): boolean {
  return (
    isObject(x) &&
    isStr(x.name) &&
    isStr(x.kind) &&
    isStr(x.source) &&
    arrayOf(x.eqns, isNum) &&
    isNum(x.ops) &&
    arrayOf(x.inputs, isBuffer) &&
    arrayOf(x.outputs, isBuffer) &&
    isNum(x.bytesRead) &&
    isNum(x.bytesWritten) &&
    isNum(x.flops) &&
    isStr(x.language) &&
    arrayOf(x.spans, isSpan) &&
    isStr(x.reason) &&
    optional(x.timeMs, isNum) &&
    optional(x.color, isNum)
  );
}

function isStat(x: unknown): boolean {
  return isObject(x) && isNum(x.median_ms) && isNum(x.min_ms) && isNum(x.max_ms) && isNum(x.runs);
}

function isTimings(t: unknown): boolean {
  return (
    isObject(t) &&
    (t.backend === "cpu" || t.backend === "webgpu") &&
    isStr(t.device) &&
    isStat(t.eager) &&
    isStat(t.compiled) &&
    isNum(t.speedup) &&
    isNum(t.first_call_ms) &&
    isObject(t.kernels) &&
    isNum(t.kernels.eager) &&
    isNum(t.kernels.compiled) &&
    isObject(t.bytes) &&
    isNum(t.bytes.minimum) &&
    isNum(t.bytes.eager) &&
    isNum(t.bytes.compiled) &&
    isNum(t.max_rel_diff)
  );
}

function isLineInfo(x: unknown): boolean {
  return isObject(x) && isNum(x.line) && arrayOf(x.eqns, isNum) && isStr(x.type) && isNum(x.kernel) && optional(x.kernels, (k) => arrayOf(k, isNum)) && optional(x.eagerMs, isNum);
}

function isErrorInfo(e: unknown): boolean {
  return isObject(e) && isStr(e.kind) && isStr(e.message) && optional(e.span, isSpan) && optional(e.related, (r) => arrayOf(r, (q) => isObject(q) && isStr(q.message) && isSpan(q.span)));
}

const recordOf = (x: unknown, ok: (y: unknown) => boolean) => isObject(x) && Object.values(x).every(ok);

function isCompareRun(x: unknown): boolean {
  return (
    isObject(x) &&
    optional(x.first_call_ms, isNum) &&
    optional(x.timing, isStat) &&
    optional(x.outputs, (o) => arrayOf(o, isStr)) &&
    // JSON turns a non-finite difference into null: shown as such, not a reason to drop the Report.
    optional(x.max_rel_diff, (d) => d === null || isNum(d)) &&
    optional(x.error, isErrorInfo)
  );
}

function isEqnRef(x: unknown): boolean {
  return isObject(x) && isNum(x.index) && isNum(x.line) && isStr(x.prim) && arrayOf(x.outs, isStr) && isStr(x.text);
}

const MISMATCH_KINDS = ["type", "params", "only_ours", "only_jax", "inputs", "outputs"];

function isJaxprDiff(x: unknown): boolean {
  return (
    isObject(x) &&
    isBool(x.same) &&
    isBool(x.samePrimitives) &&
    isBool(x.sameTypes) &&
    isBool(x.sameParams) &&
    isObject(x.counts) &&
    isNum(x.counts.ours) &&
    isNum(x.counts.jax) &&
    isNum(x.counts.matched) &&
    arrayOf(x.pairs, (p) => isObject(p) && isNum(p.ours) && isNum(p.jax) && isNum(p.oursLine) && isNum(p.jaxLine)) &&
    arrayOf(x.mismatches, (m) => isObject(m) && MISMATCH_KINDS.includes(m.kind as string) && isStr(m.message) && optional(m.ours, isEqnRef) && optional(m.jax, isEqnRef)) &&
    optional(x.truncated, isBool) &&
    arrayOf(x.notes, isStr)
  );
}

/** `Report.compare` (report.ts `CompareResult`): every field the viewer reads. */
export function isCompareResult(x: unknown): boolean {
  return (
    isObject(x) &&
    x.version === 1 &&
    isObject(x.python) &&
    isStr(x.python.path) &&
    isStr(x.python.source) &&
    recordOf(x.versions, isStr) &&
    optional(x.jax, (j) => isObject(j) && isStr(j.backend) && isStr(j.device) && isNum(j.devices)) &&
    arrayOf(x.missing, isStr) &&
    arrayOf(x.warnings, isStr) &&
    optional(x.error, isErrorInfo) &&
    isNum(x.seed) &&
    arrayOf(x.inputs, (i) => isObject(i) && isStr(i.path) && isStr(i.type) && isStr(i.sha256) && isBool(i.matches)) &&
    isBool(x.inputsMatch) &&
    isObject(x.runs) &&
    optional(x.runs.numpy, isCompareRun) &&
    optional(x.runs.jax_eager, isCompareRun) &&
    optional(x.runs.jax_jit, isCompareRun) &&
    optional(x.jaxpr, isStr) &&
    optional(x.stablehlo, isStr) &&
    optional(x.hlo, isStr) &&
    optional(x.stageErrors, (se) => recordOf(se, isErrorInfo)) &&
    optional(x.xla, (k) => isObject(k) && isNum(k.fusions) && recordOf(k.byKind, isNum) && isNum(k.customCalls) && isNum(k.otherOps) && recordOf(k.otherByOp, isNum) && isNum(k.kernels)) &&
    optional(x.jaxprDiff, isJaxprDiff) &&
    isNum(x.elapsed_ms) &&
    optional(x.synthetic, isStr)
  );
}

/**
 * A structural check of a Report against report.ts: every field the viewer reads has the
 * type it declares, so rendering cannot throw on a malformed message. Unknown extra fields
 * are allowed (a newer compiler may add some).
 */
export function isReport(x: unknown): x is Report {
  if (!isObject(x)) return false;
  return (
    x.version === 1 &&
    isStr(x.file) &&
    isStr(x.fn) &&
    optional(x.defSpan, isSpan) &&
    arrayOf(x.args, (a) => isObject(a) && isStr(a.name) && isStr(a.spec) && isStr(a.type)) &&
    optional(x.error, isErrorInfo) &&
    optional(x.jaxpr, isIRLines) &&
    optional(x.lowered, isIRLines) &&
    optional(x.passes, (p) => arrayOf(p, (q) => isObject(q) && isStr(q.name) && isBool(q.changed) && isIRLines(q.lines))) &&
    optional(x.eqnCount, isNum) &&
    optional(x.kernels, (k) => arrayOf(k, isKernel)) &&
    optional(x.lines, (l) => arrayOf(l, isLineInfo)) &&
    optional(x.timings, isTimings) &&
    optional(x.warnings, (w) => arrayOf(w, isStr)) &&
    optional(x.stageMs, (m) => isObject(m) && Object.values(m).every(isNum)) &&
    optional(x.compare, isCompareResult)
  );
}

export function isHostMessage(x: unknown): x is HostMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case "report":
      return isReport(x.report) && optional(x.stage, isStage);
    case "sourceLine":
      return x.line === null || isLine(x.line);
    case "stale":
      return isBool(x.stale);
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
      return (x.line === null || isLine(x.line)) && optional(x.lines, (l) => arrayOf(l, isLine));
    case "reveal":
      return isLine(x.line);
    default:
      return false;
  }
}

export function isViewerState(x: unknown): x is ViewerState {
  return (
    isObject(x) &&
    optional(x.report, isReport) &&
    optional(x.stage, isStage) &&
    optional(x.tab, isNum) &&
    optional(x.showUnchanged, isBool)
  );
}
