// The jaxpr: JAX's first IR. Variables are typed by abstract values (shape + dtype);
// every equation applies one primitive and carries the source span that made it.
import type { Span } from "../report";
import type { Params, Prim } from "./primitives";

/** Element types, named as JAX prints them. */
export type DType = "f32" | "f64" | "i32" | "bool";

export interface Aval {
  shape: readonly number[];
  dtype: DType;
  /** A weakly-typed value (from a Python scalar): it takes the other operand's dtype. */
  weak: boolean;
}

export interface Var {
  kind: "var";
  id: number;
  aval: Aval;
}

/** A scalar literal operand, printed inline as `2.0:f32[]`. */
export interface Literal {
  kind: "lit";
  value: number | boolean;
  aval: Aval;
}

export type Atom = Var | Literal;

export interface Eqn<P extends Prim = Prim> {
  prim: P;
  params: Params[P];
  inputs: Atom[];
  outputs: Var[];
  /** Where the expression that made this equation is; inner-most first when inside helpers. */
  span: Span;
  /** Call sites, outermost last, when the equation came from inside a helper function. */
  callStack?: Span[];
}

export interface Jaxpr {
  /** Closed-over constant arrays (e.g. `jnp.array([1, 2, 3])`) and their values. */
  constvars: Var[];
  consts: ArrayValue[];
  invars: Var[];
  eqns: Eqn[];
  outvars: Atom[];
}

/** Concrete data: a flat row-major buffer plus its abstract value. */
export interface ArrayValue {
  aval: Aval;
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export const itemBytes: Record<DType, number> = { f32: 4, f64: 8, i32: 4, bool: 1 };

export function typeString(a: Aval): string {
  return `${a.dtype}[${a.shape.join(",")}]`;
}

export function newBuffer(dtype: DType, n: number): ArrayValue["data"] {
  switch (dtype) {
    case "f32": return new Float32Array(n);
    case "f64": return new Float64Array(n);
    case "i32": return new Int32Array(n);
    case "bool": return new Uint8Array(n);
  }
}

export function isFloat(d: DType): boolean {
  return d === "f32" || d === "f64";
}
