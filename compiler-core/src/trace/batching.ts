// jax.vmap by batching rules.
//
// How it works, and why this way:
// - `jax.vmap(f, in_axes, out_axes)` returns a builtin. Calling it moves each mapped argument's
//   axis to the front (a transpose when the axis is not 0), traces `f` once on the per-example
//   values (the mapped axis removed) with Interpreter.traceSub, and then replays the resulting
//   jaxpr into the current builder, replacing every equation by its batched version. Tracing
//   the function once on per-example shapes is what JAX does too (a BatchTrace sees the same
//   primitives); doing it as trace-then-rewrite reuses the tracer unchanged, handles builtins
//   (jnp functions, jax.nn.softmax, a nested vmap or grad) like user functions, and leaves only
//   ordinary primitives in the jaxpr, so the lowering, fusion and runtimes need nothing new.
// - Every value in the rewrite is either unbatched (the same for every example) or batched with
//   its batch axis at 0. JAX lets the batch axis sit anywhere and moves it lazily; keeping it at
//   0 makes every rule a small, checkable shape computation, at the price of an occasional
//   transpose (after a dot_general where the batch axis lands among the free dims, and at the
//   end when out_axes is not 0).
// - Values captured from the enclosing trace, constants and unmapped arguments are unbatched.
//   Unmapped arguments are passed to `f` as they are (Python numbers stay static), as JAX does.
// - The rules follow JAX's (jax/_src/lax/*.py batching rules): elementwise ops broadcast an
//   unbatched operand along the batch axis (a rank-0 one stays a scalar), reductions and other
//   axis-taking ops shift their axes by one, dot_general gains a batch dimension when both sides
//   are batched and otherwise folds the batch axis into one side's free dims, gather/scatter use
//   their operand/indices batching dims, dynamic_slice with batched indices becomes a gather.
//   A primitive without a rule is a clear error naming it.
// - Higher-order primitives batch their sub-jaxprs with the same rules (batchSub). Loop carries
//   are batched where the body makes them so (a fixpoint, as JAX); a cond whose index differs
//   per example runs every branch and selects; a while whose predicate differs per example runs
//   until no example goes on, and an example that is done keeps its carry (a select in the body).
import { JitError } from "../frontend/source";
import { dtypeNames } from "../ir/dtypes";
import { BINARY, COMPARE, UNARY, type GatherDims, type Params, type Prim, type ScatterDims } from "../ir/primitives";
import { shapeStr } from "../ir/shapes";
import type { Atom, Aval, DType, Eqn, Jaxpr, Literal } from "../ir/types";
import { JaxprBuilder, literal } from "./builder";
import { bindSig } from "./jnp";
import type { Interpreter } from "./interp";
import { unflattenTree } from "./interp";
import {
  PyBuiltin, PyDict, PyInt, PyList, PyTuple, Tracer, keyOf, pyRepr, pyTypeName,
  type Kwargs, type PyValue,
} from "./values";

type Val = Tracer | Literal;

/** A value of the batched computation: unbatched (bd null) or batched along axis 0. */
export interface BVal {
  x: Val;
  bd: 0 | null;
}

const batched = (x: Val): BVal => ({ x, bd: 0 });
const unbatched = (x: Val): BVal => ({ x, bd: null });
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from);
const inc = (xs: readonly number[]): number[] => xs.map((d) => d + 1);

/** What a rule needs: the builder to emit into and the batch size. */
export class BatchCtx {
  constructor(readonly b: JaxprBuilder, readonly size: number) {}

  bind<P extends Prim>(prim: P, ins: Val[], params: Params[P]): Tracer {
    return this.b.bind(prim, ins, params);
  }

  /** The value with its batch axis at 0; an unbatched value is broadcast along a new axis 0. */
  lead(v: BVal): Val {
    if (v.bd === 0) return v.x;
    const s = v.x.aval.shape;
    return this.bind("broadcast_in_dim", [v.x], { shape: [this.size, ...s], broadcast_dimensions: range(s.length, 1) });
  }

  /** The value broadcast to exactly [B, ...shape] (per-example shapes align at the trailing dims). */
  full(v: BVal, shape: readonly number[]): Val {
    const own = v.bd === 0 ? v.x.aval.shape.slice(1) : v.x.aval.shape;
    if (v.bd === 0 && own.length === shape.length && own.every((d, i) => d === shape[i])) return v.x;
    const dims = range(own.length, 1 + shape.length - own.length);
    return this.bind("broadcast_in_dim", [v.x], { shape: [this.size, ...shape], broadcast_dimensions: v.bd === 0 ? [0, ...dims] : dims });
  }

  /** Moves axis `from` of x to the front. */
  toFront(x: Val, from: number): Val {
    if (from === 0) return x;
    const r = x.aval.shape.length;
    return this.bind("transpose", [x], { permutation: [from, ...range(r).filter((d) => d !== from)] });
  }
}

/** A batching rule: the per-example equation `eqn`, its operands in the batched computation. */
export type BatchRule<P extends Prim> = (c: BatchCtx, ins: BVal[], params: Params[P], eqn: Eqn<P>) => BVal[];
type Rules = { [P in Prim]?: BatchRule<P> };

