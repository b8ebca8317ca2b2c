// WGSL code generation for the WebGPU backend: loop kernels for groups of elementwise
// equations (and broadcast_in_dim), from the same fusion plans the CPU backend runs.
//
// Storage: f32 as array<f32>, i32 as array<i32>, bool as array<u32> (0/1; the runtime widens
// and narrows at upload and readback). f64 has no WGSL type: the runtime refuses it first.
//
// Indexing follows codegen/js.ts: every value is seen through a *view* (which loop dimension
// indexes each of its dimensions, -1 for size 1), so an input read is a stride per loop
// dimension; loop dimensions whose strides line up are merged. The kernel is a grid-stride
// loop over the flat output index; a read that is not contiguous decomposes the index into the
// merged dimensions' coordinates it needs.
//
// Semantics mirror codegen/js.ts's opExpr (XLA's): NaN propagates through max/min/clamp and
// compares false (`ne` true), int32 wraps, x / 0 = -1 and x % 0 = x for int32, float rem is an
// exact fmod, float -> int32 saturates with NaN -> 0, round is half-to-even keeping -0.
// Transcendentals use the helpers of wgsl_math.ts, not WGSL's built-ins.
import type { Atom, DType, Eqn, Literal, Var } from "../ir/types";
import { isBinary, isCompare, isUnary } from "../ir/primitives";
import { literalValue, rowStrides } from "./js";
import { helperCode } from "./wgsl_math";

export interface WgslDispatch {
  entry: string;
  workgroups: [number, number, number];
}

/** A generated WebGPU kernel: WGSL text, its bindings and its dispatches (run in order). */
export interface WgslKernel {
  code: string;
  /** Bound first, read-only, in order. */
  inputs: Var[];
  /** Bound after the inputs, read-write, in order. */
  outputs: Var[];
  /** Scratch buffers (bytes), bound after the outputs. */
  scratch: number[];
  dispatches: WgslDispatch[];
}

export interface WgslOptions {
  /** Invocations per workgroup for 1-D kernels (default 256; at most the device's limit). */
  workgroupSize?: number;
  /** Most workgroups a grid-stride kernel dispatches (default 4096). */
  maxWorkgroups?: number;
  /** The device's maxComputeWorkgroupsPerDimension (default 65535). */
  maxPerDimension?: number;
  /** dot_general accumulation: "highest" (default: compensated, as exact as the CPU's float64
   *  accumulation rounded once) or "fast" (plain float32 sums). */
  precision?: "highest" | "fast";
}

export class WgslUnsupported extends Error {}

export const storageType = (d: DType): string => {
  switch (d) {
    case "f32": return "f32";
    case "i32": return "i32";
    case "bool": return "u32";
    case "f64": throw new WgslUnsupported("float64 has no WGSL type");
  }
};

/** WGSL text of a constant of dtype `dt` (NaN and infinities through the helpers). */
export function constText(v: number, dt: DType, helpers: Set<string>): string {
  switch (dt) {
    case "bool": return v !== 0 ? "1u" : "0u";
    case "i32": {
      const n = v | 0;
      if (n === -2147483648) return "(i32(-2147483647) - 1)";
      return n < 0 ? `(${n})` : `${n}`;
    }
    case "f32": {
      const f = Math.fround(v);
      if (Number.isNaN(f)) { helpers.add("jl_consts"); return "jl_nan()"; }
      if (f === Infinity) { helpers.add("jl_consts"); return "jl_inf()"; }
      if (f === -Infinity) { helpers.add("jl_consts"); return "(-jl_inf())"; }
      if (Object.is(f, -0)) return "bitcast<f32>(0x80000000u)";
      if (f !== 0 && Math.abs(f) < 1.1754943508222875e-38) {
        const b = new Uint32Array(new Float32Array([f]).buffer)[0];
        return `bitcast<f32>(0x${b.toString(16)}u)`;
      }
      let s = String(f);
      if (!/[.e]/.test(s)) s += ".0";
      return f < 0 ? `(${s}f)` : `${s}f`;
    }
    case "f64": throw new WgslUnsupported("float64 has no WGSL type");
  }
}

