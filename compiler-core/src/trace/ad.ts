// Reverse-mode automatic differentiation: jax.grad and jax.value_and_grad.
//
// How it works, and why:
// - `grad(f)(*args)` traces f into a sub-jaxpr on fresh inputs (Interpreter.traceSub): one
//   input per leaf of the differentiated arguments; other arguments are passed as they are,
//   and values f captures from enclosing traces become inputs that AD treats as constants
//   (as JAX does for closed-over values).
// - Forward: the sub-jaxpr's equations are replayed into the *current* builder, each with its
//   own source span, so the jaxpr's forward part reads like the user's code.
// - Backward: the replayed equations are walked in reverse; each primitive's VJP rule maps the
//   cotangents of its outputs to cotangents of its inputs by emitting ordinary equations into
//   the current builder (with the span of the equation being differentiated). Because the
//   backward pass is ordinary equations, grad(grad(f)) works: the outer grad differentiates
//   them like any other code, so every primitive a rule emits must itself have a rule.
// - Why VJP rules and not JAX's JVP + partial evaluation + transposition: one rule per
//   primitive instead of two, and no separate linear/non-linear bookkeeping. The jaxpr uses
//   the same primitives as JAX's, in a different order: JAX's linearize puts residuals such
//   as `mul 2.0 x` (from x ** 2) in the forward part; here they are computed in the backward
//   part, next to their use.
// - Activity: only float values that depend on a differentiated input carry cotangents.
//   A zero cotangent is `null` (a symbolic zero), so paths that do not reach the inputs emit
//   nothing; a gradient that is zero in the end becomes `broadcast_in_dim 0.0`. Integer and
//   bool values, and the outputs of non-differentiable primitives (comparisons, floor, sign,
//   argmax, iota, stop_gradient, ...), never carry a cotangent.
// - A value used several times sums its cotangents with `add` (JAX's `add_any`).
// - Operands broadcast inside elementwise primitives (rank 0 or size-1 dims, see abstract.ts)
//   get their cotangent summed back over the broadcast dims (reduce_sum + reshape).
// - Primitives holding sub-jaxprs get backward sub-jaxprs: a `jit` call's backward pass is a
//   `jit` named transpose(jvp(name)), a `cond`'s is a `cond` over the branches' backward passes,
//   and a `scan`'s is a scan in the other direction, fed by a second forward scan that stacks
//   each step's carry (recomputation instead of JAX's saved residuals). `while` cannot be
//   reversed (JAX's error says so); fori_loop with static bounds is a scan and works.
import { JitError } from "../frontend/source";
import { dtypeNames } from "../ir/dtypes";
import type { BinaryPrim, ComparePrim, GatherDims, Params, Prim, ScatterDims, UnaryPrim } from "../ir/primitives";
import { sameShape, shapeStr } from "../ir/shapes";
import { isFloat, size, type Atom, type Aval, type DType, type Eqn, type Jaxpr, type Literal } from "../ir/types";
import { JaxprBuilder, literal } from "./builder";
import type { Interpreter } from "./interp";
import { flattenTree, unflattenTree } from "./interp";
import { bindSig } from "./jnp";
import { PyBuiltin, PyInt, PyTuple, Tracer, pyRepr, pyTypeName, type Kwargs, type PyValue } from "./values";

/** A value in the builder being emitted into: a traced value or a literal. */
export type Val = Tracer | Literal;
/** A cotangent; null is a (symbolic) zero. */
type Ct = Val | null;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const atomOf = (v: Val): Atom => (v instanceof Tracer ? v.atom : v);

// ------------------------------------------------------------------ emitting helpers

/** Small constructors over a builder; the shape-changing ones skip no-op equations. */
class Ops {
  constructor(readonly b: JaxprBuilder) {}

  bind<P extends Prim>(prim: P, ins: Val[], params: Params[P]): Tracer {
    return this.b.bind(prim, ins, params);
  }
  /** A scalar literal with the dtype of `like` (weak, so it never changes the other operand's type). */
  lit(v: number | boolean, like: Val | DType): Literal {
    const dtype = typeof like === "string" ? like : like.aval.dtype;
    return literal(dtype === "bool" ? Boolean(v) : Number(v), { shape: [], dtype, weak: true });
  }
  zeros(aval: Aval): Tracer {
    return this.bind("broadcast_in_dim", [literal(0, { shape: [], dtype: aval.dtype, weak: false })], { shape: [...aval.shape], broadcast_dimensions: [] });
  }
  un(p: UnaryPrim, x: Val): Tracer { return this.bind(p, [x], {}); }
  bin(p: BinaryPrim | ComparePrim, x: Val, y: Val): Tracer { return this.bind(p, [x, y], {}); }
  neg(x: Val) { return this.un("neg", x); }
  add(x: Val, y: Val) { return this.bin("add", x, y); }
  sub(x: Val, y: Val) { return this.bin("sub", x, y); }
  mul(x: Val, y: Val) { return this.bin("mul", x, y); }
  div(x: Val, y: Val) { return this.bin("div", x, y); }
  square(x: Val) { return this.un("square", x); }
  /** select_n(pred, on_false, on_true). */
  select(pred: Val, onFalse: Val, onTrue: Val): Tracer { return this.bind("select_n", [pred, onFalse, onTrue], {}); }
  convert(x: Val, dtype: DType): Val {
    return x.aval.dtype === dtype ? x : this.bind("convert_element_type", [x], { new_dtype: dtype, weak_type: false });
  }
  reduceSum(x: Val, axes: number[]): Val {
    return axes.length ? this.bind("reduce_sum", [x], { axes: [...axes].sort((a, b) => a - b) }) : x;
  }
  reshape(x: Val, shape: readonly number[]): Val {
    return sameShape(x.aval.shape, shape) ? x : this.bind("reshape", [x], { new_sizes: [...shape], dimensions: null });
  }
  /** broadcast_in_dim to `shape`, operand dim i going to output dim dims[i]. */
  bcast(x: Val, shape: readonly number[], dims: number[]): Val {
    if (sameShape(x.aval.shape, shape) && dims.every((d, i) => d === i)) return x;
    return this.bind("broadcast_in_dim", [x], { shape: [...shape], broadcast_dimensions: dims });
  }
  transpose(x: Val, perm: number[]): Val {
    return perm.every((p, i) => p === i) ? x : this.bind("transpose", [x], { permutation: perm });
  }
  /** Transposes `x`, whose dim k stands for dim labels[k] of the wanted layout. */
  toLayout(x: Val, labels: number[]): Val {
    return this.transpose(x, range(labels.length).map((d) => labels.indexOf(d)));
  }
  dot(x: Val, y: Val, contract: [number[], number[]], batch: [number[], number[]], dtype: DType): Tracer {
    return this.bind("dot_general", [x, y], { dimension_numbers: [contract, batch], preferred_element_type: dtype });
  }