// ---------------------------------------------------------------- rules

/** Elementwise ops (operands of equal rank, or rank 0): JAX's broadcast_batcher. An unbatched
 *  array is broadcast to carry the batch axis; a batched per-example scalar next to arrays gets
 *  size-1 trailing dims ([B] -> [B,1,...]); an unbatched scalar stays as it is. */
const elementwise: BatchRule<Prim> = (c, ins, params, eqn) => {
  const outRank = eqn.outputs[0].aval.shape.length;
  const args = ins.map((v, i) => {
    const r = eqn.inputs[i].aval.shape.length;
    if (v.bd === null) return r === 0 ? v.x : c.lead(v);
    if (r < outRank) return c.bind("broadcast_in_dim", [v.x], { shape: [c.size, ...new Array(outRank).fill(1)], broadcast_dimensions: [0] });
    return v.x;
  });
  return [batched(c.bind(eqn.prim, args, params))];
};

type Reduce = "reduce_sum" | "reduce_max" | "reduce_min" | "reduce_prod" | "reduce_and" | "reduce_or" | "argmax" | "argmin";
type Cumulative = "cumsum" | "cumprod" | "cummax" | "cummin";
type Scatter = "scatter" | "scatter-add" | "scatter-mul";

/** Reductions: the reduced axes shift past the batch axis. */
const reduceRule = <P extends Reduce>(c: BatchCtx, [x]: BVal[], p: Params[P], e: Eqn<P>): BVal[] =>
  [batched(c.bind(e.prim, [x.x], { ...p, axes: inc(p.axes) } as Params[P]))];
const cumRule = <P extends Cumulative>(c: BatchCtx, [x]: BVal[], p: Params[P], e: Eqn<P>): BVal[] =>
  [batched(c.bind(e.prim, [x.x], { ...p, axis: p.axis + 1 } as Params[P]))];

const scatterRule = <P extends Scatter>(c: BatchCtx, [x, idx, upd]: BVal[], p: Params[P], e: Eqn<P>): BVal[] => {
  const dn = p.dimension_numbers;
  const operand = c.lead(x), updates = c.lead(upd);
  let dims: ScatterDims;
  if (idx.bd === null) {
    // The batch axis is one more window dim: operand dim 0 <-> update dim 0.
    dims = {
      update_window_dims: [0, ...inc(dn.update_window_dims)], inserted_window_dims: inc(dn.inserted_window_dims),
      scatter_dims_to_operand_dims: inc(dn.scatter_dims_to_operand_dims), operand_batching_dims: inc(dn.operand_batching_dims),
      scatter_indices_batching_dims: dn.scatter_indices_batching_dims,
    };
  } else {
    // Example b of the indices updates example b of the operand: a batching dim on both.
    dims = {
      update_window_dims: inc(dn.update_window_dims), inserted_window_dims: inc(dn.inserted_window_dims),
      scatter_dims_to_operand_dims: inc(dn.scatter_dims_to_operand_dims), operand_batching_dims: [0, ...inc(dn.operand_batching_dims)],
      scatter_indices_batching_dims: [0, ...inc(dn.scatter_indices_batching_dims)],
    };
  }
  return [batched(c.bind(e.prim, [operand, idx.x, updates], { ...p, dimension_numbers: dims } as Params[P]))];
};

/** A zero of dtype d (false for bool). */
const zero = (d: DType): Literal => literal(d === "bool" ? false : 0, { shape: [], dtype: d, weak: false });

/** Stacks per-example scalar indices (batched or not) into an int32 [B, n] array. */
function stackIndices(c: BatchCtx, idx: BVal[]): Val {
  const cols = idx.map((v) => {
    let x = c.lead(v);
    if (x.aval.dtype !== "i32") x = c.bind("convert_element_type", [x], { new_dtype: "i32", weak_type: false });
    return c.bind("broadcast_in_dim", [x], { shape: [c.size, 1], broadcast_dimensions: [0] });
  });
  return cols.length === 1 ? cols[0] : c.bind("concatenate", cols, { dimension: 1 });
}

// ---------------------------------------------------------------- higher-order primitives

const isBatched = (v: BVal) => v.bd === 0;
const withBatch = (a: Aval, size: number, on: boolean): Aval => (on ? { ...a, shape: [size, ...a.shape] } : a);

/** A sub-jaxpr rewritten for inputs batched as `inBat`; results listed in `force` are batched
 *  even when they do not depend on a batched input (loop carries must keep one type). */
function batchSub(c: BatchCtx, j: Jaxpr, inBat: boolean[], force: boolean[] = []): { jaxpr: Jaxpr; outBat: boolean[] } {
  const nb = new JaxprBuilder();
  nb.span = c.b.span;
  const inner = new BatchCtx(nb, c.size);
  const ins = j.invars.map((v, i) => ({ x: nb.input(withBatch(v.aval, c.size, inBat[i]), "x"), bd: inBat[i] ? 0 : null }) as BVal);
  const outs = batchJaxpr(inner, j, ins).map((o, i) => (force[i] && o.bd === null ? batched(inner.lead(o)) : o));
  return { jaxpr: nb.finish(outs.map((o) => (o.x instanceof Tracer ? o.x.atom : o.x))), outBat: outs.map(isBatched) };
}

