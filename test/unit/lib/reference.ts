// A float64 reference interpreter for jaxprs, written for tests and independent of the
// compiler: it imports only IR *types*, no codegen, fusion or runtime code. Every primitive
// is a plain nested-index loop over Float64Array buffers, computing each value in float64
// (int32 wraps, bool is 0/1), with its output shape worked out here from the params (the
// caller can check it against the jaxpr's avals).
//
// Alongside each value it carries an error bound `err` (per element): how far a float32
// evaluation of the same program, in any rounding order, may be from the float64 value.
// This is running (first-order) error analysis, i.e. interval radii:
//   - inputs and literals are exact (literals are rounded to their dtype first, as the
//     compiled code does), err = 0;
//   - a float32 result of an exactly rounded op (+ - * / sqrt, conversions) adds U|v|,
//     U = 2^-24; a transcendental (exp, log, tanh, ...) adds TRANSCENDENTAL_ULPS ulps
//     (2·U|v| each), so fast float32 approximations of a few ulps are accepted;
//   - input errors are propagated by the op's own sensitivity: monotone functions by
//     evaluating at the ends of the interval [x - e, x + e] (exact for monotone f, also
//     discontinuous ones: floor, sign, comparisons, float->int), 1-Lipschitz ones (max, min,
//     abs, sin, clamp, select) pass the largest error on, + - * / by the usual bounds;
//   - a reduction or a dot of n terms adds n·U·Σ|terms| (any summation order, float32
//     accumulation allowed) plus the sum of the terms' errors;
//   - a bool is "uncertain" (err = 1) when its comparison could flip within the operands'
//     errors; select_n on an uncertain predicate admits either case.
// So `err` grows with the program's condition: subtracting nearly equal values or dividing
// by a small one gives a large bound, and the comparison rule (see `withinTolerance`) stays
// meaningful only if the caller keeps inputs in safe ranges (the property generator does).
import type { ArrayValue, Atom, DType, Eqn, Jaxpr } from "../../../compiler-core/src/ir/types";

/** A value of the reference interpreter: float64 data and a per-element error bound. */
export interface RefValue {
  dtype: DType;
  shape: number[];
  data: Float64Array;
  err: Float64Array;
}

/** Unit roundoff of float32 (half an ulp at 1). */
export const U32 = 2 ** -24;
/** Unit roundoff of float64. */
export const U64 = 2 ** -53;
/** Ulps of float32 allowed for each transcendental function (exp, log, tanh, ...). */
export const TRANSCENDENTAL_ULPS = 4;
/** Safety factor on the propagated bound (first-order analysis drops second-order terms). */
export const SAFETY = 2;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let m = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = m; m *= shape[i]; }
  return s;
}

/** Every multi-index of `shape` in row-major order (the flat index is the position). */
function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    yield idx;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

function flatIndex(idx: readonly number[], strides: readonly number[]): number {
  let o = 0;
  for (let i = 0; i < idx.length; i++) o += idx[i] * strides[i];
  return o;
}

function make(dtype: DType, shape: readonly number[]): RefValue {
  const n = numel(shape);
  return { dtype, shape: [...shape], data: new Float64Array(n), err: new Float64Array(n) };
}

const isFloatType = (d: DType) => d === "f32" || d === "f64";
/** Relative rounding error of one exactly rounded op producing `d`. */
const unit = (d: DType) => (d === "f32" ? U32 : d === "f64" ? U64 : 0);
/** The smallest subnormal of `d`: an absolute floor on rounding error near zero. */
const tiny = (d: DType) => (d === "f32" ? 2 ** -149 : d === "f64" ? 2 ** -1074 : 0);
const roundErr = (d: DType, v: number, ulps = 0.5) => (isFloatType(d) ? 2 * ulps * unit(d) * Math.abs(v) + tiny(d) : 0);

