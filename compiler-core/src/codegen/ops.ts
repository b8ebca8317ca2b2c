// JavaScript code generation for the equations that are not elementwise loops:
// reductions, scans, dot_general, data movement, gather and scatter. One kernel per
// equation, specialised to its shapes and params: every extent, stride and bound is a
// constant in the generated text, so identical equations share one compiled function
// (the runtime caches kernels by source), and the loops run over typed arrays with
// running offsets and no per-element allocation.
//
// Numerics (decisions):
// - Float reductions, scans and dot_general accumulate in float64 and round once to the
//   output dtype (XLA's CPU backend accumulates float32 in float32, in its own order; the
//   float64 sum is at least as accurate and independent of loop order). Int32 wraps.
// - NaN: reduce_max/min and cummax/cummin propagate NaN; argmax/argmin return the first
//   NaN's index (NaN counts as the extreme, as in XLA and NumPy), else the first extreme.
// - Out-of-bounds indices: dynamic_slice/dynamic_update_slice and "clip"/
//   "promise_in_bounds" gathers clamp the start so the slice fits; a "fill" gather returns
//   fill_value (default NaN, INT32_MIN, true) for a slice that does not fit; scatters in
//   "fill"/"promise_in_bounds" mode drop an update window that does not fit (XLA), "clip"
//   clamps it. Scatters apply updates in index order, so with duplicate indices the last
//   `scatter` wins and scatter-add/mul accumulate in the output dtype.
import type { Params, Prim } from "../ir/primitives";
import type { Atom, DType, Eqn, Var } from "../ir/types";
import { size } from "../ir/types";
import { jsIdent, literalValue, numberText, rowStrides, storedValue, type GeneratedKernel, type JsCodegenOptions } from "./js";

export interface OpKernelSpec {
  /** Name of the generated JS function. */
  fnName: string;
  eqn: Eqn;
  /** Buffers the kernel reads, in parameter order: the vars among eqn.inputs, each once. */
  inputs: readonly Var[];
  /** Buffers the kernel writes, in parameter order: eqn.outputs or a subset (unused split pieces). */
  outputs: readonly Var[];
  /** Identifier stem for a var (e.g. its jaxpr name). */
  name: (v: Var) => string;
  /** dot_general only: a function applied to each output row instead of storing it (a fused epilogue). */
  epilogue?: DotEpilogue;
}

/** A matmul's fused epilogue: module-level code and the call that consumes one accumulated output row. */
export interface DotEpilogue {
  /** Module-level code (the row function and what it needs). */
  code: string;
  /** The kernel's parameters, in order (the epilogue's inputs, which include the dot's operands, then its outputs). */
  params: string[];
  /** The parameter name of an input var. */
  paramOf: (v: Var) => string | undefined;
  /** A statement that hands row `row` (flat index over the output's leading dims) in float64 array `acc` to the epilogue. */
  call: (row: string, acc: string) => string;
}

/** Reshape and squeeze keep the row-major order of the data: the output can share the input's buffer. */
export function isBitcast(e: Eqn): boolean {
  return (e.prim === "reshape" || e.prim === "squeeze") && e.inputs[0].kind === "var";
}

const ARRAY: Record<DType, string> = { f32: "Float32Array", f64: "Float64Array", i32: "Int32Array", bool: "Uint8Array" };

type Kind = "float" | "int" | "bool";
const kindOf = (d: DType): Kind => (d === "f32" || d === "f64" ? "float" : d === "i32" ? "int" : "bool");

/** Source text under construction: indented lines and fresh identifiers. */
class Code {
  readonly lines: string[] = [];
  private readonly used = new Set<string>();
  private depth = 1;
  readonly helpers = new Set<string>();

  constructor() {
    // Names the generators use as they are; fresh() never hands them out.
    for (const n of "a a1 a2 a3 v1 v2 v3 at ai ib ie jb je acc acc0 acc1 acc2 acc3 b base best bk i iv j k lhs m o ob oi p q q1 q2 q3 r r0 r1 r2 r3 rhs row s t v x0 x1 x2 x3".split(" ")) this.used.add(n);
  }

  fresh(stem: string): string {
    let name = stem;
    for (let k = 1; this.used.has(name); k++) name = `${stem}${k}`;
    this.used.add(name);
    return name;
  }
  emit(text: string): void { this.lines.push("  ".repeat(this.depth) + text); }
  open(head: string): void { this.emit(`${head} {`); this.depth++; }
  close(): void { this.depth--; this.emit("}"); }
}

/** An access to a buffer inside a loop nest: element offset `base` plus one stride per loop dimension. */
interface Access {
  base: string;
  strides: readonly number[];
}

interface NestOptions {
  /** Called instead of the innermost loop when it is contiguous for every access and at least 64 long. */
  contiguousRun?: (offsets: string[], n: number) => void;
  /** Walk the two innermost dims in 32x32 tiles when one access is contiguous along the
   *  innermost and another strides across it (a transpose), so both stay in cache. */
  tile?: boolean;
}

const TILE = 32;

/**
 * Loops over `shape` (row-major, innermost last), keeping one running offset per access.
 * Size-1 dims are dropped and neighbouring dims whose strides line up for every access are
 * merged, so a contiguous block is one loop. `body` gets the offset expressions.
 */