/** The smallest batching of a loop carry that the body maps to itself (JAX's fixpoint). */
function carryFixpoint(c: BatchCtx, body: Jaxpr, before: boolean[], carry: boolean[], after: boolean[], outAt: number): boolean[] {
  let cur = carry;
  for (;;) {
    const out = batchSub(c, body, [...before, ...cur, ...after]).outBat.slice(outAt, outAt + cur.length);
    const next = cur.map((b, i) => b || out[i]);
    if (next.every((b, i) => b === cur[i])) return cur;
    cur = next;
  }
}

const loopIn = (c: BatchCtx, vs: BVal[], bat: boolean[]): Val[] => vs.map((v, i) => (bat[i] ? c.lead(v) : v.x));
const tagged = (xs: Tracer[], bat: boolean[]): BVal[] => xs.map((x, i) => (bat[i] ? batched(x) : unbatched(x)));

const rules: Rules = {
  // A nested jit call: the same call of the batched function.
  jit: (c, ins, p) => {
    const sub = batchSub(c, p.jaxpr, ins.map(isBatched));
    return tagged(c.b.bindMulti("jit", ins.map((v) => v.x), { ...p, jaxpr: sub.jaxpr }), sub.outBat);
  },

  cond: (c, [index, ...ops], p, e) => {
    const inBat = ops.map(isBatched);
    if (index.bd === null) {
      // One branch for all examples: each branch batched, a result batched if any branch's is.
      const outBat = p.branches.map((br) => batchSub(c, br, inBat).outBat).reduce((a, b) => a.map((x, i) => x || b[i]));
      const branches = p.branches.map((br) => batchSub(c, br, inBat, outBat).jaxpr);
      return tagged(c.b.bindMulti("cond", [index.x, ...ops.map((v) => v.x)], { branches }), outBat);
    }
    // A branch per example (JAX turns this into a select): run every branch, then pick the
    // results of branch min(max(index, 0), n - 1) example by example.
    const results = p.branches.map((br) => batchJaxpr(c, br, ops));
    return e.outputs.map((o, k) => {
      const shape = o.aval.shape;
      const which = c.full(index, shape);
      let out = c.full(results[0][k], shape);
      for (let i = 1; i < results.length; i++) {
        const pick = c.bind("ge", [which, literal(i, { shape: [], dtype: "i32", weak: false })], {});
        out = c.bind("select_n", [pick, out, c.full(results[i][k], shape)], {});
      }
      return batched(out);
    });
  },

  while: (c, ins, p) => {
    const cn = p.cond_nconsts, bn = p.body_nconsts;
    const cc = ins.slice(0, cn), bc = ins.slice(cn, cn + bn), carry = ins.slice(cn + bn);
    const carryBat = carryFixpoint(c, p.body_jaxpr, bc.map(isBatched), carry.map(isBatched), [], 0);
    const predBat = batchSub(c, p.cond_jaxpr, [...cc.map(isBatched), ...carryBat]).outBat[0];
    if (!predBat) {
      const cond_jaxpr = batchSub(c, p.cond_jaxpr, [...cc.map(isBatched), ...carryBat]).jaxpr;
      const body_jaxpr = batchSub(c, p.body_jaxpr, [...bc.map(isBatched), ...carryBat], carryBat).jaxpr;
      const outs = c.b.bindMulti("while", [...cc.map((v) => v.x), ...bc.map((v) => v.x), ...loopIn(c, carry, carryBat)], { ...p, cond_jaxpr, body_jaxpr });
      return tagged(outs, carryBat);
    }
    // A per-example predicate: loop while any example goes on; an example whose predicate is
    // false keeps its carry (a select in the body). Every carry is batched; the body also
    // takes the cond consts, to evaluate the predicate.
    const all = carry.map(() => true);
    const cb = new JaxprBuilder();
    cb.span = c.b.span;
    const cctx = new BatchCtx(cb, c.size);
    const cIns = [...cc, ...carry].map((v, i) => ({ x: cb.input(withBatch(p.cond_jaxpr.invars[i].aval, c.size, i >= cn || isBatched(v)), "x"), bd: i >= cn || isBatched(v) ? 0 : null }) as BVal);
    const [pred] = batchJaxpr(cctx, p.cond_jaxpr, cIns);
    const any = cctx.bind("reduce_or", [cctx.lead(pred)], { axes: [0] });
    const cond_jaxpr = cb.finish([any.atom]);

    const bb = new JaxprBuilder();
    bb.span = c.b.span;
    const bctx = new BatchCtx(bb, c.size);
    const mk = (aval: Aval, on: boolean): BVal => ({ x: bb.input(withBatch(aval, c.size, on), "x"), bd: on ? 0 : null });
    const bcc = cc.map((v, i) => mk(p.cond_jaxpr.invars[i].aval, isBatched(v)));
    const bbc = bc.map((v, i) => mk(p.body_jaxpr.invars[i].aval, isBatched(v)));
    const bcarry = carry.map((_, i) => mk(p.body_jaxpr.invars[bn + i].aval, true));
    const [going] = batchJaxpr(bctx, p.cond_jaxpr, [...bcc, ...bcarry]);
    const next = batchJaxpr(bctx, p.body_jaxpr, [...bbc, ...bcarry]);
    const outs = next.map((n, i) => {
      const shape = p.body_jaxpr.invars[bn + i].aval.shape;
      return bctx.bind("select_n", [bctx.full(going, shape), bcarry[i].x, bctx.full(n, shape)], {});
    });
    const body_jaxpr = bb.finish(outs.map((o) => o.atom));
    const args = [...cc.map((v) => v.x), ...cc.map((v) => v.x), ...bc.map((v) => v.x), ...loopIn(c, carry, all)];
    return tagged(c.b.bindMulti("while", args, { cond_jaxpr, body_jaxpr, cond_nconsts: cn, body_nconsts: cn + bn }), all);
  },

  scan: (c, ins, p) => {
    const nc = p.num_consts, nk = p.num_carry;
    const consts = ins.slice(0, nc), carry = ins.slice(nc, nc + nk), xs = ins.slice(nc + nk);
    const constBat = consts.map(isBatched), xsBat = xs.map(isBatched);
    const carryBat = carryFixpoint(c, p.jaxpr, constBat, carry.map(isBatched), xsBat, 0);
    const sub = batchSub(c, p.jaxpr, [...constBat, ...carryBat, ...xsBat], carryBat);
    // Scanned operands are read along axis 0: a batched one becomes [length, B, ...].
    const xsIn = xs.map((v) => (isBatched(v) ? c.bind("transpose", [v.x], { permutation: [1, 0, ...range(v.x.aval.shape.length - 2, 2)] }) : v.x));
    const outs = c.b.bindMulti("scan", [...consts.map((v) => v.x), ...loopIn(c, carry, carryBat), ...xsIn], { ...p, jaxpr: sub.jaxpr });
    // Stacked results of a batched body come out [length, B, ...]: batch axis to the front.
    return outs.map((o, i) => {
      if (i < nk) return carryBat[i] ? batched(o) : unbatched(o);
      return sub.outBat[i] ? batched(c.toFront(o, 1)) : unbatched(o);
    });
  },


  integer_pow: elementwise,
  convert_element_type: elementwise,
  stop_gradient: elementwise,

  // select_n(pred, *cases): cases must have one shape and pred that shape or be a scalar (XLA's
  // select), so everything but an unbatched scalar predicate is broadcast to the full shape.
  select_n: (c, [pred, ...cases], p, e) => {
    const shape = e.outputs[0].aval.shape;
    const pr = pred.bd === null && pred.x.aval.shape.length === 0 ? pred.x : c.full(pred, shape);
    return [batched(c.bind("select_n", [pr, ...cases.map((v) => c.full(v, shape))], p))];
  },
  // clamp(lo, x, hi): bounds are scalars or have x's shape.
  clamp: (c, [lo, x, hi], p, e) => {
    const shape = e.outputs[0].aval.shape;
    const bound = (v: BVal) => (v.bd === null && v.x.aval.shape.length === 0 ? v.x : c.full(v, shape));
    return [batched(c.bind("clamp", [bound(lo), c.full(x, shape), bound(hi)], p))];
  },

  reduce_sum: reduceRule,
  reduce_max: reduceRule,
  reduce_min: reduceRule,
  reduce_prod: reduceRule,
  reduce_and: reduceRule,
  reduce_or: reduceRule,
  argmax: reduceRule,
  argmin: reduceRule,
  cumsum: cumRule,
  cumprod: cumRule,
  cummax: cumRule,
  cummin: cumRule,

  dot_general: (c, [lhs, rhs], p) => {
    const [[ca, cb], [ba, bb]] = p.dimension_numbers;
    const bind = (l: Val, r: Val, dn: Params["dot_general"]["dimension_numbers"]) => c.bind("dot_general", [l, r], { ...p, dimension_numbers: dn });
    if (lhs.bd === 0 && rhs.bd === 0) {
      // Both batched: one more batch dimension, which dot_general puts first.
      return [batched(bind(lhs.x, rhs.x, [[inc(ca), inc(cb)], [[0, ...inc(ba)], [0, ...inc(bb)]]]))];
    }
    // One side batched: its batch axis is one more free dim of that side (no broadcast of the
    // other). The output is (batch dims, lhs free dims, rhs free dims); move it to the front.
    const lhsFree = lhs.x.aval.shape.length - (lhs.bd === 0 ? 1 : 0) - ca.length - ba.length;
    if (lhs.bd === 0) return [batched(c.toFront(bind(lhs.x, rhs.x, [[inc(ca), cb], [inc(ba), bb]]), ba.length))];
    return [batched(c.toFront(bind(lhs.x, rhs.x, [[ca, inc(cb)], [ba, inc(bb)]]), ba.length + lhsFree))];
  },

  broadcast_in_dim: (c, [x], p) => [batched(c.bind("broadcast_in_dim", [x.x], { shape: [c.size, ...p.shape], broadcast_dimensions: [0, ...inc(p.broadcast_dimensions)] }))],
  reshape: (c, [x], p) => [batched(c.bind("reshape", [x.x], { ...p, new_sizes: [c.size, ...p.new_sizes] }))],
  transpose: (c, [x], p) => [batched(c.bind("transpose", [x.x], { permutation: [0, ...inc(p.permutation)] }))],
  squeeze: (c, [x], p) => [batched(c.bind("squeeze", [x.x], { dimensions: inc(p.dimensions) }))],
  rev: (c, [x], p) => [batched(c.bind("rev", [x.x], { dimensions: inc(p.dimensions) }))],
  slice: (c, [x], p) => [batched(c.bind("slice", [x.x], {
    start_indices: [0, ...p.start_indices], limit_indices: [c.size, ...p.limit_indices], strides: p.strides ? [1, ...p.strides] : null,
  }))],
  concatenate: (c, ins, p) => [batched(c.bind("concatenate", ins.map((v) => c.lead(v)), { dimension: p.dimension + 1 }))],
  split: (c, [x], p) => c.b.bindMulti("split", [x.x], { ...p, axis: p.axis + 1 }).map(batched),

  pad: (c, [x, pv], p) => {
    const config: [number, number, number][] = [[0, 0, 0], ...p.padding_config];
    if (pv.bd === null) return [batched(c.bind("pad", [c.lead(x), pv.x], { padding_config: config }))];
    // A per-example padding value: pad with zeros, then select the padding positions with a
    // mask padded the same way (JAX's rule).
    const xb = c.lead(x);
    const dt = xb.aval.dtype;
    const padded = c.bind("pad", [xb, zero(dt)], { padding_config: config });
    const ones = c.bind("broadcast_in_dim", [literal(true, { shape: [], dtype: "bool", weak: false })], { shape: [...xb.aval.shape], broadcast_dimensions: [] });
    const mask = c.bind("pad", [ones, zero("bool")], { padding_config: config });
    const fill = c.bind("broadcast_in_dim", [pv.x], { shape: [...padded.aval.shape], broadcast_dimensions: [0] });
    return [batched(c.bind("select_n", [mask, fill, padded], {}))];
  },

  dynamic_slice: (c, [x, ...idx], p) => {
    const i32 = (v: number) => literal(v, { shape: [], dtype: "i32", weak: false });
    if (idx.every((v) => v.bd === null)) {
      // Only the operand is batched: slice all of the batch axis from 0.
      return [batched(c.bind("dynamic_slice", [x.x, i32(0), ...idx.map((v) => v.x)], { slice_sizes: [c.size, ...p.slice_sizes] }))];
    }
    // Per-example starts: a gather with one row of start indices per example (clamped, as
    // dynamic_slice clamps its starts so the slice fits).
    const n = idx.length;
    const indices = stackIndices(c, idx);
    const common = { mode: "clip" as const, fill_value: null, indices_are_sorted: false, unique_indices: false };
    if (x.bd === null) {
      const dn: GatherDims = { offset_dims: range(n, 1), collapsed_slice_dims: [], start_index_map: range(n), operand_batching_dims: [], start_indices_batching_dims: [] };
      return [batched(c.bind("gather", [x.x, indices], { ...common, dimension_numbers: dn, slice_sizes: p.slice_sizes }))];
    }
    const dn: GatherDims = { offset_dims: range(n, 1), collapsed_slice_dims: [], start_index_map: range(n, 1), operand_batching_dims: [0], start_indices_batching_dims: [0] };
    return [batched(c.bind("gather", [x.x, indices], { ...common, dimension_numbers: dn, slice_sizes: [1, ...p.slice_sizes] }))];
  },

  dynamic_update_slice: (c, [x, upd, ...idx], p) => {
    const operand = c.lead(x), updates = c.lead(upd);
    if (idx.every((v) => v.bd === null)) {
      const start = literal(0, { shape: [], dtype: idx[0]?.x.aval.dtype ?? "i32", weak: false });
      return [batched(c.bind("dynamic_update_slice", [operand, updates, start, ...idx.map((v) => v.x)], p))];
    }
    // Per-example starts: a scatter of each example's update into its own operand row, with the
    // starts clamped so the update fits (mode clip), as dynamic_update_slice does.
    const r = idx.length;
    const dn: ScatterDims = { update_window_dims: range(r, 1), inserted_window_dims: [], scatter_dims_to_operand_dims: range(r, 1), operand_batching_dims: [0], scatter_indices_batching_dims: [0] };
    return [batched(c.bind("scatter", [operand, stackIndices(c, idx), updates], { dimension_numbers: dn, mode: "clip", indices_are_sorted: true, unique_indices: true }))];
  },

  gather: (c, [x, idx], p) => {
    const dn = p.dimension_numbers;
    let dims: GatherDims;
    let sizes = p.slice_sizes;
    if (idx.bd === null) {
      // Only the operand is batched: the batch axis is a full-size slice dim, first in the output.
      dims = {
        offset_dims: [0, ...inc(dn.offset_dims)], collapsed_slice_dims: inc(dn.collapsed_slice_dims), start_index_map: inc(dn.start_index_map),
        operand_batching_dims: inc(dn.operand_batching_dims), start_indices_batching_dims: dn.start_indices_batching_dims,
      };
      sizes = [c.size, ...sizes];
    } else if (x.bd === null) {
      // Only the indices are batched: one more batch dim of the indices, first in the output.
      dims = { ...dn, offset_dims: inc(dn.offset_dims), start_indices_batching_dims: inc(dn.start_indices_batching_dims) };
    } else {
      // Both: example b of the indices reads example b of the operand.
      dims = {
        offset_dims: inc(dn.offset_dims), collapsed_slice_dims: inc(dn.collapsed_slice_dims), start_index_map: inc(dn.start_index_map),
        operand_batching_dims: [0, ...inc(dn.operand_batching_dims)], start_indices_batching_dims: [0, ...inc(dn.start_indices_batching_dims)],
      };
      sizes = [1, ...sizes];
    }
    return [batched(c.bind("gather", [x.x, idx.x], { ...p, dimension_numbers: dims, slice_sizes: sizes }))];
  },

  scatter: scatterRule,
  "scatter-add": scatterRule,
  "scatter-mul": scatterRule,
};
for (const p of [...UNARY, ...BINARY, ...COMPARE]) (rules as Record<string, BatchRule<Prim>>)[p] = elementwise;

