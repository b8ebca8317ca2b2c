// Property tests (issue 5): random programs of elementwise ops, broadcasts, reshapes,
// transposes, reductions and dot_generals, built step by step with the tracer's own
// JaxprBuilder, must give the same result compiled (compileFused), eager (compileEager) and
// in the float64 reference interpreter (lib/reference.ts, independent of codegen/runtime).
//
// Tolerance rule (see lib/reference.ts): the reference carries, per element, a bound `err` on
// how far any float32 evaluation of the program can be from the float64 value (running error
// analysis: U = 2^-24 per rounding, 4 ulps per transcendental, n·U·Σ|terms| per reduction or
// dot of n terms, input errors propagated by each op's sensitivity, comparisons that could
// flip marked uncertain so a select on them admits either case). A result matches when
// |got - want| <= 2·err; ints and bools with a zero bound must be equal. So the tolerance
// scales with the condition of the program. To keep the comparison meaningful, inputs are in
// [-2, 2] (ints in [-5, 5]), log/sqrt/rsqrt/div get operands bounded away from zero (the
// generator inserts `max(x, c)`, `|x| + c` or `x*x + c` first), and a step whose result
// overflows 1e4 or whose bound exceeds 1e-3·max(1, |value|) is rolled back.
//
// Each program also checks that the compiled executable gives the same answer on a second
// run and that no kernel writes into its inputs.
//
// Seeds: fixed by default; JITLENS_PROPERTY_SEED=<n> overrides, JITLENS_PROPERTY_RUNS=<x>
// scales the number of runs (JITLENS_PROPERTY_STATS=1 prints what the generator made). A
// failure prints the seed and the shrunk program as jaxpr text, with its inputs and the fused
// kernels' equation groups. A named case that fails on a known bug is marked with
// `named(..., { todo: "..." })` so the suite stays green.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ArrayValue, Aval, DType, Jaxpr, Literal } from "../../compiler-core/src/ir/types";
import type { Prim } from "../../compiler-core/src/ir/primitives";
import { JaxprBuilder, literal } from "../../compiler-core/src/trace/builder";
import { Tracer } from "../../compiler-core/src/trace/values";
import { compileEager, compileFused, type Executable } from "../../compiler-core/src/runtime/cpu";
import { printJaxpr } from "../../compiler-core/src/ir/print";
import * as ref from "./lib/reference";
import type { RefValue } from "./lib/reference";

const SEED = process.env.JITLENS_PROPERTY_SEED !== undefined ? Number(process.env.JITLENS_PROPERTY_SEED) : 20250605;
const RUNS_SCALE = Number(process.env.JITLENS_PROPERTY_RUNS ?? 1);

// ---- programs: a JaxprBuilder plus the reference value of every traced value ----

interface Val {
  atom: Tracer | Literal;
  r: RefValue;
}

/** A small seeded generator (mulberry32) for input data. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPAN = { file: "property.py", line: 1, col: 1, endLine: 1, endCol: 2 };
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const iota = (n: number) => Array.from({ length: n }, (_, i) => i);

class Prog {
  readonly b = new JaxprBuilder();
  readonly inputs: ArrayValue[] = [];
  readonly vals: Val[] = [];
  readonly rnd: () => number;

  constructor(seed: number) {
    this.b.span = SPAN;
    this.rnd = prng(seed);
  }

  /** A new input; floats uniform in [lo, hi] (rounded to f32), ints in [-5, 5]. */
  input(shape: number[], dtype: DType = "f32", lo = -2, hi = 2): Val {
    const aval: Aval = { shape: [...shape], dtype, weak: false };
    const n = sizeOf(shape);
    const data = dtype === "i32" ? new Int32Array(n) : dtype === "bool" ? new Uint8Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = this.rnd();
      data[i] = dtype === "i32" ? Math.floor(u * 11) - 5 : dtype === "bool" ? (u < 0.5 ? 1 : 0) : Math.fround(lo + (hi - lo) * u);
    }
    const value: ArrayValue = { aval, data };
    this.inputs.push(value);
    const t = this.b.input(aval, `x${this.inputs.length - 1}`);
    const v = { atom: t, r: ref.fromArray(value) };
    this.vals.push(v);
    return v;
  }

  lit(value: number | boolean, dtype: DType = "f32"): Val {
    const l = literal(value, { shape: [], dtype, weak: true });
    return { atom: l, r: ref.literalValue(l) };
  }

  /** Binds a primitive, evaluates the reference on the recorded equation, records the value. */
  op(prim: Prim, ins: (Val | number)[], params: Record<string, unknown> = {}): Val {
    const dt = (ins.find((x) => typeof x !== "number") as Val | undefined)?.r.dtype ?? "f32";
    const vs = ins.map((x) => (typeof x === "number" ? this.lit(x, prim === "select_n" ? "f32" : dt) : x));
    const t = this.b.bind(prim, vs.map((v) => v.atom), params as never);
    const eqn = this.b.eqns[this.b.eqns.length - 1];
    const [r] = ref.evalEqn(eqn, vs.map((v) => v.r));
    if (r.dtype !== t.aval.dtype || r.shape.join(",") !== t.aval.shape.join(",")) {
      throw new Error(`reference and abstract eval disagree on ${prim}: ${r.dtype}[${r.shape}] vs ${t.aval.dtype}[${t.aval.shape}]`);
    }
    const v = { atom: t, r };
    this.vals.push(v);
    return v;
  }

  checkpoint(): [number, number, number] {
    return [this.b.eqns.length, this.vals.length, this.inputs.length];
  }
  restore([e, v, i]: [number, number, number]): void {
    this.b.eqns.length = e;
    this.vals.length = v;
    this.b.invars.length = i;
    this.inputs.length = i;
  }

  finish(outs: Val[]): Jaxpr {
    return this.b.finish(outs.map((o) => (o.atom instanceof Tracer ? o.atom.atom : o.atom)));
  }
}

// ---- running and comparing ----

const text = (j: Jaxpr) => printJaxpr(j).map((l) => l.text).join("\n");
const fmtArray = (a: ArrayValue) => `${a.aval.dtype}[${a.aval.shape}] ${JSON.stringify(Array.from(a.data).map((x) => Number(x.toPrecision(8))))}`;