function nest(c: Code, shape: readonly number[], acc: readonly Access[], body: (offsets: string[]) => void, opts: NestOptions = {}): void {
  if (shape.some((d) => d === 0)) return;
  const dims: { size: number; strides: number[] }[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    if (n === 1) continue;
    const st = acc.map((a) => a.strides[d]);
    const cur = dims[dims.length - 1];
    if (cur && st.every((s, k) => s === cur.strides[k] * cur.size)) cur.size *= n;
    else dims.push({ size: n, strides: st });
  }
  dims.reverse();
  let run: { size: number } | undefined;
  const last = dims[dims.length - 1];
  if (opts.contiguousRun && last && last.size >= 64 && last.strides.every((s) => s === 1)) run = dims.pop();
  let tiled: { size: number; strides: number[] }[] | undefined;
  if (opts.tile && !run && dims.length >= 2) {
    const [p, q] = dims.slice(-2);
    const transposing = q.strides.some((s) => Math.abs(s) === 1) && q.strides.some((s) => Math.abs(s) >= TILE);
    if (p.size >= 2 * TILE && q.size >= 2 * TILE && transposing) tiled = dims.splice(-2, 2);
  }
  let cur = acc.map((a) => a.base);
  for (const dim of dims) {
    const names = acc.map((_, k) => (dim.strides[k] === 0 ? cur[k] : c.fresh("o")));
    const decl = names.map((nm, k) => (nm === cur[k] ? null : `${nm} = ${cur[k]}`)).filter((x) => x !== null);
    if (decl.length) c.emit(`let ${decl.join(", ")};`);
    const i = c.fresh("i");
    const steps = [`${i}++`];
    names.forEach((nm, k) => {
      const s = dim.strides[k];
      if (s === 0) return;
      steps.push(s === 1 ? `${nm}++` : s === -1 ? `${nm}--` : s > 0 ? `${nm} += ${s}` : `${nm} -= ${-s}`);
    });
    c.open(`for (let ${i} = 0; ${i} < ${dim.size}; ${steps.join(", ")})`);
    cur = names;
  }
  if (tiled) {
    const [p, q] = tiled;
    const [ib, ie, jb, je, i, j] = ["ib", "ie", "jb", "je", "i", "j"].map((n) => c.fresh(n));
    c.open(`for (let ${ib} = 0; ${ib} < ${p.size}; ${ib} += ${TILE})`);
    c.emit(`const ${ie} = Math.min(${ib} + ${TILE}, ${p.size});`);
    c.open(`for (let ${jb} = 0; ${jb} < ${q.size}; ${jb} += ${TILE})`);
    c.emit(`const ${je} = Math.min(${jb} + ${TILE}, ${q.size});`);
    c.open(`for (let ${i} = ${ib}; ${i} < ${ie}; ${i}++)`);
    const names = acc.map(() => c.fresh("o"));
    c.emit(`let ${names.map((nm, k) => `${nm} = ${cur[k]} + ${i} * ${p.strides[k]} + ${jb} * ${q.strides[k]}`).join(", ")};`);
    const steps = names.map((nm, k) => (q.strides[k] >= 0 ? `${nm} += ${q.strides[k]}` : `${nm} -= ${-q.strides[k]}`));
    c.open(`for (let ${j} = ${jb}; ${j} < ${je}; ${[`${j}++`, ...steps].join(", ")})`);
    body(names);
    for (let k = 0; k < 4; k++) c.close();
  } else if (run) opts.contiguousRun!(cur, run.size);
  else body(cur);
  for (let k = 0; k < dims.length; k++) c.close();
}

/** Copy `shape` elements from `src` to `dst` (same dtype), strided on both sides. */
function copy(c: Code, shape: readonly number[], dst: string, da: Access, src: string, sa: Access): void {
  nest(c, shape, [da, sa], ([d, s]) => c.emit(`${dst}[${d}] = ${src}[${s}];`), {
    contiguousRun: ([d, s], n) => c.emit(`${dst}.set(${src}.subarray(${s}, ${s} + ${n}), ${d});`),
    tile: true,
  });
}

/** Reduction monoids: the init value and combine(acc, v) per primitive and dtype kind. */
export interface Monoid {
  init: string;
  /** Combine accumulator `a` with element `v` (both plain identifiers). */
  op: (a: string, v: string) => string;
}

export function monoid(prim: Prim, dt: DType): Monoid {
  const k = kindOf(dt);
  const or: Monoid = { init: "0", op: (a, v) => `${a} | ${v}` };
  const and: Monoid = { init: k === "int" ? "-1" : "1", op: (a, v) => `${a} & ${v}` };
  switch (prim) {
    case "reduce_sum": case "cumsum":
      if (k === "bool") return or;
      return { init: "0", op: (a, v) => (k === "int" ? `(${a} + ${v}) | 0` : `${a} + ${v}`) };
    case "reduce_prod": case "cumprod":
      if (k === "bool") return and;
      return { init: "1", op: (a, v) => (k === "int" ? `Math.imul(${a}, ${v})` : `${a} * ${v}`) };
    case "reduce_max": case "cummax":
      if (k === "bool") return or;
      // A NaN element replaces the accumulator; a NaN accumulator is never replaced.
      if (k === "float") return { init: "-Infinity", op: (a, v) => `${v} > ${a} || ${v} !== ${v} ? ${v} : ${a}` };
      return { init: "-2147483648", op: (a, v) => `${v} > ${a} ? ${v} : ${a}` };
    case "reduce_min": case "cummin":
      if (k === "bool") return and;
      if (k === "float") return { init: "Infinity", op: (a, v) => `${v} < ${a} || ${v} !== ${v} ? ${v} : ${a}` };
      return { init: "2147483647", op: (a, v) => `${v} < ${a} ? ${v} : ${a}` };
    case "reduce_and":
      if (k === "float") break;
      return and;
    case "reduce_or":
      if (k === "float") break;
      return or;
  }
  throw new Error(`the CPU backend has no ${prim} for ${dt}`);
}

/** The array type that accumulates a value of dtype `dt` (float64 for floats). */
const accArray = (dt: DType): string => (kindOf(dt) === "float" ? "Float64Array" : ARRAY[dt]);