/** Replays a per-example jaxpr into `c.b`, batched: `ins` are the values of its invars. */
export function batchJaxpr(c: BatchCtx, j: Jaxpr, ins: BVal[]): BVal[] {
  const env = new Map<number, BVal>();
  j.constvars.forEach((v, i) => env.set(v.id, unbatched(c.b.constant(j.consts[i]))));
  j.invars.forEach((v, i) => env.set(v.id, ins[i]));
  const read = (a: Atom): BVal => (a.kind === "lit" ? unbatched(a) : env.get(a.id) ?? unbatched(new Tracer(a)));
  const { span, callStack } = c.b;
  try {
    for (const e of j.eqns) {
      // Batched equations keep the source line (and call sites) of the equation they replace.
      c.b.span = e.span;
      c.b.callStack = e.callStack ?? [];
      const args = e.inputs.map(read);
      let outs: BVal[];
      if (args.every((a) => a.bd === null)) {
        outs = c.b.bindMulti(e.prim, args.map((a) => a.x), e.params).map(unbatched);
      } else {
        const rule = rules[e.prim] as BatchRule<Prim> | undefined;
        if (!rule) throw new JitError("UnsupportedError", `vmap: no batching rule for the primitive '${e.prim}' (JIT Lens cannot vectorize it yet)`, e.span);
        outs = rule(c, args, e.params, e);
      }
      e.outputs.forEach((o, i) => env.set(o.id, outs[i]));
    }
  } finally {
    c.b.span = span;
    c.b.callStack = callStack;
  }
  return j.outvars.map(read);
}