/** Compares an executable's outputs with the reference; returns the mismatches (at most a few). */
function mismatches(mode: string, outs: ArrayValue[], want: RefValue[]): string[] {
  const bad: string[] = [];
  if (outs.length !== want.length) return [`${mode}: ${outs.length} outputs, want ${want.length}`];
  outs.forEach((o, i) => {
    const w = want[i];
    if (o.aval.dtype !== w.dtype || o.aval.shape.join(",") !== w.shape.join(",")) {
      bad.push(`${mode} output ${i}: ${o.aval.dtype}[${o.aval.shape}], want ${w.dtype}[${w.shape}]`);
      return;
    }
    if (o.data.length !== w.data.length) {
      bad.push(`${mode} output ${i}: ${o.data.length} elements, want ${w.data.length}`);
      return;
    }
    let shown = 0;
    for (let k = 0; k < w.data.length; k++) {
      const why = ref.withinTolerance(Number(o.data[k]), w.data[k], w.err[k]);
      if (why && shown++ < 4) bad.push(`${mode} output ${i}[${k}]: ${why}`);
    }
    if (shown > 4) bad.push(`${mode} output ${i}: ${shown} elements differ in all`);
  });
  return bad;
}

/** Compiles and runs the program both ways; throws with a full report when either disagrees with the reference. */
function check(p: Prog, outs: Val[], label = ""): void {
  const jaxpr = p.finish(outs);
  const want = outs.map((o) => o.r);
  const copies = p.inputs.map((a) => Array.from(a.data));
  const problems: string[] = [];
  let fused: Executable | undefined;
  for (const mode of ["fused", "eager"] as const) {
    try {
      const exe = mode === "fused" ? compileFused(jaxpr) : compileEager(jaxpr);
      if (mode === "fused") fused = exe;
      const got = exe.run(p.inputs);
      problems.push(...mismatches(mode, got, want));
      if (mode === "fused" && !problems.length) {
        // a second run must not see state left by the first
        problems.push(...mismatches("fused (second run)", exe.run(p.inputs), want));
      }
    } catch (e) {
      problems.push(`${mode} threw: ${(e as Error).stack ?? e}`);
    }
  }
  p.inputs.forEach((a, i) => {
    if (Array.from(a.data).some((x, k) => !Object.is(x, copies[i][k]))) problems.push(`input ${i} was modified by a kernel`);
  });
  if (!problems.length) return;
  const kernels = fused ? fused.kernels.map((k) => `  ${k.name} ${k.kind} eqns [${k.eqns}]`).join("\n") : "  (compileFused threw)";
  throw new Error([
    `${label ? label + ": " : ""}compiled/eager results differ from the float64 reference`,
    ...problems,
    "program:",
    text(jaxpr),
    "inputs:",
    ...p.inputs.map((a, i) => `  ${i}: ${fmtArray(a)}`),
    "fused kernels:",
    kernels,
  ].join("\n"));
}

// ---- the random program generator ----

const KINDS = [
  "unary", "unary", "unary", "binary", "binary", "binary", "select", "bcast", "reshape", "transpose",
  "reduce", "reduce", "keepdims", "keepdims", "matmul", "matmul", "diamond", "int",
] as const;
type Kind = (typeof KINDS)[number];
interface Step { kind: Kind; a: number; b: number; k: number; m: number }
interface Spec { base: number[]; second: number; steps: Step[]; outs: number[]; seed: number }

const UN = ["neg", "exp", "log", "tanh", "sqrt", "rsqrt", "abs", "logistic", "square", "sin", "cube", "recip", "log1p", "expm1", "sign"] as const;
const BIN: Prim[] = ["add", "sub", "mul", "div", "max", "min", "add", "mul", "sub", "pow"];
const CMP: Prim[] = ["lt", "gt", "le", "ge", "eq", "ne"];
const LITS = [0.5, -1.5, 2, 0.125, 3, -0.25, 1, 0];

function compatible(shapes: (readonly number[])[]): boolean {
  const ranked = shapes.filter((s) => s.length > 0);
  if (!ranked.length) return true;
  const r = ranked[0].length;
  if (ranked.some((s) => s.length !== r)) return false;
  for (let i = 0; i < r; i++) {
    const ds = new Set(ranked.map((s) => s[i]).filter((d) => d !== 1));
    if (ds.size > 1) return false;
  }
  return true;
}

/** Rejects a step whose value overflowed, is not finite, or whose error bound makes the check meaningless. */
function unsafe(r: RefValue, maxAbs: number): boolean {
  const fl = r.dtype === "f32" || r.dtype === "f64";
  for (let i = 0; i < r.data.length; i++) {
    const v = r.data[i], e = r.err[i];
    if (!Number.isFinite(v) || !Number.isFinite(e) || Math.abs(v) > maxAbs) return true;
    if (fl && e > 1e-3 * Math.max(1, Math.abs(v))) return true;
  }
  return false;
}

function fold(r: RefValue, init: number, f: (acc: number, v: number, e: number) => number): number {
  let acc = init;
  for (let i = 0; i < r.data.length; i++) acc = f(acc, r.data[i], r.err[i]);
  return acc;
}
const minLow = (r: RefValue) => fold(r, Infinity, (m, v, e) => Math.min(m, v - e));
const maxAbsOf = (r: RefValue) => fold(r, 0, (m, v) => Math.max(m, Math.abs(v)));
const minAbsLow = (r: RefValue) => fold(r, Infinity, (m, v, e) => Math.min(m, Math.abs(v) - e));

/** Builds the program one step at a time, each step picking values whose shapes make it valid. */
class Generator {
  constructor(readonly p: Prog, readonly maxSize: number, readonly dims: number[]) {}

  floats(): Val[] { return this.p.vals.filter((v) => v.r.dtype === "f32"); }

  /** Recent values more often (chains), any value sometimes (diamonds, long-range reuse). */
  pick(xs: Val[], n: number): Val {
    if (n % 3 === 0) return xs[Math.floor(n / 3) % xs.length];
    return xs[xs.length - 1 - (n % Math.min(xs.length, 3))];
  }

  dim(n: number): number { return this.dims[n % this.dims.length]; }

  /** A value with every element >= a margin, made from v (domain of log, sqrt, rsqrt, 1/x, pow). */
  positive(v: Val, m: number, margin = 0.1): Val {
    if (minLow(v.r) > margin) return v;
    switch (m % 3) {
      case 0: return this.p.op("max", [v, 0.25]);
      case 1: return this.p.op("add", [this.p.op("abs", [v]), 0.5]);
      default: return this.p.op("add", [this.p.op("mul", [v, v]), 0.25]);
    }
  }

  /** A value bounded in magnitude (exp, square of large values). */
  bounded(v: Val, limit: number): Val {
    return maxAbsOf(v.r) > limit ? this.p.op("tanh", [v]) : v;
  }

