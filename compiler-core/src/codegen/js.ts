// JavaScript code generation for loop kernels: one loop over the elements of the loop
// shape that reads every input buffer, computes a group of elementwise equations in
// registers, and writes the output buffers. The eager interpreter uses the same generator
// with a single equation per kernel, so both modes share one definition of each op.
//
// Indexing: every value in the kernel is seen through a *view*, one entry per dimension of
// the value saying which loop dimension indexes it (-1: size 1, always index 0). Views
// compose through broadcasting, so an input read ends up as a stride per loop dimension.
// Loop dimensions whose strides line up for every read are merged, and the loops are
// nested, innermost contiguous, with one running offset per strided read and level.
import type { Atom, DType, Eqn, Literal, Var } from "../ir/types";
import { isBinary, isCompare, isElementwise, isUnary } from "../ir/primitives";
import { F32_MATH_HELPERS, f32MathHelpers, f32MathOn } from "./wasm/mathjs";

export interface JsCodegenOptions {
  /** Round every float32 result to float32 with Math.fround, as XLA computes (default true). */
  fround?: boolean;
}

export interface LoopKernelSpec {
  /** Name of the generated JS function. */
  fnName: string;
  /** The kernel's equations, in program order. */
  eqns: readonly Eqn[];
  /** Buffers the kernel reads, in parameter order (vars not produced by `eqns`). */
  inputs: readonly Var[];
  /** Buffers the kernel writes, in parameter order; each has exactly the loop shape. */
  outputs: readonly Var[];
  loopShape: readonly number[];
  /** Identifier stem for a var (letters, e.g. its jaxpr name). */
  name: (v: Var) => string;
}

export interface GeneratedKernel {
  fnName: string;
  /** Self-contained JS: helper functions (if any) and `function fnName(in_..., out_...)`. */
  code: string;
}

const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await arguments eval undefined")
    .split(" "),
);

/** A JS identifier for a var name; generated names (loop counters etc.) always contain a digit or `_`. */
export function jsIdent(name: string): string {
  if (/^[a-z]+$/.test(name) && !RESERVED.has(name)) return name;
  return "v_" + name.replace(/[^A-Za-z0-9]/g, "_");
}