// ---------------------------------------------------------------- jax.vmap

/** A leaf of an argument or result pytree, with its mapped axis and its path for messages. */
interface Leaf {
  value: PyValue;
  axis: number | null;
  path: string;
}

/** Dict entries in JAX's flattening order (sorted by key), as flattenTree orders them. */
function sortedEntries(d: PyDict): [PyValue, PyValue][] {
  return [...d.entries.values()].sort(([a], [b]) => { const ka = pyRepr(a), kb = pyRepr(b); return ka < kb ? -1 : ka > kb ? 1 : 0; });
}

/** Rebuilds a pytree with each leaf replaced by `f(leaf)`, visiting leaves in flattening order. */
function mapLeaves(v: PyValue, f: (leaf: PyValue) => PyValue): PyValue {
  switch (v.k) {
    case "none": return v;
    case "tuple": return new PyTuple(v.items.map((x) => mapLeaves(x, f)));
    case "list": return new PyList(v.items.map((x) => mapLeaves(x, f)));
    case "dict": {
      const done = new Map<string, PyValue>();
      for (const [k, x] of sortedEntries(v)) done.set(keyOf(k) ?? pyRepr(k), mapLeaves(x, f));
      const d = new PyDict();
      for (const [h, [k]] of v.entries) d.entries.set(h, [k, done.get(keyOf(k) ?? pyRepr(k))!]);
      return d;
    }
    default: return f(v);
  }
}