/** Generate the kernel for one non-elementwise equation. Throws an Error for one it cannot compile. */
export function generateOpKernel(spec: OpKernelSpec, _options: JsCodegenOptions = {}): GeneratedKernel {
  const e = spec.eqn;
  const c = new Code();
  const prelude: string[] = [];
  const params: string[] = [];
  const paramOf = new Map<number, string>();
  const outOf = new Map<number, string>();
  if (spec.epilogue) {
    for (const v of spec.inputs) {
      const nm = spec.epilogue.paramOf(v);
      if (nm) { paramOf.set(v.id, nm); c.fresh(nm); }
    }
    params.push(...spec.epilogue.params);
    for (const p of spec.epilogue.params) c.fresh(p);
  } else {
    for (const v of spec.inputs) {
      const nm = c.fresh(`in_${jsIdent(spec.name(v))}`);
      paramOf.set(v.id, nm);
      params.push(nm);
    }
    for (const v of spec.outputs) {
      const nm = c.fresh(`out_${jsIdent(spec.name(v))}`);
      outOf.set(v.id, nm);
      params.push(nm);
    }
  }
  const litBufs = new Map<number, string>();
  /** The buffer of operand k (a literal operand becomes a one-element array). */
  const buf = (k: number): string => {
    const a = e.inputs[k];
    if (a.kind === "var") {
      const p = paramOf.get(a.id);
      if (!p) throw new Error(`kernel ${spec.fnName}: operand ${k} is not among the kernel's inputs`);
      return p;
    }
    let nm = litBufs.get(k);
    if (!nm) {
      nm = c.fresh(`lit${k}`);
      litBufs.set(k, nm);
      prelude.push(`const ${nm} = ${ARRAY[a.aval.dtype]}.of(${numberText(literalValue(a))});`);
    }
    return nm;
  };
  /** The value of scalar operand k. */
  const scalar = (k: number): string => {
    const a = e.inputs[k];
    return a.kind === "lit" ? numberText(literalValue(a)) : `${buf(k)}[0]`;
  };
  const out = (j = 0): string | undefined => outOf.get(e.outputs[j].id);
  const out0 = (): string => {
    const o = out();
    if (!o) throw new Error(`kernel ${spec.fnName}: its output is not written`);
    return o;
  };

  if (spec.epilogue) {
    if (e.prim !== "dot_general") throw new Error(`kernel ${spec.fnName}: only a matmul takes an epilogue`);
    genDot(c, e, buf, "", spec.epilogue);
  } else genOp(c, e, buf, scalar, out, out0);

  const lines = [`function ${spec.fnName}(${params.join(", ")}) {`, ...prelude.map((l) => `  ${l}`), ...c.lines, "}"];
  const code = [...[...c.helpers].sort().map((h) => OP_HELPERS[h]), ...(spec.epilogue ? [spec.epilogue.code] : []), lines.join("\n")].join("\n\n");
  return { fnName: spec.fnName, code };
}

const OP_HELPERS: Record<string, string> = {
  jlToI32: `function jlToI32(x) {
  // float -> int32: truncate toward zero, saturate, NaN -> 0.
  if (x !== x) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return x | 0;
}`,
};

type Get<P extends Prim> = Params[P];