export const HELPERS: Record<string, string> = {
  jlRoundEven: `function jlRoundEven(x) {
  // Nearest integer, ties to even (jnp.round).
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}`,
  jlPow: `function jlPow(a, b) {
  // C pow: 1 to any power and -1 to an infinite power are 1 (Math.pow gives NaN).
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}`,
  jlIpow: `function jlIpow(a, b) {
  // XLA's int32 power: squaring over the exponent's low 6 bits, wrapping;
  // a negative exponent gives 1 for base 1 and 0 otherwise.
  if (b < 0) return a === 1 ? 1 : 0;
  let acc = 1;
  for (let i = 0; i < 6; i++) {
    if (b & 1) acc = Math.imul(acc, a);
    a = Math.imul(a, a);
    b >>>= 1;
  }
  return acc;
}`,
  jlErf: `function jlErf(x) {
  // erf in float64 (max relative error ~2e-15; coefficients from
  // test/unit/fixtures/erf_coefficients.py). |x| < 1: x * P(x^2), the Taylor series of
  // erf(x)/x. 1 <= |x| < 6: 1 - exp(-x^2) * G(|x|), G a Chebyshev interpolant of
  // erfc(a) * exp(a^2) on [1, 6]. Beyond 6 the result is +-1 in float64.
  const a = Math.abs(x);
  if (a < 1) {
    const t = x * x;
    let p = -2.7835162072109212e-14;
    p = p * t + 4.4632242632864775e-13;
    p = p * t + -6.7113668551641105e-12;
    p = p * t + 9.422759064650411e-11;
    p = p * t + -1.2290555301717926e-09;
    p = p * t + 1.4807192815879218e-08;
    p = p * t + -1.6365844691234924e-07;
    p = p * t + 1.6462114365889246e-06;
    p = p * t + -1.492565035840625e-05;
    p = p * t + 0.00012055332981789664;
    p = p * t + -0.0008548327023450852;
    p = p * t + 0.005223977625442188;
    p = p * t + -0.026866170645131252;
    p = p * t + 0.11283791670955126;
    p = p * t + -0.37612638903183754;
    p = p * t + 1.1283791670955126;
    return x * p;
  }
  if (!(a < 6)) return a !== a ? x : x > 0 ? 1 : -1;
  const u = (2 * a - 7) / 5, u2 = 2 * u;
  let b1 = 0, b2 = 0, t = 0;
    t = b1; b1 = u2 * b1 - b2 + 1.0673875667297907e-14; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -5.157662980200358e-14; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 2.2819088044015793e-13; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -9.92125567611623e-13; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 4.253441247820174e-12; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -1.799022575586622e-11; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 7.504494414638078e-11; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -3.0858860877793983e-10; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 1.2501872825819174e-09; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -4.987110208958252e-09; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 1.9575863544795672e-08; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -7.555861084845159e-08; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 2.8655025726866616e-07; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -1.066839233720272e-06; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 3.895514595290994e-06; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -1.3935932859859244e-05; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 4.878565911500901e-05; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -0.0001668947305252349; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 0.0005570714353927709; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -0.0018109803028143496; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 0.005721802417478181; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -0.01752570996486758; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + 0.05188222158351387; b2 = t;
    t = b1; b1 = u2 * b1 - b2 + -0.14788483553398707; b2 = t;
  const g = u * b1 - b2 + 0.20196598791223078;
  const r = 1 - Math.exp(-a * a) * g;
  return x > 0 ? r : -r;
}`,
  jlNextAfterF32: `const jlNaF32 = new Float32Array(1), jlNaU32 = new Uint32Array(jlNaF32.buffer);
function jlNextAfterF32(x, y) {
  // The float32 after x in the direction of y (C nextafterf); x is a float32 value.
  if (x !== x || y !== y) return NaN;
  if (x === y) return y;
  if (x === 0) return y > 0 ? 1.401298464324817e-45 : -1.401298464324817e-45;
  jlNaF32[0] = x;
  // Stepping away from zero adds one to the magnitude bits, toward zero subtracts one.
  if ((y > x) === (x > 0)) jlNaU32[0]++; else jlNaU32[0]--;
  return jlNaF32[0];
}`,
  jlNextAfterF64: `const jlNaF64 = new Float64Array(1), jlNaW = new Uint32Array(jlNaF64.buffer);
function jlNextAfterF64(x, y) {
  // The float64 after x in the direction of y (C nextafter); words little-endian.
  if (x !== x || y !== y) return NaN;
  if (x === y) return y;
  if (x === 0) return y > 0 ? 5e-324 : -5e-324;
  jlNaF64[0] = x;
  if ((y > x) === (x > 0)) {
    jlNaW[0] = (jlNaW[0] + 1) >>> 0;
    if (jlNaW[0] === 0) jlNaW[1]++;
  } else {
    if (jlNaW[0] === 0) jlNaW[1]--;
    jlNaW[0] = (jlNaW[0] - 1) >>> 0;
  }
  return jlNaF64[0];
}`,
  jlToI32: `function jlToI32(x) {
  // float -> int32: truncate toward zero, saturate, NaN -> 0.
  if (x !== x) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return x | 0;
}`,
};

// The float32 exp/log/tanh the WASM kernels use (codegen/wasm/mathjs.ts), for JS kernels while that path is on.
Object.assign(HELPERS, F32_MATH_HELPERS);

/** Row-major (C-order) element strides of `shape`. */
export function rowStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { st[i] = s; s *= shape[i]; }
  return st;
}

/** JS text for a number that evaluates to exactly `v`. */
export function numberText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "(-Infinity)";
  if (Object.is(v, -0)) return "(-0)";
  return v < 0 ? `(${String(v)})` : String(v);
}

/** The value `v` takes when stored in dtype `dt` (bools are 0/1). */
export function storedValue(v: number, dt: DType): number {
  switch (dt) {
    case "f32": return Math.fround(v);
    case "f64": return v;
    case "i32": return v | 0;
    case "bool": return v !== 0 ? 1 : 0;
  }
}

/** The stored value of a literal in its dtype (bools are 0/1). */
export function literalValue(lit: Literal): number {
  return storedValue(typeof lit.value === "boolean" ? (lit.value ? 1 : 0) : lit.value, lit.aval.dtype);
}

type View = number[];

interface Read {
  param: string;
  value: string;
  /** Element stride of the buffer per loop dimension (before merging). */
  strides: number[];
  /** Element offset of loop index 0 (slices start there, reversed dims at their end). */
  offset: number;
}

/**
 * One dimension of a value seen from the loop: its index is `b + a * i_d` for loop dimension
 * `d` (d = -1: the constant `b`). Slices scale and shift, rev negates, transposes permute,
 * broadcasts drop dimensions; a size-1 dimension is always index 0.
 */