export const litText = (lit: Literal, helpers: Set<string>): string => constText(literalValue(lit), lit.aval.dtype, helpers);

/** A value of dtype `from` (as its WGSL register type) converted to dtype `to`. */
export function convertValue(v: string, from: DType, to: DType, helpers: Set<string>): string {
  if (from === to) return v;
  switch (to) {
    case "f32": return `f32(${v})`;
    case "i32":
      if (from === "bool") return `i32(${v})`;
      helpers.add("jl_f2i");
      return `jl_f2i(${v})`;
    case "bool":
      if (from === "f32") { helpers.add("jl_isnan"); return `select(0u, 1u, ${v} != 0.0 || jl_isnan(${v}))`; }
      return `select(0u, 1u, ${v} != 0)`;
    case "f64": throw new WgslUnsupported("float64 has no WGSL type");
  }
}

function unsupported(prim: string, dt: DType): never {
  throw new WgslUnsupported(`the WebGPU backend has no ${prim} for ${dt}`);
}

/** The WGSL expression of one elementwise equation, given its operands' value expressions. */
export function wgslOpExpr(e: Eqn, args: string[], helpers: Set<string>, aux: (expr: string) => string): string {
  const out = e.outputs[0].aval.dtype;
  const dt = e.inputs[0].aval.dtype;
  const [a, b] = args;
  const fl = dt === "f32";
  const p = e.prim;
  const h = (name: string, ...xs: string[]): string => { helpers.add(name); return `${name}(${xs.join(", ")})`; };
  if (dt === "f64" || out === "f64") unsupported(p, "f64");

  if (isUnary(p)) {
    const math = (fn: string): string => (fl ? h(`jl_${fn}`, a) : unsupported(p, dt));
    switch (p) {
      case "neg": return fl || dt === "i32" ? `(-${a})` : unsupported(p, dt);
      case "exp": case "log": case "tanh": case "sin": case "cos": case "log1p": case "expm1":
      case "tan": case "cbrt": case "asin": case "acos": case "atan": case "sinh": case "cosh":
      case "asinh": case "acosh": case "atanh": case "erf": case "exp2":
        return math(p);
      case "sqrt": return fl ? `sqrt(${a})` : unsupported(p, dt);
      case "square": return fl || dt === "i32" ? `(${a} * ${a})` : unsupported(p, dt);
      case "rsqrt": return fl ? `(1.0 / sqrt(${a}))` : unsupported(p, dt);
      case "logistic": return fl ? `(1.0 / (1.0 + ${h("jl_exp", `-${a}`)}))` : unsupported(p, dt);
      case "abs": return fl || dt === "i32" ? `abs(${a})` : unsupported(p, dt);
      case "sign":
        if (fl) return `select(select(${a}, -1.0, ${a} < 0.0), 1.0, ${a} > 0.0)`;
        return dt === "i32" ? `sign(${a})` : unsupported(p, dt);
      case "floor": case "ceil": case "round": {
        if (!fl) unsupported(p, dt);
        const x = /^[A-Za-z_][\w]*$/.test(a) ? a : aux(a);
        return h("jl_keepsign", `${p}(${x})`, x);
      }
      case "not": return dt === "bool" ? `(${a} ^ 1u)` : dt === "i32" ? `(~${a})` : unsupported(p, dt);
      case "is_finite": return fl ? `select(0u, 1u, (bitcast<u32>(${a}) & 0x7f800000u) != 0x7f800000u)` : unsupported(p, dt);
    }
  }
  if (isCompare(p)) {
    const op = { eq: "==", ne: "!=", lt: "<", le: "<=", gt: ">", ge: ">=" }[p];
    if (!fl) return `select(0u, 1u, ${a} ${op} ${b})`;
    // NaN compares false, except ne (SwiftShader's != is ordered).
    helpers.add("jl_isnan");
    const nan = `(jl_isnan(${a}) || jl_isnan(${b}))`;
    if (p === "ne") return `select(0u, 1u, !(${a} == ${b}) || ${nan})`;
    return `select(0u, 1u, (${a} ${op} ${b}) && !${nan})`;
  }
  if (isBinary(p)) {
    if (dt === "bool") {
      switch (p) {
        case "add": case "max": case "or": return `(${a} | ${b})`;
        case "mul": case "min": case "and": return `(${a} & ${b})`;
        case "xor": return `(${a} ^ ${b})`;
        default: unsupported(p, dt);
      }
    }
    if (dt === "i32") {
      switch (p) {
        case "add": return `(${a} + ${b})`;
        case "sub": return `(${a} - ${b})`;
        case "mul": return `(${a} * ${b})`;
        // XLA: x / 0 = -1 and x % 0 = x (WGSL's own rules for these differ).
        case "div": return `select(${a} / ${b}, -1, ${b} == 0)`;
        case "rem": return `select(${a} % ${b}, ${a}, ${b} == 0)`;
        case "pow": return h("jl_ipow", a, b);
        case "max": return `max(${a}, ${b})`;
        case "min": return `min(${a}, ${b})`;
        case "and": return `(${a} & ${b})`;
        case "or": return `(${a} | ${b})`;
        case "xor": return `(${a} ^ ${b})`;
        default: unsupported(p, dt);
      }
    }
    switch (p) {
      case "add": return `(${a} + ${b})`;
      case "sub": return `(${a} - ${b})`;
      case "mul": return `(${a} * ${b})`;
      case "div": return `(${a} / ${b})`;
      case "rem": return h("jl_fmod", a, b);
      case "pow": return h("jl_pow", a, b);
      case "max": return h("jl_max", a, b);
      case "min": return h("jl_min", a, b);
      case "atan2": return h("jl_atan2", a, b);
      case "nextafter": return h("jl_nextafter", a, b);
      default: unsupported(p, dt);
    }
  }
  switch (p) {
    case "integer_pow": {
      const y = (e.params as { y: number }).y;
      if (!fl && dt !== "i32") unsupported(p, dt);
      if (y === 0) return fl ? "1.0" : "1";
      const named = (x: string): string => (/^[A-Za-z_][\w]*$/.test(x) ? x : aux(x));
      let n = Math.abs(y);
      let base = a;
      let acc: string | null = null;
      while (n > 0) {
        if (n & 1) acc = acc === null ? base : `(${named(acc)} * ${named(base)})`;
        n >>= 1;
        if (n > 0) { const b2 = named(base); base = `(${b2} * ${b2})`; }
      }
      if (y > 0) return acc!;
      const t = named(acc!);
      return fl ? `(1.0 / ${t})` : `select(1 / ${t}, -1, ${t} == 0)`;
    }
    case "select_n": {
      const [pred, ...cases] = args;
      if (cases.length === 1) return cases[0];
      const pdt = e.inputs[0].aval.dtype;
      if (pdt === "bool") return `select(${cases[0]}, ${cases[1]}, ${pred} != 0u)`;
      if (pdt !== "i32") unsupported(p, pdt);
      let expr = cases[cases.length - 1];
      for (let k = cases.length - 2; k >= 0; k--) expr = `select(${expr}, ${cases[k]}, ${pred} == ${k})`;
      return expr;
    }
    case "stop_gradient": return a;
    case "clamp": {
      const [lo, x, hi] = args;
      const xdt = e.inputs[1].aval.dtype;
      if (xdt === "bool") return `select(select(${x}, ${hi}, ${x} > ${hi}), ${lo}, ${x} < ${lo})`;
      if (xdt === "i32") return `min(max(${x}, ${lo}), ${hi})`;
      return h("jl_min", h("jl_max", x, lo), hi);
    }
    case "convert_element_type": return convertValue(a, dt, out, helpers);
  }
  throw new WgslUnsupported(`the WebGPU backend cannot compile ${p}`);
}