  /** Sums a cotangent of the broadcast result shape back to an operand's shape. */
  unbroadcast(ct: Val, aval: Aval): Val {
    const s = aval.shape, t = ct.aval.shape;
    if (sameShape(s, t)) return ct;
    if (s.length === 0) return this.reduceSum(ct, range(t.length));
    const dims = range(t.length).filter((i) => s[i] !== t[i]);
    return this.reshape(this.reduceSum(ct, dims), s);
  }
}

// ------------------------------------------------------------------ VJP rules

interface VjpArgs<P extends Prim> {
  o: Ops;
  /** The equation's inputs and outputs as replayed in the current builder. */
  ins: Val[];
  outs: Val[];
  params: Params[P];
  /** Cotangent of each output (null: zero). */
  cts: Ct[];
  /** The first output's cotangent (never null for single-output primitives). */
  ct: Val;
  /** Which inputs want a cotangent (active float values); the others may be returned as null. */
  need: boolean[];
}

/** Maps output cotangents to one cotangent per input (null for a zero or an unneeded one). */
export type VjpRule<P extends Prim> = (a: VjpArgs<P>) => Ct[];

/** Elementwise unary rules: the input cotangent from (ct, x, y = f(x)). */
const UNARY_VJP: { [P in UnaryPrim]?: (o: Ops, ct: Val, x: Val, y: Val) => Val } = {
  neg: (o, c) => o.neg(c),
  exp: (o, c, _x, y) => o.mul(c, y),
  exp2: (o, c, _x, y) => o.mul(c, o.mul(o.lit(Math.LN2, y), y)),
  log: (o, c, x) => o.div(c, x),
  // (1 + y)(1 - y) keeps precision where tanh saturates (as JAX writes it).
  tanh: (o, c, _x, y) => o.mul(o.add(c, o.mul(c, y)), o.sub(o.lit(1, y), y)),
  logistic: (o, c, _x, y) => o.mul(c, o.mul(y, o.sub(o.lit(1, y), y))),
  sin: (o, c, x) => o.mul(c, o.un("cos", x)),
  cos: (o, c, x) => o.mul(c, o.neg(o.un("sin", x))),
  tan: (o, c, _x, y) => o.mul(c, o.add(o.lit(1, y), o.square(y))),
  sqrt: (o, c, _x, y) => o.div(c, o.mul(o.lit(2, y), y)),
  rsqrt: (o, c, x, y) => o.mul(c, o.mul(o.lit(-0.5, y), o.div(y, x))),
  cbrt: (o, c, _x, y) => o.mul(c, o.mul(o.lit(1 / 3, y), o.bind("integer_pow", [y], { y: -2 }))),
  // JAX's choice at 0: the derivative of |x| is taken as +1.
  abs: (o, c, x) => o.select(o.bin("ge", x, o.lit(0, x)), o.neg(c), c),
  log1p: (o, c, x) => o.div(c, o.add(x, o.lit(1, x))),
  expm1: (o, c, _x, y) => o.mul(c, o.add(y, o.lit(1, y))),
  erf: (o, c, x) => o.mul(c, o.mul(o.lit(2 / Math.sqrt(Math.PI), x), o.un("exp", o.neg(o.square(x))))),
  square: (o, c, x) => o.mul(c, o.mul(o.lit(2, x), x)),
  asin: (o, c, x) => o.mul(c, o.un("rsqrt", o.sub(o.lit(1, x), o.square(x)))),
  acos: (o, c, x) => o.mul(c, o.neg(o.un("rsqrt", o.sub(o.lit(1, x), o.square(x))))),
  atan: (o, c, x) => o.div(c, o.add(o.lit(1, x), o.square(x))),
  sinh: (o, c, x) => o.mul(c, o.un("cosh", x)),
  cosh: (o, c, x) => o.mul(c, o.un("sinh", x)),
  asinh: (o, c, x) => o.mul(c, o.un("rsqrt", o.add(o.square(x), o.lit(1, x)))),
  acosh: (o, c, x) => o.mul(c, o.un("rsqrt", o.mul(o.sub(x, o.lit(1, x)), o.add(x, o.lit(1, x))))),
  atanh: (o, c, x) => o.div(c, o.sub(o.lit(1, x), o.square(x))),
};

/** Elementwise binary rules: (ct_x, ct_y) at the broadcast shape, before unbroadcasting. */
const BINARY_VJP: { [P in BinaryPrim]?: (o: Ops, ct: Val, x: Val, y: Val, z: Val, need: boolean[]) => [Ct, Ct] } = {
  add: (_o, c) => [c, c],
  sub: (o, c, _x, _y, _z, need) => [c, need[1] ? o.neg(c) : null],
  mul: (o, c, x, y, _z, need) => [need[0] ? o.mul(c, y) : null, need[1] ? o.mul(x, c) : null],
  // d(x/y)/dy = -x/y² = -z/y.
  div: (o, c, _x, y, z, need) => [need[0] ? o.div(c, y) : null, need[1] ? o.mul(o.neg(c), o.div(z, y)) : null],
  // rem(x, y) = x - y * trunc(x / y).
  rem: (o, c, x, y, _z, need) => {
    if (!need[1]) return [c, null];
    const q = o.div(x, y);
    return [need[0] ? c : null, o.mul(o.neg(c), o.mul(o.un("sign", q), o.un("floor", o.un("abs", q))))];
  },
  // As JAX: the x-derivative is 0 where y == 0, and log(0) is read as log(1) for the y-derivative.
  pow: (o, c, x, y, z, need) => {
    let gx: Ct = null, gy: Ct = null;
    if (need[0]) {
      const y0 = o.bin("eq", y, o.lit(0, y));
      const ySafe = o.select(y0, y, o.lit(1, y));
      const jac = o.select(y0, o.mul(ySafe, o.bin("pow", x, o.sub(y, o.lit(1, y)))), o.lit(0, y));
      gx = o.mul(c, jac);
    }
    if (need[1]) {
      const xSafe = o.select(o.bin("eq", x, o.lit(0, x)), x, o.lit(1, x));
      gy = o.mul(c, o.mul(o.un("log", xSafe), z));
    }
    return [gx, gy];
  },
  // As JAX: where x and y tie, each gets half.
  max: (o, c, x, y, z, need) => chooserVjp(o, c, x, y, z, need),
  min: (o, c, x, y, z, need) => chooserVjp(o, c, x, y, z, need),
  atan2: (o, c, x, y, _z, need) => {
    const r2 = o.add(o.square(x), o.square(y));
    return [need[0] ? o.mul(c, o.div(y, r2)) : null, need[1] ? o.mul(c, o.div(o.neg(x), r2)) : null];
  },
};

