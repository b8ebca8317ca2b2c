// The HLO-like IR: JIT Lens's second IR, between the jaxpr and fusion.
//
// We follow XLA's classic HLO *text* style (`%add.3 = f32[512,1024]{1,0} add(...)`) rather
// than StableHLO's MLIR syntax: it is what `jax.jit(f).lower(x).compile().as_text()` and
// XLA dumps show, one instruction per line with typed operands, so a JAX user can compare
// line by line, and it needs no region/block syntax for the ops we have.
//
// A module is a flat, topologically ordered list of instructions. Operands refer to
// instructions by id; ids are unique within a module and never reused, so passes can
// build new modules without renaming. Printed names (`%add.3`) are assigned at print time.
import type { Span } from "../report";
import type { DType } from "../ir/types";

export interface HloShape {
  dtype: DType;
  dims: number[];
}

/** An attribute value as printed: numbers, lists of numbers, names and nested lists. */
export type AttrValue = number | string | boolean | number[] | number[][];

export interface HloInstr {
  id: number;
  opcode: string;
  /** Result type; several results (a custom-call of a sub-jaxpr) give a tuple. */
  shape: HloShape | HloShape[];
  operands: number[];
  /** Printed as `name=value` after the operands, in insertion order. */
  attrs: Record<string, AttrValue>;
  /** Row-major values of a `constant`. */
  literal?: number[];
  /** Source spans of the jaxpr equation(s) this instruction came from. */
  spans: Span[];
}

export interface HloModule {
  name: string;
  instrs: HloInstr[];
  /** Ids of the results, in order (a tuple is printed as ROOT when there are several). */
  outputs: number[];
  nextId: number;
}

export const ELEMENTWISE_UNARY = new Set([
  "negate", "exponential", "log", "tanh", "sine", "cosine", "tan", "sqrt", "rsqrt", "cbrt", "abs", "sign",
  "floor", "ceil", "round-nearest-even", "log-plus-one", "exponential-minus-one", "logistic", "not",
  "is-finite", "erf", "copy",
]);
export const ELEMENTWISE_BINARY = new Set(["add", "subtract", "multiply", "divide", "remainder", "power", "maximum", "minimum", "and", "or", "xor", "atan2"]);

/** Opcodes whose operands and result all have the same dims (select/clamp included). */
export function isElementwiseOp(op: string): boolean {
  return ELEMENTWISE_UNARY.has(op) || ELEMENTWISE_BINARY.has(op) || op === "compare" || op === "select" || op === "clamp" || op === "convert";
}

export function arrayShape(s: HloShape | HloShape[]): HloShape {
  if (Array.isArray(s)) throw new Error("expected an array shape, got a tuple");
  return s;
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function sameShape(a: HloShape, b: HloShape): boolean {
  return a.dtype === b.dtype && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
}

/** Index of instructions by id. */
export function byId(m: HloModule): Map<number, HloInstr> {
  return new Map(m.instrs.map((i) => [i.id, i]));
}

/** A new module whose operands and outputs refer to `repl.get(id)` instead of `id`. */
export function replaceUses(m: HloModule, repl: Map<number, number>): HloModule {
  if (repl.size === 0) return m;
  const r = (id: number): number => {
    let x = id;
    while (repl.has(x)) x = repl.get(x)!;
    return x;
  };
  return {
    ...m,
    instrs: m.instrs.map((i) => (i.operands.some((o) => repl.has(o)) ? { ...i, operands: i.operands.map(r) } : i)),
    outputs: m.outputs.map(r),
  };
}