function genOp(
  c: Code, e: Eqn, buf: (k: number) => string, scalar: (k: number) => string,
  out: (j?: number) => string | undefined, out0: () => string,
): void {
  const x = e.inputs[0] as Atom | undefined;
  const xs = x ? x.aval.shape : [];
  const o = e.outputs[0];
  const os = o.aval.shape;
  const dt = o.aval.dtype;
  switch (e.prim) {
    case "reshape": case "squeeze":
      c.emit(`${out0()}.set(${buf(0)});`);
      return;
    case "transpose": {
      const { permutation } = e.params as Get<"transpose">;
      const is = rowStrides(xs);
      copy(c, os, out0(), { base: "0", strides: rowStrides(os) }, buf(0), { base: "0", strides: permutation.map((d) => is[d]) });
      return;
    }
    case "slice": {
      const p = e.params as Get<"slice">;
      const is = rowStrides(xs);
      const st = p.strides ?? xs.map(() => 1);
      const base = p.start_indices.reduce((t, s, d) => t + s * is[d], 0);
      copy(c, os, out0(), { base: "0", strides: rowStrides(os) }, buf(0), { base: String(base), strides: is.map((s, d) => s * st[d]) });
      return;
    }
    case "rev": {
      const { dimensions } = e.params as Get<"rev">;
      const is = rowStrides(xs);
      const base = dimensions.reduce((t, d) => t + Math.max(0, xs[d] - 1) * is[d], 0);
      const strides = is.map((s, d) => (dimensions.includes(d) ? -s : s));
      copy(c, os, out0(), { base: "0", strides: rowStrides(os) }, buf(0), { base: String(base), strides });
      return;
    }
    case "concatenate": {
      const { dimension } = e.params as Get<"concatenate">;
      const ost = rowStrides(os);
      let at = 0;
      e.inputs.forEach((a, k) => {
        const sh = a.aval.shape;
        copy(c, sh, out0(), { base: String(at * ost[dimension]), strides: ost }, buf(k), { base: "0", strides: rowStrides(sh) });
        at += sh[dimension];
      });
      return;
    }
    case "split": {
      const { sizes, axis } = e.params as Get<"split">;
      const is = rowStrides(xs);
      let at = 0;
      sizes.forEach((n, j) => {
        const dst = out(j);
        const sh = e.outputs[j].aval.shape;
        if (dst) copy(c, sh, dst, { base: "0", strides: rowStrides(sh) }, buf(0), { base: String(at * is[axis]), strides: is });
        at += n;
      });
      return;
    }
    case "pad": return genPad(c, e, buf, scalar, out0());
    case "iota": {
      const p = e.params as Get<"iota">;
      const outer = size(p.shape.slice(0, p.dimension));
      const n = p.shape[p.dimension];
      const inner = size(p.shape.slice(p.dimension + 1));
      if (outer * n * inner === 0) return;
      const dst = out0();
      const value = dt === "bool" ? "m !== 0 ? 1 : 0" : "m";
      c.emit("let p = 0;");
      c.open(`for (let q = 0; q < ${outer}; q++)`);
      c.open(`for (let m = 0; m < ${n}; m++)`);
      if (inner === 1) c.emit(`${dst}[p++] = ${value};`);
      else {
        c.emit(`${dst}.fill(${value}, p, p + ${inner});`);
        c.emit(`p += ${inner};`);
      }
      c.close();
      c.close();
      return;
    }
    case "dynamic_slice": {
      const { slice_sizes } = e.params as Get<"dynamic_slice">;
      const is = rowStrides(xs);
      const starts = clampedStarts(c, xs, slice_sizes, (d) => scalar(1 + d));
      const base = starts.map((s, d) => (s === "0" || is[d] === 0 ? null : is[d] === 1 ? s : `${s} * ${is[d]}`)).filter((t) => t !== null).join(" + ") || "0";
      copy(c, os, out0(), { base: "0", strides: rowStrides(os) }, buf(0), { base, strides: is });
      return;
    }
    case "dynamic_update_slice": {
      const us = e.inputs[1].aval.shape;
      const dst = out0();
      const is = rowStrides(xs);
      c.emit(`${dst}.set(${buf(0)});`);
      const starts = clampedStarts(c, xs, us, (d) => scalar(2 + d));
      const base = starts.map((s, d) => (s === "0" ? null : is[d] === 1 ? s : `${s} * ${is[d]}`)).filter((t) => t !== null).join(" + ") || "0";
      copy(c, us, dst, { base, strides: is }, buf(1), { base: "0", strides: rowStrides(us) });
      return;
    }
    case "reduce_sum": case "reduce_max": case "reduce_min": case "reduce_prod": case "reduce_and": case "reduce_or":
      return genReduce(c, e, buf(0), out0());
    case "argmax": case "argmin":
      return genArg(c, e, buf(0), out0());
    case "cumsum": case "cumprod": case "cummax": case "cummin":
      return genScan(c, e, buf(0), out0());
    case "dot_general":
      return genDot(c, e, buf, out0());
    case "gather":
      return genGather(c, e, buf, out0());
    case "scatter": case "scatter-add": case "scatter-mul":
      return genScatter(c, e, buf, out0());
  }
  throw new Error(`the CPU backend cannot compile ${e.prim}`);
}

/** Start indices clamped to [0, dim - size], as consts; a literal index is clamped here. */
function clampedStarts(c: Code, dims: readonly number[], sizes: readonly number[], index: (d: number) => string): string[] {
  return dims.map((n, d) => {
    const max = n - sizes[d];
    if (max <= 0) return "0";
    const raw = index(d);
    if (/^[-\d]+$/.test(raw.replace(/[()]/g, ""))) return String(Math.min(Math.max(Number(raw.replace(/[()]/g, "")), 0), max));
    const s = c.fresh(`s${d}_`);
    c.emit(`const ${s} = Math.min(Math.max(${raw}, 0), ${max});`);
    return s;
  });
}

function genPad(c: Code, e: Eqn, buf: (k: number) => string, scalar: (k: number) => string, dst: string): void {
  const { padding_config } = e.params as Get<"pad">;
  const xs = e.inputs[0].aval.shape;
  const os = e.outputs[0].aval.shape;
  const is = rowStrides(xs);
  const ost = rowStrides(os);
  // Per dim: the input indices whose padded position lo + i * (interior + 1) lands in the output.
  let srcBase = 0, dstBase = 0;
  const counts: number[] = [];
  const dstStrides: number[] = [];
  xs.forEach((n, d) => {
    const [lo, , interior] = padding_config[d];
    const step = interior + 1;
    const first = lo >= 0 ? 0 : Math.ceil(-lo / step);
    const end = os[d] - 1 - lo < 0 ? 0 : Math.min(n, Math.floor((os[d] - 1 - lo) / step) + 1);
    const count = Math.max(0, end - first);
    counts.push(count);
    srcBase += first * is[d];
    dstBase += (lo + first * step) * ost[d];
    dstStrides.push(step * ost[d]);
  });
  const copied = size(counts);
  if (copied < size(os)) c.emit(`${dst}.fill(${scalar(1)});`);
  if (copied > 0) copy(c, counts, dst, { base: String(dstBase), strides: dstStrides }, buf(0), { base: String(srcBase), strides: is });
}

/** Dims of `shape` merged into runs of reduced / kept dims (size-1 dims dropped). */
function reduceDims(shape: readonly number[], axes: readonly number[], outShape: readonly number[]) {
  const ost = rowStrides(outShape);
  const keptIndex = new Map<number, number>();
  shape.forEach((_, d) => { if (!axes.includes(d)) keptIndex.set(d, keptIndex.size); });
  const dims: { size: number; red: boolean; ostride: number }[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    if (n === 1) continue;
    const red = axes.includes(d);
    const os = red ? 0 : ost[keptIndex.get(d)!];
    const cur = dims[dims.length - 1];
    if (cur && cur.red === red && (red || os === cur.ostride * cur.size)) cur.size *= n;
    else dims.push({ size: n, red, ostride: os });
  }
  return dims.reverse();
}