function chooserVjp(o: Ops, c: Val, x: Val, y: Val, z: Val, need: boolean[]): [Ct, Ct] {
  const share = (a: Val, b: Val): Val => o.div(o.select(o.bin("eq", a, z), o.lit(0, z), o.lit(1, z)), o.select(o.bin("eq", b, z), o.lit(1, z), o.lit(2, z)));
  return [need[0] ? o.mul(c, share(x, y)) : null, need[1] ? o.mul(c, share(y, x)) : null];
}

/** Reverse cumulative-max/min: each output's cotangent goes to the input element it copies. */
function cumChooserVjp(o: Ops, x: Val, z: Val, ct: Val, axis: number, reverse: boolean): Val {
  // Pairs (i, j) along the axis in an [.., i, j, ..] array: j is at or after i in scan order
  // and z[j] == x[i]. O(n²) in the axis length; exact unless equal values tie.
  const s = x.aval.shape;
  const n = s[axis];
  const pair = [...s.slice(0, axis + 1), n, ...s.slice(axis + 1)];
  const asI = range(s.length).map((d) => (d <= axis ? d : d + 1));
  const asJ = range(s.length).map((d) => (d < axis ? d : d + 1));
  const xi = o.bcast(x, pair, asI), zj = o.bcast(z, pair, asJ), cj = o.bcast(ct, pair, asJ);
  const i = o.bind("iota", [], { dtype: "i32", shape: pair, dimension: axis });
  const j = o.bind("iota", [], { dtype: "i32", shape: pair, dimension: axis + 1 });
  const after = o.bin(reverse ? "le" : "ge", j, i);
  const hit = o.bin("and", o.bin("eq", xi, zj), after);
  return o.reduceSum(o.select(hit, o.lit(0, ct), cj), [axis + 1]);
}