  unary(a: Val, k: number, m: number): Val {
    const p = this.p;
    const u = UN[k % UN.length];
    switch (u) {
      case "exp": case "expm1": return p.op(u, [this.bounded(a, 8)]);
      case "log": case "sqrt": case "rsqrt": return p.op(u, [this.positive(a, m)]);
      case "log1p": return p.op("log1p", [this.positive(a, m)]);
      case "square": return p.op("square", [this.bounded(a, 50)]);
      case "cube": return p.op("integer_pow", [this.bounded(a, 10)], { y: 3 });
      case "recip": return p.op("integer_pow", [this.positive(a, m)], { y: -1 });
      case "sign": return p.op("mul", [p.op("sign", [a]), a]); // |a|, through a discontinuous op
      default: return p.op(u, [a]);
    }
  }

  /** A partner for a binary op with `a`: a broadcast-compatible value of its dtype, or a literal. */
  partner(a: Val, n: number, m: number): Val {
    const cands = this.p.vals.filter((v) => v.r.dtype === a.r.dtype && compatible([v.r.shape, a.r.shape]));
    if (m % 5 === 0 || !cands.length) return this.p.lit(a.r.dtype === "i32" ? (n % 7) - 3 : LITS[n % LITS.length], a.r.dtype);
    return this.pick(cands, n);
  }

  binary(a: Val, s: Step): Val {
    const p = this.p;
    const prim = BIN[s.k % BIN.length];
    let c = this.partner(a, s.b, s.m);
    if (prim === "div") {
      if (minAbsLow(c.r) < 0.1) c = this.positive(c, s.m);
      if (s.m % 2) return p.op("div", [a, c]);
      return p.op("div", [c, minAbsLow(a.r) > 0.1 ? a : this.positive(a, s.k)]);
    }
    if (prim === "pow") return p.op("pow", [this.positive(a, s.m), p.op("tanh", [c.atom instanceof Tracer ? c : p.op("mul", [a, c])])]);
    return s.m % 7 === 3 ? p.op(prim, [c, a]) : p.op(prim, [a, c]);
  }

  select(a: Val, s: Step): Val {
    const p = this.p;
    const c = this.partner(a, s.b, s.m);
    const pred = p.op(CMP[s.k % CMP.length], [a, c]);
    switch (s.m % 4) {
      case 0: return p.op("select_n", [pred, a, c]);
      case 1: {
        // cases of other compatible shapes
        const others = this.floats().filter((v) => compatible([v.r.shape, pred.r.shape, a.r.shape]));
        return p.op("select_n", [pred, this.pick(others, s.b + 1), a]);
      }
      case 2: return p.op("mul", [p.op("convert_element_type", [pred], { new_dtype: "f32", weak_type: false }), a]);
      default: return p.op("select_n", [p.op("gt", [a, 0]), p.op("mul", [a, 0.01]), a]); // leaky relu
    }
  }

  bcast(a: Val, s: Step): Val | undefined {
    const shape = a.r.shape;
    const r = shape.length;
    const ones = iota(r).filter((i) => shape[i] === 1);
    if (ones.length && s.m % 2 === 0) {
      // stretch a size-1 dim
      const d = ones[s.b % ones.length];
      const out = shape.map((x, i) => (i === d ? this.dim(s.k) : x));
      return this.p.op("broadcast_in_dim", [a], { shape: out, broadcast_dimensions: iota(r) });
    }
    if (r >= 3) return undefined;
    // a new axis at position `at`
    const at = s.b % (r + 1);
    const out = [...shape.slice(0, at), this.dim(s.k), ...shape.slice(at)];
    return this.p.op("broadcast_in_dim", [a], { shape: out, broadcast_dimensions: iota(r).map((i) => (i < at ? i : i + 1)) });
  }

  reshape(a: Val, s: Step): Val {
    const n = sizeOf(a.r.shape);
    const divisors = iota(n + 1).filter((d) => d >= 1 && n % d === 0);
    const rank = n === 1 ? s.k % 4 : 1 + (s.k % 3);
    const out: number[] = [];
    let left = n;
    for (let i = 0; i < rank - 1; i++) {
      const ds = divisors.filter((d) => left % d === 0);
      const d = ds[(s.b >> (2 * i)) % ds.length];
      out.push(d);
      left /= d;
    }
    if (rank > 0) out.push(left);
    return this.p.op("reshape", [a], { new_sizes: out, dimensions: null });
  }

  transpose(a: Val, s: Step): Val | undefined {
    const r = a.r.shape.length;
    if (r < 2) return undefined;
    const perm = iota(r);
    for (let i = r - 1; i > 0; i--) { const j = (s.b + i * s.k) % (i + 1); [perm[i], perm[j]] = [perm[j], perm[i]]; }
    if (perm.every((d, i) => d === i)) [perm[0], perm[r - 1]] = [perm[r - 1], perm[0]];
    return this.p.op("transpose", [a], { permutation: perm });
  }

  axes(r: number, bits: number): number[] {
    if (r === 0) return [];
    const ax = iota(r).filter((d) => (bits >> d) & 1);
    return ax.length ? ax : [bits % r]; // never empty here
  }

  reduce(a: Val, s: Step): Val {
    const prims: Prim[] = ["reduce_sum", "reduce_max", "reduce_min"];
    // all axes, none (an identity reduction, rare), or a random non-empty subset
    const axes = s.m % 4 === 0 ? iota(a.r.shape.length) : s.m % 16 === 5 ? [] : this.axes(a.r.shape.length, s.b);
    return this.p.op(prims[s.k % 3], [a], { axes });
  }

  /** Reduce, broadcast the result back to the operand's shape, combine (softmax/layernorm shapes). */
  keepdims(a: Val, s: Step): Val | undefined {
    const p = this.p;
    const r = a.r.shape.length;
    if (r === 0) return undefined;
    const axes = s.b % 3 === 0 ? [r - 1] : s.b % 3 === 1 ? this.axes(r, s.k) : iota(r);
    const kept = iota(r).filter((d) => !axes.includes(d));
    const back = (v: Val) => p.op("broadcast_in_dim", [v], { shape: [...a.r.shape], broadcast_dimensions: kept });
    const n = axes.reduce((t, d) => t * a.r.shape[d], 1);
    switch (s.m % 5) {
      case 0: return p.op("sub", [a, back(p.op("reduce_max", [a], { axes }))]);
      case 1: { // softmax over `axes`
        const e = p.op("exp", [p.op("sub", [a, back(p.op("reduce_max", [a], { axes }))])]);
        return p.op("div", [e, back(p.op("reduce_sum", [e], { axes }))]);
      }
      case 2: { // centre: a - mean(a)
        const mean = p.op("mul", [p.op("reduce_sum", [a], { axes }), 1 / n]);
        return p.op("sub", [a, back(mean)]);
      }
      case 3: { // a / (sum |a| + 0.5)
        const den = p.op("add", [p.op("reduce_sum", [p.op("abs", [a])], { axes }), 0.5]);
        return p.op("div", [a, back(den)]);
      }
      default: // (a - min) * max
        return p.op("mul", [p.op("sub", [a, back(p.op("reduce_min", [a], { axes }))]), back(p.op("reduce_max", [a], { axes }))]);
    }
  }

