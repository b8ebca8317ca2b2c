// Abstract evaluation: the output shape and dtype of each primitive, with JAX's checks.
import { JitError } from "../frontend/source";
import { dtypeNames } from "../ir/dtypes";
import { isBinary, isCompare, isUnary, type Params, type Prim } from "../ir/primitives";
import { shapeStr } from "../ir/shapes";
import type { Aval, DType } from "../ir/types";

type Rule<P extends Prim> = (ins: Aval[], params: Params[P]) => Aval;

/** Output shape of an n-ary elementwise primitive: equal ranks (or rank 0), dims equal or 1. */
function naryShape(prim: string, ins: Aval[]): number[] {
  const shaped = ins.filter((a) => a.shape.length > 0);
  if (shaped.length === 0) return [];
  const rank = shaped[0].shape.length;
  const out = [...shaped[0].shape];
  for (const a of shaped) {
    if (a.shape.length !== rank) throw incompatible(prim, ins);
    a.shape.forEach((d, i) => {
      if (d === out[i] || d === 1) return;
      if (out[i] === 1) out[i] = d;
      else throw incompatible(prim, ins);
    });
  }
  return out;
}

function incompatible(prim: string, ins: Aval[]): JitError {
  return new JitError("ShapeError", `${prim} got incompatible shapes for broadcasting: ${ins.map((a) => shapeStr(a.shape)).join(", ")}`);
}

function sameDtype(prim: string, ins: Aval[]): DType {
  const d = ins[0].dtype;
  for (const a of ins) {
    if (a.dtype !== d) {
      throw new JitError("TypeError", `${prim} requires arguments to have the same dtypes, got ${ins.map((x) => dtypeNames[x.dtype]).join(", ")}`);
    }
  }
  return d;
}

const allWeak = (ins: Aval[]) => ins.every((a) => a.weak);

const FLOAT_ONLY = new Set<string>(["exp", "log", "tanh", "sin", "cos", "sqrt", "rsqrt", "log1p", "expm1", "logistic", "floor", "ceil", "round", "is_finite", "atan2", "pow"]);

function elementwise(prim: Prim, ins: Aval[]): Aval {
  const dtype = sameDtype(prim, ins);
  if (FLOAT_ONLY.has(prim) && dtype !== "f32" && dtype !== "f64") {
    throw new JitError("TypeError", `${prim} does not accept dtype ${dtypeNames[dtype]}; it needs a floating-point array`);
  }
  if ((prim === "and" || prim === "or" || prim === "not") && dtype !== "bool" && dtype !== "i32") {
    throw new JitError("TypeError", `${prim} does not accept dtype ${dtypeNames[dtype]}; it needs a boolean or integer array`);
  }
  const shape = naryShape(prim, ins);
  if (isCompare(prim)) return { shape, dtype: "bool", weak: false };
  if (prim === "is_finite") return { shape, dtype: "bool", weak: false };
  return { shape, dtype, weak: allWeak(ins) };
}

export function abstractEval<P extends Prim>(prim: P, ins: Aval[], params: Params[P]): Aval {
  if (isUnary(prim) || isBinary(prim) || isCompare(prim)) return elementwise(prim, ins);
  return (rules[prim as keyof typeof rules] as Rule<P>)(ins, params);
}

const rules: { [P in "integer_pow" | "select_n" | "convert_element_type" | "broadcast_in_dim"]: Rule<P> } = {
  integer_pow: (ins) => ({ ...ins[0], shape: [...ins[0].shape] }),
  select_n: (ins) => {
    const [pred, ...cases] = ins;
    if (pred.dtype !== "bool" && pred.dtype !== "i32") throw new JitError("TypeError", `select_n predicate must be bool or int32, got ${dtypeNames[pred.dtype]}`);
    const dtype = sameDtype("select_n", cases);
    return { shape: naryShape("select_n", ins), dtype, weak: allWeak(cases) };
  },
  convert_element_type: (ins, p) => ({ shape: [...ins[0].shape], dtype: p.new_dtype, weak: p.weak_type }),
  broadcast_in_dim: (ins, p) => {
    const op = ins[0];
    if (p.broadcast_dimensions.length !== op.shape.length) {
      throw new JitError("ShapeError", `broadcast_in_dim: operand of rank ${op.shape.length} needs ${op.shape.length} broadcast dimensions, got ${p.broadcast_dimensions.length}`);
    }
    op.shape.forEach((d, i) => {
      const od = p.shape[p.broadcast_dimensions[i]];
      if (d !== 1 && d !== od) throw new JitError("ShapeError", `cannot broadcast shape ${shapeStr(op.shape)} to ${shapeStr(p.shape)}`);
    });
    return { shape: [...p.shape], dtype: op.dtype, weak: op.weak };
  },
};
