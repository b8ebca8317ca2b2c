// The primitive table. Primitives are a string union; each has a typed params record.
// Every interpretation of primitives (abstract eval, eager kernels, fused codegen, ...)
// is a table keyed by Prim, typed as a mapped type, so a new primitive fails to compile
// until each required table has its rule.
import type { DType, Jaxpr } from "./types";

export const UNARY = [
  "neg", "exp", "exp2", "log", "tanh", "sin", "cos", "tan", "sqrt", "rsqrt", "cbrt", "abs", "sign",
  "floor", "ceil", "round", "log1p", "expm1", "logistic", "not", "is_finite", "erf", "square",
  "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
] as const;
export const BINARY = ["add", "sub", "mul", "div", "rem", "pow", "max", "min", "and", "or", "xor", "atan2", "nextafter"] as const;
export const COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"] as const;

export type UnaryPrim = (typeof UNARY)[number];
export type BinaryPrim = (typeof BINARY)[number];
export type ComparePrim = (typeof COMPARE)[number];

/** XLA gather dimension numbers (see jax.lax.GatherDimensionNumbers). */
export interface GatherDims {
  offset_dims: number[];
  collapsed_slice_dims: number[];
  start_index_map: number[];
  operand_batching_dims: number[];
  start_indices_batching_dims: number[];
}

/** XLA scatter dimension numbers (see jax.lax.ScatterDimensionNumbers). */
export interface ScatterDims {
  update_window_dims: number[];
  inserted_window_dims: number[];
  scatter_dims_to_operand_dims: number[];
  operand_batching_dims: number[];
  scatter_indices_batching_dims: number[];
}

/** How out-of-bounds gather/scatter indices behave: clamp, or fill (gather) / drop (scatter). */
export type GatherMode = "clip" | "fill" | "promise_in_bounds";

export interface PrimParams {
  integer_pow: { y: number };
  /** select_n(pred, *cases): cases[pred]; with a bool predicate, (false_case, true_case). */
  select_n: Record<string, never>;
  convert_element_type: { new_dtype: DType; weak_type: boolean };
  broadcast_in_dim: { shape: number[]; broadcast_dimensions: number[] };
  /** Identity; marks a value that gradients do not flow through. */
  stop_gradient: Record<string, never>;
  /** clamp(lo, x, hi), elementwise with scalar or same-shape bounds. */
  clamp: Record<string, never>;

  // Reductions over `axes` (the reduced dims disappear).
  reduce_sum: { axes: number[] };
  reduce_max: { axes: number[] };
  reduce_min: { axes: number[] };
  reduce_prod: { axes: number[] };
  reduce_and: { axes: number[] };
  reduce_or: { axes: number[] };
  argmax: { axes: number[]; index_dtype: DType };
  argmin: { axes: number[]; index_dtype: DType };
  /** Inclusive prefix sums along `axis` (from the end when `reverse`). */
  cumsum: { axis: number; reverse: boolean };
  cumprod: { axis: number; reverse: boolean };
  cummax: { axis: number; reverse: boolean };
  cummin: { axis: number; reverse: boolean };

  /** Contracting dims ([lhs], [rhs]) and batch dims ([lhs], [rhs]); output: batch, lhs free, rhs free. */
  dot_general: { dimension_numbers: [[number[], number[]], [number[], number[]]]; preferred_element_type: DType | null };