/** Rules for the structured primitives. */
const STRUCTURED_VJP: { [P in Exclude<Prim, UnaryPrim | BinaryPrim | ComparePrim>]?: VjpRule<P> } = {
  integer_pow: ({ o, ct, ins: [x], params: { y } }) => {
    if (y === 0) return [null];
    if (y === 1) return [ct];
    const d = y === 2 ? o.mul(o.lit(2, x), x) : o.mul(o.lit(y, x), o.bind("integer_pow", [x], { y: y - 1 }));
    return [o.mul(ct, d)];
  },
  select_n: ({ o, ct, ins: [pred, ...cases], need }) => [
    null,
    ...cases.map((cs, k) => {
      if (!need[k + 1]) return null;
      const picks = cases.map((_, m) => (m === k ? ct : o.lit(0, ct)));
      return o.unbroadcast(o.bind("select_n", [pred, ...picks], {}), cs.aval);
    }),
  ],
  convert_element_type: ({ o, ct, ins: [x] }) => [isFloat(x.aval.dtype) ? o.convert(ct, x.aval.dtype) : null],
  broadcast_in_dim: ({ o, ct, ins: [x], params }) => {
    const xs = x.aval.shape, out = params.shape;
    const bd = params.broadcast_dimensions;
    // Sum over the new dims and over the operand's size-1 dims that were stretched.
    const stretched = range(xs.length).filter((i) => xs[i] === 1 && out[bd[i]] !== 1).map((i) => bd[i]);
    const axes = range(out.length).filter((d) => !bd.includes(d) || stretched.includes(d));
    // The remaining dims follow the output's order; put them in the operand's (JAX keeps
    // broadcast_dimensions increasing, so this is normally no transpose), then re-add size-1 dims.
    const labels = range(out.length).filter((d) => !axes.includes(d)).map((d) => bd.indexOf(d));
    const order = [...labels].sort((a, b) => a - b);
    return [o.reshape(o.toLayout(o.reduceSum(ct, axes), labels.map((l) => order.indexOf(l))), xs)];
  },
  clamp: ({ o, ct, ins: [lo, x, hi], need }) => {
    const zero = o.lit(0, ct);
    const inside = o.bin("and", o.bin("gt", x, lo), o.bin("lt", x, hi));
    return [
      need[0] ? o.unbroadcast(o.select(o.bin("and", o.bin("gt", lo, x), o.bin("lt", lo, hi)), zero, ct), lo.aval) : null,
      need[1] ? o.select(inside, zero, ct) : null,
      need[2] ? o.unbroadcast(o.select(o.bin("lt", hi, x), zero, ct), hi.aval) : null,
    ];
  },
  reduce_sum: ({ o, ct, ins: [x], params: { axes } }) => {
    const kept = range(x.aval.shape.length).filter((d) => !axes.includes(d));
    return [o.bcast(ct, x.aval.shape, kept)];
  },
  // As JAX: the cotangent is shared equally among the elements equal to the extremum.
  reduce_max: ({ o, ct, ins: [x], outs: [z], params: { axes } }) => [reduceChooserVjp(o, ct, x, z, axes)],
  reduce_min: ({ o, ct, ins: [x], outs: [z], params: { axes } }) => [reduceChooserVjp(o, ct, x, z, axes)],
  reduce_prod: ({ o, ct, ins: [x], params: { axes } }) => [reduceProdVjp(o, ct, x, axes)],
  cumsum: ({ o, ct, params: { axis, reverse } }) => [o.bind("cumsum", [ct], { axis, reverse: !reverse })],
  // d z_j / d x_i = z_j / x_i for i <= j: exact for nonzero x (a zero input gives NaN).
  cumprod: ({ o, ct, ins: [x], outs: [z], params: { axis, reverse } }) => [o.div(o.bind("cumsum", [o.mul(ct, z)], { axis, reverse: !reverse }), x)],
  cummax: ({ o, ct, ins: [x], outs: [z], params: { axis, reverse } }) => [cumChooserVjp(o, x, z, ct, axis, reverse)],
  cummin: ({ o, ct, ins: [x], outs: [z], params: { axis, reverse } }) => [cumChooserVjp(o, x, z, ct, axis, reverse)],
  dot_general: ({ o, ct, ins: [x, y], params, need }) => dotGeneralVjp(o, ct, x, y, params, need),
  reshape: ({ o, ct, ins: [x] }) => [o.reshape(ct, x.aval.shape)],
  transpose: ({ o, ct, params: { permutation } }) => {
    const inv: number[] = [];
    permutation.forEach((p, i) => (inv[p] = i));
    return [o.transpose(ct, inv)];
  },
  squeeze: ({ o, ct, ins: [x] }) => [o.reshape(ct, x.aval.shape)],
  concatenate: ({ o, ct, ins, params: { dimension }, need }) => {
    const sizes = ins.map((x) => x.aval.shape[dimension]);
    if (need.every(Boolean) && ins.length > 1) return o.b.bindMulti("split", [ct], { sizes, axis: dimension });
    let at = 0;
    return ins.map((x, k) => {
      const start = at;
      at += sizes[k];
      if (!need[k]) return null;
      const s = ct.aval.shape;
      return o.bind("slice", [ct], { start_indices: s.map((_, d) => (d === dimension ? start : 0)), limit_indices: s.map((n, d) => (d === dimension ? start + sizes[k] : n)), strides: null });
    });
  },
  split: ({ o, cts, outs, params: { axis } }) => {
    const pieces = outs.map((y, k) => cts[k] ?? o.zeros(y.aval));
    return [pieces.length === 1 ? pieces[0] : o.bind("concatenate", pieces, { dimension: axis })];
  },
  slice: ({ o, ct, ins: [x], params }) => {
    const st = params.start_indices, strides = params.strides ?? st.map(() => 1);
    const cs = ct.aval.shape;
    const config = x.aval.shape.map((n, d): [number, number, number] => {
      const end = cs[d] === 0 ? st[d] : st[d] + (cs[d] - 1) * strides[d] + 1;
      return [st[d], n - end, strides[d] - 1];
    });
    return [o.bind("pad", [ct, o.lit(0, ct)], { padding_config: config })];
  },
  rev: ({ o, ct, params: { dimensions } }) => [o.bind("rev", [ct], { dimensions })],
  pad: ({ o, ct, params: { padding_config }, need }) => {
    // Undo lo/hi (negative padding crops), then take every (interior + 1)-th element.
    const crop = padding_config.some(([lo, hi]) => lo !== 0 || hi !== 0)
      ? o.bind("pad", [ct, o.lit(0, ct)], { padding_config: padding_config.map(([lo, hi]): [number, number, number] => [-lo, -hi, 0]) })
      : ct;
    const strides = padding_config.map(([, , interior]) => interior + 1);
    const gx = strides.some((s) => s !== 1)
      ? o.bind("slice", [crop], { start_indices: strides.map(() => 0), limit_indices: [...crop.aval.shape], strides })
      : crop;
    const all = (v: Val) => o.reduceSum(v, range(v.aval.shape.length));
    // The padding value's cotangent: what the padded positions received.
    const gv = need[1] ? o.sub(all(ct), all(gx)) : null;
    return [need[0] ? gx : null, gv];
  },
  dynamic_slice: ({ o, ct, ins: [x, ...idx] }) => [o.bind("dynamic_update_slice", [o.zeros(x.aval), ct, ...idx], {}), ...idx.map(() => null)],
  dynamic_update_slice: ({ o, ct, ins: [, u, ...idx], need }) => [
    need[0] ? o.bind("dynamic_update_slice", [ct, o.zeros(u.aval), ...idx], {}) : null,
    need[1] ? o.bind("dynamic_slice", [ct, ...idx], { slice_sizes: [...u.aval.shape] }) : null,
    ...idx.map(() => null),
  ],
  gather: ({ o, ct, ins: [x, idx], params: p }) => {
    const dn = p.dimension_numbers;
    const sdn: ScatterDims = {
      update_window_dims: dn.offset_dims, inserted_window_dims: dn.collapsed_slice_dims, scatter_dims_to_operand_dims: dn.start_index_map,
      operand_batching_dims: dn.operand_batching_dims, scatter_indices_batching_dims: dn.start_indices_batching_dims,
    };
    return [o.bind("scatter-add", [o.zeros(x.aval), idx, ct], { dimension_numbers: sdn, mode: p.mode, indices_are_sorted: p.indices_are_sorted, unique_indices: p.unique_indices }), null];
  },
  "scatter-add": ({ o, ct, ins: [x, idx, u], params: p, need }) => [
    need[0] ? ct : null,
    null,
    need[2] ? gatherUpdates(o, ct, x, idx, u, p) : null,
  ],
  scatter: ({ o, ct, ins: [x, idx, u], params: p, need }) => {
    const gx = need[0] ? o.bind("scatter", [ct, idx, o.zeros(u.aval)], p) : null;
    if (!need[2]) return [gx, null, null];
    let gu: Val = gatherUpdates(o, ct, x, idx, u, p);
    if (!p.unique_indices) {
      // With repeated indices only the update that was written last gets the cotangent: scatter
      // each update's id, read the ids back, and keep the updates that find their own.
      const ids = o.reshape(o.add(o.bind("iota", [], { dtype: "i32", shape: [size(u.aval.shape)], dimension: 0 }), o.lit(1, "i32")), u.aval.shape);
      const written = o.bind("scatter", [o.zeros({ shape: x.aval.shape, dtype: "i32", weak: false }), idx, ids], p);
      const won = o.bin("eq", gatherUpdates(o, written, x, idx, u, p), ids);
      gu = o.select(won, o.lit(0, gu), gu);
    }
    return [gx, null, gu];
  },
  // out = x * (product of the updates at each position).
  "scatter-mul": ({ o, ct, ins: [x, idx, u], outs: [z], params: p, need }) => {
    const gx = need[0] ? o.bind("scatter-mul", [ct, idx, u], p) : null;
    if (!need[2]) return [gx, null, null];
    // Unique indices: d out/d u = x at the position; otherwise out/u (exact for nonzero u).
    const gu = p.unique_indices ? gatherUpdates(o, o.mul(ct, x), x, idx, u, p) : o.div(gatherUpdates(o, o.mul(ct, z), x, idx, u, p), u);
    return [gx, null, gu];
  },
};

// ------------------------------------------------------------------ higher-order primitives

/** A fresh builder for a sub-jaxpr, with the current source position. */
function subBuilder(at: JaxprBuilder): JaxprBuilder {
  const nb = new JaxprBuilder();
  nb.span = at.span;
  nb.callStack = at.callStack;
  return nb;
}

/** Finishes a sub-jaxpr that must be closed (every value it uses is one of its inputs), without
 *  the replayed forward equations its outputs do not need. */