  /** A value of `shape` among the values, or a new input. */
  operandOf(shape: number[], n: number): Val {
    const have = this.floats().filter((v) => v.r.shape.join(",") === shape.join(","));
    if (have.length && n % 2 === 0) return this.pick(have, n);
    return this.p.input(shape);
  }

  matmul(a: Val, s: Step): Val | undefined {
    const p = this.p;
    const sh = a.r.shape;
    const r = sh.length;
    if (r === 0) return undefined;
    const N = this.dim(s.k);
    let mm: Val;
    const dn = (c: [number[], number[]], b: [number[], number[]] = [[], []]) => ({ dimension_numbers: [c, b], preferred_element_type: null });
    const form = s.m % 4;
    switch (form) {
      case 0: case 1: {
        if (r > 2) return this.matmul(a, { ...s, m: s.m + 3 - form }); // rank 3: batched
        // a[..., K] @ w[K, N] (or a vector w[K])
        const K = sh[r - 1];
        const w = this.operandOf(s.b % 5 === 1 ? [K] : [K, N], s.b);
        mm = p.op("dot_general", [a, w], dn([[r - 1], [0]]));
        break;
      }
      case 2: {
        if (r !== 2) return this.matmul(a, { ...s, m: s.m + 1 });
        // contract axis 0 of both (a^T w), or w @ a^T
        mm = s.b % 2
          ? p.op("dot_general", [a, this.operandOf([sh[0], N], s.b)], dn([[0], [0]]))
          : p.op("dot_general", [this.operandOf([N, sh[1]], s.b), a], dn([[1], [1]]));
        break;
      }
      default: {
        if (r !== 3) return this.matmul(a, { ...s, m: s.m + 1 });
        // batched: a[B, M, K] @ w[B, K, N], or a[B, M, K] . w[B, N, K]
        mm = s.b % 2
          ? p.op("dot_general", [a, this.operandOf([sh[0], sh[2], N], s.b)], dn([[2], [1]], [[0], [0]]))
          : p.op("dot_general", [a, this.operandOf([sh[0], N, sh[2]], s.b)], dn([[2], [2]], [[0], [0]]));
        break;
      }
    }
    return this.epilogue(mm, s);
  }

  /** Elementwise work over a matmul's output (what an epilogue fusion takes in). */
  epilogue(mm: Val, s: Step): Val {
    const p = this.p;
    const os = mm.r.shape;
    const r = os.length;
    if (r === 0) return mm;
    const along = (d: number) => p.op("broadcast_in_dim", [p.input([os[d]])], { shape: [...os], broadcast_dimensions: [d] });
    let h: Val;
    switch (Math.floor(s.m / 4) % 5) {
      case 0: return mm;
      case 1: h = p.op("add", [mm, along(r - 1)]); break; // row bias
      case 2: h = p.op("mul", [p.op("add", [mm, along(0)]), 0.5]); break; // a bias along the first axis, scaled
      case 3: { // residual: a value of the output's shape (or a new input)
        const same = this.floats().filter((v) => v !== mm && v.r.shape.join(",") === os.join(","));
        h = p.op("add", [mm, same.length ? this.pick(same, s.a) : p.input([...os])]);
        break;
      }
      default: h = p.op("sub", [mm, p.op("mul", [mm, mm])]); break; // the dot's result used twice
    }
    switch (s.k % 4) {
      case 0: return p.op("max", [h, 0]);
      case 1: return p.op("tanh", [h]);
      case 2: return gelu(p, h);
      default: return h;
    }
  }


  diamond(a: Val, s: Step): Val {
    const u1 = this.unary(a, s.k, s.m);
    const u2 = this.unary(a, s.b, s.k);
    return this.p.op(BIN[s.m % BIN.length] === "div" || BIN[s.m % BIN.length] === "pow" ? "add" : BIN[s.m % BIN.length], [u1, u2]);
  }

  int(s: Step): Val | undefined {
    const p = this.p;
    let ints = p.vals.filter((v) => v.r.dtype === "i32");
    if (!ints.length || s.m % 6 === 0) {
      const fs = this.floats();
      const src = fs.length ? this.pick(fs, s.a) : undefined;
      if (src && s.m % 2 === 0) return p.op("convert_element_type", [p.op("mul", [src, 2])], { new_dtype: "i32", weak_type: false });
      p.input(src ? [...src.r.shape] : [this.dim(s.k)], "i32");
      ints = p.vals.filter((v) => v.r.dtype === "i32");
    }
    const a = this.pick(ints, s.a);
    switch (s.k % 6) {
      case 0: return p.op(["add", "sub", "mul", "max", "min"][s.b % 5] as Prim, [a, this.partner(a, s.b, s.m)]);
      case 1: return p.op(["reduce_sum", "reduce_max", "reduce_min"][s.b % 3] as Prim, [a], { axes: this.axes(a.r.shape.length, s.m) });
      case 2: return p.op("convert_element_type", [a], { new_dtype: "f32", weak_type: false });
      case 3: {
        const pred = p.op(CMP[s.b % CMP.length], [a, this.partner(a, s.m, s.b)]);
        return p.op("select_n", [pred, a, p.op("neg", [a])]);
      }
      case 4: return p.op(["neg", "abs", "sign"][s.b % 3] as Prim, [a]);
      default: {
        // an int count used as float: mean over the positives
        const pos = p.op("gt", [a, p.lit(0, "i32")]);
        const f = p.op("convert_element_type", [pos], { new_dtype: "f32", weak_type: false });
        return p.op("reduce_sum", [f], { axes: iota(f.r.shape.length) });
      }
    }
  }

  step(s: Step): void {
    const p = this.p;
    const cp = p.checkpoint();
    const fs = this.floats();
    const a = this.pick(fs, s.a);
    let out: Val | undefined;
    switch (s.kind) {
      case "unary": out = this.unary(a, s.k, s.m); break;
      case "binary": out = this.binary(a, s); break;
      case "select": out = this.select(a, s); break;
      case "bcast": out = this.bcast(a, s); break;
      case "reshape": out = this.reshape(a, s); break;
      case "transpose": out = this.transpose(a, s); break;
      case "reduce": out = this.reduce(a, s); break;
      case "keepdims": out = this.keepdims(a, s); break;
      case "matmul": out = this.matmul(a, s); break;
      case "diamond": out = this.diamond(a, s); break;
      case "int": out = this.int(s); break;
    }
    const tooBig = p.vals.slice(cp[1]).some((v) => sizeOf(v.r.shape) > this.maxSize || unsafe(v.r, v.r.dtype === "i32" ? 1e6 : 1e4));
    if (!out || tooBig) p.restore(cp);
  }
}