/** A value rounded to its dtype (inputs, literals, integer results). */
export function castTo(d: DType, v: number): number {
  switch (d) {
    case "f32": return Math.fround(v);
    case "f64": return v;
    case "i32": return v | 0;
    case "bool": return v ? 1 : 0;
  }
}

export function fromArray(a: ArrayValue): RefValue {
  const r = make(a.aval.dtype, a.aval.shape);
  for (let i = 0; i < r.data.length; i++) r.data[i] = Number(a.data[i]);
  return r;
}

export function literalValue(a: Atom & { kind: "lit" }): RefValue {
  const r = make(a.aval.dtype, []);
  r.data[0] = castTo(a.aval.dtype, typeof a.value === "boolean" ? (a.value ? 1 : 0) : a.value);
  return r;
}

/** Evaluates a jaxpr on reference values (one per invar). */
export function evalJaxpr(j: Jaxpr, inputs: RefValue[]): RefValue[] {
  if (inputs.length !== j.invars.length) throw new Error(`reference: expected ${j.invars.length} inputs, got ${inputs.length}`);
  const env = new Map<number, RefValue>();
  j.constvars.forEach((v, i) => env.set(v.id, fromArray(j.consts[i])));
  j.invars.forEach((v, i) => env.set(v.id, inputs[i]));
  const read = (a: Atom): RefValue => {
    if (a.kind === "lit") return literalValue(a);
    const v = env.get(a.id);
    if (!v) throw new Error(`reference: variable ${a.id} used before it is defined`);
    return v;
  };
  for (const e of j.eqns) {
    const outs = evalEqn(e, e.inputs.map(read));
    e.outputs.forEach((o, i) => env.set(o.id, outs[i]));
  }
  return j.outvars.map(read);
}

// ---- elementwise ----

/** Output shape of an n-ary elementwise op: operands of rank 0, or one rank with dims equal or 1. */
function broadcastShape(prim: string, xs: RefValue[]): number[] {
  const ranked = xs.filter((x) => x.shape.length > 0);
  if (!ranked.length) return [];
  const rank = ranked[0].shape.length;
  const out = ranked[0].shape.map(() => 1);
  for (const x of ranked) {
    if (x.shape.length !== rank) throw new Error(`reference: ${prim} operands of ranks ${xs.map((y) => y.shape.length)}`);
    x.shape.forEach((d, i) => {
      if (d !== 1 && out[i] !== 1 && d !== out[i]) throw new Error(`reference: ${prim} shapes do not broadcast`);
      if (d !== 1) out[i] = d;
    });
  }
  return out;
}

/** Applies f to each output element with the broadcast operand elements (value, error). */
function mapN(prim: string, xs: RefValue[], dtype: DType, f: (v: number[], e: number[]) => [number, number]): RefValue {
  const shape = broadcastShape(prim, xs);
  const out = make(dtype, shape);
  const strides = xs.map((x) => (x.shape.length === 0 ? [] : stridesOf(x.shape).map((s, i) => (x.shape[i] === 1 ? 0 : s))));
  let k = 0;
  const vs = new Array<number>(xs.length), es = new Array<number>(xs.length);
  for (const idx of indices(shape)) {
    for (let j = 0; j < xs.length; j++) {
      const o = xs[j].shape.length === 0 ? 0 : flatIndex(idx, strides[j]);
      vs[j] = xs[j].data[o];
      es[j] = xs[j].err[o];
    }
    const [v, e] = f(vs, es);
    out.data[k] = v;
    out.err[k] = e;
    k++;
  }
  return out;
}

/** The largest change of a monotone (not necessarily continuous) f over [x - e, x + e]. */
function monotone(f: (x: number) => number, x: number, e: number): number {
  const v = f(x);
  if (e === 0) return 0;
  const d = Math.max(Math.abs(f(x + e) - v), Math.abs(v - f(x - e)));
  return Number.isNaN(d) ? Infinity : d;
}