function closed(nb: JaxprBuilder, outs: Val[]): Jaxpr {
  const { jaxpr, captured } = nb.finishSub(outs.map(atomOf));
  if (captured.length) throw new Error("internal error: a backward sub-jaxpr uses values from outside it");
  const live = new Set<number>();
  const use = (a: Atom) => { if (a.kind === "var") live.add(a.id); };
  jaxpr.outvars.forEach(use);
  const kept: Eqn[] = [];
  for (let i = jaxpr.eqns.length - 1; i >= 0; i--) {
    const e = jaxpr.eqns[i];
    if (!e.outputs.some((v) => live.has(v.id))) continue;
    kept.push(e);
    e.inputs.forEach(use);
  }
  return { ...jaxpr, eqns: kept.reverse() };
}

/**
 * The backward pass of a closed jaxpr as a closed jaxpr: inputs are the primal inputs, then the
 * output cotangents marked `given`; outputs are the cotangents of the inputs marked `active`
 * (zeros where none flows, so that every branch of a cond returns the same types).
 */
function backwardJaxpr(at: JaxprBuilder, j: Jaxpr, active: boolean[], given: boolean[]): Jaxpr {
  const nb = subBuilder(at);
  const primals = j.invars.map((v) => nb.input(v.aval, "primal"));
  const cts = j.outvars.map((a, k) => (given[k] ? nb.input(a.aval, "ct") : null));
  const { pullback } = vjpJaxpr(nb, j, primals, active);
  const gs = pullback(cts);
  const o = new Ops(nb);
  return closed(nb, j.invars.flatMap((v, i) => (active[i] ? [gs[i] ?? o.zeros(v.aval)] : [])));
}

/** Spreads the results of a backward call over the inputs that wanted a cotangent. */
function spread(need: boolean[], results: Val[]): Ct[] {
  let k = 0;
  return need.map((n) => (n ? results[k++] : null));
}

const given = (cts: Ct[]): Val[] => cts.filter((c): c is Val => c !== null);

/** Cotangent rules of the primitives that hold sub-jaxprs. */
const HIGHER_ORDER_VJP: { [P in "jit" | "cond" | "scan"]?: VjpRule<P> } = {
  // The backward pass of a jitted call is a jitted call too (named as JAX names it).
  jit: ({ o, ins, cts, params, need }) => {
    const bwd = backwardJaxpr(o.b, params.jaxpr, need, cts.map((c) => c !== null));
    return spread(need, o.b.bindMulti("jit", [...ins, ...given(cts)], { name: `transpose(jvp(${params.name}))`, jaxpr: bwd }));
  },
  // A cond over the branches' backward passes, on the same index.
  cond: ({ o, ins: [index, ...ops], cts, params, need }) => {
    const opNeed = need.slice(1);
    const branches = params.branches.map((br) => backwardJaxpr(o.b, br, opNeed, cts.map((c) => c !== null)));
    return [null, ...spread(opNeed, o.b.bindMulti("cond", [index, ...ops, ...given(cts)], { branches }))];
  },
  scan: (a) => scanVjp(a),
};

/**
 * scan's backward pass: a second forward scan stacks each step's input carry; then a scan in
 * the opposite direction runs the body's backward pass step by step, carrying the carries'
 * cotangents and summing the consts' cotangents, and stacking the xs' cotangents.
 */
function scanVjp({ o, ins, outs, cts, params: p, need }: VjpArgs<"scan">): Ct[] {
  const nC = p.num_consts, nK = p.num_carry;
  const consts = ins.slice(0, nC), init = ins.slice(nC, nC + nK), xs = ins.slice(nC + nK);
  const body = p.jaxpr;
  const row = (v: Val): Aval => ({ shape: v.aval.shape.slice(1), dtype: v.aval.dtype, weak: v.aval.weak });

  // 1. The carry entering each step, stacked.
  const fb = subBuilder(o.b);
  const fIns = body.invars.map((v) => fb.input(v.aval, "x"));
  const fOuts = vjpJaxpr(fb, body, fIns, fIns.map(() => false)).outs;
  const stackJ = closed(fb, [...fOuts.slice(0, nK), ...fIns.slice(nC, nC + nK)]);
  const carries = o.b.bindMulti("scan", ins, { ...p, jaxpr: stackJ, num_carry: nK, linear: ins.map(() => false) }).slice(nK);

  // 2. The backward scan. Float carries always carry a cotangent (a carry can become dependent
  //    on a differentiated value inside the loop); consts and xs only where wanted.
  const cNeed = need.slice(0, nC), xNeed = need.slice(nC + nK);
  const kFloat = init.map((c) => isFloat(c.aval.dtype));
  const yGiven = cts.slice(nK).map((c) => c !== null);
  const bb = subBuilder(o.b);
  const bConsts = consts.map((c) => bb.input(c.aval, "const"));
  const bCtCarry = init.map((c, i) => (kFloat[i] ? bb.input(c.aval, "ct") : null));
  const bAcc = consts.map((c, i) => (cNeed[i] ? bb.input(c.aval, "ct") : null));
  const bCarry = init.map((c) => bb.input(c.aval, "carry"));
  const bX = xs.map((x) => bb.input(row(x), "x"));
  const bCtY = outs.slice(nK).map((y, k) => (yGiven[k] ? bb.input(row(y), "ct") : null));
  const { pullback } = vjpJaxpr(bb, body, [...bConsts, ...bCarry, ...bX], [...cNeed, ...kFloat, ...xNeed]);
  const gs = pullback([...bCtCarry, ...bCtY]);
  const ob = new Ops(bb);
  const stepCarry = init.flatMap((c, i) => (kFloat[i] ? [gs[nC + i] ?? ob.zeros(c.aval)] : []));
  const stepAcc = consts.flatMap((_, i) => (cNeed[i] ? [gs[i] ? ob.add(bAcc[i]!, gs[i]!) : bAcc[i]!] : []));
  const stepX = xs.flatMap((x, i) => (xNeed[i] ? [gs[nC + nK + i] ?? ob.zeros(row(x))] : []));
  const bwdJ = closed(bb, [...stepCarry, ...stepAcc, ...stepX]);

  const ctFinal = init.flatMap((c, i) => (kFloat[i] ? [cts[i] ?? o.zeros(c.aval)] : []));
  const accInit = consts.flatMap((c, i) => (cNeed[i] ? [o.zeros(c.aval)] : []));
  const operands = [...consts, ...ctFinal, ...accInit, ...carries, ...xs, ...given(cts.slice(nK))];
  const r = o.b.bindMulti("scan", operands, {
    _split_transpose: false, jaxpr: bwdJ, length: p.length, linear: operands.map(() => false),
    num_carry: ctFinal.length + accInit.length, num_consts: nC, reverse: !p.reverse, unroll: p.unroll,
  });
  const ctInit = r.slice(0, ctFinal.length), ctConsts = r.slice(ctFinal.length, ctFinal.length + accInit.length), ctXs = r.slice(ctFinal.length + accInit.length);
  let ki = 0;
  return [
    ...spread(cNeed, ctConsts),
    ...init.map((_, i) => (kFloat[i] ? ctInit[ki++] : null)),
    ...spread(xNeed, ctXs),
  ];
}