function gelu(p: Prog, h: Val): Val {
  // 0.5 h (1 + tanh(sqrt(2/pi) (h + 0.044715 h^3)))
  const h3 = p.op("integer_pow", [h], { y: 3 });
  const inner = p.op("mul", [p.op("add", [h, p.op("mul", [h3, 0.044715])]), Math.sqrt(2 / Math.PI)]);
  return p.op("mul", [p.op("mul", [h, 0.5]), p.op("add", [p.op("tanh", [inner]), 1])]);
}

/** Builds a program from a spec; returns it and its outputs. */
function buildProgram(spec: Spec, maxSize: number, dims: number[]): { p: Prog; outs: Val[] } {
  const p = new Prog(spec.seed);
  const g = new Generator(p, maxSize, dims);
  const base = [...spec.base];
  while (sizeOf(base) > maxSize) base.pop();
  const x = p.input(base);
  if (spec.second % 3 === 1) p.input(base.map((d, i) => ((spec.second >> (i + 2)) & 1 ? 1 : d)));
  if (spec.second % 3 === 2 && base.length) p.input([base[base.length - 1]]);
  for (const s of spec.steps) g.step(s);
  // the last value, and a few others (intermediates, or inputs) as extra outputs; half the
  // programs also return every value nothing uses (so no step is dead code)
  const last = p.vals[p.vals.length - 1] ?? x;
  const outs = [last, ...spec.outs.map((o) => p.vals[o % p.vals.length])];
  if (spec.second % 2 === 0) {
    const used = new Set<number>();
    for (const e of p.b.eqns) for (const i of e.inputs) if (i.kind === "var") used.add(i.id);
    for (const v of p.vals) {
      const t = v.atom instanceof Tracer ? v.atom.atom : undefined;
      if (t && t.kind === "var" && !used.has(t.id) && !outs.includes(v) && !p.b.invars.includes(t)) outs.push(v);
    }
  }
  return { p, outs };
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom(...KINDS),
  a: fc.nat({ max: 1000 }),
  b: fc.nat({ max: 1000 }),
  k: fc.nat({ max: 1000 }),
  m: fc.nat({ max: 1000 }),
});

const specArb = (dim: fc.Arbitrary<number>, maxSteps: number): fc.Arbitrary<Spec> => fc.record({
  base: fc.array(dim, { minLength: 0, maxLength: 3 }),
  second: fc.nat({ max: 100 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: maxSteps }),
  outs: fc.array(fc.nat({ max: 100 }), { minLength: 0, maxLength: 3 }),
  seed: fc.nat(),
});

function runProperty(name: string, arb: fc.Arbitrary<Spec>, maxSize: number, dims: number[], numRuns: number): void {
  try {
    fc.assert(
      fc.property(arb, (spec) => {
        const { p, outs } = buildProgram(spec, maxSize, dims);
        check(p, outs);
      }),
      { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS_SCALE)) },
    );
  } catch (e) {
    // fast-check keeps the property's own error (the program text) as the cause: say it in the message.
    const cause = (e as Error).cause as Error | undefined;
    throw new Error(`${name} failed with JITLENS_PROPERTY_SEED=${SEED}\n${(e as Error).message}\n\nOn the shrunk program:\n${cause?.message ?? ""}`);
  }
}

describe("property: compiled, eager and the float64 reference agree", () => {
  test("random programs on small shapes (dims 1..7, rank 0..3)", () => {
    runProperty("small shapes", specArb(fc.integer({ min: 1, max: 7 }), 12), 2048, [1, 2, 3, 4, 5, 6, 7], 800);
  });

  test("random programs on larger shapes (contiguous runs >= 64, tiles)", () => {
    const big = [1, 3, 7, 16, 33, 64, 65, 100];
    runProperty("larger shapes", specArb(fc.constantFrom(...big), 6), 40000, big, 100);
  });

  test("the generator covers every step kind and makes fusable programs", () => {
    // Not a check of the compiler: a guard that the generator does not silently degenerate.
    const seen = new Map<string, number>();
    let multiKernel = 0;
    const kinds = new Map<string, number>();
    fc.assert(fc.property(specArb(fc.integer({ min: 1, max: 7 }), 10), (spec) => {
      const { p, outs } = buildProgram(spec, 2048, [1, 2, 3, 4, 5, 6, 7]);
      for (const e of p.b.eqns) seen.set(e.prim, (seen.get(e.prim) ?? 0) + 1);
      const ks = compileFused(p.finish(outs)).kernels;
      if (ks.length > 1) multiKernel++;
      for (const k of ks) { const key = k.kind + (/fused epilogue/.test(k.reason) ? "+epilogue" : ""); kinds.set(key, (kinds.get(key) ?? 0) + 1); }
    }), { seed: SEED, numRuns: 200 });
    if (process.env.JITLENS_PROPERTY_STATS) console.log({ multiKernel, kinds, eqns: Object.fromEntries([...seen].sort((a, b) => b[1] - a[1])) });
    for (const prim of ["exp", "log", "tanh", "sqrt", "max", "min", "div", "select_n", "lt", "broadcast_in_dim", "reshape", "transpose",
      "reduce_sum", "reduce_max", "reduce_min", "dot_general", "convert_element_type", "integer_pow"]) {
      assert.ok((seen.get(prim) ?? 0) >= 3, `the generator made only ${seen.get(prim) ?? 0} ${prim} equations`);
    }
    assert.ok(multiKernel > 50, `only ${multiKernel} programs with several kernels`);
  });
});

// ---- named deterministic cases ----

type Case = (p: Prog, shape: number[]) => Val[];

function named(name: string, shapes: number[][], build: Case, seed = 1, opts: { todo?: string } = {}): void {
  for (const shape of shapes) {
    test(`${name} ${JSON.stringify(shape)}`, opts, () => {
      const p = new Prog(seed + shape.reduce((a, b) => a * 31 + b, 7));
      const outs = build(p, shape);
      check(p, outs, `${name} ${JSON.stringify(shape)}`);
    });
  }
}

const lastAxis = (s: number[]) => [s.length - 1];
const keptBut = (s: number[], axes: number[]) => iota(s.length).filter((d) => !axes.includes(d));
const bcastBack = (p: Prog, v: Val, shape: number[], axes: number[]) =>
  p.op("broadcast_in_dim", [v], { shape: [...shape], broadcast_dimensions: keptBut(shape, axes) });