function genReduce(c: Code, e: Eqn, src: string, dst: string): void {
  const { axes } = e.params as Get<"reduce_sum">;
  const xs = e.inputs[0].aval.shape;
  const os = e.outputs[0].aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const m = monoid(e.prim, dt);
  if (size(xs) === 0) {
    if (size(os) > 0) c.emit(`${dst}.fill(${m.init});`);
    return;
  }
  const dims = reduceDims(xs, axes, os);
  if (!dims.some((d) => d.red)) {
    // Nothing to combine (no axes, or only size-1 axes): the identity.
    c.emit(`${dst}.set(${src});`);
    return;
  }
  const firstRed = dims.findIndex((d) => d.red);
  const lastKept = dims.map((d) => d.red).lastIndexOf(false);
  c.emit("let i = 0;");
  if (lastKept < firstRed) {
    // Kept dims outside, reduced dims inside: one register accumulator per output element.
    const kept = dims.filter((d) => !d.red).reduce((p, d) => p * d.size, 1);
    const red = dims.filter((d) => d.red).reduce((p, d) => p * d.size, 1);
    c.open(`for (let o = 0; o < ${kept}; o++)`);
    if (red >= 16) {
      // Four partial accumulators break the dependency chain of one running value (the
      // combine is associative here: float64 sums/products rounded once, wrapping ints,
      // NaN-propagating max/min, and/or).
      c.emit(`let a = ${m.init}, a1 = ${m.init}, a2 = ${m.init}, a3 = ${m.init}, r = 0;`);
      c.open(`for (; r + 3 < ${red}; r += 4, i += 4)`);
      c.emit(`const v = ${src}[i], v1 = ${src}[i + 1], v2 = ${src}[i + 2], v3 = ${src}[i + 3];`);
      c.emit(`a = ${m.op("a", "v")}; a1 = ${m.op("a1", "v1")}; a2 = ${m.op("a2", "v2")}; a3 = ${m.op("a3", "v3")};`);
      c.close();
      c.open(`for (; r < ${red}; r++)`);
    } else {
      c.emit(`let a = ${m.init};`);
      c.open(`for (let r = 0; r < ${red}; r++)`);
    }
    c.emit(`const v = ${src}[i++];`);
    c.emit(`a = ${m.op("a", "v")};`);
    c.close();
    if (red >= 16) {
      c.emit(`a1 = ${m.op("a1", "a3")};`);
      c.emit(`a = ${m.op("a", "a2")};`);
      c.emit(`a = ${m.op("a", "a1")};`);
    }
    c.emit(`${dst}[o] = a;`);
    c.close();
    return;
  }
  // General: walk the input in order, combining into an accumulator array indexed by the
  // output offset (float64 scratch for float32 outputs).
  const scratch = dt === "f32";
  const acc = scratch ? "acc" : dst;
  if (scratch) c.emit(`const acc = new Float64Array(${size(os)}).fill(${m.init});`);
  else c.emit(`${dst}.fill(${m.init});`);
  let off = "0";
  dims.forEach((d, l) => {
    const innermost = l === dims.length - 1;
    if (innermost && d.red) {
      c.emit(`let a = ${acc}[${off}];`);
      c.open(`for (let r = 0; r < ${d.size}; r++)`);
      c.emit(`const v = ${src}[i++];`);
      c.emit(`a = ${m.op("a", "v")};`);
      c.close();
      c.emit(`${acc}[${off}] = a;`);
      return;
    }
    const o = c.fresh("o");
    const k = c.fresh("k");
    c.emit(`let ${o} = ${off};`);
    const step = d.ostride === 0 ? "" : d.ostride === 1 ? `, ${o}++` : `, ${o} += ${d.ostride}`;
    c.open(`for (let ${k} = 0; ${k} < ${d.size}; ${k}++${step})`);
    off = o;
    if (innermost) {
      c.emit(`const v = ${src}[i++], a = ${acc}[${o}];`);
      c.emit(`${acc}[${o}] = ${m.op("a", "v")};`);
    }
  });
  dims.forEach((d, l) => { if (!(l === dims.length - 1 && d.red)) c.close(); });
  if (scratch) c.emit(`${dst}.set(acc);`);
}

/** Extents around one axis: outer (dims before), n (the axis), inner (dims after). */
function aroundAxis(shape: readonly number[], axis: number): [number, number, number] {
  return [size(shape.slice(0, axis)), shape[axis], size(shape.slice(axis + 1))];
}

function genArg(c: Code, e: Eqn, src: string, dst: string): void {
  const { axes } = e.params as Get<"argmax">;
  const xs = e.inputs[0].aval.shape;
  const [A, n, B] = aroundAxis(xs, axes[0]);
  if (A * B === 0) return;
  const cmp = e.prim === "argmax" ? ">" : "<";
  // The first NaN wins (NaN is the extreme); otherwise the first strictly better value.
  const better = (v: string, b: string) =>
    kindOf(e.inputs[0].aval.dtype) === "float" ? `${v} ${cmp} ${b} || (${v} !== ${v} && ${b} === ${b})` : `${v} ${cmp} ${b}`;
  if (B === 1) {
    c.emit("let p = 0;");
    c.open(`for (let q = 0; q < ${A}; q++, p += ${n})`);
    c.emit(`let best = ${src}[p], at = 0;`);
    c.open(`for (let k = 1; k < ${n}; k++)`);
    c.emit(`const v = ${src}[p + k];`);
    c.open(`if (${better("v", "best")})`);
    c.emit("best = v;");
    c.emit("at = k;");
    c.close();
    c.close();
    c.emit(`${dst}[q] = at;`);
    c.close();
    return;
  }
  // Inner dims: a row of running extremes, the output row holds their indices.
  c.emit(`const best = new Float64Array(${B});`);
  c.open(`for (let q = 0; q < ${A}; q++)`);
  c.emit(`const base = q * ${n * B}, ob = q * ${B};`);
  c.open(`for (let b = 0; b < ${B}; b++)`);
  c.emit(`best[b] = ${src}[base + b];`);
  c.emit(`${dst}[ob + b] = 0;`);
  c.close();
  c.open(`for (let k = 1, row = base + ${B}; k < ${n}; k++, row += ${B})`);
  c.open(`for (let b = 0; b < ${B}; b++)`);
  c.emit(`const v = ${src}[row + b], m = best[b];`);
  c.open(`if (${better("v", "m")})`);
  c.emit("best[b] = v;");
  c.emit(`${dst}[ob + b] = k;`);
  c.close();
  c.close();
  c.close();
  c.close();
}

