// Abstract evaluation: the output shape and dtype of each primitive, with JAX's checks.
import { JitError } from "../frontend/source";
import { dtypeNames } from "../ir/dtypes";
import { isBinary, isCompare, isUnary, type Params, type Prim, type PrimParams } from "../ir/primitives";
import { sameShape, shapeStr } from "../ir/shapes";
import { size, typeString, type Atom, type Aval, type DType, type Jaxpr } from "../ir/types";

type Rule<P extends Prim> = (ins: Aval[], params: Params[P]) => Aval | Aval[];

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

const FLOAT_ONLY = new Set<string>(["exp", "exp2", "log", "tanh", "sin", "cos", "tan", "sqrt", "rsqrt", "cbrt", "log1p", "expm1", "logistic", "floor", "ceil", "round", "is_finite", "atan2", "pow", "erf", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "nextafter"]);

const NUMBER_ONLY = new Set<string>(["neg", "sub", "div", "rem", "sign", "abs", "square", "integer_pow", "mul_add"]);

function elementwise(prim: Prim, ins: Aval[]): Aval {
  const dtype = sameDtype(prim, ins);
  if (FLOAT_ONLY.has(prim) && dtype !== "f32" && dtype !== "f64") {
    throw new JitError("TypeError", `${prim} does not accept dtype ${dtypeNames[dtype]}; it needs a floating-point array`);
  }
  // lax's arithmetic is defined on numbers only (JAX: `neg does not accept dtype bool`); the
  // jnp functions that accept booleans promote them first.
  if (dtype === "bool" && NUMBER_ONLY.has(prim)) {
    throw new JitError("TypeError", `${prim} does not accept dtype bool. Accepted dtypes are subtypes of number (convert with x.astype(jnp.int32) or jnp.float32 first)`);
  }
  if ((prim === "and" || prim === "or" || prim === "not") && dtype !== "bool" && dtype !== "i32") {
    throw new JitError("TypeError", `${prim} does not accept dtype ${dtypeNames[dtype]}; it needs a boolean or integer array`);
  }
  const shape = naryShape(prim, ins);
  if (isCompare(prim)) return { shape, dtype: "bool", weak: false };
  if (prim === "is_finite") return { shape, dtype: "bool", weak: false };
  return { shape, dtype, weak: allWeak(ins) };
}

export function abstractEval<P extends Prim>(prim: P, ins: Aval[], params: Params[P]): Aval[] {
  if (isUnary(prim) || isBinary(prim) || isCompare(prim)) return [elementwise(prim, ins)];
  const out = (rules[prim as keyof PrimParams] as Rule<P>)(ins, params);
  return Array.isArray(out) ? out : [out];
}

const shaped = (shape: readonly number[], dtype: DType, weak = false): Aval => ({ shape: [...shape], dtype, weak });

function checkAxes(prim: string, axes: readonly number[], rank: number): void {
  for (const a of axes) if (!Number.isInteger(a) || a < 0 || a >= rank) throw new JitError("ShapeError", `${prim}: axis ${a} is out of bounds for an array of rank ${rank}`);
  if (new Set(axes).size !== axes.length) throw new JitError("ShapeError", `${prim}: repeated axis in ${shapeStr(axes)}`);
}

const reduce = (prim: string, boolOnly = false) => (ins: Aval[], p: { axes: number[] }): Aval => {
  const x = ins[0];
  checkAxes(prim, p.axes, x.shape.length);
  if (boolOnly && x.dtype !== "bool") throw new JitError("TypeError", `${prim} needs a boolean array, got ${dtypeNames[x.dtype]}`);
  return shaped(x.shape.filter((_, i) => !p.axes.includes(i)), x.dtype, x.weak);
};

