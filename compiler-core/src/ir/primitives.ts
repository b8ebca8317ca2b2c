// The primitive table. Primitives are a string union; each has a typed params record.
// Every interpretation of primitives (abstract eval, eager kernels, fused codegen, ...)
// is a table keyed by Prim, typed as a mapped type, so a new primitive fails to compile
// until each required table has its rule.
import type { DType } from "./types";

export const UNARY = [
  "neg", "exp", "log", "tanh", "sin", "cos", "sqrt", "rsqrt", "abs", "sign",
  "floor", "ceil", "round", "log1p", "expm1", "logistic", "not", "is_finite",
] as const;
export const BINARY = ["add", "sub", "mul", "div", "rem", "pow", "max", "min", "and", "or", "atan2"] as const;
export const COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"] as const;

export type UnaryPrim = (typeof UNARY)[number];
export type BinaryPrim = (typeof BINARY)[number];
export type ComparePrim = (typeof COMPARE)[number];

export interface PrimParams {
  integer_pow: { y: number };
  /** select_n(pred, *cases): cases[pred]; with a bool predicate, (false_case, true_case). */
  select_n: Record<string, never>;
  convert_element_type: { new_dtype: DType; weak_type: boolean };
  broadcast_in_dim: { shape: number[]; broadcast_dimensions: number[] };
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
  return isUnary(p) || isBinary(p) || isCompare(p) || p === "integer_pow" || p === "select_n" || p === "convert_element_type";
}