/** The largest change of f, monotone in each argument, over the box around (x, y). */
function monotone2(f: (x: number, y: number) => number, x: number, ex: number, y: number, ey: number): number {
  const v = f(x, y);
  let d = 0;
  for (const a of [x - ex, x + ex]) for (const b of [y - ey, y + ey]) d = Math.max(d, Math.abs(f(a, b) - v));
  return Number.isNaN(d) ? Infinity : d;
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
const roundHalfEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : x);

/** Monotone unary float functions: value rule, and whether it is transcendental (else exactly rounded or exact). */
const MONOTONE: Record<string, [(x: number) => number, "transcendental" | "rounded" | "exact"]> = {
  exp: [Math.exp, "transcendental"],
  exp2: [(x) => 2 ** x, "transcendental"],
  log: [Math.log, "transcendental"],
  log1p: [Math.log1p, "transcendental"],
  expm1: [Math.expm1, "transcendental"],
  tanh: [Math.tanh, "transcendental"],
  logistic: [logistic, "transcendental"],
  atan: [Math.atan, "transcendental"],
  sinh: [Math.sinh, "transcendental"],
  asinh: [Math.asinh, "transcendental"],
  cbrt: [Math.cbrt, "transcendental"],
  sqrt: [Math.sqrt, "rounded"],
  rsqrt: [(x) => 1 / Math.sqrt(x), "transcendental"],
  neg: [(x) => -x, "exact"],
  floor: [Math.floor, "exact"],
  ceil: [Math.ceil, "exact"],
  round: [roundHalfEven, "exact"],
  sign: [sign, "exact"],
};
/** 1-Lipschitz unary float functions. */
const LIPSCHITZ1: Record<string, [(x: number) => number, "transcendental" | "exact"]> = {
  abs: [Math.abs, "exact"],
  sin: [Math.sin, "transcendental"],
  cos: [Math.cos, "transcendental"],
};

function unaryFloat(prim: string, x: RefValue): RefValue {
  const d = x.dtype;
  const ulps = (kind: string) => (kind === "transcendental" ? TRANSCENDENTAL_ULPS : kind === "rounded" ? 0.5 : 0);
  if (prim in MONOTONE) {
    const [f, kind] = MONOTONE[prim];
    return mapN(prim, [x], d, ([a], [e]) => {
      const v = f(a);
      return [v, monotone(f, a, e) + roundErr(d, v, ulps(kind))];
    });
  }
  if (prim in LIPSCHITZ1) {
    const [f, kind] = LIPSCHITZ1[prim];
    return mapN(prim, [x], d, ([a], [e]) => {
      const v = f(a);
      return [v, e + roundErr(d, v, ulps(kind))];
    });
  }
  if (prim === "square") {
    return mapN(prim, [x], d, ([a], [e]) => {
      const v = a * a;
      return [v, (Math.abs(a) + e) ** 2 - v + roundErr(d, v)];
    });
  }
  throw new Error(`reference: no rule for ${prim} on ${d}`);
}

function unaryInt(prim: string, x: RefValue): RefValue {
  const d = x.dtype;
  switch (prim) {
    case "neg": return mapN(prim, [x], d, ([a], [e]) => [castTo(d, -a), e]);
    case "abs": return mapN(prim, [x], d, ([a], [e]) => [castTo(d, Math.abs(a)), e]);
    case "sign": return mapN(prim, [x], d, ([a], [e]) => [sign(a), monotone(sign, a, e)]);
    case "square": return mapN(prim, [x], d, ([a], [e]) => [Math.imul(a, a), (Math.abs(a) + e) ** 2 - a * a]);
    case "not":
      if (d === "bool") return mapN(prim, [x], d, ([a], [e]) => [a ? 0 : 1, e]);
      return mapN(prim, [x], d, ([a], [e]) => [~a, e]);
  }
  throw new Error(`reference: no rule for ${prim} on ${d}`);
}