const argReduce = (prim: string) => (ins: Aval[], p: { axes: number[]; index_dtype: DType }): Aval => {
  const x = ins[0];
  checkAxes(prim, p.axes, x.shape.length);
  if (p.axes.length !== 1) throw new JitError("ShapeError", `${prim} reduces exactly one axis`);
  if (x.shape[p.axes[0]] === 0) throw new JitError("ValueError", `${prim} of an empty axis`);
  return shaped(x.shape.filter((_, i) => i !== p.axes[0]), p.index_dtype);
};

const scan = (prim: string) => (ins: Aval[], p: { axis: number }): Aval => {
  checkAxes(prim, [p.axis], ins[0].shape.length);
  return shaped(ins[0].shape, ins[0].dtype, ins[0].weak);
};

const scatterRule = (ins: Aval[]): Aval => {
  const [x, idx, upd] = ins;
  if (idx.dtype !== "i32") throw new JitError("TypeError", `scatter indices must be int32, got ${dtypeNames[idx.dtype]}`);
  if (upd.dtype !== x.dtype) throw new JitError("TypeError", `scatter updates must have the operand's dtype ${dtypeNames[x.dtype]}, got ${dtypeNames[upd.dtype]}`);
  return shaped(x.shape, x.dtype, x.weak);
};

// Higher-order primitives: operand types must match the sub-jaxprs' binders (shape and dtype;
// weak types are not compared, as core.typematch does), results are the sub-jaxprs' outputs.
const sameType = (a: Aval, b: Aval): boolean => a.dtype === b.dtype && sameShape(a.shape, b.shape);
const avalsOf = (xs: readonly Atom[]): Aval[] => xs.map((x) => x.aval);
const typesText = (xs: readonly Aval[]): string => xs.map(typeString).join(" ");

function checkBinders(prim: string, what: string, binders: readonly Aval[], given: readonly Aval[]): void {
  if (binders.length !== given.length || binders.some((b, i) => !sameType(b, given[i]))) {
    throw new JitError("TypeError", `${prim} ${what} takes input types ${typesText(binders)}, but was called with ${typesText(given)}`);
  }
}

const jaxprIn = (j: Jaxpr): Aval[] => avalsOf(j.invars);
const jaxprOut = (j: Jaxpr): Aval[] => avalsOf(j.outvars);

