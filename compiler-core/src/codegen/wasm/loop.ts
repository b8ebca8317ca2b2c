// WASM SIMD elementwise loops: the f32 loop kernels of codegen/js.ts, four lanes at a time.
//
// The loop shape is split at one dimension into outer x inner (P elements); every read is
//   full   (the value has the loop shape: element o*P + j),
//   inner  (it varies only along the inner dims, e.g. a bias row: element j),
//   outer  (it varies only along the outer dims, e.g. a column: element o, splatted per row),
//   scalar (loop-invariant, splatted once).
// Anything else (transposes, slices, reversed or strided reads, i32/f64 values) is refused
// and the kernel stays JavaScript. The inner loop runs in steps of four with no scalar tail:
// staging regions are padded, a row's last vector reads past the row (into the next row or
// the padding) and writes past it into the next row, which is rewritten when its turn comes
// (rows run in ascending order) or into the padding.
//
// Ops: f32 arithmetic, min/max (NaN wins, as Math.min/max), compares and select (bool values
// are lane masks), abs/neg/sqrt/floor/ceil/round (exact), rsqrt as float64 1/sqrt rounded once
// (as the JS kernels), exp/log/tanh by math.ts (float64 lanes, rounded once), and every other f32
// transcendental (sin, cos, log1p, expm1, erf, logistic, pow, atan2, ...) lane by lane through an
// imported float64 JS function rounded to f32 — the same value the JS kernels compute.
import type { Atom, Eqn, Var } from "../../ir/types";
import { size } from "../../ir/types";
import { isBinary, isCompare, isUnary } from "../../ir/primitives";
import { literalValue, HELPERS } from "../js";
import { Func, Module } from "./module";
import { add, bind, cf, div, expV, get, logV, mul, op1, op2, sel, sub, tanhV, type V } from "./math";

export class WasmUnsupported extends Error {}
const no = (why: string): never => { throw new WasmUnsupported(why); };

/** Staging memory: 16-byte aligned regions with 16 bytes of padding after each. */
export class Staging {
  bytes = 0;
  alloc(bytes: number): number {
    const at = this.bytes;
    this.bytes = at + Math.ceil(bytes / 16) * 16 + 16;
    return at;
  }
}

/** A copy into staging before the call: kernel argument `arg` into the region at `offset`. */
export interface CopyIn {
  arg: number; offset: number; count: number;
  /** A custom copy (a matmul operand's layout); `note` says what it does (it is part of the listing, so of the cache key). */
  copy?: (src: Float32Array, heap: Float32Array, heap64: Float64Array) => void;
  note?: string;
}
export interface CopyOut { arg: number; offset: number; count: number }

// Imported float64 functions (the JS kernels' definitions), lane by lane.
const jlErf = new Function(`${HELPERS.jlErf}\nreturn jlErf;`)() as (x: number) => number;
const jlPow = new Function(`${HELPERS.jlPow}\nreturn jlPow;`)() as (a: number, b: number) => number;
export const IMPORTS: Record<string, (...xs: number[]) => number> = {
  sin: Math.sin, cos: Math.cos, tan: Math.tan, log1p: Math.log1p, expm1: Math.expm1, cbrt: Math.cbrt,
  asin: Math.asin, acos: Math.acos, atan: Math.atan, sinh: Math.sinh, cosh: Math.cosh, asinh: Math.asinh,
  acosh: Math.acosh, atanh: Math.atanh, exp2: (x) => Math.pow(2, x), erf: jlErf, pow: jlPow, atan2: Math.atan2,
  rem: (a, b) => a % b, logistic: (x) => 1 / (1 + Math.exp(-x)),
};

export type T = "f" | "m"; // f32 lanes, or a bool lane mask
export interface Val { v: V; t: T }

export interface LoopEmitSpec {
  eqns: readonly Eqn[];
  inputs: readonly Var[];
  outputs: readonly Var[];
  loopShape: readonly number[];
  /** Argument index of each input and output (inputs first). */
  argOf: (v: Var, output: boolean) => number;
  /** A value already in staging (a matmul's result): its region and row stride in elements; it forces the split at the last dim. */
  ext?: { v: Var; offset: number; rowStride: number };
}