function binary(prim: string, x: RefValue, y: RefValue): RefValue {
  const d = x.dtype;
  if (y.dtype !== d) throw new Error(`reference: ${prim} of ${x.dtype} and ${y.dtype}`);
  const fl = isFloatType(d);
  const wrap = (v: number) => castTo(d, v);
  switch (prim) {
    case "add": return mapN(prim, [x, y], d, ([a, b], [ea, eb]) => { const v = fl ? a + b : wrap(a + b); return [v, ea + eb + roundErr(d, v)]; });
    case "sub": return mapN(prim, [x, y], d, ([a, b], [ea, eb]) => { const v = fl ? a - b : wrap(a - b); return [v, ea + eb + roundErr(d, v)]; });
    case "mul": return mapN(prim, [x, y], d, ([a, b], [ea, eb]) => {
      const v = fl ? a * b : Math.imul(a, b);
      return [v, Math.abs(a) * eb + Math.abs(b) * ea + ea * eb + roundErr(d, v)];
    });
    case "div": return mapN(prim, [x, y], d, ([a, b], [ea, eb]) => {
      if (!fl) {
        if (b === 0) throw new Error("reference: integer division by zero");
        return [wrap(Math.trunc(a / b)), ea || eb ? Infinity : 0];
      }
      const v = a / b;
      const e = Math.abs(b) <= eb ? Infinity : (Math.abs(a) * eb + Math.abs(b) * ea) / (Math.abs(b) * (Math.abs(b) - eb));
      return [v, e + roundErr(d, v)];
    });
    case "max": return mapN(prim, [x, y], d, ([a, b], [ea, eb]) => [Math.max(a, b), Math.max(ea, eb)]);
    case "min": return mapN(prim, [x, y], d, ([a, b], [ea, eb]) => [Math.min(a, b), Math.max(ea, eb)]);
    case "pow": return mapN(prim, [x, y], d, ([a, b], [ea, eb]) => {
      if (!fl) throw new Error("reference: integer pow");
      if (a - ea <= 0) throw new Error("reference: pow needs a positive base");
      const v = a ** b;
      return [v, monotone2((p, q) => p ** q, a, ea, b, eb) + roundErr(d, v, TRANSCENDENTAL_ULPS)];
    });
    case "and": case "or": case "xor": {
      if (d !== "bool") throw new Error(`reference: ${prim} on ${d}`);
      const f = prim === "and" ? (a: number, b: number) => a & b : prim === "or" ? (a: number, b: number) => a | b : (a: number, b: number) => a ^ b;
      return mapN(prim, [x, y], d, ([a, b], [ea, eb]) => [f(a, b), ea || eb ? 1 : 0]);
    }
  }
  throw new Error(`reference: no rule for ${prim}`);
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b, ne: (a, b) => a !== b, lt: (a, b) => a < b,
  le: (a, b) => a <= b, gt: (a, b) => a > b, ge: (a, b) => a >= b,
};

/** A comparison; uncertain (err 1) when some points of the operands' intervals give the other answer. */
function compare(prim: string, x: RefValue, y: RefValue): RefValue {
  const f = COMPARE[prim];
  return mapN(prim, [x, y], "bool", ([a, b], [ea, eb]) => {
    const v = f(a, b);
    if (ea === 0 && eb === 0) return [v ? 1 : 0, 0];
    // Over the box, a - b ranges over [lo, hi].
    const lo = a - ea - (b + eb), hi = a + ea - (b - eb);
    const canTrue = prim === "eq" ? lo <= 0 && hi >= 0 : prim === "ne" ? true : f(lo, 0) || f(hi, 0);
    const canFalse = prim === "eq" ? true : prim === "ne" ? lo <= 0 && hi >= 0 : !f(lo, 0) || !f(hi, 0);
    return [v ? 1 : 0, canTrue && canFalse ? 1 : 0];
  });
}