const mean = (p: Prog, x: Val, axes: number[]) =>
  p.op("div", [p.op("reduce_sum", [x], { axes }), axes.reduce((t, d) => t * x.r.shape[d], 1)]);

function softmax(p: Prog, x: Val, axes: number[]): Val {
  const s = x.r.shape;
  const m = p.op("reduce_max", [x], { axes });
  const e = p.op("exp", [p.op("sub", [x, bcastBack(p, m, s, axes)])]);
  return p.op("div", [e, bcastBack(p, p.op("reduce_sum", [e], { axes }), s, axes)]);
}

function logSoftmax(p: Prog, x: Val, axes: number[]): Val {
  const s = x.r.shape;
  const sh = p.op("sub", [x, bcastBack(p, p.op("reduce_max", [x], { axes }), s, axes)]);
  const lse = p.op("log", [p.op("reduce_sum", [p.op("exp", [sh])], { axes })]);
  return p.op("sub", [sh, bcastBack(p, lse, s, axes)]);
}

function layerNorm(p: Prog, x: Val, axes: number[], withAffine: boolean): Val[] {
  const s = x.r.shape;
  const mu = mean(p, x, axes);
  const xc = p.op("sub", [x, bcastBack(p, mu, s, axes)]);
  const v = mean(p, p.op("integer_pow", [xc], { y: 2 }), axes);
  const inv = p.op("rsqrt", [p.op("add", [v, 1e-5])]);
  let y = p.op("mul", [xc, bcastBack(p, inv, s, axes)]);
  if (withAffine) {
    const feat = axes.map((d) => s[d]);
    const gamma = p.input(feat, "f32", 0.5, 1.5);
    const beta = p.input(feat);
    const dims = axes;
    y = p.op("add", [p.op("mul", [y, p.op("broadcast_in_dim", [gamma], { shape: [...s], broadcast_dimensions: dims })]),
      p.op("broadcast_in_dim", [beta], { shape: [...s], broadcast_dimensions: dims })]);
  }
  return [y, mu, inv];
}

describe("named cases: row-wise (softmax / norm) shapes", () => {
  const rows = [[1], [7], [3, 5], [4, 1], [1, 6], [2, 3, 7], [5, 130], [64, 65], [3, 4, 100]];
  named("softmax over the last axis", rows, (p, s) => [softmax(p, p.input(s), lastAxis(s))]);
  named("softmax over the first axis", [[7, 3], [130, 5], [3, 2, 4]], (p, s) => [softmax(p, p.input(s), [0])]);
  named("log-softmax over the last axis", rows, (p, s) => [logSoftmax(p, p.input(s), lastAxis(s))]);
  named("softmax with the input scaled first and its max also returned", [[4, 6], [33, 70]], (p, s) => {
    const x = p.op("mul", [p.input(s), 3]);
    const m = p.op("reduce_max", [x], { axes: [1] });
    const e = p.op("exp", [p.op("sub", [x, bcastBack(p, m, s, [1])])]);
    const z = p.op("reduce_sum", [e], { axes: [1] });
    return [p.op("div", [e, bcastBack(p, z, s, [1])]), m, z];
  });
  named("layernorm over the last axis (with gamma, beta; mean and rsqrt(var) returned too)", rows.filter((s) => s.length >= 2), (p, s) =>
    layerNorm(p, p.input(s), lastAxis(s), true));
  named("layernorm over the last two axes", [[2, 3, 4], [3, 5, 70]], (p, s) => layerNorm(p, p.input(s), [1, 2], false));
  named("RMS norm", rows.filter((s) => s.length >= 1), (p, s) => {
    const x = p.input(s);
    const ax = lastAxis(s);
    const ms = mean(p, p.op("mul", [x, x]), ax);
    const r = p.op("rsqrt", [p.op("add", [ms, 1e-6])]);
    const w = p.input([s[s.length - 1]], "f32", 0.5, 1.5);
    const y = p.op("mul", [p.op("mul", [x, bcastBack(p, r, s, ax)]), p.op("broadcast_in_dim", [w], { shape: [...s], broadcast_dimensions: [s.length - 1] })]);
    return [y];
  });
  named("mean and variance (two outputs, the centred value too)", [[5], [3, 7], [100, 3], [2, 5, 66]], (p, s) => {
    const x = p.input(s);
    const ax = lastAxis(s);
    const mu = mean(p, x, ax);
    const xc = p.op("sub", [x, bcastBack(p, mu, s, ax)]);
    const v = mean(p, p.op("mul", [xc, xc]), ax);
    return [mu, v, xc];
  });
  named("variance as E[x^2] - E[x]^2 with the mean used twice", [[3, 7], [6, 65]], (p, s) => {
    const x = p.op("add", [p.input(s), 3]);
    const mu = mean(p, x, [1]);
    const ex2 = mean(p, p.op("square", [x]), [1]);
    return [p.op("sub", [ex2, p.op("square", [mu])]), p.op("div", [x, bcastBack(p, mu, s, [1])])];
  });
});