/** A WGSL identifier for a var name. */
export const wgslIdent = (name: string): string => name.replace(/[^A-Za-z0-9]/g, "_");

/** Binding declarations: inputs read-only, then outputs and scratch read-write. */
export function bindings(inputs: { name: string; dtype: DType }[], outputs: { name: string; dtype: DType }[], scratch: { name: string; type: string }[] = []): string {
  const lines: string[] = [];
  let k = 0;
  for (const b of inputs) lines.push(`@group(0) @binding(${k++}) var<storage, read> ${b.name}: array<${storageType(b.dtype)}>;`);
  for (const b of outputs) lines.push(`@group(0) @binding(${k++}) var<storage, read_write> ${b.name}: array<${storageType(b.dtype)}>;`);
  for (const b of scratch) lines.push(`@group(0) @binding(${k++}) var<storage, read_write> ${b.name}: array<${b.type}>;`);
  return lines.join("\n");
}

/** Workgroups of a grid-stride kernel over `n` items. */
export function gridSize(n: number, wg: number, opts: WgslOptions): number {
  return Math.max(1, Math.min(Math.ceil(n / wg), opts.maxWorkgroups ?? 4096, opts.maxPerDimension ?? 65535));
}

export interface LoopSpec {
  eqns: readonly Eqn[];
  inputs: readonly Var[];
  outputs: readonly Var[];
  loopShape: readonly number[];
  name: (v: Var) => string;
  /** A comment block put first in the source. */
  header?: string;
}