function genScan(c: Code, e: Eqn, src: string, dst: string): void {
  const { axis, reverse } = e.params as Get<"cumsum">;
  const xs = e.inputs[0].aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const m = monoid(e.prim, dt);
  const [A, n, B] = aroundAxis(xs, axis);
  if (A * n * B === 0) return;
  const first = reverse ? (n - 1) * B : 0;
  const step = reverse ? -B : B;
  const adv = step > 0 ? `+= ${step}` : `-= ${-step}`;
  if (B === 1) {
    c.open(`for (let q = 0; q < ${A}; q++)`);
    c.emit(`let a = ${m.init}, p = q * ${n} + ${first};`);
    c.open(`for (let k = 0; k < ${n}; k++, p ${adv})`);
    c.emit(`const v = ${src}[p];`);
    c.emit(`a = ${m.op("a", "v")};`);
    c.emit(`${dst}[p] = a;`);
    c.close();
    c.close();
    return;
  }
  c.emit(`const acc = new ${accArray(dt)}(${B});`);
  c.open(`for (let q = 0; q < ${A}; q++)`);
  c.emit(`acc.fill(${m.init});`);
  c.emit(`let row = q * ${n * B} + ${first};`);
  c.open(`for (let k = 0; k < ${n}; k++, row ${adv})`);
  c.open(`for (let b = 0; b < ${B}; b++)`);
  c.emit(`const v = ${src}[row + b], a = acc[b];`);
  c.emit(`const r = ${m.op("a", "v")};`);
  c.emit("acc[b] = r;");
  c.emit(`${dst}[row + b] = r;`);
  c.close();
  c.close();
  c.close();
}

/** Conversion of a value read from dtype `from` to dtype `to`, for a typed-array store. */
function convertExpr(v: string, from: DType, to: DType, c: Code): string {
  if (from === to || kindOf(to) === "float") return v;
  if (to === "bool") return `${v} !== 0 ? 1 : 0`;
  if (from === "bool") return v;
  c.helpers.add("jlToI32");
  return `jlToI32(${v})`;
}