function selectN(pred: RefValue, cases: RefValue[]): RefValue {
  const d = cases[0].dtype;
  for (const c of cases) if (c.dtype !== d) throw new Error("reference: select_n cases of different dtypes");
  return mapN("select_n", [pred, ...cases], d, ([p, ...vs], [ep, ...es]) => {
    const n = vs.length;
    const pick = (i: number) => Math.min(Math.max(i, 0), n - 1);
    const i = pick(p);
    const v = vs[i];
    let e = es[i];
    if (ep > 0) {
      for (let j = pick(Math.floor(p - ep)); j <= pick(Math.ceil(p + ep)); j++) e = Math.max(e, Math.abs(vs[j] - v) + es[j]);
    }
    return [v, e];
  });
}

function convert(x: RefValue, to: DType): RefValue {
  const from = x.dtype;
  if (isFloatType(to)) {
    return mapN("convert_element_type", [x], to, ([a], [e]) => [a, e + (from === to ? 0 : roundErr(to, a))]);
  }
  if (to === "i32") {
    const f = (v: number) => (Number.isNaN(v) ? 0 : v >= 2147483647 ? 2147483647 : v <= -2147483648 ? -2147483648 : Math.trunc(v));
    return mapN("convert_element_type", [x], to, ([a], [e]) => [f(a), monotone(f, a, e)]);
  }
  // to bool: nonzero; uncertain when the interval contains 0 and more
  return mapN("convert_element_type", [x], to, ([a], [e]) => [a !== 0 ? 1 : 0, e > 0 && Math.abs(a) <= e ? 1 : 0]);
}

function integerPow(x: RefValue, y: number): RefValue {
  const d = x.dtype;
  if (!isFloatType(d)) {
    if (y < 0) throw new Error("reference: negative integer_pow of an int");
    return mapN("integer_pow", [x], d, ([a], [e]) => {
      let v = 1;
      for (let k = 0; k < y; k++) v = Math.imul(v, a);
      return [v, e ? (Math.abs(a) + e) ** y - Math.abs(a) ** y : 0];
    });
  }
  const f = (v: number) => v ** y;
  return mapN("integer_pow", [x], d, ([a], [e]) => {
    const v = f(a);
    let err: number;
    if (e === 0) err = 0;
    else if (y >= 0) err = (Math.abs(a) + e) ** y - Math.abs(a) ** y;
    else err = a - e <= 0 && a + e >= 0 ? Infinity : monotone((t) => Math.abs(t) ** y, a, e); // |t|^y is monotone on one side of 0
    // one rounding per multiply (and the reciprocal)
    return [v, err + (Math.abs(y) + 1) * roundErr(d, v)];
  });
}

// ---- shapes and data movement ----

function broadcastInDim(x: RefValue, shape: number[], dims: number[]): RefValue {
  if (dims.length !== x.shape.length) throw new Error("reference: broadcast_in_dim needs one dim per operand axis");
  x.shape.forEach((d, i) => {
    if (d !== 1 && d !== shape[dims[i]]) throw new Error("reference: broadcast_in_dim shape mismatch");
  });
  const out = make(x.dtype, shape);
  const xs = stridesOf(x.shape);
  let k = 0;
  for (const idx of indices(shape)) {
    let o = 0;
    dims.forEach((od, i) => { if (x.shape[i] !== 1) o += idx[od] * xs[i]; });
    out.data[k] = x.data[o];
    out.err[k] = x.err[o];
    k++;
  }
  return out;
}

function reshape(x: RefValue, shape: number[]): RefValue {
  if (numel(shape) !== numel(x.shape)) throw new Error("reference: reshape changes the size");
  return { dtype: x.dtype, shape: [...shape], data: x.data.slice(), err: x.err.slice() };
}

function transpose(x: RefValue, perm: number[]): RefValue {
  const shape = perm.map((p) => x.shape[p]);
  const out = make(x.dtype, shape);
  const xs = stridesOf(x.shape);
  let k = 0;
  for (const idx of indices(shape)) {
    let o = 0;
    perm.forEach((p, i) => { o += idx[i] * xs[p]; });
    out.data[k] = x.data[o];
    out.err[k] = x.err[o];
    k++;
  }
  return out;
}