describe("named cases: reductions over every kind of axis", () => {
  const cols = [[7, 5], [1, 4], [100, 3], [3, 100], [65, 66]];
  for (const prim of ["reduce_sum", "reduce_max", "reduce_min"] as Prim[]) {
    named(`column ${prim} (axis 0) of an elementwise producer`, cols, (p, s) => [p.op(prim, [p.op("tanh", [p.input(s)])], { axes: [0] })]);
    named(`full ${prim} to a scalar`, [[1], [6], [3, 4], [2, 3, 5], [64, 65], [5, 7, 33]], (p, s) => [p.op(prim, [p.op("mul", [p.input(s), p.input(s)])], { axes: iota(s.length) })]);
    named(`${prim} over the middle axis of a rank-3 array`, [[2, 3, 4], [3, 1, 5], [2, 70, 3], [4, 65, 66]], (p, s) => [p.op(prim, [p.op("exp", [p.input(s)])], { axes: [1] })]);
    named(`${prim} over axes (0, 2) of a rank-3 array`, [[2, 3, 4], [5, 2, 67]], (p, s) => [p.op(prim, [p.input(s)], { axes: [0, 2] })]);
  }
  named("column mean subtracted back (axis 0 keepdims)", cols, (p, s) => {
    const x = p.input(s);
    return [p.op("sub", [x, bcastBack(p, mean(p, x, [0]), s, [0])])];
  });
  named("normalising by a full sum (scalar broadcast back)", [[5], [3, 4], [2, 3, 4], [70, 80]], (p, s) => {
    const x = p.op("exp", [p.input(s)]);
    const z = p.op("reduce_sum", [x], { axes: iota(s.length) });
    return [p.op("div", [x, bcastBack(p, z, s, iota(s.length))]), z];
  });
  named("middle-axis softmax of a rank-3 array", [[2, 3, 4], [3, 66, 5]], (p, s) => [softmax(p, p.input(s), [1])]);
  named("two reductions of one producer (sum and max of exp), both returned with the producer", [[4, 5], [64, 65]], (p, s) => {
    const e = p.op("exp", [p.input(s)]);
    return [p.op("reduce_sum", [e], { axes: [1] }), p.op("reduce_max", [e], { axes: [0] }), e];
  });
  named("a reduction of a broadcast (sum over a broadcast axis)", [[3, 4], [65, 70]], (p, s) => {
    const v = p.input([s[1]]);
    const b = p.op("broadcast_in_dim", [p.op("sin", [v])], { shape: [...s], broadcast_dimensions: [1] });
    return [p.op("reduce_sum", [p.op("mul", [b, p.input(s)])], { axes: [1] })];
  });
  named("a reduction of a transpose", [[3, 4, 5], [2, 66, 33]], (p, s) => {
    const t = p.op("transpose", [p.op("neg", [p.input(s)])], { permutation: [2, 0, 1] });
    return [p.op("reduce_sum", [t], { axes: [2] }), p.op("reduce_max", [t], { axes: [0, 1] })];
  });
  named("int32 sums, max and min, counted as floats", [[5], [3, 7], [2, 3, 70]], (p, s) => {
    const i = p.input(s, "i32");
    const ax = lastAxis(s);
    const sum = p.op("reduce_sum", [p.op("mul", [i, i])], { axes: ax });
    const mx = p.op("reduce_max", [i], { axes: iota(s.length) });
    const mn = p.op("reduce_min", [p.op("neg", [i])], { axes: [0] });
    const cnt = p.op("reduce_sum", [p.op("convert_element_type", [p.op("gt", [i, p.lit(0, "i32")])], { new_dtype: "f32", weak_type: false })], { axes: ax });
    return [sum, mx, mn, cnt];
  });
});

describe("named cases: matmul and its epilogues", () => {
  const dn = (c: [number[], number[]], b: [number[], number[]] = [[], []]) => ({ dimension_numbers: [c, b], preferred_element_type: null });
  const mlp = (act: "gelu" | "relu" | "tanh"): Case => (p, [M, K, N]) => {
    const x = p.input([M, K]);
    const w = p.input([K, N], "f32", -0.5, 0.5);
    const bias = p.input([N]);
    const mm = p.op("dot_general", [x, w], dn([[1], [0]]));
    const h = p.op("add", [mm, p.op("broadcast_in_dim", [bias], { shape: [M, N], broadcast_dimensions: [1] })]);
    const y = act === "gelu" ? gelu(p, h) : act === "relu" ? p.op("max", [h, 0]) : p.op("tanh", [h]);
    return [y];
  };
  const mnk = [[1, 1, 1], [3, 4, 5], [7, 1, 6], [1, 7, 1], [5, 70, 3], [33, 65, 66], [64, 64, 64]];
  named("matmul + bias + gelu (tanh form)", mnk, mlp("gelu"));
  named("matmul + bias + relu", mnk, mlp("relu"));
  named("matmul + bias + tanh, with the pre-activation also returned", [[3, 4, 5], [40, 33, 65]], (p, [M, K, N]) => {
    const mm = p.op("dot_general", [p.input([M, K]), p.input([K, N])], dn([[1], [0]]));
    const h = p.op("add", [mm, p.op("broadcast_in_dim", [p.input([N])], { shape: [M, N], broadcast_dimensions: [1] })]);
    return [p.op("tanh", [h]), h, mm];
  });
  named("matmul of elementwise producers (prologue)", [[3, 4, 5], [65, 33, 64]], (p, [M, K, N]) => {
    const a = p.op("tanh", [p.input([M, K])]);
    const b = p.op("mul", [p.input([K, N]), 0.5]);
    return [p.op("dot_general", [a, b], dn([[1], [0]]))];
  });
  named("batched matmul + bias + softmax over the last axis (attention shape)", [[2, 3, 4, 5], [1, 1, 1, 1], [3, 33, 16, 65]], (p, [B, M, K, N]) => {
    const q = p.input([B, M, K]);
    const k = p.input([B, N, K]);
    const s = p.op("mul", [p.op("dot_general", [q, k], dn([[2], [2]], [[0], [0]])), 1 / Math.sqrt(K)]);
    return [softmax(p, s, [2])];
  });
  named("batched matmul [B,M,K] x [B,K,N]", [[2, 3, 4, 5], [4, 1, 7, 1], [2, 65, 33, 64]], (p, [B, M, K, N]) =>
    [p.op("dot_general", [p.input([B, M, K]), p.input([B, K, N])], dn([[2], [1]], [[0], [0]]))]);
  named("transposed operands: x^T w and x w^T", [[3, 4, 5], [66, 65, 7]], (p, [M, K, N]) => {
    const xt = p.input([K, M]);
    const w = p.input([K, N]);
    const wt = p.input([N, K]);
    const x = p.input([M, K]);
    return [p.op("dot_general", [xt, w], dn([[0], [0]])), p.op("dot_general", [x, wt], dn([[1], [1]]))];
  });
  named("matrix-vector and vector-vector", [[3, 4], [1, 7], [65, 130]], (p, [M, K]) => {
    const a = p.input([M, K]);
    const v = p.input([K]);
    const mv = p.op("dot_general", [a, v], dn([[1], [0]]));
    const vv = p.op("dot_general", [v, v], dn([[0], [0]]));
    return [mv, vv];
  });
  named("two-layer MLP with a layernorm between", [[4, 5, 6, 3], [33, 64, 65, 10]], (p, [M, K, H, N]) => {
    const x = p.input([M, K]);
    const h = p.op("max", [p.op("dot_general", [x, p.input([K, H], "f32", -0.5, 0.5)], dn([[1], [0]])), 0]);
    const [n] = layerNorm(p, h, [1], false);
    return [p.op("dot_general", [n, p.input([H, N], "f32", -0.5, 0.5)], dn([[1], [0]]))];
  });
  named("int32 matmul", [[3, 4, 5], [17, 66, 3]], (p, [M, K, N]) =>
    [p.op("dot_general", [p.input([M, K], "i32"), p.input([K, N], "i32")], dn([[1], [0]]))]);
});