/**
 * One dimension of a value seen from the loop (as in codegen/js.ts): its index is `b + a * i_d`
 * for loop dimension `d` (d = -1: the constant `b`). Slices scale and shift, rev negates,
 * transposes permute, broadcasts drop dimensions; a size-1 dimension is always index 0.
 */
interface Ent { d: number; a: number; b: number }
type AView = Ent[];
const entKey = (e: Ent) => (e.d < 0 ? `${e.b}` : `${e.a}i${e.d}+${e.b}`);
const viewKeyOf = (v: AView) => v.map(entKey).join(",");
const CONST0: Ent = { d: -1, a: 0, b: 0 };

/** Data movement the loop kernel computes by indexing: an affine view per read, counters and selects. */
export function isWgslIndexOp(e: Eqn): boolean {
  switch (e.prim) {
    case "slice": case "rev": case "transpose": case "iota": return true;
    case "concatenate": return e.inputs.length <= 4;
    case "pad": return (e.params as { padding_config: [number, number, number][] }).padding_config.every(([, , k]) => k === 0);
    default: return false;
  }
}

/** A loop kernel: the elementwise equations of `spec` (and broadcast_in_dim, slice, rev,
 *  transpose, concatenate, pad without interior padding, iota) computed per element of the loop shape. */
export function generateWgslLoop(spec: LoopSpec, opts: WgslOptions = {}): WgslKernel {
  const R = spec.loopShape.length;
  const producer = new Map<number, Eqn>();
  for (const e of spec.eqns) for (const o of e.outputs) producer.set(o.id, e);
  const inputIds = new Set(spec.inputs.map((v) => v.id));
  const helpers = new Set<string>();
  const used = new Set<string>(["i", "gid", "nwg"]);
  const unique = (stem: string): string => {
    let n = stem;
    for (let k = 1; used.has(n); k++) n = `${stem}_${k}`;
    used.add(n);
    return n;
  };
  const inName = new Map<number, string>();
  for (const v of spec.inputs) inName.set(v.id, unique(`in_${wgslIdent(spec.name(v))}`));
  const outName = new Map<number, string>();
  for (const v of spec.outputs) outName.set(v.id, unique(`out_${wgslIdent(spec.name(v))}`));

  interface Read { v: Var; buf: string; value: string; strides: number[]; offset: number }
  const reads: Read[] = [];
  const readByKey = new Map<string, Read>();
  const stmts: { name: string; expr: string; read?: Read }[] = [];
  const memo = new Map<string, string>();
  const keyOf = (v: Var, view: AView): string => `${v.id}:${viewKeyOf(view)}`;

  const readOf = (v: Var, view: AView): string => {
    const key = keyOf(v, view);
    const hit = readByKey.get(key);
    if (hit) return hit.value;
    const strides = new Array<number>(R).fill(0);
    const rs = rowStrides(v.aval.shape);
    let offset = 0;
    view.forEach((en, i) => { offset += rs[i] * en.b; if (en.d >= 0) strides[en.d] += rs[i] * en.a; });
    const r: Read = { v, buf: inName.get(v.id)!, value: unique(`v_${wgslIdent(spec.name(v))}`), strides, offset };
    reads.push(r);
    readByKey.set(key, r);
    stmts.push({ name: r.value, expr: "", read: r });
    return r.value;
  };
  // Loop coordinates some values need (iota, the ranges of concatenate and pad), as i32; those
  // loop dimensions are never merged.
  const counterDims = new Set<number>();
  const counterOf = (d: number): string => { counterDims.add(d); return `k${d}`; };
  const fix = (shape: readonly number[], view: AView): AView => view.map((en, i) => (shape[i] === 1 ? CONST0 : en));
  const identity = (v: Var): AView => v.aval.shape.map((d, i) => (d === 1 ? CONST0 : { d: i, a: 1, b: 0 }));
  const shifted = (en: Ent, by: number): Ent => ({ d: en.d, a: en.a, b: en.b + by });
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
          const shape = x.aval.shape;
          if (shape.length === 0) return [];
          if (shape.length !== view.length) throw new WgslUnsupported(`operand of rank ${shape.length} for an output of rank ${view.length}`);
          return fix(shape, view);
        });
    }
  };
  const wanted = new Map<number, Map<string, AView>>();
  const want = (a: Atom, view: AView) => {
    if (a.kind !== "var" || inputIds.has(a.id)) return;
    if (!producer.has(a.id)) throw new Error(`loop kernel: var ${spec.name(a)} is neither produced nor an input`);
    let views = wanted.get(a.id);
    if (!views) wanted.set(a.id, (views = new Map()));
    views.set(viewKeyOf(view), view);
  };
  for (const v of spec.outputs) want(v, identity(v));
  for (let j = spec.eqns.length - 1; j >= 0; j--) {
    const e = spec.eqns[j];
    for (const view of wanted.get(e.outputs[0].id)?.values() ?? []) operandViews(e, view).forEach((ov, k) => want(e.inputs[k], ov));
  }
  const valueOf = (a: Atom, view: AView): string => {
    if (a.kind === "lit") return litText(a, helpers);
    if (inputIds.has(a.id)) return readOf(a, view);
    return memo.get(keyOf(a, view))!;
  };
  /** The index along a dimension seen through `en`, as i32 text. */
  const indexExpr = (en: Ent): { text: string; constant: boolean } => {
    if (en.d < 0) return { text: `${en.b}`, constant: true };
    const c = counterOf(en.d);
    const scaled = en.a === 1 ? c : `${en.a} * ${c}`;
    return { text: en.b === 0 ? `(${scaled})` : `(${scaled} + ${en.b})`.replace("+ -", "- "), constant: false };
  };
  for (const e of spec.eqns) {
    const out = e.outputs[0];
    for (const view of wanted.get(out.id)?.values() ?? []) {
      const views = operandViews(e, view);
      const args = e.inputs.map((x, k) => valueOf(x, views[k]));
      if (e.prim === "broadcast_in_dim" || e.prim === "slice" || e.prim === "rev" || e.prim === "transpose") { memo.set(keyOf(out, view), args[0]); continue; }
      const name = unique(`v_${wgslIdent(spec.name(out))}`);
      let expr: string;
      if (e.prim === "iota") {
        const ix = indexExpr(view[(e.params as { dimension: number }).dimension]).text;
        const dt = out.aval.dtype;
        expr = dt === "bool" ? `select(0u, 1u, ${ix} != 0)` : dt === "i32" ? ix : dt === "f32" ? `f32(${ix})` : unsupported("iota", dt);
      } else if (e.prim === "concatenate") {
        const dim = (e.params as { dimension: number }).dimension;
        const en = view[dim];
        const ix = indexExpr(en);
        let start = 0;
        const ends = e.inputs.map((x) => (start += x.aval.shape[dim]));
        if (ix.constant) {
          expr = args[Math.max(0, ends.findIndex((end) => en.b < end))];
        } else {
          expr = args[args.length - 1];
          for (let k = args.length - 2; k >= 0; k--) expr = `select(${expr}, ${args[k]}, ${ix.text} < ${ends[k]})`;
        }
      } else if (e.prim === "pad") {
        const cfg = (e.params as { padding_config: [number, number, number][] }).padding_config;
        const conds: string[] = [];
        view.forEach((en, k) => {
          const [lo, hi] = cfg[k];
          if (lo <= 0 && hi <= 0) return;
          const ix = indexExpr(en);
          const n = e.inputs[0].aval.shape[k];
          if (ix.constant) {
            if (en.b < lo || en.b >= lo + n) conds.push("false");
            return;
          }
          if (lo > 0) conds.push(`${ix.text} >= ${lo}`);
          if (hi > 0) conds.push(`${ix.text} < ${lo + n}`);
        });
        expr = conds.length ? `select(${args[1]}, ${args[0]}, ${conds.join(" && ")})` : args[0];
      } else {
        const aux = (x: string): string => {
          const t = unique(`${name}_t`);
          stmts.push({ name: t, expr: x });
          return t;
        };
        expr = wgslOpExpr(e, args, helpers, aux);
      }
      stmts.push({ name, expr: `${expr}; // ${e.prim}` });
      memo.set(keyOf(out, view), name);
    }
  }
  // A literal or an input may be a kernel output only through a computed value; make one.
  const outs = spec.outputs.map((v) => {
    const val = memo.get(keyOf(v, identity(v))) ?? (inputIds.has(v.id) ? readOf(v, identity(v)) : undefined);
    if (val === undefined) throw new Error(`loop kernel: output ${spec.name(v)} is not computed`);
    return { buf: outName.get(v.id)!, value: val };
  });

  // Merge loop dimensions (size-1 dims dropped; neighbours whose strides line up joined; a
  // dimension whose coordinate a value needs stays on its own).
  const total = spec.loopShape.reduce((p, d) => p * d, 1);
  const dims: { size: number; strides: number[]; counter?: number }[] = [];
  for (let d = R - 1; d >= 0; d--) {
    const size = spec.loopShape[d];
    if (size === 1) continue;
    const st = reads.map((r) => r.strides[d]);
    const cur = dims[dims.length - 1];
    if (cur && !counterDims.has(d) && cur.counter === undefined && st.every((s, k) => s === cur.strides[k] * cur.size)) cur.size *= size;
    else dims.push({ size, strides: st, counter: counterDims.has(d) ? d : undefined });
  }
  dims.reverse();
  const L = dims.length;
  const inner = new Array<number>(L);
  { let s = 1; for (let d = L - 1; d >= 0; d--) { inner[d] = s; s *= dims[d].size; } }
  const coordNeeded = new Set<number>();
  dims.forEach((dm, d) => { if (dm.counter !== undefined) coordNeeded.add(d); });
  const index = reads.map((r, k) => {
    const n = r.v.aval.shape.reduce((p, x) => p * x, 1);
    if (n === 0) return null; // an empty operand (of a concatenate): never selected
    const contiguous = dims.every((dm, d) => dm.strides[k] === inner[d]);
    if (contiguous && L > 0 && r.offset === 0) return "i";
    // Range of the index over the loop: reads of concatenate/pad operands outside their range are
    // discarded by the select, but they are clamped to stay inside the buffer.
    let lo = r.offset, hi = r.offset;
    dims.forEach((dm) => { const s = dm.strides[k] * (dm.size - 1); if (s < 0) lo += s; else hi += s; });
    if (lo === hi) return `${Math.min(Math.max(lo, 0), n - 1)}u`; // a constant index
    const signed = lo < 0 || dims.some((dm) => dm.strides[k] < 0);
    const terms: string[] = [];
    dims.forEach((dm, d) => {
      const s = dm.strides[k];
      if (s === 0) return;
      coordNeeded.add(d);
      const c = signed ? `i32(c${d})` : `c${d}`;
      terms.push(s === 1 ? c : `${c} * ${s}${signed ? "" : "u"}`);
    });
    if (r.offset) terms.push(signed ? `${r.offset}` : `${r.offset}u`);
    const expr = terms.join(" + ").replace(/\+ -/g, "- ") || (signed ? "0" : "0u");
    if (lo < 0 || hi > n - 1) return signed ? `u32(clamp(${expr}, 0, ${n - 1}))` : `min(${expr}, ${n - 1}u)`;
    return signed ? `u32(${expr})` : expr;
  });

  const wg = Math.min(opts.workgroupSize ?? 256, 256);
  const lines: string[] = [];
  if (spec.header) lines.push(spec.header);
  lines.push(bindings(
    spec.inputs.map((v) => ({ name: inName.get(v.id)!, dtype: v.aval.dtype })),
    spec.outputs.map((v) => ({ name: outName.get(v.id)!, dtype: v.aval.dtype })),
  ));
  const body: string[] = [];
  for (const d of [...coordNeeded].sort((x, y) => x - y)) {
    const q = inner[d] === 1 ? "i" : `(i / ${inner[d]}u)`;
    body.push(d === 0 ? `let c${d} = ${q};` : `let c${d} = ${q} % ${dims[d].size}u;`);
  }
  for (const dm of dims) if (dm.counter !== undefined) body.push(`let k${dm.counter} = i32(c${dims.indexOf(dm)});`);
  // A counter of a size-1 (dropped) loop dimension is 0.
  for (const d of counterDims) if (!dims.some((dm) => dm.counter === d)) body.push(`let k${d} = 0;`);
  const readIndex = new Map(reads.map((r, k) => [r.value, index[k]]));
  for (const s of stmts) {
    if (s.read) {
      const ix = readIndex.get(s.name);
      body.push(ix === null ? `let ${s.name} = ${zeroOf(s.read.v.aval.dtype)};` : `let ${s.name} = ${s.read.buf}[${ix}];`);
    } else body.push(`let ${s.name} = ${s.expr}${s.expr.includes("//") ? "" : ";"}`);
  }
  for (const o of outs) body.push(`${o.buf}[i] = ${o.value};`);
  lines.push("");
  lines.push(`@compute @workgroup_size(${wg})`);
  lines.push(`fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {`);
  lines.push(`  for (var i = gid.x; i < ${total}u; i = i + nwg.x * ${wg}u) {`);
  for (const l of body) lines.push(`    ${l}`);
  lines.push("  }");
  lines.push("}");
  const code = [helperCode(helpers), lines.join("\n")].filter(Boolean).join("\n\n") + "\n";
  return {
    code,
    inputs: [...spec.inputs],
    outputs: [...spec.outputs],
    scratch: [],
    dispatches: total === 0 ? [] : [{ entry: "main", workgroups: [gridSize(total, wg, opts), 1, 1] }],
  };
}

const zeroOf = (dt: DType): string => (dt === "f32" ? "0.0" : dt === "i32" ? "0" : "0u");