function genDot(c: Code, e: Eqn, buf: (k: number) => string, dst: string, epilogue?: DotEpilogue): void {
  const { dimension_numbers } = e.params as Get<"dot_general">;
  const [[ca, cb], [ba, bb]] = dimension_numbers;
  const [lhs, rhs] = e.inputs;
  const as = lhs.aval.shape, bs = rhs.aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const freeA = as.map((_, i) => i).filter((i) => !ca.includes(i) && !ba.includes(i));
  const freeB = bs.map((_, i) => i).filter((i) => !cb.includes(i) && !bb.includes(i));
  const Bt = size(ba.map((d) => as[d]));
  const M = size(freeA.map((d) => as[d]));
  const K = size(ca.map((d) => as[d]));
  const N = size(freeB.map((d) => bs[d]));
  if (Bt * M * N === 0) return;
  if (K === 0 && !epilogue) { c.emit(`${dst}.fill(0);`); return; }
  if (epilogue && (N === 1 || kindOf(dt) !== "float")) throw new Error("a matmul epilogue needs float rows longer than one");
  // Operands in canonical layout: lhs [batch, M, K], rhs [batch, K, N], in the output dtype.
  // An operand already laid out so (the common case) is used in place.
  const canonical = (k: number, shape: readonly number[], perm: number[], name: string): string => {
    const from = e.inputs[k].aval.dtype;
    const src = buf(k);
    if (perm.every((d, i) => d === i) && from === dt) return src;
    const is = rowStrides(shape);
    const pshape = perm.map((d) => shape[d]);
    c.emit(`const ${name} = new ${ARRAY[dt]}(${size(shape)});`);
    nest(c, pshape, [{ base: "0", strides: rowStrides(pshape) }, { base: "0", strides: perm.map((d) => is[d]) }],
      ([d, s]) => c.emit(`${name}[${d}] = ${convertExpr(`${src}[${s}]`, from, dt, c)};`), { tile: true });
    return name;
  };
  const A = canonical(0, as, [...ba, ...freeA, ...ca], "lhs");
  const B = canonical(1, bs, [...bb, ...cb, ...freeB], "rhs");
  const kind = kindOf(dt);
  const batched = Bt > 1;
  const T = kind === "bool" || M < 4 || N === 1 ? 1 : 4;
  if (N !== 1) c.emit(`const ${Array.from({ length: T }, (_, r) => `acc${r} = new ${accArray(dt)}(${N})`).join(", ")};`);
  if (batched) c.open(`for (let t = 0; t < ${Bt}; t++)`);
  const aOff = batched ? `t * ${M * K}` : "0";
  const bOff = batched ? `t * ${K * N}` : "0";
  const oOff = batched ? `t * ${M * N}` : "0";
  if (N === 1) {
    // Matrix-vector (and vector dot): one running dot product per output element.
    c.emit(`let ai = ${aOff}, oi = ${oOff};`);
    c.open(`for (let i = 0; i < ${M}; i++, ai += ${K})`);
    c.emit(`let s = 0, bk = ${bOff};`);
    c.open(`for (let k = 0; k < ${K}; k++, bk++)`);
    c.emit(kind === "float" ? `s += ${A}[ai + k] * ${B}[bk];` : kind === "int" ? `s = (s + Math.imul(${A}[ai + k], ${B}[bk])) | 0;` : `s |= ${A}[ai + k] & ${B}[bk];`);
    c.close();
    c.emit(`${dst}[oi++] = s;`);
    c.close();
    if (batched) c.close();
    return;
  }
  // i-k-j: an output row accumulates the rows of rhs scaled by lhs[i, k], in a float64
  // (int32) row that is rounded into the output once. Register tile: four rows of lhs and
  // four k at a time, so each rhs element is loaded once per sixteen multiply-adds and each
  // accumulator once per four. The k grouping is the same for every row, so a row's result
  // does not depend on whether it falls in a tile or in the remainder.
  const mul = (a: string, b: string) => (kind === "int" ? `Math.imul(${a}, ${b})` : `${a} * ${b}`);
  const rowsOf = (n: number) => Array.from({ length: n }, (_, r) => r);
  const ar = (r: number, q: number) => `a${r}_${q}`;
  const oRow = (r: string) => `${oOff === "0" ? "" : `${oOff} + `}${r} * ${N}`;
  const tile = (R: number) => {
    // R rows (starting at i) against all of rhs.
    c.emit(`${rowsOf(R).map((r) => `const r${r} = ${aOff === "0" ? "" : `${aOff} + `}(i + ${r}) * ${K};`).join(" ")}`);
    c.emit(rowsOf(R).map((r) => `acc${r}.fill(0);`).join(" "));
    c.emit(`let k = 0, bk = ${bOff};`);
    if (kind !== "bool" && K >= 4) {
      c.open(`for (; k + 3 < ${K}; k += 4, bk += ${4 * N})`);
      for (const r of rowsOf(R)) c.emit(`const ${rowsOf(4).map((q) => `${ar(r, q)} = ${A}[r${r} + k${q ? ` + ${q}` : ""}]`).join(", ")};`);
      c.emit(`const q1 = bk + ${N}, q2 = bk + ${2 * N}, q3 = bk + ${3 * N};`);
      c.open(`for (let j = 0; j < ${N}; j++)`);
      c.emit(`const x0 = ${B}[bk + j], x1 = ${B}[q1 + j], x2 = ${B}[q2 + j], x3 = ${B}[q3 + j];`);
      // Int32Array stores wrap; a sum of five int32 values is exact in a double.
      for (const r of rowsOf(R)) c.emit(`acc${r}[j] += ${rowsOf(4).map((q) => mul(ar(r, q), `x${q}`)).join(" + ")};`);
      c.close();
      c.close();
    }
    c.open(`for (; k < ${K}; k++, bk += ${N})`);
    c.emit(`const ${rowsOf(R).map((r) => `${ar(r, 0)} = ${A}[r${r} + k]`).join(", ")};`);
    c.open(`for (let j = 0; j < ${N}; j++)`);
    c.emit(`const x0 = ${B}[bk + j];`);
    for (const r of rowsOf(R)) c.emit(kind === "bool" ? `acc${r}[j] |= ${ar(r, 0)} & x0;` : `acc${r}[j] += ${mul(ar(r, 0), "x0")};`);
    c.close();
    c.close();
    if (epilogue) {
      const rowIdx = (r: number) => `${batched ? `t * ${M} + ` : ""}${r ? `i + ${r}` : "i"}`;
      for (const r of rowsOf(R)) c.emit(epilogue.call(rowIdx(r), `acc${r}`));
    } else for (const r of rowsOf(R)) c.emit(`${dst}.set(acc${r}, ${oRow(r ? `(i + ${r})` : "i")});`);
  };
  c.emit("let i = 0;");
  if (T > 1) {
    c.open(`for (; i + ${T - 1} < ${M}; i += ${T})`);
    tile(T);
    c.close();
  }
  if (M % T !== 0 || T === 1) {
    c.open(`for (; i < ${M}; i++)`);
    tile(1);
    c.close();
  }
  if (batched) c.close();
}

/** The fill value of a "fill"-mode gather: fill_value, else NaN / INT32_MIN / true. */
function gatherFill(fill: number | null, dt: DType): string {
  if (fill !== null) return numberText(storedValue(fill, dt));
  return dt === "f32" || dt === "f64" ? "NaN" : dt === "i32" ? "-2147483648" : "1";
}

/** Loops over the batch dims of an index array (all but its last dim); `body` gets the counters. */
function batchLoops(c: Code, shape: readonly number[], body: (counters: string[]) => void): void {
  const counters = shape.map((_, j) => c.fresh(`g${j}_`));
  shape.forEach((n, j) => c.open(`for (let ${counters[j]} = 0; ${counters[j]} < ${n}; ${counters[j]}++)`));
  body(counters);
  shape.forEach(() => c.close());
}

const linear = (terms: [string, number][]): string =>
  terms.filter(([v, s]) => s !== 0 && v !== "0").map(([v, s]) => (s === 1 ? v : `${v} * ${s}`)).join(" + ") || "0";