/** Reads each update's window back out of an operand-shaped array (the transpose of scatter-add). */
function gatherUpdates(o: Ops, from: Val, x: Val, idx: Val, u: Val, p: Params["scatter-add"]): Tracer {
  const dn = p.dimension_numbers;
  const windowDims = range(x.aval.shape.length).filter((d) => !dn.inserted_window_dims.includes(d) && !dn.operand_batching_dims.includes(d));
  const sliceSizes = range(x.aval.shape.length).map((d) => {
    const k = windowDims.indexOf(d);
    return k < 0 ? 1 : u.aval.shape[dn.update_window_dims[k]];
  });
  const gdn: GatherDims = {
    offset_dims: dn.update_window_dims, collapsed_slice_dims: dn.inserted_window_dims, start_index_map: dn.scatter_dims_to_operand_dims,
    operand_batching_dims: dn.operand_batching_dims, start_indices_batching_dims: dn.scatter_indices_batching_dims,
  };
  // fill_value 0: a window the scatter dropped (out of bounds) gets no cotangent.
  return o.bind("gather", [from, idx], { dimension_numbers: gdn, slice_sizes: sliceSizes, mode: p.mode, fill_value: 0, indices_are_sorted: p.indices_are_sorted, unique_indices: p.unique_indices });
}

function reduceChooserVjp(o: Ops, ct: Val, x: Val, z: Val, axes: number[]): Val {
  const xs = x.aval.shape;
  const kept = range(xs.length).filter((d) => !axes.includes(d));
  const at = o.convert(o.bin("eq", x, o.bcast(z, xs, kept)), x.aval.dtype);
  const counts = o.reduceSum(at, axes);
  return o.mul(o.bcast(o.div(ct, counts), xs, kept), at);
}

/** Product of all the other elements of each reduced group, without dividing (zeros are fine):
 *  exclusive prefix products times exclusive suffix products. */
function reduceProdVjp(o: Ops, ct: Val, x: Val, axes: number[]): Val {
  const xs = x.aval.shape;
  if (size(xs) === 0) return o.zeros(x.aval);
  const kept = range(xs.length).filter((d) => !axes.includes(d));
  const perm = [...kept, ...axes];
  const m = size(kept.map((d) => xs[d])), n = size(axes.map((d) => xs[d]));
  const flat = o.reshape(o.transpose(x, perm), [m, n]);
  const one = o.lit(1, x);
  const exclusive = (reverse: boolean): Val => {
    if (n === 1) return o.bind("broadcast_in_dim", [one], { shape: [m, 1], broadcast_dimensions: [] });
    const cp = o.bind("cumprod", [flat], { axis: 1, reverse });
    const part = o.bind("slice", [cp], { start_indices: [0, reverse ? 1 : 0], limit_indices: [m, reverse ? n : n - 1], strides: null });
    return o.bind("pad", [part, one], { padding_config: [[0, 0, 0], reverse ? [0, 1, 0] : [1, 0, 0]] });
  };
  const others = o.mul(exclusive(false), exclusive(true));
  const g = o.mul(others, o.reshape(ct, [m, 1]));
  const back = o.reshape(g, perm.map((d) => xs[d]));
  return o.toLayout(back, perm);
}

function dotGeneralVjp(o: Ops, ct: Val, x: Val, y: Val, params: Params["dot_general"], need: boolean[]): Ct[] {
  const [[xc, yc], [xb, yb]] = params.dimension_numbers;
  const xr = x.aval.shape.length, yr = y.aval.shape.length;
  const xFree = range(xr).filter((d) => !xc.includes(d) && !xb.includes(d));
  const yFree = range(yr).filter((d) => !yc.includes(d) && !yb.includes(d));
  // The cotangent's dims: batch, then x's free dims, then y's free dims.
  const nb = xb.length;
  const ctBatch = range(nb);
  const ctX = xFree.map((_, k) => nb + k);
  const ctY = yFree.map((_, k) => nb + xFree.length + k);
  let gx: Ct = null, gy: Ct = null;
  if (need[0]) {
    // ct · y over y's free dims: [batch, x free, y's contracting dims in y's order], relabelled as x's dims.
    const r = o.dot(ct, y, [ctY, yFree], [ctBatch, yb], x.aval.dtype);
    const yContract = range(yr).filter((d) => yc.includes(d));
    gx = o.toLayout(r, [...xb, ...xFree, ...yContract.map((d) => xc[yc.indexOf(d)])]);
  }
  if (need[1]) {
    const r = o.dot(ct, x, [ctX, xFree], [ctBatch, xb], y.aval.dtype);
    const xContract = range(xr).filter((d) => xc.includes(d));
    gy = o.toLayout(r, [...yb, ...yFree, ...xContract.map((d) => yc[xc.indexOf(d)])]);
  }
  return [gx, gy];
}

/** Primitives whose outputs carry no cotangent (their derivative is zero or undefined). */
export const NON_DIFFERENTIABLE = new Set<Prim>([
  "sign", "floor", "ceil", "round", "is_finite", "not", "and", "or", "xor",
  "eq", "ne", "lt", "le", "gt", "ge", "stop_gradient", "iota", "argmax", "argmin", "reduce_and", "reduce_or",
]);

/** Why a primitive has no rule, where JAX says more than "not implemented". */
const NO_RULE: { [P in Prim]?: string } = {
  while: "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with dynamic start/stop values. Try using lax.scan, or using fori_loop with static start/stop.",
};