/** Pairs every leaf of `value` with its axis from `spec`, a tree prefix of `value` (JAX's flatten_axes). */
function flattenAxes(what: string, spec: PyValue, value: PyValue, path: string, out: Leaf[]): void {
  const mismatch = (): never => {
    throw new JitError("ValueError", `${what} specification must be a tree prefix of the corresponding value, got specification ${pyRepr(spec)} for value ${treeText(value)}`);
  };
  if (spec.k === "int" || spec.k === "none") {
    const axis = spec.k === "int" ? spec.v : null;
    const walk = (v: PyValue, p: string): void => {
      if (v.k === "none") return;
      if (v.k === "tuple" || v.k === "list") v.items.forEach((x, i) => walk(x, `${p}[${i}]`));
      else if (v.k === "dict") for (const [k, x] of sortedEntries(v)) walk(x, `${p}[${pyRepr(k)}]`);
      else out.push({ value: v, axis, path: p });
    };
    walk(value, path);
    return;
  }
  if (spec.k === "tuple" || spec.k === "list") {
    if ((value.k !== "tuple" && value.k !== "list") || value.items.length !== spec.items.length) mismatch();
    (value as PyTuple).items.forEach((x, i) => flattenAxes(what, spec.items[i], x, `${path}[${i}]`, out));
    return;
  }
  if (spec.k === "dict") {
    if (value.k !== "dict" || value.entries.size !== spec.entries.size) mismatch();
    for (const [k, x] of sortedEntries(value as PyDict)) {
      const s = spec.entries.get(keyOf(k) ?? "");
      if (!s) mismatch();
      flattenAxes(what, s![1], x, `${path}[${pyRepr(k)}]`, out);
    }
    return;
  }
  throw new JitError("TypeError", `${what} must be an int, None, or (nested) container with those types as leaves, but got ${pyRepr(spec)}.`);
}