  // Data movement.
  reshape: { new_sizes: number[]; dimensions: null };
  transpose: { permutation: number[] };
  squeeze: { dimensions: number[] };
  concatenate: { dimension: number };
  /** Splits along `axis` into pieces of `sizes` (several outputs). */
  split: { sizes: number[]; axis: number };
  slice: { start_indices: number[]; limit_indices: number[]; strides: number[] | null };
  rev: { dimensions: number[] };
  /** lo, hi and interior padding per dimension; operands (x, padding_value). */
  pad: { padding_config: [number, number, number][] };
  iota: { dtype: DType; shape: number[]; dimension: number };
  /** Operands (x, *start_indices as scalars), clamped so the slice fits. */
  dynamic_slice: { slice_sizes: number[] };
  /** Operands (x, update, *start_indices as scalars). */
  dynamic_update_slice: Record<string, never>;
  /** Operands (x, indices); XLA gather semantics. */
  gather: { dimension_numbers: GatherDims; slice_sizes: number[]; mode: GatherMode; fill_value: number | null; indices_are_sorted: boolean; unique_indices: boolean };
  /** Operands (x, indices, updates); XLA scatter semantics; `scatter` replaces, the others combine. */
  scatter: { dimension_numbers: ScatterDims; mode: GatherMode; indices_are_sorted: boolean; unique_indices: boolean };
  "scatter-add": { dimension_numbers: ScatterDims; mode: GatherMode; indices_are_sorted: boolean; unique_indices: boolean };
  "scatter-mul": { dimension_numbers: ScatterDims; mode: GatherMode; indices_are_sorted: boolean; unique_indices: boolean };

  // Higher-order primitives: their params hold sub-jaxprs (closed: every value they use is an operand).
  /** lax.cond / lax.switch. Operands (index: i32[], *consts, *ops); runs branches[index] on (*consts, *ops). */
  cond: { branches: Jaxpr[] };
  /** lax.while_loop. Operands (*cond_consts, *body_consts, *carry); results: the final carry. */
  while: { cond_jaxpr: Jaxpr; body_jaxpr: Jaxpr; cond_nconsts: number; body_nconsts: number };
  /** lax.scan. Operands (*consts, *carry, *xs); the body maps (*consts, *carry, *x) to (*carry, *y);
   *  results (*carry, *ys), each x a row of its xs along axis 0, each ys the y rows stacked. */
  scan: { jaxpr: Jaxpr; length: number; reverse: boolean; num_consts: number; num_carry: number; linear: boolean[]; unroll: number; _split_transpose: boolean };
  /** A call of a jax.jit-decorated function from inside the traced function. */
  jit: { name: string; jaxpr: Jaxpr };
}

type NoParams = Record<string, never>;
export type Prim = UnaryPrim | BinaryPrim | ComparePrim | keyof PrimParams;
export type Params = { [P in UnaryPrim | BinaryPrim | ComparePrim]: NoParams } & PrimParams;

const unarySet = new Set<string>(UNARY);
const binarySet = new Set<string>(BINARY);
const compareSet = new Set<string>(COMPARE);
export const isUnary = (p: Prim): p is UnaryPrim => unarySet.has(p);
export const isBinary = (p: Prim): p is BinaryPrim => binarySet.has(p);
export const isCompare = (p: Prim): p is ComparePrim => compareSet.has(p);

/** Primitives whose every output element depends only on the same element of its inputs
 *  (operands of rank 0 or with size-1 dimensions broadcast). Fusable into one loop. */
export function isElementwise(p: Prim): boolean {
  return isUnary(p) || isBinary(p) || isCompare(p) || p === "integer_pow" || p === "select_n" || p === "convert_element_type" || p === "stop_gradient" || p === "clamp";
}

export const REDUCTIONS = ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or", "argmax", "argmin"] as const;
export const isReduction = (p: Prim): p is (typeof REDUCTIONS)[number] => (REDUCTIONS as readonly string[]).includes(p);

export const HIGHER_ORDER = ["cond", "while", "scan", "jit"] as const;
export type HigherOrderPrim = (typeof HIGHER_ORDER)[number];
export const isHigherOrder = (p: Prim): p is HigherOrderPrim => (HIGHER_ORDER as readonly string[]).includes(p);

/** The sub-jaxprs held in an equation's params, in the order JAX prints them (params sorted by name). */
export function subJaxprs(prim: Prim, params: unknown): Jaxpr[] {
  const p = params as Record<string, unknown>;
  switch (prim) {
    case "cond": return [...(p.branches as Jaxpr[])];
    case "while": return [p.body_jaxpr as Jaxpr, p.cond_jaxpr as Jaxpr];
    case "scan": case "jit": return [p.jaxpr as Jaxpr];
    default: return [];
  }
}