const rules: { [P in keyof PrimParams]: Rule<P> } = {
  cond: (ins, p) => {
    const [index, ...ops] = ins;
    if (index.dtype !== "i32" || index.shape.length !== 0) throw new JitError("TypeError", `cond index must be an int32 scalar, got ${typeString(index)}`);
    if (!p.branches.length) throw new JitError("ValueError", "cond needs at least one branch");
    const outs = jaxprOut(p.branches[0]);
    p.branches.forEach((b, i) => {
      checkBinders("cond", `branch ${i}`, jaxprIn(b), ops);
      const o = jaxprOut(b);
      if (o.length !== outs.length || o.some((a, k) => !sameType(a, outs[k]))) throw new JitError("TypeError", `cond branches 0 and ${i} return different types: ${typesText(outs)} and ${typesText(o)}`);
    });
    return outs.map((a, k) => shaped(a.shape, a.dtype, p.branches.every((b) => b.outvars[k].aval.weak)));
  },
  while: (ins, p) => {
    const cc = ins.slice(0, p.cond_nconsts), bc = ins.slice(p.cond_nconsts, p.cond_nconsts + p.body_nconsts);
    const carry = ins.slice(p.cond_nconsts + p.body_nconsts);
    checkBinders("while", "cond_jaxpr", jaxprIn(p.cond_jaxpr), [...cc, ...carry]);
    checkBinders("while", "body_jaxpr", jaxprIn(p.body_jaxpr), [...bc, ...carry]);
    const pred = jaxprOut(p.cond_jaxpr);
    if (pred.length !== 1 || pred[0].dtype !== "bool" || pred[0].shape.length !== 0) throw new JitError("TypeError", `while cond_jaxpr must return one bool[], got ${typesText(pred)}`);
    const outs = jaxprOut(p.body_jaxpr);
    checkBinders("while", "body_jaxpr carry", outs, carry);
    return outs.map((a) => shaped(a.shape, a.dtype, a.weak));
  },
  scan: (ins, p) => {
    if (!Number.isInteger(p.length) || p.length < 0) throw new JitError("ValueError", `scan length must be a non-negative integer, got ${p.length}`);
    const xs = ins.slice(p.num_consts + p.num_carry);
    const xRows = xs.map((x) => {
      if (x.shape[0] !== p.length) throw new JitError("ShapeError", `scan of length ${p.length} got a scanned operand of type ${typeString(x)}`);
      return shaped(x.shape.slice(1), x.dtype, x.weak);
    });
    checkBinders("scan", "body", jaxprIn(p.jaxpr), [...ins.slice(0, p.num_consts + p.num_carry), ...xRows]);
    const outs = jaxprOut(p.jaxpr);
    checkBinders("scan", "body carry", outs.slice(0, p.num_carry), ins.slice(p.num_consts, p.num_consts + p.num_carry));
    return outs.map((a, k) => (k < p.num_carry ? shaped(a.shape, a.dtype, a.weak) : shaped([p.length, ...a.shape], a.dtype, a.weak)));
  },
  jit: (ins, p) => {
    checkBinders("jit", p.name, jaxprIn(p.jaxpr), ins);
    return jaxprOut(p.jaxpr).map((a) => shaped(a.shape, a.dtype, a.weak));
  },
  integer_pow: (ins) => {
    if (ins[0].dtype === "bool") throw new JitError("TypeError", "integer_pow does not accept dtype bool");
    return shaped(ins[0].shape, ins[0].dtype, ins[0].weak);
  },
  select_n: (ins) => {
    const [pred, ...cases] = ins;
    if (pred.dtype !== "bool" && pred.dtype !== "i32") throw new JitError("TypeError", `select_n predicate must be bool or int32, got ${dtypeNames[pred.dtype]}`);
    const dtype = sameDtype("select_n", cases);
    return { shape: naryShape("select_n", ins), dtype, weak: allWeak(cases) };
  },
  convert_element_type: (ins, p) => shaped(ins[0].shape, p.new_dtype, p.weak_type),
  broadcast_in_dim: (ins, p) => {
    const op = ins[0];
    if (p.broadcast_dimensions.length !== op.shape.length) {
      throw new JitError("ShapeError", `broadcast_in_dim: operand of rank ${op.shape.length} needs ${op.shape.length} broadcast dimensions, got ${p.broadcast_dimensions.length}`);
    }
    op.shape.forEach((d, i) => {
      const od = p.shape[p.broadcast_dimensions[i]];
      if (d !== 1 && d !== od) throw new JitError("ShapeError", `cannot broadcast shape ${shapeStr(op.shape)} to ${shapeStr(p.shape)}`);
    });
    return shaped(p.shape, op.dtype, op.weak);
  },
  stop_gradient: (ins) => shaped(ins[0].shape, ins[0].dtype, ins[0].weak),
  clamp: (ins) => {
    const [lo, x, hi] = ins;
    const dtype = sameDtype("clamp", ins);
    for (const b of [lo, hi]) if (b.shape.length && !sameShape(b.shape, x.shape)) throw new JitError("ShapeError", `clamp bounds must be scalars or have the operand's shape ${shapeStr(x.shape)}, got ${shapeStr(b.shape)}`);
    return shaped(x.shape, dtype, x.weak);
  },
  reduce_sum: reduce("reduce_sum"),
  reduce_max: reduce("reduce_max"),
  reduce_min: reduce("reduce_min"),
  reduce_prod: reduce("reduce_prod"),
  reduce_and: reduce("reduce_and", true),
  reduce_or: reduce("reduce_or", true),
  argmax: argReduce("argmax"),
  argmin: argReduce("argmin"),
  cumsum: scan("cumsum"),
  cumprod: scan("cumprod"),
  cummax: scan("cummax"),
  cummin: scan("cummin"),
  dot_general: (ins, p) => {
    const [a, b] = ins;
    const [[ca, cb], [ba, bb]] = p.dimension_numbers;
    checkAxes("dot_general", [...ca, ...ba], a.shape.length);
    checkAxes("dot_general", [...cb, ...bb], b.shape.length);
    if (ca.length !== cb.length || ba.length !== bb.length) throw new JitError("ShapeError", "dot_general: contracting and batch dimension lists must pair up");
    ca.forEach((d, i) => {
      if (a.shape[d] !== b.shape[cb[i]]) {
        throw new JitError("ShapeError", `dot_general requires contracting dimensions to have the same shape, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)} (dimension ${d} of size ${a.shape[d]} against dimension ${cb[i]} of size ${b.shape[cb[i]]})`);
      }
    });
    ba.forEach((d, i) => {
      if (a.shape[d] !== b.shape[bb[i]]) throw new JitError("ShapeError", `dot_general requires batch dimensions to match, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
    });
    if (a.dtype !== b.dtype) throw new JitError("TypeError", `dot_general requires the same dtypes, got ${dtypeNames[a.dtype]} and ${dtypeNames[b.dtype]}`);
    const free = (s: readonly number[], c: number[], bt: number[]) => s.filter((_, i) => !c.includes(i) && !bt.includes(i));
    const shape = [...ba.map((d) => a.shape[d]), ...free(a.shape, ca, ba), ...free(b.shape, cb, bb)];
    return shaped(shape, p.preferred_element_type ?? a.dtype, false);
  },
  reshape: (ins, p) => {
    const n = size(ins[0].shape);
    if (size(p.new_sizes) !== n) throw new JitError("ShapeError", `cannot reshape array of shape ${shapeStr(ins[0].shape)} (size ${n}) into shape ${shapeStr(p.new_sizes)} (size ${size(p.new_sizes)})`);
    return shaped(p.new_sizes, ins[0].dtype, ins[0].weak);
  },
  transpose: (ins, p) => {
    const x = ins[0];
    if (p.permutation.length !== x.shape.length || [...p.permutation].sort((a, b) => a - b).some((d, i) => d !== i)) {
      throw new JitError("ShapeError", `transpose permutation ${shapeStr(p.permutation)} is not a permutation of the ${x.shape.length} axes of an array of shape ${shapeStr(x.shape)}`);
    }
    return shaped(p.permutation.map((d) => x.shape[d]), x.dtype, x.weak);
  },
  squeeze: (ins, p) => {
    const x = ins[0];
    checkAxes("squeeze", p.dimensions, x.shape.length);
    for (const d of p.dimensions) if (x.shape[d] !== 1) throw new JitError("ShapeError", `cannot select an axis to squeeze out which has size not equal to one: axis ${d} of shape ${shapeStr(x.shape)}`);
    return shaped(x.shape.filter((_, i) => !p.dimensions.includes(i)), x.dtype, x.weak);
  },
  concatenate: (ins, p) => {
    if (!ins.length) throw new JitError("ValueError", "need at least one array to concatenate");
    const r = ins[0].shape.length;
    checkAxes("concatenate", [p.dimension], r);
    const dtype = sameDtype("concatenate", ins);
    for (const a of ins) {
      if (a.shape.length !== r || a.shape.some((d, i) => i !== p.dimension && d !== ins[0].shape[i])) {
        throw new JitError("ShapeError", `all the input array dimensions except for the concatenation axis must match exactly, got ${ins.map((x) => shapeStr(x.shape)).join(", ")}`);
      }
    }
    const shape = [...ins[0].shape];
    shape[p.dimension] = ins.reduce((s, a) => s + a.shape[p.dimension], 0);
    return shaped(shape, dtype, allWeak(ins));
  },
  split: (ins, p) => {
    const x = ins[0];
    checkAxes("split", [p.axis], x.shape.length);
    const total = p.sizes.reduce((a, b) => a + b, 0);
    if (total !== x.shape[p.axis]) throw new JitError("ShapeError", `split sizes ${shapeStr(p.sizes)} must add up to the axis size ${x.shape[p.axis]}`);
    return p.sizes.map((n) => shaped(x.shape.map((d, i) => (i === p.axis ? n : d)), x.dtype, x.weak));
  },
  slice: (ins, p) => {
    const x = ins[0];
    const st = p.strides ?? x.shape.map(() => 1);
    const shape = x.shape.map((d, i) => {
      const a = p.start_indices[i], b = p.limit_indices[i];
      if (a < 0 || b > d || a > b || st[i] < 1) throw new JitError("ShapeError", `slice [${a}:${b}:${st[i]}] is out of bounds for axis ${i} of size ${d}`);
      return Math.ceil((b - a) / st[i]);
    });
    return shaped(shape, x.dtype, x.weak);
  },
  rev: (ins, p) => {
    checkAxes("rev", p.dimensions, ins[0].shape.length);
    return shaped(ins[0].shape, ins[0].dtype, ins[0].weak);
  },
  pad: (ins, p) => {
    const [x, v] = ins;
    sameDtype("pad", [x, v]);
    const shape = x.shape.map((d, i) => {
      const [lo, hi, interior] = p.padding_config[i];
      const n = lo + hi + d + Math.max(0, d - 1) * interior;
      if (n < 0 || interior < 0) throw new JitError("ShapeError", `pad: invalid padding ${shapeStr(p.padding_config[i])} for axis ${i} of size ${d}`);
      return n;
    });
    return shaped(shape, x.dtype, x.weak);
  },
  iota: (_ins, p) => {
    checkAxes("iota", [p.dimension], p.shape.length);
    return shaped(p.shape, p.dtype);
  },
  dynamic_slice: (ins, p) => {
    const [x, ...idx] = ins;
    if (idx.length !== x.shape.length) throw new JitError("ShapeError", `dynamic_slice needs ${x.shape.length} start indices, got ${idx.length}`);
    p.slice_sizes.forEach((n, i) => {
      if (n < 0 || n > x.shape[i]) throw new JitError("ShapeError", `dynamic_slice size ${n} does not fit axis ${i} of size ${x.shape[i]}`);
    });
    return shaped(p.slice_sizes, x.dtype, x.weak);
  },
  dynamic_update_slice: (ins) => {
    const [x, u] = ins;
    if (u.shape.length !== x.shape.length || u.shape.some((d, i) => d > x.shape[i])) throw new JitError("ShapeError", `dynamic_update_slice update of shape ${shapeStr(u.shape)} does not fit in ${shapeStr(x.shape)}`);
    return shaped(x.shape, x.dtype, x.weak);
  },
  gather: (ins, p) => {
    const [x, idx] = ins;
    if (idx.dtype !== "i32") throw new JitError("TypeError", `gather indices must be int32, got ${dtypeNames[idx.dtype]}`);
    const dn = p.dimension_numbers;
    // Output: the batch dims of the indices (all but the last) interleaved with the kept slice dims at offset_dims.
    const batch = idx.shape.slice(0, -1);
    const kept = p.slice_sizes.filter((_, i) => !dn.collapsed_slice_dims.includes(i) && !dn.operand_batching_dims.includes(i));
    const rank = batch.length + kept.length;
    const shape: number[] = [];
    let bi = 0, ki = 0;
    for (let d = 0; d < rank; d++) shape.push(dn.offset_dims.includes(d) ? kept[ki++] : batch[bi++]);
    p.slice_sizes.forEach((n, i) => {
      if (n > x.shape[i]) throw new JitError("ShapeError", `gather slice size ${n} exceeds axis ${i} of size ${x.shape[i]}`);
    });
    return shaped(shape, x.dtype, x.weak);
  },
  scatter: scatterRule,
  "scatter-add": scatterRule,
  "scatter-mul": scatterRule,
};