interface Ent { d: number; a: number; b: number }
type AView = Ent[];
const entKey = (e: Ent) => (e.d < 0 ? `${e.b}` : `${e.a}i${e.d}+${e.b}`);
const viewKeyOf = (v: AView) => v.map(entKey).join(",");
const CONST0: Ent = { d: -1, a: 0, b: 0 };

/** Data movement the loop codegen computes by indexing (affine views, ranges, counters). */
export const INDEX_PRIMS = new Set(["slice", "rev", "transpose", "iota", "concatenate", "pad"]);

/** Whether the loop codegen can compute data-movement equation `e` by indexing. */
export function isIndexLoopOp(e: Eqn): boolean {
  if (!INDEX_PRIMS.has(e.prim)) return false;
  if (e.prim === "concatenate") return e.inputs.length <= 4;
  if (e.prim === "pad") return (e.params as { padding_config: [number, number, number][] }).padding_config.every(([, , k]) => k === 0);
  return true;
}

interface Stmt {
  name: string;
  expr: string;
  deps: string[];
  comment?: string;
}

function unsupported(prim: string, dt: DType): never {
  throw new Error(`the CPU backend has no ${prim} for ${dt}`);
}

/** Generate a loop kernel for `spec`. Throws an Error for an equation it cannot compile. */
export function generateLoopKernel(spec: LoopKernelSpec, options: JsCodegenOptions = {}): GeneratedKernel {
  const fround = options.fround ?? true;
  const R = spec.loopShape.length;
  const producer = new Map<number, Eqn>();
  for (const e of spec.eqns) for (const o of e.outputs) producer.set(o.id, e);
  const inputIds = new Set(spec.inputs.map((v) => v.id));

  const reads: Read[] = [];
  const readByKey = new Map<string, Read>();
  const stmts: Stmt[] = [];
  const memo = new Map<string, string>();
  const consts: Stmt[] = [];
  const constByKey = new Map<string, string>();
  const helpers = new Set<string>();
  const usedNames = new Set<string>();
  // Every identifier that is a value in the kernel; inline literal text is not.
  const known = new Set<string>();

  const uniqueName = (stem: string): string => {
    let name = stem;
    for (let k = 1; usedNames.has(name); k++) name = `${stem}_${k}`;
    usedNames.add(name);
    return name;
  };
  for (const v of spec.inputs) usedNames.add(`in_${jsIdent(spec.name(v))}`);
  for (const v of spec.outputs) usedNames.add(`out_${jsIdent(spec.name(v))}`);

  const literalText = (lit: Literal): string => {
    const v = literalValue(lit);
    if (lit.aval.dtype !== "f32" || v === lit.value || typeof lit.value === "boolean") return numberText(v);
    // A float32 literal that is not exactly its decimal text: hoist its rounding.
    const key = `f32:${lit.value}`;
    let name = constByKey.get(key);
    if (!name) {
      name = uniqueName(`lit${consts.length}`);
      constByKey.set(key, name);
      consts.push({ name, expr: `Math.fround(${numberText(lit.value as number)})`, deps: [], comment: `${lit.value}:f32[]` });
      known.add(name);
    }
    return name;
  };

  const readOf = (v: Var, view: AView): string => {
    const key = `${v.id}:${viewKeyOf(view)}`;
    const hit = readByKey.get(key);
    if (hit) return hit.value;
    const strides = new Array<number>(R).fill(0);
    const rs = rowStrides(v.aval.shape);
    let offset = 0;
    view.forEach((e, i) => { offset += rs[i] * e.b; if (e.d >= 0) strides[e.d] += rs[i] * e.a; });
    const stem = jsIdent(spec.name(v));
    const value = uniqueName(stem);
    const read: Read = { param: `in_${stem}`, value, strides, offset };
    reads.push(read);
    readByKey.set(key, read);
    known.add(value);
    stmts.push({ name: value, expr: "", deps: [] });
    return value;
  };
  // Loop counters some values need (iota, the ranges of concatenate and pad): statements whose
  // text is known once the loop dims are merged (those dims are never merged).
  const counterDims = new Set<number>();
  const counterStmt = new Map<number, Stmt>();
  const counterOf = (d: number): string => {
    let st = counterStmt.get(d);
    if (!st) {
      st = { name: uniqueName(`idx${d}`), expr: "", deps: [] };
      counterStmt.set(d, st);
      counterDims.add(d);
      stmts.push(st);
      known.add(st.name);
    }
    return st.name;
  };
  const fix = (shape: readonly number[], view: AView): AView => view.map((e, i) => (shape[i] === 1 ? CONST0 : e));
  const identity = (v: Var): AView => v.aval.shape.map((d, i) => (d === 1 ? CONST0 : { d: i, a: 1, b: 0 }));
  const keyOf = (v: Var, view: AView): string => `${v.id}:${viewKeyOf(view)}`;
  const shifted = (e: Ent, by: number): Ent => ({ d: e.d, a: e.a, b: e.b + by });
  const operandViews = (e: Eqn, view: AView): AView[] => {
    const x0 = e.inputs[0];
    switch (e.prim) {
      case "broadcast_in_dim": {
        const dims = (e.params as { broadcast_dimensions: number[] }).broadcast_dimensions;
        return [fix(x0.aval.shape, dims.map((d) => view[d]))];
      }
      case "slice": {
        const p = e.params as { start_indices: number[]; strides: number[] | null };
        return [fix(x0.aval.shape, view.map((en, k) => {
          const st = p.strides ? p.strides[k] : 1;
          return { d: en.d, a: en.a * st, b: en.b * st + p.start_indices[k] };
        }))];
      }
      case "rev": {
        const dims = (e.params as { dimensions: number[] }).dimensions;
        return [fix(x0.aval.shape, view.map((en, k) => (dims.includes(k) ? { d: en.d, a: -en.a, b: x0.aval.shape[k] - 1 - en.b } : en)))];
      }
      case "transpose": {
        const perm = (e.params as { permutation: number[] }).permutation;
        const inView = new Array<Ent>(perm.length);
        perm.forEach((src, j) => { inView[src] = view[j]; });
        return [fix(x0.aval.shape, inView)];
      }
      case "concatenate": {
        const dim = (e.params as { dimension: number }).dimension;
        let start = 0;
        return e.inputs.map((x) => {
          const v = fix(x.aval.shape, view.map((en, k) => (k === dim ? shifted(en, -start) : en)));
          start += x.aval.shape[dim];
          return v;
        });
      }
      case "pad": {
        const cfg = (e.params as { padding_config: [number, number, number][] }).padding_config;
        return [fix(x0.aval.shape, view.map((en, k) => shifted(en, -cfg[k][0]))), []];
      }
      case "iota":
        return [];
      default:
        return e.inputs.map((x) => {
          if (x.aval.shape.length === 0) return [];
          if (x.aval.shape.length !== view.length) {
            throw new Error(`operand of rank ${x.aval.shape.length} for an output of rank ${view.length}: not elementwise-broadcastable`);
          }
          return fix(x.aval.shape, view);
        });
    }
  };

  // Backwards from the outputs: the views in which each value of the kernel is needed.
  const wanted = new Map<number, Map<string, AView>>();
  const want = (a: Atom, view: AView) => {
    if (a.kind !== "var" || inputIds.has(a.id)) return;
    if (!producer.has(a.id)) throw new Error(`kernel ${spec.fnName}: var ${spec.name(a)} is neither produced nor an input`);
    let views = wanted.get(a.id);
    if (!views) wanted.set(a.id, (views = new Map()));
    views.set(viewKeyOf(view), view);
  };
  for (const v of spec.outputs) {
    if (v.aval.shape.length !== R || v.aval.shape.some((d, i) => d !== spec.loopShape[i])) {
      throw new Error(`kernel ${spec.fnName}: output ${spec.name(v)} does not have the loop shape`);
    }
    want(v, identity(v));
  }
  for (let j = spec.eqns.length - 1; j >= 0; j--) {
    const e = spec.eqns[j];
    for (const view of wanted.get(e.outputs[0].id)?.values() ?? []) {
      operandViews(e, view).forEach((ov, k) => want(e.inputs[k], ov));
    }
  }

  // Forwards, in program order: one statement per (value, view).
  const valueOf = (a: Atom, view: AView): string => {
    if (a.kind === "lit") return literalText(a);
    if (inputIds.has(a.id)) return readOf(a, view);
    return memo.get(keyOf(a, view))!;
  };
  /** The index along a dimension seen through `en`, as an expression (and the counter it uses). */
  const indexExpr = (en: Ent): { text: string; dep?: string } => {
    if (en.d < 0) return { text: String(en.b) };
    const c = counterOf(en.d);
    const scaled = en.a === 1 ? c : en.a === -1 ? `-${c}` : `${en.a} * ${c}`;
    return { text: en.b === 0 ? scaled : `${scaled} + ${en.b}`.replace("+ -", "- "), dep: c };
  };
  for (const e of spec.eqns) {
    const out = e.outputs[0];
    for (const view of wanted.get(out.id)?.values() ?? []) {
      const views = operandViews(e, view);
      const args = e.inputs.map((x, k) => valueOf(x, views[k]));
      if (e.prim === "broadcast_in_dim" || e.prim === "slice" || e.prim === "rev" || e.prim === "transpose") {
        memo.set(keyOf(out, view), args[0]);
        continue;
      }
      const name = uniqueName(jsIdent(spec.name(out)));
      const deps = args.filter((s) => known.has(s));
      let expr: string;
      if (e.prim === "iota") {
        const p = e.params as { dimension: number };
        const ix = indexExpr(view[p.dimension]);
        if (ix.dep) deps.push(ix.dep);
        expr = out.aval.dtype === "bool" ? `${ix.text} !== 0 ? 1 : 0` : ix.text;
      } else if (e.prim === "concatenate") {
        const dim = (e.params as { dimension: number }).dimension;
        const en = view[dim];
        const ix = indexExpr(en);
        let start = 0;
        const ends = e.inputs.map((x) => (start += x.aval.shape[dim]));
        if (!ix.dep) {
          // A constant index: the operand is known here.
          const k = Math.max(0, ends.findIndex((end) => en.b < end));
          expr = args[k];
        } else {
          deps.push(ix.dep);
          expr = args[args.length - 1];
          for (let k = args.length - 2; k >= 0; k--) expr = `${ix.text} < ${ends[k]} ? ${args[k]} : ${expr}`;
        }
      } else if (e.prim === "pad") {
        const cfg = (e.params as { padding_config: [number, number, number][] }).padding_config;
        const conds: string[] = [];
        view.forEach((en, k) => {
          const [lo, hi] = cfg[k];
          if (lo <= 0 && hi <= 0) return; // no padding on this side: every index is in range
          const ix = indexExpr(en);
          if (ix.dep) deps.push(ix.dep);
          const n = e.inputs[0].aval.shape[k];
          if (lo > 0) conds.push(`${ix.text} >= ${lo}`);
          if (hi > 0) conds.push(`${ix.text} < ${lo + n}`);
        });
        expr = conds.length ? `${conds.join(" && ")} ? ${args[0]} : ${args[1]}` : args[0];
      } else {
        const aux = (x: string): string => {
          const t = uniqueName(`${name}_t`);
          stmts.push({ name: t, expr: x, deps: [...deps] });
          known.add(t);
          deps.push(t);
          return t;
        };
        expr = opExpr(e, args, fround, aux, (h) => helpers.add(h));
      }
      stmts.push({ name, expr, deps, comment: e.prim });
      known.add(name);
      memo.set(keyOf(out, view), name);
    }
  }
  const outs = spec.outputs.map((v) => ({ param: `out_${jsIdent(spec.name(v))}`, value: memo.get(keyOf(v, identity(v)))! }));

  // Merge loop dimensions: drop size-1 dims, then join neighbours whose strides line up.
  const total = spec.loopShape.reduce((p, d) => p * d, 1);
  const dims: { size: number; strides: number[]; counter?: boolean }[] = [];
  const levelOfDim = new Map<number, number>(); // counter dim -> position in dims (reversed below)
  for (let d = R - 1; d >= 0; d--) {
    const size = spec.loopShape[d];
    if (size === 1) continue;
    const st = reads.map((r) => r.strides[d]);
    const cur = dims[dims.length - 1];
    if (cur && !counterDims.has(d) && !cur.counter && st.every((s, k) => s === cur.strides[k] * cur.size)) cur.size *= size;
    else dims.push({ size, strides: st, counter: counterDims.has(d) });
    if (counterDims.has(d)) levelOfDim.set(d, dims.length - 1);
  }
  dims.reverse();
  const L = dims.length;
  const inner = L - 1;
  const levelOfCounter = new Map<string, number>();
  for (const [d, st] of counterStmt) {
    const pos = levelOfDim.get(d);
    // A dropped size-1 dim's index is 0.
    if (pos === undefined) { st.expr = "0"; continue; }
    const lev = L - 1 - pos;
    st.expr = `i${lev}`;
    levelOfCounter.set(st.name, lev);
  }

  // Per read: the deepest loop level it varies in (-1: loop-invariant), and how it is indexed.
  const level = new Map<string, number>(levelOfCounter);
  const contiguous = (k: number): boolean => {
    let expect = 1;
    for (let d = L - 1; d >= 0; d--) { if (dims[d].strides[k] !== expect) return false; expect *= dims[d].size; }
    return true;
  };
  const flat = L <= 1 ? (L === 1 ? "i0" : "0") : "flat_i";
  const readIndex: string[] = [];
  const pointers: { name: string; level: number; init: string; step: number }[] = [];
  const plus = (x: string, off: number): string => (off === 0 ? x : off > 0 ? `${x} + ${off}` : `${x} - ${-off}`);
  reads.forEach((r, k) => {
    let deepest = -1;
    for (let d = 0; d < L; d++) if (dims[d].strides[k] !== 0) deepest = d;
    level.set(r.value, deepest);
    if (deepest < 0) { readIndex.push(String(r.offset)); return; }
    if (contiguous(k)) { readIndex.push(plus(flat, r.offset)); return; }
    const varying = dims.map((_, d) => d).filter((d) => dims[d].strides[k] !== 0);
    if (varying.length === 1) {
      // Varies along one loop level only: index by that level's counter.
      const st = dims[deepest].strides[k];
      readIndex.push(plus(st === 1 ? `i${deepest}` : st === -1 ? `-i${deepest}` : `i${deepest} * ${st}`, r.offset));
      return;
    }
    let prev = String(r.offset);
    for (let d = 0; d <= deepest; d++) {
      const step = dims[d].strides[k];
      if (step === 0) continue;
      const name = uniqueName(`p${k}_${d}`);
      pointers.push({ name, level: d, init: prev, step });
      prev = name;
    }
    readIndex.push(prev);
  });
  for (const c of consts) level.set(c.name, -1);
  for (const s of stmts) {
    if (level.has(s.name)) continue;
    level.set(s.name, Math.max(-1, ...s.deps.map((d) => level.get(d) ?? -1)));
  }
  const readByValue = new Map(reads.map((r, k) => [r.value, k]));

  // Emit.
  const lines: string[] = [];
  const emit = (depth: number, text: string) => lines.push("  ".repeat(depth) + text);
  const emitLevel = (lev: number, depth: number) => {
    for (const s of stmts) {
      if (level.get(s.name) !== lev) continue;
      const k = readByValue.get(s.name);
      if (k !== undefined) emit(depth, `const ${s.name} = ${reads[k].param}[${readIndex[k]}];`);
      else emit(depth, `const ${s.name} = ${s.expr};${s.comment ? `  // ${s.comment}` : ""}`);
    }
  };
  const params = [...spec.inputs.map((v) => `in_${jsIdent(spec.name(v))}`), ...outs.map((o) => o.param)];
  emit(0, `function ${spec.fnName}(${params.join(", ")}) {`);
  if (total === 0) {
    emit(1, "// empty: nothing to compute");
  } else {
    for (const c of consts) emit(1, `const ${c.name} = ${c.expr};${c.comment ? `  // ${c.comment}` : ""}`);
    emitLevel(-1, 1);
    if (L >= 2) emit(1, "let flat_i = 0;");
    const open = (d: number) => {
      const depth = d + 1;
      for (const p of pointers) if (p.level === d) emit(depth, `let ${p.name} = ${p.init};`);
      emit(depth, `for (let i${d} = 0; i${d} < ${dims[d].size}; i${d}++) {`);
      emitLevel(d, depth + 1);
      if (d < inner) open(d + 1);
      else {
        for (const o of outs) emit(depth + 1, `${o.param}[${flat}] = ${o.value};`);
        if (L >= 2) emit(depth + 1, "flat_i++;");
      }
      for (const p of pointers) if (p.level === d) emit(depth + 1, p.step >= 0 ? `${p.name} += ${p.step};` : `${p.name} -= ${-p.step};`);
      emit(depth, "}");
    };
    if (L === 0) for (const o of outs) emit(1, `${o.param}[0] = ${o.value};`);
    else open(0);
  }
  emit(0, "}");
  const code = [...[...helpers].sort().map((h) => HELPERS[h]), lines.join("\n")].join("\n\n");
  return { fnName: spec.fnName, code };
}

/** How operand `x` of an elementwise equation with output `out` is indexed, given `out`'s view. */
export function operandView(x: Atom, out: Var, view: View): View {
  const shape = x.aval.shape;
  if (shape.length === 0) return [];
  if (shape.length !== out.aval.shape.length) {
    throw new Error(`operand of rank ${shape.length} for an output of rank ${out.aval.shape.length}: not elementwise-broadcastable`);
  }
  return shape.map((d, i) => (d === 1 ? -1 : view[i]));
}

/** The JS expression of one equation, given its operands' value names. */
export function opExpr(e: Eqn, args: string[], fround: boolean, aux: (expr: string) => string, helper: (h: string) => void): string {
  const out = e.outputs[0].aval.dtype;
  const dt = e.inputs[0].aval.dtype;
  const [a, b] = args;
  const fl = dt === "f32" || dt === "f64";
  // Round a float result to the output dtype.
  const r = (x: string): string => (out === "f32" && fround ? `Math.fround(${x})` : x);
  const p = e.prim;

  if (isUnary(p)) {
    // With the WASM path on, float32 exp/log/tanh are its algorithms' scalar twins (bit-identical).
    const f32m = dt === "f32" && out === "f32" && fround && f32MathOn() ? f32MathHelpers(p) : undefined;
    if (f32m) {
      f32m.helpers.forEach(helper);
      return `${f32m.fn}(${a})`;
    }
    const math = (fn: string): string => (fl ? r(`Math.${fn}(${a})`) : unsupported(p, dt));
    switch (p) {
      case "neg": return fl ? `-${a}` : dt === "i32" ? `(-${a}) | 0` : unsupported(p, dt);
      case "exp": case "log": case "tanh": case "sin": case "cos": case "sqrt": case "log1p": case "expm1":
      case "tan": case "cbrt": case "asin": case "acos": case "atan": case "sinh": case "cosh":
      case "asinh": case "acosh": case "atanh":
        return math(p);
      case "exp2": return fl ? r(`Math.pow(2, ${a})`) : unsupported(p, dt);
      case "erf":
        if (!fl) unsupported(p, dt);
        helper("jlErf");
        return r(`jlErf(${a})`);
      case "square":
        if (fl) return r(`${a} * ${a}`);
        return dt === "i32" ? `Math.imul(${a}, ${a})` : unsupported(p, dt);
      case "rsqrt": return fl ? r(`1 / Math.sqrt(${a})`) : unsupported(p, dt);
      case "logistic": return fl ? r(`1 / (1 + Math.exp(-${a}))`) : unsupported(p, dt);
      case "abs": return fl ? `Math.abs(${a})` : dt === "i32" ? `Math.abs(${a}) | 0` : unsupported(p, dt);
      // Floats keep ±0 and NaN as they are.
      case "sign": return fl ? `${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a}` : dt === "i32" ? `${a} > 0 ? 1 : ${a} < 0 ? -1 : 0` : unsupported(p, dt);
      case "floor": return fl ? `Math.floor(${a})` : unsupported(p, dt);
      case "ceil": return fl ? `Math.ceil(${a})` : unsupported(p, dt);
      case "round":
        if (!fl) unsupported(p, dt);
        helper("jlRoundEven");
        return `jlRoundEven(${a})`;
      case "not": return dt === "bool" ? `${a} ^ 1` : dt === "i32" ? `~${a}` : unsupported(p, dt);
      // x - x is 0 exactly for finite x, NaN for ±inf and NaN.
      case "is_finite": return fl ? `${a} - ${a} === 0 ? 1 : 0` : unsupported(p, dt);
    }
  }
  if (isCompare(p)) {
    const op = { eq: "===", ne: "!==", lt: "<", le: "<=", gt: ">", ge: ">=" }[p];
    return `${a} ${op} ${b} ? 1 : 0`;
  }
  if (isBinary(p)) {
    if (dt === "bool") {
      // XLA's pred arithmetic: add/max/or are or, mul/min/and are and.
      switch (p) {
        case "add": case "max": case "or": return `${a} | ${b}`;
        case "mul": case "min": case "and": return `${a} & ${b}`;
        case "xor": return `${a} ^ ${b}`;
        default: unsupported(p, dt);
      }
    }
    if (dt === "i32" && out === "i32") {
      switch (p) {
        case "add": return `(${a} + ${b}) | 0`;
        case "sub": return `(${a} - ${b}) | 0`;
        case "mul": return `Math.imul(${a}, ${b})`;
        // XLA: x / 0 = -1, INT_MIN / -1 = INT_MIN (the | 0 wraps it).
        case "div": return `${b} === 0 ? -1 : (${a} / ${b}) | 0`;
        // XLA: x % 0 = x; the sign follows the dividend.
        case "rem": return `${b} === 0 ? ${a} : (${a} % ${b}) | 0`;
        case "pow": helper("jlIpow"); return `jlIpow(${a}, ${b})`;
        case "max": return `Math.max(${a}, ${b})`;
        case "min": return `Math.min(${a}, ${b})`;
        case "and": return `${a} & ${b}`;
        case "or": return `${a} | ${b}`;
        case "xor": return `${a} ^ ${b}`;
        default: unsupported(p, dt);
      }
    }
    if (!fl) unsupported(p, dt);
    switch (p) {
      case "add": return r(`${a} + ${b}`);
      case "sub": return r(`${a} - ${b}`);
      case "mul": return r(`${a} * ${b}`);
      case "div": return r(`${a} / ${b}`);
      // fmod of two floats is exact.
      case "rem": return `${a} % ${b}`;
      case "pow": helper("jlPow"); return r(`jlPow(${a}, ${b})`);
      // Math.max/min propagate NaN, like XLA.
      case "max": return `Math.max(${a}, ${b})`;
      case "min": return `Math.min(${a}, ${b})`;
      case "atan2": return r(`Math.atan2(${a}, ${b})`);
      case "nextafter":
        helper(dt === "f32" ? "jlNextAfterF32" : "jlNextAfterF64");
        return dt === "f32" ? `jlNextAfterF32(${a}, ${b})` : `jlNextAfterF64(${a}, ${b})`;
      default: unsupported(p, dt);
    }
  }
  switch (p) {
    case "integer_pow": {
      const y = (e.params as { y: number }).y;
      if (!fl && dt !== "i32") unsupported(p, dt);
      const mul = (x: string, z: string): string => (fl ? r(`${x} * ${z}`) : `Math.imul(${x}, ${z})`);
      if (y === 0) return "1";
      // JAX's square-and-multiply, one rounding per multiply.
      // Partial products stay expressions until used twice, then get a temporary.
      const named = (x: string): string => (/^[A-Za-z_$][\w$]*$/.test(x) ? x : aux(x));
      let n = Math.abs(y);
      let base = a;
      let acc: string | null = null;
      while (n > 0) {
        if (n & 1) acc = acc === null ? base : mul(named(acc), named(base));
        n >>= 1;
        if (n > 0) { const b2 = named(base); base = mul(b2, b2); }
      }
      if (y > 0) return acc!;
      // A negative power is 1 / x^|y| in the dtype (XLA's integer division for i32).
      const t = named(acc!);
      return fl ? r(`1 / ${t}`) : `${t} === 0 ? -1 : (1 / ${t}) | 0`;
    }
    case "select_n": {
      const [pred, ...cases] = args;
      if (cases.length === 1) return cases[0];
      if (dt === "bool") return `${pred} ? ${cases[1]} : ${cases[0]}`;
      if (dt !== "i32") unsupported(p, dt);
      // cases[pred]; out-of-range predicates take the last case.
      let expr = cases[cases.length - 1];
      for (let k = cases.length - 2; k >= 0; k--) expr = `${pred} === ${k} ? ${cases[k]} : ${expr}`;
      return expr;
    }
    case "stop_gradient": return a;
    case "clamp": {
      // XLA: min(max(x, lo), hi), operands (lo, x, hi); a NaN operand gives NaN.
      const [lo, x, hi] = args;
      if (dt === "bool") return `${x} < ${lo} ? ${lo} : ${x} > ${hi} ? ${hi} : ${x}`;
      if (!fl && dt !== "i32") unsupported(p, dt);
      return `Math.min(Math.max(${x}, ${lo}), ${hi})`;
    }
    case "convert_element_type": {
      if (dt === out) return a;
      switch (out) {
        case "f32": return dt === "bool" ? a : `Math.fround(${a})`;
        case "f64": return a;
        case "i32":
          if (dt === "bool") return a;
          helper("jlToI32");
          return `jlToI32(${a})`;
        case "bool": return `${a} !== 0 ? 1 : 0`;
      }
    }
    case "broadcast_in_dim":
      throw new Error("broadcast_in_dim is an indexing op");
  }
  throw new Error(`the CPU backend cannot compile ${p}`);
}

/** Whether the loop codegen can compute `e` (elementwise ops and broadcast_in_dim). */
export function isLoopFusible(e: Eqn): boolean {
  return isElementwise(e.prim) || e.prim === "broadcast_in_dim";
}