/** The rule table: one VJP per differentiable primitive. */
export const VJP_RULES: { [P in Prim]?: VjpRule<P> } = (() => {
  const t: { [P in Prim]?: VjpRule<P> } = { ...STRUCTURED_VJP, ...HIGHER_ORDER_VJP };
  for (const [p, f] of Object.entries(UNARY_VJP) as [UnaryPrim, (o: Ops, ct: Val, x: Val, y: Val) => Val][]) {
    t[p] = ({ o, ct, ins, outs }) => [f(o, ct, ins[0], outs[0])];
  }
  for (const [p, f] of Object.entries(BINARY_VJP) as [BinaryPrim, NonNullable<(typeof BINARY_VJP)[BinaryPrim]>][]) {
    t[p] = ({ o, ct, ins: [x, y], outs: [z], need }) => {
      const [gx, gy] = f(o, ct, x, y, z, need);
      return [need[0] && gx ? o.unbroadcast(gx, x.aval) : null, need[1] && gy ? o.unbroadcast(gy, y.aval) : null];
    };
  }
  return t;
})();

// ------------------------------------------------------------------ the jaxpr-level transformation

interface Replayed {
  eqn: Eqn;
  ins: Val[];
  outs: Val[];
}

/**
 * Replays `jaxpr` into `b` on `inputs` (one per invar) and returns its outputs and a pullback:
 * given a cotangent per output (null = zero), it emits the backward pass and returns the
 * cotangent of each input (null where zero or where the input is not `active`).
 */
export function vjpJaxpr(b: JaxprBuilder, jaxpr: Jaxpr, inputs: Val[], active: boolean[]): { outs: Val[]; pullback: (cts: Ct[]) => Ct[] } {
  const env = new Map<number, Val>();
  const isActive = new Set<number>();
  jaxpr.constvars.forEach((v, i) => env.set(v.id, b.constant(jaxpr.consts[i])));
  jaxpr.invars.forEach((v, i) => {
    env.set(v.id, inputs[i]);
    if (active[i] && isFloat(v.aval.dtype)) isActive.add(v.id);
  });
  const read = (a: Atom): Val => (a.kind === "lit" ? a : env.get(a.id) ?? new Tracer(a));
  const activeAtom = (a: Atom) => a.kind === "var" && isActive.has(a.id);

  const span = b.span, callStack = b.callStack;
  const tape: Replayed[] = [];
  try {
    for (const e of jaxpr.eqns) {
      b.span = e.span;
      b.callStack = e.callStack ?? [];
      const ins = e.inputs.map(read);
      const outs = b.bindMulti(e.prim, ins, e.params);
      e.outputs.forEach((v, i) => env.set(v.id, outs[i]));
      if (!NON_DIFFERENTIABLE.has(e.prim) && e.inputs.some(activeAtom)) {
        for (const v of e.outputs) if (isFloat(v.aval.dtype)) isActive.add(v.id);
        tape.push({ eqn: e, ins, outs });
      }
    }
  } finally {
    b.span = span;
    b.callStack = callStack;
  }

  const pullback = (seeds: Ct[]): Ct[] => {
    const cts = new Map<number, Val>();
    const o = new Ops(b);
    const accumulate = (a: Atom, g: Ct) => {
      if (!g || !activeAtom(a)) return;
      const id = (a as { id: number }).id;
      const prev = cts.get(id);
      cts.set(id, prev ? o.add(prev, g) : g);
    };
    jaxpr.outvars.forEach((a, i) => accumulate(a, seeds[i]));
    const span0 = b.span, stack0 = b.callStack;
    try {
      for (let k = tape.length - 1; k >= 0; k--) {
        const { eqn: e, ins, outs } = tape[k];
        const outCts = e.outputs.map((v) => cts.get(v.id) ?? null);
        if (outCts.every((c) => c === null)) continue;
        b.span = e.span;
        b.callStack = e.callStack ?? [];
        const rule = VJP_RULES[e.prim] as VjpRule<Prim> | undefined;
        if (!rule) throw new JitError("UnsupportedError", NO_RULE[e.prim] ?? `JIT Lens cannot differentiate '${e.prim}' (no gradient rule)`, e.span);
        const need = e.inputs.map(activeAtom);
        const gs = rule({ o, ins, outs, params: e.params, cts: outCts, ct: outCts[0] as Val, need });
        e.inputs.forEach((a, i) => accumulate(a, gs[i] ?? null));
      }
    } finally {
      b.span = span0;
      b.callStack = stack0;
    }
    return jaxpr.invars.map((v) => cts.get(v.id) ?? null);
  };
  return { outs: jaxpr.outvars.map(read), pullback };
}

/** The gradient of a jaxpr's first (scalar, float) output with respect to the inputs `wrt`, as a new
 *  jaxpr over fresh inputs of the same types. For tests and tools working on jaxprs directly. */
export function gradJaxpr(b: JaxprBuilder, jaxpr: Jaxpr, wrt: number[]): Jaxpr {
  const ins = jaxpr.invars.map((v, i) => b.input(v.aval, `arg${i}`));
  const { outs, pullback } = vjpJaxpr(b, jaxpr, ins, ins.map((_, i) => wrt.includes(i)));
  const seed = literal(1, { shape: [], dtype: outs[0].aval.dtype, weak: false });
  const gs = pullback([seed, ...outs.slice(1).map(() => null)]);
  const o = new Ops(b);
  return b.finish(wrt.map((i) => atomOf(gs[i] ?? o.zeros(jaxpr.invars[i].aval))));
}

// ------------------------------------------------------------------ jax.grad / jax.value_and_grad

const ARG_SIG = ["fun", "argnums=0", "has_aux=False", "holomorphic=False", "allow_int=False", "reduce_axes=()"];