// ---- reductions and dot_general ----

function reduce(prim: string, x: RefValue, axes: number[]): RefValue {
  const r = x.shape.length;
  for (const a of axes) if (a < 0 || a >= r) throw new Error(`reference: ${prim} axis ${a} of rank ${r}`);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const oshape = kept.map((i) => x.shape[i]);
  const out = make(x.dtype, oshape);
  const n = numel(axes.map((a) => x.shape[a]));
  const d = x.dtype;
  const fl = isFloatType(d);
  // Per output element: the list of (value, error) of the elements reduced into it.
  const groups: [number, number][][] = Array.from({ length: numel(oshape) }, () => []);
  const os = stridesOf(oshape);
  let k = 0;
  for (const idx of indices(x.shape)) {
    const o = flatIndex(kept.map((i) => idx[i]), os);
    groups[o].push([x.data[k], x.err[k]]);
    k++;
  }
  groups.forEach((g, o) => {
    let v: number, e: number;
    switch (prim) {
      case "reduce_sum": {
        v = 0; e = 0;
        let abs = 0;
        for (const [a, ea] of g) { v = fl ? v + a : castTo(d, v + a); e += ea; abs += Math.abs(a) + ea; }
        if (fl) e += n * unit(d) * abs + tiny(d);
        break;
      }
      case "reduce_max": case "reduce_min": {
        const mx = prim === "reduce_max";
        v = mx ? -Infinity : Infinity;
        if (d === "i32") v = mx ? -2147483648 : 2147483647;
        if (d === "bool") v = mx ? 0 : 1;
        e = 0;
        for (const [a, ea] of g) { v = mx ? Math.max(v, a) : Math.min(v, a); e = Math.max(e, ea); }
        break;
      }
      case "reduce_prod": {
        v = 1; e = 0;
        let hi = 1, abs = 1;
        for (const [a, ea] of g) { v = fl ? v * a : Math.imul(v, a); hi *= Math.abs(a) + ea; abs *= Math.abs(a); }
        e = hi - abs + (fl ? n * unit(d) * hi + tiny(d) : 0);
        break;
      }
      default:
        throw new Error(`reference: no rule for ${prim}`);
    }
    out.data[o] = v;
    out.err[o] = e;
  });
  return out;
}

function dotGeneral(x: RefValue, y: RefValue, dn: [[number[], number[]], [number[], number[]]], pref: DType | null): RefValue {
  const [[cx, cy], [bx, by]] = dn;
  if (cx.length !== cy.length || bx.length !== by.length) throw new Error("reference: dot_general dims do not pair up");
  cx.forEach((a, i) => { if (x.shape[a] !== y.shape[cy[i]]) throw new Error("reference: contracting dims differ"); });
  bx.forEach((a, i) => { if (x.shape[a] !== y.shape[by[i]]) throw new Error("reference: batch dims differ"); });
  const fx = x.shape.map((_, i) => i).filter((i) => !cx.includes(i) && !bx.includes(i));
  const fy = y.shape.map((_, i) => i).filter((i) => !cy.includes(i) && !by.includes(i));
  const d = pref ?? x.dtype;
  const oshape = [...bx.map((a) => x.shape[a]), ...fx.map((a) => x.shape[a]), ...fy.map((a) => y.shape[a])];
  const cshape = cx.map((a) => x.shape[a]);
  const K = numel(cshape);
  const out = make(d, oshape);
  const xs = stridesOf(x.shape), ys = stridesOf(y.shape);
  const fl = isFloatType(d);
  let k = 0;
  for (const idx of indices(oshape)) {
    const bi = idx.slice(0, bx.length), xi = idx.slice(bx.length, bx.length + fx.length), yi = idx.slice(bx.length + fx.length);
    let baseX = 0, baseY = 0;
    bx.forEach((a, i) => { baseX += bi[i] * xs[a]; });
    by.forEach((a, i) => { baseY += bi[i] * ys[a]; });
    fx.forEach((a, i) => { baseX += xi[i] * xs[a]; });
    fy.forEach((a, i) => { baseY += yi[i] * ys[a]; });
    let v = 0, e = 0, abs = 0;
    for (const ci of indices(cshape)) {
      let ox = baseX, oy = baseY;
      cx.forEach((a, i) => { ox += ci[i] * xs[a]; });
      cy.forEach((a, i) => { oy += ci[i] * ys[a]; });
      const a = x.data[ox], b = y.data[oy], ea = x.err[ox], eb = y.err[oy];
      v = fl ? v + a * b : castTo(d, v + Math.imul(a, b));
      e += Math.abs(a) * eb + Math.abs(b) * ea + ea * eb;
      abs += (Math.abs(a) + ea) * (Math.abs(b) + eb);
    }
    if (fl) e += (K + 1) * unit(d) * abs + tiny(d);
    out.data[k] = v;
    out.err[k] = e;
    k++;
  }
  return out;
}