/** Emits the loop into `f` (of module `m`), allocating staging; throws WasmUnsupported. */
export function emitLoop(f: Func, m: Module, st: Staging, spec: LoopEmitSpec): { ins: CopyIn[]; outs: CopyOut[] } {
  const L = spec.loopShape;
  const R = L.length;
  const total = size(L);
  if (total === 0) no("an empty loop");
  const inputIds = new Set(spec.inputs.map((v) => v.id));
  if (spec.ext) inputIds.add(spec.ext.v.id);
  const view = new Map<number, number[]>(); // computed vars: their one view
  const reads = new Map<string, { v: Var; view: number[] }>();
  const keyOf = (v: Var, vw: number[]) => `${v.id}:${vw.join(",")}`;
  const producer = new Map<number, Eqn>();
  for (const e of spec.eqns) for (const o of e.outputs) producer.set(o.id, e);
  const want = (a: Atom, vw: number[]) => {
    if (a.kind !== "var") return;
    if (inputIds.has(a.id)) { reads.set(keyOf(a, vw), { v: a, view: vw }); return; }
    if (!producer.has(a.id)) no("a value neither computed nor read");
    const had = view.get(a.id);
    if (had && had.join(",") !== vw.join(",")) no("a value needed in two layouts");
    view.set(a.id, vw);
  };
  const identity = (v: Var) => v.aval.shape.map((d, i) => (d === 1 ? -1 : i));
  for (const v of spec.outputs) {
    if (v.aval.dtype !== "f32") no(`a ${v.aval.dtype} output`);
    if (v.aval.shape.length !== R || v.aval.shape.some((d, i) => d !== L[i])) no("an output without the loop shape");
    want(v, identity(v));
  }
  for (let j = spec.eqns.length - 1; j >= 0; j--) {
    const e = spec.eqns[j];
    const vw = view.get(e.outputs[0].id);
    if (!vw) continue;
    if (e.prim === "broadcast_in_dim") {
      const dims = (e.params as { broadcast_dimensions: number[] }).broadcast_dimensions;
      const x = e.inputs[0];
      want(x, dims.map((d, i) => (x.aval.shape[i] === 1 ? -1 : vw[d])));
      continue;
    }
    for (const x of e.inputs) {
      if (x.aval.shape.length === 0) { want(x, []); continue; }
      if (x.aval.shape.length !== vw.length) no("not elementwise-broadcastable");
      want(x, x.aval.shape.map((d, i) => (d === 1 ? -1 : vw[i])));
    }
  }
  // Classify reads and pick the split.
  const D = L.map((_, d) => d).filter((d) => L[d] > 1);
  let split: number | undefined = spec.ext ? D.length - 1 : undefined;
  if (spec.ext && (D.length === 0 || D[D.length - 1] !== R - 1)) no("a matmul epilogue over a size-1 last dim");
  type Kind = "full" | "inner" | "outer" | "scalar";
  const classes: { key: string; v: Var; kind: Kind; p?: number }[] = [];
  for (const [key, r] of reads) {
    if (r.v.aval.dtype !== "f32") no(`a ${r.v.aval.dtype} input`);
    const used = r.view.filter((d) => d >= 0);
    for (let i = 1; i < used.length; i++) if (used[i] <= used[i - 1]) no("a transposed read");
    const pos = used.map((d) => D.indexOf(d));
    if (used.length === 0) { classes.push({ key, v: r.v, kind: "scalar" }); continue; }
    if (used.length === D.length) { classes.push({ key, v: r.v, kind: "full" }); continue; }
    const contiguousRun = pos.every((p, i) => p === pos[0] + i);
    if (!contiguousRun) no("a strided read");
    if (pos[pos.length - 1] === D.length - 1) classes.push({ key, v: r.v, kind: "inner", p: pos[0] });
    else if (pos[0] === 0) classes.push({ key, v: r.v, kind: "outer", p: pos.length });
    else no("a read of middle dims");
  }
  for (const c of classes) {
    if (c.p === undefined) continue;
    if (split === undefined) split = c.p;
    else if (split !== c.p) no("reads that split the loop at different dims");
  }
  const p = split ?? 0;
  const P = D.slice(p).reduce((t, d) => t * L[d], 1);
  const outer = total / P;
  if (spec.ext && P !== L[R - 1]) no("a matmul epilogue that is not per row");

  // Staging regions.
  const ins: CopyIn[] = [];
  const regionOf = new Map<number, number>();
  const region = (v: Var): number => {
    if (spec.ext && v.id === spec.ext.v.id) return spec.ext.offset;
    let off = regionOf.get(v.id);
    if (off === undefined) {
      const n = size(v.aval.shape);
      off = st.alloc(n * 4);
      regionOf.set(v.id, off);
      ins.push({ arg: spec.argOf(v, false), offset: off, count: n });
    }
    return off;
  };
  const outs: CopyOut[] = spec.outputs.map((v) => {
    const n = size(v.aval.shape);
    return { arg: spec.argOf(v, true), offset: st.alloc(n * 4), count: n };
  });

  const o4 = f.local("i32", "o4"), row = f.local("i32", "row"), jb = f.local("i32", "jb"), addr = f.local("i32", "addr");
  const erow = spec.ext ? f.local("i32", "ext_row") : -1;
  const values = new Map<string, Val>();
  // Hoisted: scalars.
  f.comment(`loop: ${outer} row(s) x ${P} element(s), 4 lanes per step`);
  for (const c of classes) {
    if (c.kind !== "scalar") continue;
    f.i32(0).mem("v128.load32_splat", region(c.v));
    const i = f.local("v128", "scalar");
    f.set(i);
    values.set(c.key, { v: get(i), t: "f" });
  }
  for (const c of classes) if (c.kind !== "scalar") region(c.v);
  f.i32(0).set(o4).i32(0).set(row);
  if (spec.ext) f.i32(0).set(erow);
  f.loop("outer");
  for (const c of classes) {
    if (c.kind !== "outer") continue;
    f.get(o4).mem("v128.load32_splat", region(c.v));
    const i = f.local("v128", "col");
    f.set(i);
    values.set(c.key, { v: get(i), t: "f" });
  }
  f.i32(0).set(jb);
  f.loop("inner");
  f.get(row).get(jb).op("i32.add").set(addr);
  for (const c of classes) {
    if (c.kind === "full") {
      if (spec.ext && c.v.id === spec.ext.v.id) f.get(erow).get(jb).op("i32.add").mem("v128.load", region(c.v));
      else f.get(addr).mem("v128.load", region(c.v));
    } else if (c.kind === "inner") f.get(jb).mem("v128.load", region(c.v));
    else continue;
    const i = f.local("v128", "in");
    f.set(i);
    values.set(c.key, { v: get(i), t: "f" });
  }
  const valOf = (a: Atom, vw: number[]): Val => {
    if (a.kind === "lit") {
      const x = literalValue(a);
      if (a.aval.dtype === "bool") return { v: (g) => { g.i32x4(x ? -1 : 0); }, t: "m" };
      if (a.aval.dtype !== "f32") no(`a ${a.aval.dtype} literal`);
      return { v: cf(x), t: "f" };
    }
    if (inputIds.has(a.id)) return values.get(keyOf(a, vw))!;
    return values.get(`${a.id}`)!;
  };
  for (const [j, e] of spec.eqns.entries()) {
    const out = e.outputs[0];
    const vw = view.get(out.id);
    if (!vw) continue;
    if (e.prim === "broadcast_in_dim") {
      const dims = (e.params as { broadcast_dimensions: number[] }).broadcast_dimensions;
      const x = e.inputs[0];
      values.set(`${out.id}`, valOf(x, dims.map((d, i) => (x.aval.shape[i] === 1 ? -1 : vw[d]))));
      continue;
    }
    const args = e.inputs.map((x) => valOf(x, x.aval.shape.length === 0 ? [] : x.aval.shape.map((d, i) => (d === 1 ? -1 : vw[i]))));
    f.comment(e.prim);
    const r = opV(f, m, e, args);
    const i = f.local("v128", `e${j}`);
    r.v(f);
    f.set(i);
    values.set(`${out.id}`, { v: get(i), t: r.t });
  }
  spec.outputs.forEach((v, k) => {
    const val = valOf(v, identity(v));
    if (val.t !== "f") no("a bool output");
    f.get(addr);
    val.v(f);
    f.mem("v128.store", outs[k].offset);
  });
  f.get(jb).i32(16).op("i32.add").tee(jb).i32(P * 4).op("i32.lt_u").brIf("inner");
  f.end();
  f.get(row).i32(P * 4).op("i32.add").set(row);
  if (spec.ext) f.get(erow).i32(spec.ext.rowStride * 4).op("i32.add").set(erow);
  f.get(o4).i32(4).op("i32.add").tee(o4).i32(outer * 4).op("i32.lt_u").brIf("outer");
  f.end();
  return { ins, outs };
}