/** `jax.grad(fun, ...)` and `jax.value_and_grad(fun, ...)`: a builtin that differentiates `fun` when called. */
export function makeGrad(it: Interpreter, which: "grad" | "value_and_grad", args: PyValue[], kwargs: Kwargs): PyValue {
  const a = bindSig(`jax.${which}`, ARG_SIG, args, kwargs);
  const fun = a.fun!;
  if (fun.k !== "function" && fun.k !== "builtin" && fun.k !== "dtype") throw new JitError("TypeError", `Expected a callable value, got ${pyRepr(fun)}`);
  const flag = (v: PyValue | undefined) => v !== undefined && v.k !== "none" && it.truthy(v, it.currentNode, `jax.${which}'s flags`);
  const argnumsV: PyValue = a.argnums ?? new PyInt(0);
  let argnums: number[];
  let single: boolean;
  const asInt = (v: PyValue): number => {
    if (v.k !== "int") throw new JitError("TypeError", `argnums must be an int or a tuple of ints, got ${pyRepr(argnumsV)}`);
    return v.v;
  };
  if (argnumsV.k === "int") { argnums = [argnumsV.v]; single = true; }
  else if (argnumsV.k === "tuple" || argnumsV.k === "list") { argnums = argnumsV.items.map(asInt); single = false; }
  else throw new JitError("TypeError", `argnums must be an int or a tuple of ints, got ${pyRepr(argnumsV)}`);
  const hasAux = flag(a.has_aux);
  if (flag(a.holomorphic)) throw new JitError("UnsupportedError", `jax.${which}(holomorphic=True) needs complex numbers, which JIT Lens does not support`);
  if (flag(a.allow_int)) throw new JitError("UnsupportedError", `jax.${which}(allow_int=True) is not supported by JIT Lens yet`);
  const fname = fun.k === "dtype" ? "dtype" : fun.name;
  const argnumsText = single ? String(argnums[0]) : `(${argnums.join(", ")}${argnums.length === 1 ? "," : ""})`;

  return new PyBuiltin(`${which}(${fname})`, (callArgs, callKwargs) => {
    const maxArg = Math.max(...argnums);
    if (maxArg >= callArgs.length) {
      throw new JitError("TypeError", `differentiating with respect to argnums=${argnumsText} requires at least ${maxArg + 1} positional arguments to be passed by the caller, but got only ${callArgs.length} positional arguments.`);
    }
    const b = it.builder;
    const callSpan = b.span, callStack = b.callStack;
    const paramNames = fun.k === "function" ? fun.params.filter((p) => p.kind === "normal").map((p) => p.name) : [];

    // The differentiated leaves: their avals (checked as JAX does) and their values here.
    const trees = argnums.map((i) => {
      const leaves: PyValue[] = [];
      const tree = flattenTree(callArgs[i], leaves);
      const vals = leaves.map((l) => gradLeaf(it, l));
      return { i, tree, vals };
    });

    const sub = it.traceSub((sb) => {
      const newArgs = [...callArgs];
      for (const t of trees) {
        const name = paramNames[t.i] ?? `argument ${t.i}`;
        const fresh: PyValue[] = t.vals.map((v) => sb.input({ ...v.aval, shape: [...v.aval.shape] }, name));
        newArgs[t.i] = unflattenTree(t.tree, fresh);
      }
      return newArgs;
    }, fun, callKwargs);

    // The value: a scalar float, first among the output leaves.
    let value = sub.out;
    if (hasAux && (value.k !== "tuple" || value.items.length !== 2)) {
      throw new JitError("TypeError", `expected function with aux output to return a two-element tuple, but got type <class '${pyTypeName(value)}'> with value ${pyRepr(value)}`);
    }
    if (hasAux) value = (value as PyTuple).items[0];
    checkScalarOutput(value);

    // Forward pass here, then the backward pass seeded with 1.0 on the value.
    const captured = sub.captured.map((x): Val => (x.kind === "lit" ? x : new Tracer(x)));
    const diffVals = trees.flatMap((t) => t.vals);
    const inputs = [...captured, ...diffVals];
    const active = inputs.map((_, k) => k >= captured.length);
    const { outs, pullback } = vjpJaxpr(b, sub.jaxpr, inputs, active);
    b.span = callSpan;
    b.callStack = callStack;
    const seed = literal(1, { shape: [], dtype: outs[0].aval.dtype, weak: false });
    const gs = pullback([seed, ...outs.slice(1).map(() => null)]).slice(captured.length);
    const o = new Ops(b);
    let k = 0;
    const grads = trees.map((t) => unflattenTree(t.tree, t.vals.map((v) => toPy(gs[k++] ?? o.zeros(v.aval)))));
    const g: PyValue = single ? grads[0] : new PyTuple(grads);

    // Python numbers in aux stay Python numbers (JAX returns aux as the function made it).
    const made: PyValue[] = [];
    flattenTree(sub.out, made);
    const isPyNumber = (l: PyValue | undefined) => l !== undefined && (l.k === "int" || l.k === "float" || l.k === "bool");
    const out = unflattenTree(sub.outTree, outs.map((v, i) => (hasAux && i > 0 && isPyNumber(made[i]) ? made[i] : toPy(v))));
    if (which === "grad") return hasAux ? new PyTuple([g, (out as PyTuple).items[1]]) : g;
    return new PyTuple([out, g]);
  });
}

const toPy = (v: Val): Tracer => (v instanceof Tracer ? v : new Tracer(v));

/** A differentiated input leaf as a value here, with JAX's checks on its type. */
function gradLeaf(it: Interpreter, l: PyValue): Val {
  // JAX checks value_and_grad's inputs and output with grad's checks (and names them "grad").
  const bad = (dtype: DType) =>
    new JitError("TypeError", `grad requires real- or complex-valued inputs (input dtype that is a sub-dtype of np.inexact), but got ${dtypeNames[dtype]}. If you want to use Boolean- or integer-valued inputs, use vjp or set allow_int to True.`);
  switch (l.k) {
    case "tracer":
      if (!isFloat(l.aval.dtype)) throw bad(l.aval.dtype);
      return l;
    case "float":
      return it.np.toArray(l, "jax.grad");
    case "int":
      throw bad("i32");
    case "bool":
      throw bad("bool");
    default:
      throw new JitError("TypeError", `Argument ${pyRepr(l)} of type <class '${pyTypeName(l)}'> is not a valid JAX type`);
  }
}

function checkScalarOutput(v: PyValue): void {
  let aval: Aval;
  if (v.k === "tracer") aval = v.aval;
  else if (v.k === "float") aval = { shape: [], dtype: "f32", weak: true };
  else if (v.k === "int") aval = { shape: [], dtype: "i32", weak: true };
  else if (v.k === "bool") aval = { shape: [], dtype: "bool", weak: false };
  else throw new JitError("TypeError", `Gradient only defined for scalar-output functions. Output was ${pyRepr(v)}.`);
  if (aval.shape.length) {
    const n = size(aval.shape);
    const extract = n === 1 ? `extract the scalar with output.reshape(())${aval.shape.length === 1 ? " or output[0]" : ""}, ` : "";
    throw new JitError("TypeError", `Gradient only defined for scalar-output functions. Output had shape: ${shapeStr(aval.shape)}. To get the gradient, ${extract}reduce the output to a scalar with output.sum(), or use jax.jacobian to differentiate a function with a non-scalar output.`);
  }
  if (!isFloat(aval.dtype)) {
    throw new JitError("TypeError", `grad requires real-valued outputs (output dtype that is a sub-dtype of np.floating), but got ${dtypeNames[aval.dtype]}. For differentiation of functions with integer outputs, use jax.vjp directly.`);
  }
}