function clamp(lo: RefValue, x: RefValue, hi: RefValue): RefValue {
  return mapN("clamp", [lo, x, hi], x.dtype, ([l, v, h], es) => [Math.min(Math.max(v, l), h), Math.max(...es)]);
}

/** One equation on reference values. */
export function evalEqn(e: Eqn, ins: RefValue[]): RefValue[] {
  const p = e.params as Record<string, unknown>;
  const prim = e.prim as string;
  const x = ins[0];
  if (prim in COMPARE) return [compare(prim, x, ins[1])];
  switch (prim) {
    case "add": case "sub": case "mul": case "div": case "max": case "min": case "pow": case "and": case "or": case "xor":
      return [binary(prim, x, ins[1])];
    case "integer_pow": return [integerPow(x, p.y as number)];
    case "select_n": return [selectN(x, ins.slice(1))];
    case "convert_element_type": return [convert(x, p.new_dtype as DType)];
    case "stop_gradient": return [x];
    case "clamp": return [clamp(ins[0], ins[1], ins[2])];
    case "broadcast_in_dim": return [broadcastInDim(x, p.shape as number[], p.broadcast_dimensions as number[])];
    case "reshape": return [reshape(x, p.new_sizes as number[])];
    case "squeeze": {
      const dims = p.dimensions as number[];
      for (const dm of dims) if (x.shape[dm] !== 1) throw new Error("reference: squeeze of a dim that is not 1");
      return [reshape(x, x.shape.filter((_, i) => !dims.includes(i)))];
    }
    case "transpose": return [transpose(x, p.permutation as number[])];
    case "reduce_sum": case "reduce_max": case "reduce_min": case "reduce_prod":
      return [reduce(prim, x, p.axes as number[])];
    case "dot_general":
      return [dotGeneral(x, ins[1], p.dimension_numbers as [[number[], number[]], [number[], number[]]], p.preferred_element_type as DType | null)];
  }
  return [isFloatType(x.dtype) ? unaryFloat(prim, x) : unaryInt(prim, x)];
}

/**
 * The comparison rule: `got` (a float32 evaluation) matches the reference value `want` with
 * error bound `err` when |got - want| <= SAFETY * err (both NaN-free; ints and bools with a
 * zero bound must be equal). Returns null when it matches, else a description.
 */
export function withinTolerance(got: number, want: number, err: number): string | null {
  if (Number.isNaN(got) || Number.isNaN(want)) return Number.isNaN(got) && Number.isNaN(want) ? null : `got ${got}, want ${want}`;
  if (got === want) return null;
  const diff = Math.abs(got - want);
  if (diff <= SAFETY * err) return null;
  return `got ${got}, want ${want} (±${err.toExponential(2)}), off by ${diff.toExponential(3)} = ${(diff / Math.max(err, 1e-300)).toExponential(2)} x bound`;
}