/** A short description of a value's tree for messages: `(f32[3], [f32[4], 2])`. */
function treeText(v: PyValue): string {
  switch (v.k) {
    case "tracer": return `${v.aval.dtype}[${v.aval.shape.join(",")}]`;
    case "tuple": return `(${v.items.map(treeText).join(", ")}${v.items.length === 1 ? "," : ""})`;
    case "list": return `[${v.items.map(treeText).join(", ")}]`;
    case "dict": return `{${[...v.entries.values()].map(([k, x]) => `${pyRepr(k)}: ${treeText(x)}`).join(", ")}}`;
    default: return pyRepr(v);
  }
}

const shapeOf = (v: PyValue): readonly number[] => (v.k === "tracer" ? v.aval.shape : []);
const typeOf = (v: PyValue): string => {
  if (v.k === "tracer") return `${dtypeNames[v.aval.dtype]}[${v.aval.shape.join(",")}]`;
  if (v.k === "float") return "float32[]";
  if (v.k === "int") return "int32[]";
  if (v.k === "bool") return "bool[]";
  return "unknown";
};

/** The mapped size, with JAX's errors for a rank too small and for inconsistent sizes. */
function mappedSize(leaves: Leaf[], args: PyValue[], kwargs: Kwargs, axisSize: number | undefined): number {
  if (!leaves.length && axisSize === undefined) {
    throw new JitError("ValueError", `vmap wrapped function must be passed at least one argument containing an array, got empty *args=${pyRepr(new PyTuple(args))} and **kwargs={${kwargs.map(([k, v]) => `'${k}': ${pyRepr(v)}`).join(", ")}}`);
  }
  const sizes: (number | null)[] = leaves.map((l) => {
    if (l.axis === null) return null;
    const shape = shapeOf(l.value);
    const ax = l.axis < 0 ? l.axis + shape.length : l.axis;
    if (ax < 0 || ax >= shape.length) {
      const minRank = l.axis >= 0 ? l.axis + 1 : -l.axis;
      throw new JitError("ValueError", `vmap was requested to map its argument along axis ${l.axis}, which implies that its rank should be at least ${minRank}, but is only ${shape.length} (its shape is ${shapeStr(shape)})`);
    }
    return shape[ax];
  });
  const mapped = sizes.filter((s): s is number => s !== null);
  const distinct = [...new Set(mapped)];
  if (axisSize !== undefined && distinct.every((s) => s === axisSize)) return axisSize;
  if (distinct.length === 1 && axisSize === undefined) return distinct[0];
  if (!distinct.length) throw new JitError("ValueError", "vmap must have at least one non-None value in in_axes");
  // JAX's message: the most common size first, then the others, each with an example.
  const counts = new Map<number, number>();
  for (const s of mapped) counts.set(s, (counts.get(s) ?? 0) + 1);
  if (axisSize !== undefined && !counts.has(axisSize)) counts.set(axisSize, 0);
  const order = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const lines = order.map(([sz, ct], i) => {
    if (ct === 0) return `  * axis_size was given as ${sz}`;
    const k = sizes.indexOf(sz);
    const ex = `axis ${leaves[k].axis} of ${leaves[k].path} of type ${typeOf(leaves[k].value)}`;
    if (ct === 1) return `  * one axis had size ${sz}: ${ex}`;
    return `  * ${i === 0 ? "most" : "some"} axes (${ct} of them) had size ${sz}, e.g. ${ex}`;
  });
  throw new JitError("ValueError", `vmap got inconsistent sizes for array axes to be mapped:\n${lines.join(";\n")}`);
}

/** Moves axis `axis` of x to the front, as a batched value. */
function mapIn(c: BatchCtx, x: Tracer, axis: number): Tracer {
  const r = x.aval.shape.length;
  const a = axis < 0 ? axis + r : axis;
  return c.toFront(x, a) as Tracer;
}

/** Places a result's batch axis at `axis` (or leaves an unbatched result alone for None). */
function mapOut(c: BatchCtx, v: BVal, axis: number | null, path: string): Val {
  if (axis === null) {
    if (v.bd !== null) throw new JitError("ValueError", `at vmap out_axes${path}, got axis spec None but output was batched on axis 0`);
    return v.x;
  }
  const r = v.x.aval.shape.length + (v.bd === null ? 1 : 0);
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) throw new JitError("AxisError", `vmap out_axes ${axis} is out of bounds for a result of rank ${r}`);
  if (v.bd === null) {
    // An unbatched result is broadcast along the mapped axis.
    const s = v.x.aval.shape;
    const shape = [...s.slice(0, a), c.size, ...s.slice(a)];
    return c.bind("broadcast_in_dim", [v.x], { shape, broadcast_dimensions: range(s.length).map((d) => (d < a ? d : d + 1)) });
  }
  if (a === 0) return v.x;
  const perm = range(r).filter((d) => d !== 0);
  perm.splice(a, 0, 0);
  return c.bind("transpose", [v.x], { permutation: perm });
}

