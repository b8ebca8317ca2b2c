// JAX's type promotion with weak types (x64 disabled: Python int -> int32, float -> float32).
// The lattice is bool < int < float; a weakly-typed value (from a Python scalar) takes the
// other operand's dtype when that dtype is of the same or a higher kind.
import type { DType } from "./types";

export interface DTypeW {
  dtype: DType;
  weak: boolean;
}

const kindRank = (d: DType): number => (d === "bool" ? 0 : d === "i32" ? 1 : 2);
const widthRank = (d: DType): number => (d === "f64" ? 1 : 0);

export function promote(a: DTypeW, b: DTypeW): DTypeW {
  if (a.weak && b.weak) return kindRank(a.dtype) >= kindRank(b.dtype) ? a : b;
  if (a.weak !== b.weak) {
    const [w, s] = a.weak ? [a, b] : [b, a];
    if (kindRank(w.dtype) <= kindRank(s.dtype)) return { dtype: s.dtype, weak: false };
    return { dtype: w.dtype, weak: true };
  }
  if (a.dtype === b.dtype) return a;
  const ka = kindRank(a.dtype), kb = kindRank(b.dtype);
  if (ka !== kb) return ka > kb ? a : b;
  return widthRank(a.dtype) >= widthRank(b.dtype) ? a : b;
}

export function promoteAll(xs: DTypeW[]): DTypeW {
  return xs.reduce(promote);
}

/** The inexact dtype a value becomes in functions like jnp.exp or true division. */
export function toInexact(t: DTypeW): DTypeW {
  return kindRank(t.dtype) === 2 ? t : { dtype: "f32", weak: t.weak };
}

export const dtypeNames: Record<DType, string> = { f32: "float32", f64: "float64", i32: "int32", bool: "bool" };