function genGather(c: Code, e: Eqn, buf: (k: number) => string, dst: string): void {
  const p = e.params as Get<"gather">;
  const dn = p.dimension_numbers;
  const [xa, ia] = e.inputs;
  const xs = xa.aval.shape, is = ia.aval.shape;
  const os = e.outputs[0].aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const xst = rowStrides(xs), ost = rowStrides(os);
  const nv = is[is.length - 1];
  const batchShape = is.slice(0, -1);
  if (size(os) === 0) return;
  const batchPos = os.map((_, d) => d).filter((d) => !dn.offset_dims.includes(d));
  const windowDims = xs.map((_, d) => d).filter((d) => !dn.collapsed_slice_dims.includes(d) && !dn.operand_batching_dims.includes(d));
  const windowShape = windowDims.map((d) => p.slice_sizes[d]);
  const X = buf(0), I = buf(1);
  const fill = p.mode === "fill";
  c.emit("let iv = 0;");
  batchLoops(c, batchShape, (g) => {
    // The start of the slice in the operand, per operand dim.
    const start: string[] = xs.map(() => "0");
    const checks: string[] = [];
    dn.start_index_map.forEach((d, k) => {
      const s = c.fresh(`s${d}_`);
      const max = xs[d] - p.slice_sizes[d];
      if (fill) {
        c.emit(`const ${s} = ${I}[iv + ${k}];`);
        checks.push(`${s} < 0 || ${s} > ${max}`);
      } else {
        c.emit(`const ${s} = Math.min(Math.max(${I}[iv + ${k}], 0), ${max});`);
      }
      start[d] = s;
    });
    dn.operand_batching_dims.forEach((d, k) => { start[d] = g[dn.start_indices_batching_dims[k]]; });
    const srcBase = linear(start.map((s, d) => [s, xst[d]]));
    const dstBase = linear(g.map((v, j) => [v, ost[batchPos[j]]]));
    const sb = c.fresh("src"), db = c.fresh("dst");
    c.emit(`const ${sb} = ${srcBase}, ${db} = ${dstBase};`);
    const dstAccess: Access = { base: db, strides: dn.offset_dims.map((d) => ost[d]) };
    if (checks.length) {
      // A slice that does not fit is fill_value, whole (JAX's FILL_OR_DROP).
      c.open(`if (${checks.join(" || ")})`);
      nest(c, windowShape, [dstAccess], ([d]) => c.emit(`${dst}[${d}] = ${gatherFill(p.fill_value, dt)};`));
      c.close();
      c.open("else");
    }
    copy(c, windowShape, dst, dstAccess, X, { base: sb, strides: windowDims.map((d) => xst[d]) });
    if (checks.length) c.close();
    c.emit(`iv += ${nv};`);
  });
}

function genScatter(c: Code, e: Eqn, buf: (k: number) => string, dst: string): void {
  const p = e.params as Get<"scatter">;
  const dn = p.dimension_numbers;
  const [xa, ia, ua] = e.inputs;
  const xs = xa.aval.shape, is = ia.aval.shape, us = ua.aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const xst = rowStrides(xs), ust = rowStrides(us);
  const nv = is[is.length - 1];
  const batchShape = is.slice(0, -1);
  const scatterPos = us.map((_, d) => d).filter((d) => !dn.update_window_dims.includes(d));
  const windowDims = xs.map((_, d) => d).filter((d) => !dn.inserted_window_dims.includes(d) && !dn.operand_batching_dims.includes(d));
  const windowShape = dn.update_window_dims.map((d) => us[d]);
  // The window's extent in each operand dim (1 for inserted and batching dims).
  const extent = xs.map(() => 1);
  windowDims.forEach((d, k) => { extent[d] = windowShape[k]; });
  extent.forEach((w, d) => {
    if (w > xs[d]) throw new Error(`scatter: update window of ${w} does not fit operand dim ${d} of size ${xs[d]}`);
  });
  c.emit(`${dst}.set(${buf(0)});`);
  if (size(us) === 0) return;
  const X = dst, I = buf(1), U = buf(2);
  const kind = kindOf(dt);
  const combine = (d: string, s: string): string => {
    switch (e.prim) {
      case "scatter": return `${X}[${d}] = ${U}[${s}];`;
      case "scatter-add":
        return kind === "bool" ? `${X}[${d}] |= ${U}[${s}];` : `${X}[${d}] += ${U}[${s}];`;
      default:
        return kind === "float" ? `${X}[${d}] *= ${U}[${s}];` : kind === "int" ? `${X}[${d}] = Math.imul(${X}[${d}], ${U}[${s}]);` : `${X}[${d}] &= ${U}[${s}];`;
    }
  };
  const clip = p.mode === "clip";
  c.emit("let iv = 0;");
  batchLoops(c, batchShape, (g) => {
    const start: string[] = xs.map(() => "0");
    const checks: string[] = [];
    dn.scatter_dims_to_operand_dims.forEach((d, k) => {
      const s = c.fresh(`s${d}_`);
      const max = xs[d] - extent[d];
      if (clip) c.emit(`const ${s} = Math.min(Math.max(${I}[iv + ${k}], 0), ${max});`);
      else {
        c.emit(`const ${s} = ${I}[iv + ${k}];`);
        checks.push(`${s} >= 0 && ${s} <= ${max}`);
      }
      start[d] = s;
    });
    dn.operand_batching_dims.forEach((d, k) => { start[d] = g[dn.scatter_indices_batching_dims[k]]; });
    // A window that does not fit is dropped, whole (XLA).
    if (checks.length) c.open(`if (${checks.join(" && ")})`);
    const db = c.fresh("dst"), sb = c.fresh("src");
    c.emit(`const ${db} = ${linear(start.map((s, d) => [s, xst[d]]))}, ${sb} = ${linear(g.map((v, j) => [v, ust[scatterPos[j]]]))};`);
    nest(c, windowShape, [{ base: db, strides: windowDims.map((d) => xst[d]) }, { base: sb, strides: dn.update_window_dims.map((d) => ust[d]) }],
      ([d, s]) => c.emit(combine(d, s)));
    if (checks.length) c.close();
    c.emit(`iv += ${nv};`);
  });
}