/** `jax.vmap(fun, in_axes=0, out_axes=0, ...)`: the vectorized function, as a builtin. */
export function vmap(it: Interpreter, args: PyValue[], kwargs: Kwargs): PyValue {
  const a = bindSig("jax.vmap", ["fun", "in_axes=0", "out_axes=0", "axis_name=None", "axis_size=None", "spmd_axis_name=None"], args, kwargs);
  const fun = a.fun!;
  if (fun.k !== "function" && fun.k !== "builtin") throw new JitError("TypeError", `Expected a callable value, got ${pyRepr(fun)}`);
  let inAxes = a.in_axes ?? new PyInt(0);
  if (inAxes.k === "list") inAxes = new PyTuple(inAxes.items); // JAX treats a list like a tuple here
  if (inAxes.k !== "int" && inAxes.k !== "none" && inAxes.k !== "tuple") {
    throw new JitError("TypeError", `vmap in_axes must be an int, None, or a tuple of entries corresponding to the positional arguments passed to the function, but got ${pyRepr(inAxes)}.`);
  }
  const outAxes = a.out_axes ?? new PyInt(0);
  let axisSize: number | undefined;
  if (a.axis_size && a.axis_size.k !== "none") {
    if (a.axis_size.k !== "int") throw new JitError("TypeError", `vmap axis_size must be an int, got ${pyTypeName(a.axis_size)}`);
    axisSize = a.axis_size.v;
  }
  const spec = inAxes;
  return new PyBuiltin(`vmap(${fun.name})`, (cargs, ckw) => vmapCall(it, fun, spec, outAxes, axisSize, cargs, ckw));
}

function vmapCall(it: Interpreter, fun: PyValue, inAxes: PyValue, outAxes: PyValue, axisSize: number | undefined, args: PyValue[], kwargs: Kwargs): PyValue {
  const outer = it.builder;
  const callSpan = outer.span;
  if (inAxes.k === "tuple" && inAxes.items.length !== args.length) {
    throw new JitError("ValueError", `vmap in_axes must be an int, None, or a tuple of entries corresponding to the positional arguments passed to the function, but got len(in_axes)=${inAxes.items.length}, len(args)=${args.length}`);
  }
  // Leaves of the positional arguments (axes from in_axes), then of the keyword arguments (axis 0).
  const params = fun.k === "function" ? fun.params.filter((p) => p.kind === "normal").map((p) => p.name) : [];
  const argName = (i: number) => (i < params.length ? `argument ${params[i]}` : `args[${i}]`);
  const leaves: Leaf[] = [];
  args.forEach((x, i) => flattenAxes("vmap in_axes", inAxes.k === "tuple" ? inAxes.items[i] : inAxes, x, argName(i), leaves));
  for (const [k, x] of kwargs) flattenAxes("vmap in_axes", new PyInt(0), x, `kwargs['${k}']`, leaves);
  const size = mappedSize(leaves, args, kwargs, axisSize);
  const c = new BatchCtx(outer, size);

  // The batched inputs with the mapped axis in front, and their per-example stand-ins.
  const front = leaves.map((l) => (l.axis === null ? undefined : mapIn(c, l.value as Tracer, l.axis)));
  const ins: BVal[] = [];
  const innerKwargs: Kwargs = []; // filled in by makeArgs; traceSub reads it when it calls fun
  const sub = it.traceSub((b) => {
    let n = 0;
    const leaf = (v: PyValue): PyValue => {
      const x = front[n++];
      if (!x) return v; // unmapped: passed as it is (an outer array is captured, unbatched)
      ins.push(batched(x));
      return b.input({ ...x.aval, shape: x.aval.shape.slice(1) }, x.origin?.arg ?? "vmap argument");
    };
    const inner = args.map((x) => mapLeaves(x, leaf));
    for (const [k, x] of kwargs) innerKwargs.push([k, mapLeaves(x, leaf)]);
    return inner;
  }, fun, innerKwargs);

  outer.span = callSpan;
  const captured = sub.captured.map((a) => unbatched(a.kind === "lit" ? a : new Tracer(a)));
  const outs = batchJaxpr(c, sub.jaxpr, [...captured, ...ins]);
  outer.span = callSpan;

  // Results: out_axes matched against the result tree, then the tree rebuilt.
  const outLeaves: Leaf[] = [];
  flattenAxes("vmap out_axes", outAxes, sub.out, "", outLeaves);
  const results = outs.map((v, i) => {
    const r = mapOut(c, v, outLeaves[i].axis, outLeaves[i].path);
    return r instanceof Tracer ? r : new Tracer(r);
  });
  return unflattenTree(sub.outTree, results);
}