describe("named cases: elementwise fusion shapes", () => {
  named("a diamond: one value used by two branches that meet again", [[5], [3, 4], [2, 3, 65]], (p, s) => {
    const x = p.input(s);
    const t = p.op("tanh", [x]);
    const a = p.op("exp", [t]);
    const b = p.op("mul", [t, t]);
    return [p.op("sub", [a, b]), t];
  });
  named("select_n on a comparison, with a scalar and a size-1-dims operand", [[3, 4], [65, 1], [2, 3, 70]], (p, s) => {
    const x = p.input(s);
    const y = p.input(s.map((d, i) => (i === 0 ? 1 : d)));
    const pred = p.op("lt", [x, y]);
    return [p.op("select_n", [pred, p.op("div", [x, p.op("add", [p.op("abs", [y]), 0.5])]), p.op("log", [p.op("add", [p.op("mul", [x, x]), 1])])]), pred];
  });
  named("a value broadcast into a bigger loop and also returned", [[4], [3, 5], [70]], (p, s) => {
    const v = p.op("sqrt", [p.op("add", [p.op("abs", [p.input(s)]), 1])]);
    const big = p.op("broadcast_in_dim", [v], { shape: [3, ...s], broadcast_dimensions: iota(s.length).map((d) => d + 1) });
    return [p.op("mul", [big, p.input([3, ...s])]), v];
  });
  named("reshape and transpose between elementwise ops", [[2, 3, 4], [4, 33, 5]], (p, s) => {
    const x = p.op("exp", [p.input(s)]);
    const r = p.op("reshape", [x], { new_sizes: [s[0] * s[1], s[2]], dimensions: null });
    const t = p.op("transpose", [r], { permutation: [1, 0] });
    return [p.op("max", [t, 1.5]), p.op("min", [r, 1.5])];
  });
});

describe("named cases: edge cases of buffers, views and outputs", () => {
  const dn = (c: [number[], number[]], b: [number[], number[]] = [[], []]) => ({ dimension_numbers: [c, b], preferred_element_type: null });
  named("the same value returned twice, and an input returned", [[3], [2, 5]], (p, s) => {
    const x = p.input(s);
    const y = p.op("exp", [x]);
    return [y, y, x];
  });
  named("a reshape (view) of an input returned next to the input and a softmax of the view", [[2, 6], [4, 33]], (p, s) => {
    const x = p.input(s);
    const v = p.op("reshape", [x], { new_sizes: [s[0] * s[1]], dimensions: null });
    return [v, x, softmax(p, v, [0])];
  });
  named("reductions over no axes (identity), and of size-1 axes", [[3, 1, 4], [1, 1]], (p, s) => {
    const x = p.op("tanh", [p.input(s)]);
    const none = p.op("reduce_sum", [x], { axes: [] });
    const ones = p.op("reduce_max", [x], { axes: iota(s.length).filter((d) => s[d] === 1) });
    return [p.op("mul", [none, 2]), ones];
  });
  named("row reductions with their max, exp and sum all returned (outputs of several shapes)", [[3, 4], [5, 1], [17, 65]], (p, s) => {
    const x = p.input(s);
    const m = p.op("reduce_max", [x], { axes: [1] });
    const e = p.op("exp", [p.op("sub", [x, bcastBack(p, m, s, [1])])]);
    const z = p.op("reduce_sum", [e], { axes: [1] });
    const lz = p.op("log", [z]);
    return [m, e, z, p.op("add", [lz, m])];
  });
  named("a broadcast of size-1 dims inside a row kernel ([M,1] stretched to [M,N])", [[4, 5], [33, 66]], (p, [M, N]) => {
    const col = p.input([M, 1]);
    const x = p.input([M, N]);
    const c = p.op("broadcast_in_dim", [col], { shape: [M, N], broadcast_dimensions: [0, 1] });
    const y = p.op("mul", [x, c]);
    const s = p.op("reduce_sum", [y], { axes: [1] });
    return [p.op("sub", [y, bcastBack(p, s, [M, N], [1])])];
  });
  named("scalars: a full reduction broadcast into a bigger shape, rank-0 inputs", [[4], [3, 5], [2, 3, 4]], (p, s) => {
    const x = p.input(s);
    const t = p.input([]);
    const z = p.op("reduce_sum", [p.op("mul", [x, x])], { axes: iota(s.length) });
    const k = p.op("div", [t, p.op("add", [z, 1])]);
    return [p.op("mul", [x, p.op("broadcast_in_dim", [k], { shape: [...s], broadcast_dimensions: [] })]), k];
  });
  named("x @ x^T with x added back and a diagonal-free epilogue (square)", [[3, 3], [5, 5], [65, 65]], (p, [M, K]) => {
    const x = p.input([M, K]);
    const g = p.op("dot_general", [x, x], dn([[1], [1]]));
    return [p.op("tanh", [p.op("add", [g, x])])];
  });
  named("matmul with K = 1 and with N = 1, each with an epilogue", [[3, 1, 4], [5, 6, 1], [64, 1, 64]], (p, [M, K, N]) => {
    const mm = p.op("dot_general", [p.input([M, K]), p.input([K, N])], dn([[1], [0]]));
    return [p.op("max", [p.op("add", [mm, p.op("broadcast_in_dim", [p.input([N])], { shape: [M, N], broadcast_dimensions: [1] })]), 0])];
  });
  named("matmul output used by an epilogue and by a reduction (attention-like, scores returned)", [[3, 4, 5], [16, 33, 65]], (p, [M, K, N]) => {
    const sc = p.op("dot_general", [p.input([M, K]), p.input([N, K])], dn([[1], [1]]));
    return [softmax(p, sc, [1]), sc, p.op("reduce_max", [sc], { axes: [0] })];
  });
  named("float -> int32 -> sum -> float", [[4, 5], [3, 70]], (p, s) => {
    const x = p.op("mul", [p.input(s), 3.3]);
    const i = p.op("convert_element_type", [x], { new_dtype: "i32", weak_type: false });
    const n = p.op("reduce_sum", [i], { axes: [1] });
    return [p.op("convert_element_type", [n], { new_dtype: "f32", weak_type: false }), i];
  });
  named("select_n with an int32 predicate and three cases", [[6], [3, 4]], (p, s) => {
    const k = p.input(s, "i32");
    const idx = p.op("max", [p.op("min", [k, p.lit(2, "i32")]), p.lit(0, "i32")]);
    const x = p.input(s);
    return [p.op("select_n", [idx, p.op("exp", [x]), p.op("neg", [x]), x])];
  });
  named("clamp with scalar and array bounds, then a column reduction", [[4, 3], [70, 3]], (p, s) => {
    const x = p.input(s);
    const lo = p.op("mul", [p.op("abs", [p.input(s)]), -1]);
    const c = p.op("clamp", [lo, x, 0.5]);
    return [c, p.op("reduce_min", [c], { axes: [0] })];
  });
});