/** One equation on lane vectors. */
export function opV(f: Func, m: Module, e: Eqn, args: Val[]): Val {
  const p = e.prim;
  const dtIn = e.inputs[0]?.aval.dtype;
  const dtOut = e.outputs[0].aval.dtype;
  for (const x of [...e.inputs, ...e.outputs]) if (x.aval.dtype !== "f32" && x.aval.dtype !== "bool") no(`${p} on ${x.aval.dtype}`);
  const [a, b] = args.map((x) => x.v);
  const F = (v: V): Val => ({ v, t: "f" });
  const M = (v: V): Val => ({ v, t: "m" });
  const lanes = (name: string, xs: V[]): Val => {
    const idx = m.importFunc("m", name, xs.map(() => "f64"), ["f64"]);
    const locs = xs.map((x, k) => bind(f, x, `${name}_in${k}`));
    const res = f.local("v128", `${name}_out`);
    locs[0](f);
    f.set(res);
    for (let l = 0; l < 4; l++) {
      f.get(res);
      for (const x of locs) { x(f); f.lane("f32x4.extract_lane", l).op("f64.promote_f32"); }
      f.call(idx, name).op("f32.demote_f64").lane("f32x4.replace_lane", l).set(res);
    }
    return F(get(res));
  };
  if (dtIn === "bool") {
    // Pred arithmetic on masks.
    switch (p) {
      case "add": case "max": case "or": return M(op2("v128.or", a, b));
      case "mul": case "min": case "and": return M(op2("v128.and", a, b));
      case "xor": case "ne": return M(op2("v128.xor", a, b));
      case "eq": return M(op1("v128.not", op2("v128.xor", a, b)));
      case "not": return M(op1("v128.not", a));
      case "stop_gradient": return args[0];
      case "convert_element_type": return dtOut === "bool" ? args[0] : F(op2("v128.and", a, cf(1)));
      case "select_n": break;
      default: no(`${p} on bool`);
    }
  }
  if (isUnary(p)) {
    switch (p) {
      case "neg": return F(op1("f32x4.neg", a));
      case "abs": return F(op1("f32x4.abs", a));
      case "sqrt": return F(op1("f32x4.sqrt", a));
      case "floor": return F(op1("f32x4.floor", a));
      case "ceil": return F(op1("f32x4.ceil", a));
      case "round": return F(op1("f32x4.nearest", a));
      case "square": return F(mul(a, a));
      case "exp": return F(expV(f, a));
      case "log": return F(logV(f, a));
      case "tanh": return F(tanhV(f, a));
      // logistic: Math.exp in float64 rounded once, lane by lane (the runtime tests pin
      // logistic to exactly 1 / (1 + exp(-x)); math.ts's logisticV is within 2.1 ulp).
      case "logistic": return lanes("logistic", [a]);
      case "rsqrt": {
        // float64 1/sqrt(x) rounded once, as Math.fround(1 / Math.sqrt(x))
        const x = bind(f, a, "rs_x");
        const half = (v: V): V => op1("f32x4.demote_f64x2_zero", op2("f64x2.div", (g) => { g.f64(1); g.op("f64x2.splat"); }, op1("f64x2.sqrt", op1("f64x2.promote_low_f32x4", v))));
        const hi: V = (g) => { x(g); x(g); g.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]); };
        return F((g) => { half(x)(g); half(hi)(g); g.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]); });
      }
      case "sign": return F(sel(op2("f32x4.gt", a, cf(0)), cf(1), sel(op2("f32x4.lt", a, cf(0)), cf(-1), a)));
      case "is_finite": return M(op2("f32x4.eq", sub(a, a), cf(0)));
      case "sin": case "cos": case "tan": case "log1p": case "expm1": case "cbrt": case "asin": case "acos": case "atan":
      case "sinh": case "cosh": case "asinh": case "acosh": case "atanh": case "exp2": case "erf":
        return lanes(p, [a]);
      default: no(`${p} on f32`);
    }
  }
  if (isCompare(p)) {
    const op = { eq: "f32x4.eq", ne: "f32x4.ne", lt: "f32x4.lt", le: "f32x4.le", gt: "f32x4.gt", ge: "f32x4.ge" }[p];
    return M(op2(op, a, b));
  }
  if (isBinary(p)) {
    switch (p) {
      case "add": return F(add(a, b));
      case "sub": return F(sub(a, b));
      case "mul": return F(mul(a, b));
      case "div": return F(div(a, b));
      case "max": return F(op2("f32x4.max", a, b));
      case "min": return F(op2("f32x4.min", a, b));
      case "pow": case "atan2": case "rem": return lanes(p, [a, b]);
      default: no(`${p} on f32`);
    }
  }
  switch (p) {
    case "integer_pow": {
      // JAX's square-and-multiply, one rounding per multiply (as the JS kernels).
      const y = (e.params as { y: number }).y;
      if (y === 0) return F(cf(1));
      let n = Math.abs(y);
      let base: V = bind(f, a, "ip_b");
      let acc: V | null = null;
      while (n > 0) {
        if (n & 1) acc = acc === null ? base : bind(f, mul(acc, base), "ip_acc");
        n >>= 1;
        if (n > 0) base = bind(f, mul(base, base), "ip_b");
      }
      return F(y > 0 ? acc! : div(cf(1), acc!));
    }
    case "select_n": {
      const [pred, ...cases] = args;
      if (cases.length === 1) return cases[0];
      if (cases.length !== 2 || pred.t !== "m") no("select_n with a non-bool predicate");
      return { v: sel(pred.v, cases[1].v, cases[0].v), t: cases[0].t };
    }
    case "stop_gradient": return args[0];
    case "clamp": {
      const [lo, x, hi] = args.map((v) => v.v);
      return F(op2("f32x4.min", op2("f32x4.max", x, lo), hi));
    }
    case "convert_element_type":
      if (dtIn === dtOut) return args[0];
      if (dtOut === "bool") return M(op2("f32x4.ne", a, cf(0)));
      return no(`convert ${dtIn} to ${dtOut}`);
  }
  return no(`${p}`);
}
