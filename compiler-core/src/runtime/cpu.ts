// The CPU backend. Two ways to run a jaxpr:
// - compileEager: the interpreter. One kernel launch per equation, each result written to
//   its own fresh typed array (JAX without jit). Kernels are specialised per primitive,
//   dtype and broadcast pattern and shared through a cache keyed by their source text.
// - compileFused: the fusion plan's kernels, generated as tight JavaScript loops.
// Elementwise groups are loop kernels (codegen/js.ts); every other equation is a kernel of
// its own, generated for its shapes and params (codegen/ops.ts). Float32 matmuls (with their
// epilogues), elementwise loops and row kernels the WASM SIMD path covers run as generated
// WebAssembly instead (codegen/wasm: same call signature, KernelInfo.language "wasm"; loop and
// row kernels under WASM_MIN_LOOP_ELEMENTS stay JS; JITLENS_WASM=0 turns the path off). A compiled reshape or
// squeeze is a view: its output shares the input's buffer and no kernel runs (XLA's
// bitcast); eager mode copies, as each eager op returns a fresh array.
// Both return an Executable whose `kernels` describe what runs, for the Report.
//
// Control flow runs as host-driven loops over executables compiled once for each sub-jaxpr
// (eager: the body walked one primitive at a time; compiled: the body's fused kernels):
// scan slices a row of each xs per step (a zero-copy view) and copies each step's ys into the
// stacked outputs, while evaluates its condition before every trip, cond runs the branch the
// index picks (out of range: the last, as XLA). Nested jit calls run as their own executable in
// eager mode and are inlined before fusion in compiled mode. The kernel list shows the host
// loop (kind loop/cond/call, no launch) followed by its sub-jaxprs' kernels, whose names carry
// the path (`kernel_3.body.kernel_0`), whose eqns point at the control equation, and whose
// bytes and flops are per call (a scan body's, times its length; a while body's and a cond
// branch's, for one run, as their counts depend on the data). `launches` counts the kernels the
// latest run launched (a scan of 12 steps launches its body's kernels 12 times); before any run,
// its estimate counts every scan step, the largest cond branch and one while trip.
import type { KernelInfo, Span, BufferInfo } from "../report";
import type { ArrayValue, Atom, Eqn, Jaxpr, Literal, Var } from "../ir/types";
import { itemBytes, newBuffer, size, typeString } from "../ir/types";
import { generateLoopKernel, isIndexLoopOp, literalValue, type JsCodegenOptions } from "../codegen/js";
import { generateOpKernel } from "../codegen/ops";
import { generateDotEpilogue, generateRowKernel } from "../codegen/row";
import { wasmDotKernel, wasmEnabled, wasmKernelFn, wasmLoopKernel, wasmRowKernel, WasmUnsupported, type WasmKernel } from "../codegen/wasm/index";
import { inlineCalls, isDataMovement, isLoopOp, kernelKind, planEager, planFusion, type FusionOptions, type FusionPlan, type KernelPlan } from "../fusion/fuse";
import { isHigherOrder, type Params } from "../ir/primitives";
import { printedNames, varName } from "../ir/print";
import { JitError } from "../frontend/source";

export interface Executable {
  /** Run on the values of jaxpr.invars (consts come from jaxpr.consts); returns the outvars' values. */
  run(inputs: ArrayValue[]): ArrayValue[];
  /**
   * `run` for a caller that drops each call's outputs before the next call (a timing loop, a
   * training step): the previous call's output buffers are reused, so the outputs returned are
   * only valid until the next call.
   */
  runRecycling(inputs: ArrayValue[]): ArrayValue[];
  /** What runs, in order, one entry per kernel (views included: they launch nothing). */
  kernels: KernelInfo[];
  /** Kernel launches per call (kernels that are not views). */
  launches: number;
  /**
   * Runs `runs` times timing each kernel (a control-flow kernel: its whole host loop), and
   * returns the median ms per entry of `kernels` (undefined for entries not timed apart: views,
   * and the kernels of a host loop's bodies).
   */
  profile(inputs: ArrayValue[], runs: number): (number | undefined)[];
}

export interface CompileOptions extends JsCodegenOptions, FusionOptions {
  /** Use the WebAssembly SIMD kernels where they apply (default: on unless JITLENS_WASM=0). */
  wasm?: boolean;
  /** The fusion planner (default planFusion); tests replace it. */
  planner?: (jaxpr: Jaxpr, options: FusionOptions) => FusionPlan;
  /** Names of vars in kernel sources and buffer infos (default: jaxprVarNames). */
  names?: (v: Var) => string;
}

type Data = ArrayValue["data"];
type KernelFn = (...buffers: Data[]) => void;

/** Compiled kernel functions, keyed by their code. */
const kernelCache = new Map<string, KernelFn>();

/** Number of distinct kernel functions compiled so far (for tests of the cache). */
export function kernelCacheSize(): number {
  return kernelCache.size;
}

function compileJs(code: string, fnName: string): KernelFn {
  let fn = kernelCache.get(code);
  if (!fn) {
    fn = new Function(`"use strict";\n${code}\nreturn ${fnName};`)() as KernelFn;
    kernelCache.set(code, fn);
  }
  return fn;
}

/**
 * Loop kernels smaller than this stay JavaScript: there the WASM call and the staging copies
 * cost about what the loop does for cheap ops (docs/NOTES.md, "JS vs WASM"). Eager and
 * compiled still agree bit for bit across the boundary (the JS kernels use the WASM path's
 * float32 exp/log/tanh, codegen/wasm/mathjs.ts). Matmuls always take the WASM path (it won at
 * every size measured, from 4x4x4).
 */
const WASM_MIN_LOOP_ELEMENTS = 1024;

/** Ops costly enough per element that a WASM row kernel pays for copying its input in. */
const WASM_HEAVY = new Set(["exp", "log", "tanh", "logistic", "sin", "cos", "tan", "erf", "log1p", "expm1", "pow", "exp2", "atan2", "sqrt", "rsqrt", "cbrt", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh"]);
/**
 * Row kernels of cheap ops over inputs past 32 MiB stay JS unless every reduction in them is a
 * sum: the JS loop reads the input in place, and a WASM max/min/prod (lane by lane, in element
 * order) is no faster than it, so the staging copy of an input that does not fit in cache
 * decides (measured: sum(x*x) over 16M elements 0.82x when the WASM sum was lane by lane). WASM
 * sums run in four float64 lanes, which outruns the JS loop's latency-bound running sum by more
 * than the copy costs (sum(x*x) over 16M elements: 1.4x the peer's jit, was 0.76x in JS).
 */
function wasmRowWins(eqns: Eqn[], inputs: Var[]): boolean {
  if (eqns.some((e) => WASM_HEAVY.has(e.prim))) return true;
  if (eqns.every((e) => !e.prim.startsWith("reduce_") || e.prim === "reduce_sum")) return true;
  return inputs.reduce((t, v) => t + size(v.aval.shape) * itemBytes[v.aval.dtype], 0) <= 32 * 1024 * 1024;
}

function useWasm(options: CompileOptions): boolean {
  return options.wasm ?? wasmEnabled();
}

/** JAX's variable names: a..z, ba, bb, ... (the printer's scheme; kept as an export for tests). */
export const alphaName = varName;

/** The printed jaxpr's names (inner jaxprs included), made unique; unnamed (unused) results get `_a`, `_b`, ... */
export function jaxprVarNames(jaxpr: Jaxpr): (v: Var) => string {
  const names = new Map<number, string>();
  const taken = new Set<string>();
  for (const [id, n] of printedNames(jaxpr)) {
    let m = n;
    for (let k = 1; taken.has(m); k++) m = `${n}_${k}`; // a jit's binders share its caller's names
    taken.add(m);
    names.set(id, m);
  }
  let extra = 0;
  return (v) => {
    let n = names.get(v.id);
    if (n === undefined) {
      do n = `_${varName(extra++)}`; while (taken.has(n));
      taken.add(n);
      names.set(v.id, n);
    }
    return n;
  };
}

/** Memory a call must move at least: each input and const read once, each output written once. */
export function minimumBytes(jaxpr: Jaxpr): number {
  const seen = new Set<number>();
  let total = 0;
  const count = (a: Atom) => {
    if (a.kind === "var") {
      if (seen.has(a.id)) return;
      seen.add(a.id);
    }
    total += size(a.aval.shape) * itemBytes[a.aval.dtype];
  };
  jaxpr.constvars.forEach(count);
  jaxpr.invars.forEach(count);
  seen.clear();
  jaxpr.outvars.forEach(count);
  return total;
}

/** The interpreter: one kernel per equation, every intermediate materialised. */
export function compileEager(jaxpr: Jaxpr, options: CompileOptions = {}): Executable {
  return compile(jaxpr, "eager", options, {});
}

/** Compiled: the fusion plan's kernels (nested jit calls inlined first). */
export function compileFused(jaxpr: Jaxpr, options: CompileOptions = {}): Executable {
  return compile(jaxpr, "fused", options, {});
}

/** Where a (sub-)executable sits in what is reported. */
interface Context {
  /** The reported equation index of this jaxpr's equation i (a sub-jaxpr reports its control equation). */
  eqnIndex?: (i: number) => number;
  /** Prefix of kernel names, e.g. `kernel_3.body.`. */
  prefix?: string;
  /** Said first in each kernel's reason. */
  note?: string;
  /** Runs per call of the top-level executable: bytes and flops are multiplied by it. */
  times?: number;
}

/** An executable whose `exec` skips the input checks (for sub-executables run in loops). */
interface Built extends Executable {
  exec(inputs: ArrayValue[]): ArrayValue[];
}

function compile(jaxpr: Jaxpr, mode: "eager" | "fused", options: CompileOptions, ctx: Context): Built {
  const names = options.names ?? jaxprVarNames(jaxpr);
  const opts = { ...options, names };
  if (mode === "eager") return build(jaxpr, planEager(jaxpr), mode, opts, ctx);
  const { jaxpr: flat, origin } = inlineCalls(jaxpr);
  const outer = ctx.eqnIndex;
  const eqnIndex = (i: number) => (outer ? outer(origin[i]) : origin[i]);
  const plan = (options.planner ?? planFusion)(flat, options);
  try {
    return build(flat, plan, mode, opts, { ...ctx, eqnIndex });
  } catch (e) {
    if (e instanceof JitError || !(e instanceof Error)) throw e;
    // A fused kernel the code generators cannot compile (a planner bug) must not cost the
    // user the run: compile one kernel per equation instead, and say why in every reason.
    const unfused = planEager(flat);
    for (const k of unfused.kernels) k.reason = `not fused: the fused plan failed to compile (${e.message}); one kernel per equation`;
    return build(flat, unfused, mode, opts, { ...ctx, eqnIndex });
  }
}

// Eager kernels name their operands by position so one kernel serves every equation
// with the same primitive, dtypes and broadcast pattern.
const POSITIONAL = ["x", "y", "z", "w", "u", "v", "s", "t"];
const positionalName = (k: number): string => POSITIONAL[k] ?? `x${varName(k)}`;

/** A control-flow equation run by the host over sub-executables. */
interface Host {
  run(inputs: ArrayValue[]): ArrayValue[];
  /** Kernel launches in the latest run (an estimate before the first). */
  launches(): number;
}

interface Step {
  /** A kernel function, or null for a view (the output takes the input's buffer) or a host step. */
  fn: KernelFn | null;
  host?: Host;
  /** A host step's operands in order: a slot, or a literal's filled array. */
  operands?: ({ slot: number } | { value: ArrayValue })[];
  /** A host step: for each of outSlots, the index of the equation output it receives. */
  outIndex?: number[];
  inSlots: number[];
  outSlots: number[];
  outVars: Var[];
  /** Slots holding intermediates whose last use is this step. */
  free: number[];
  /** Index of this step's entry in the executable's `kernels`. */
  info?: number;
}

function build(jaxpr: Jaxpr, plan: FusionPlan, mode: "eager" | "fused", options: CompileOptions, ctx: Context = {}): Built {
  const names = options.names ?? jaxprVarNames(jaxpr);
  const reported = (i: number) => (ctx.eqnIndex ? ctx.eqnIndex(i) : i);
  const report = (info: KernelInfo): KernelInfo => {
    const times = ctx.times ?? 1;
    return {
      ...info,
      eqns: [...new Set(info.eqns.map(reported))],
      bytesRead: info.bytesRead * times,
      bytesWritten: info.bytesWritten * times,
      flops: info.flops * times,
      reason: ctx.note ? `${ctx.note}; ${info.reason}` : info.reason,
    };
  };
  const slotOf = new Map<number, number>();
  const slot = (v: Var): number => {
    let s = slotOf.get(v.id);
    if (s === undefined) { s = slotOf.size; slotOf.set(v.id, s); }
    return s;
  };
  jaxpr.constvars.forEach(slot);
  jaxpr.invars.forEach(slot);
  const boundary = slotOf.size;

  const kernels: KernelInfo[] = [];
  const steps: Step[] = plan.kernels.map((k, idx) => {
    const eqns = k.eqns.map((i) => jaxpr.eqns[i]);
    const first = eqns[0];
    const kernelName = mode === "eager" ? `eager_${k.eqns[0]}_${first.prim}` : `kernel_${idx}`;
    const shownName = `${ctx.prefix ?? ""}${kernelName}`; // the JS function keeps kernelName
    if (isHigherOrder(first.prim)) {
      const h = hostStep(first, k.eqns[0], shownName, mode, options, names, ctx, reported(k.eqns[0]));
      const info = kernels.length;
      kernels.push(report(h.info), ...h.subKernels);
      return {
        fn: null, host: h.host, info,
        operands: first.inputs.map((a) => (a.kind === "lit" ? { value: filled(a) } : { slot: slot(a) })),
        outIndex: k.outputs.map((o) => first.outputs.indexOf(o)),
        inSlots: k.inputs.map(slot), outSlots: k.outputs.map(slot), outVars: k.outputs, free: [],
      };
    }
    let fnName: string;
    let nameOf: (v: Var) => string;
    if (mode === "eager") {
      const pos = new Map<number, string>(k.inputs.map((v, j) => [v.id, positionalName(j)]));
      k.outputs.forEach((v, j) => pos.set(v.id, k.outputs.length === 1 ? "r" : `r${varName(j)}`));
      fnName = first.prim.replace(/-/g, "_");
      nameOf = (v) => pos.get(v.id) ?? "r";
    } else {
      fnName = kernelName;
      nameOf = names;
    }
    if (k.view) {
      const source = `${header(shownName, k, eqns, names)}\n// ${names(k.outputs[0])} = ${names(k.inputs[0])}'s buffer, read as ${typeString(k.outputs[0].aval)}\n`;
      kernels.push(report(kernelInfo(shownName, k, eqns, names, source)));
      return { fn: null, inSlots: k.inputs.map(slot), outSlots: k.outputs.map(slot), outVars: k.outputs, free: [] };
    }
    // The WASM SIMD path (codegen/wasm) for the f32 matmuls, elementwise loops and row kernels it covers; the rest is JS.
    let wasm: WasmKernel | undefined;
    let wasmSkip: string | undefined;
    if (useWasm(options)) {
      try {
        if (k.row) {
          if (size(k.row.shape) >= WASM_MIN_LOOP_ELEMENTS && wasmRowWins(eqns, k.inputs)) wasm = wasmRowKernel({ fnName, eqns, inputs: k.inputs, outputs: k.outputs, space: k.row });
        } else if (k.dot !== undefined) {
          const dot = jaxpr.eqns[k.dot];
          wasm = wasmDotKernel({ fnName, dot, epilogue: eqns.filter((x) => x !== dot), inputs: k.inputs, outputs: k.outputs });
        } else if (first.prim === "dot_general" && eqns.length === 1) {
          wasm = wasmDotKernel({ fnName, dot: first, epilogue: [], inputs: k.inputs, outputs: k.outputs });
        } else if (isLoopOp(first) && !(eqns.length === 1 && isIndexLoopOp(first)) && size(k.loopShape) >= WASM_MIN_LOOP_ELEMENTS) {
          wasm = wasmLoopKernel({ fnName, eqns, inputs: k.inputs, outputs: k.outputs, loopShape: k.loopShape });
        }
      } catch (err) {
        if (!(err instanceof WasmUnsupported)) throw err;
        wasmSkip = err.message;
      }
    }
    if (wasm) {
      const info = kernels.length;
      const source = `${header(shownName, k, eqns, names).replace(/^\/\//gm, ";;")}\n${wasm.text}\n`;
      kernels.push(report({ ...kernelInfo(shownName, k, eqns, names, source), language: "wasm" }));
      return { fn: wasmKernelFn(wasm) as KernelFn, info, inSlots: k.inputs.map(slot), outSlots: k.outputs.map(slot), outVars: k.outputs, free: [] };
    }
    let gen: { fnName: string; code: string };
    if (k.row) {
      gen = generateRowKernel({ fnName, eqns, inputs: k.inputs, outputs: k.outputs, space: k.row, name: nameOf }, options);
    } else if (k.dot !== undefined) {
      const dot = jaxpr.eqns[k.dot];
      const d = dot.outputs[0];
      const shape = d.aval.shape;
      const epilogue = generateDotEpilogue({
        fnName, eqns: eqns.filter((x) => x !== dot), inputs: k.inputs, outputs: k.outputs, name: nameOf,
        space: { shape, axes: [shape.length - 1] }, external: d,
      }, options);
      gen = generateOpKernel({ fnName, eqn: dot, inputs: k.inputs, outputs: k.outputs, name: nameOf, epilogue }, options);
    } else if (isLoopOp(first) && !(eqns.length === 1 && isIndexLoopOp(first))) {
      gen = generateLoopKernel({ fnName, eqns, inputs: k.inputs, outputs: k.outputs, loopShape: k.loopShape, name: nameOf }, options);
    } else {
      gen = generateOpKernel({ fnName, eqn: first, inputs: k.inputs, outputs: k.outputs, name: nameOf }, options);
    }
    const source = `${header(shownName, k, eqns, names)}${wasmSkip ? `\n// (JavaScript: the WASM path does not cover ${wasmSkip})` : ""}\n${gen.code}\n`;
    const info = kernels.length;
    kernels.push(report(kernelInfo(shownName, k, eqns, names, source)));
    return {
      fn: compileJs(gen.code, gen.fnName),
      info,
      inSlots: k.inputs.map(slot),
      outSlots: k.outputs.map(slot),
      outVars: k.outputs,
      free: [],
    };
  });

  // Drop intermediates after their last use so big runs do not hold every buffer.
  const outSet = new Set<number>();
  for (const o of jaxpr.outvars) if (o.kind === "var") outSet.add(o.id);
  const lastUse = new Map<number, number>();
  steps.forEach((st, k) => st.inSlots.forEach((s) => lastUse.set(s, k)));
  for (const [id, s] of slotOf) {
    if (s < boundary || outSet.has(id)) continue;
    const k = lastUse.get(s);
    if (k !== undefined) steps[k].free.push(s);
  }

  const outputs = jaxpr.outvars.map((o): { slot: number } | { lit: Literal } => {
    if (o.kind === "lit") return { lit: o };
    const s = slotOf.get(o.id);
    if (s === undefined) throw new Error(`output ${names(o)} is not computed by any kernel`);
    return { slot: s };
  });
  const nSlots = slotOf.size;

  // Buffer reuse: an intermediate's buffer goes back to this executable's pool after its last
  // use (unless a view still reads it) and the next kernel that needs the same dtype and size
  // takes it, within a call and across calls, as XLA's buffer assignment and JAX's allocator
  // reuse memory. Function outputs belong to the caller and are fresh arrays, except in
  // `runRecycling`, where the previous call's outputs are taken back first.
  const pool = new Map<string, Data[]>();
  const outputSlots = new Set<number>();
  for (const o of jaxpr.outvars) if (o.kind === "var" && slotOf.has(o.id)) outputSlots.add(slotOf.get(o.id)!);
  const poolKey = (dt: string, n: number) => `${dt}:${n}`;
  const take = (v: Var): Data => {
    const n = size(v.aval.shape);
    return pool.get(poolKey(v.aval.dtype, n))?.pop() ?? newBuffer(v.aval.dtype, n);
  };
  const give = (dt: string, d: Data): void => {
    const k = poolKey(dt, d.length);
    let list = pool.get(k);
    if (!list) pool.set(k, (list = []));
    if (list.length < 8) list.push(d);
  };
  let lent: { dt: string; data: Data }[] = [];

  const exec = (inputs: ArrayValue[], times?: number[], recycle = false): ArrayValue[] => {
    const env = new Array<ArrayValue | undefined>(nSlots);
    // Buffers taken from the pool in this call, and how many slots hold each.
    const holders = new Map<Data, number>();
    const hold = (s: number, value: ArrayValue) => {
      env[s] = value;
      const n = holders.get(value.data);
      if (n !== undefined) holders.set(value.data, n + 1);
    };
    const drop = (s: number) => {
      const v = env[s];
      env[s] = undefined;
      if (!v) return;
      const n = holders.get(v.data);
      if (n === undefined) return;
      if (n > 1) { holders.set(v.data, n - 1); return; }
      holders.delete(v.data);
      give(v.aval.dtype, v.data);
    };
    if (recycle) {
      for (const b of lent) give(b.dt, b.data);
      lent = [];
    }
    jaxpr.constvars.forEach((v, i) => { env[slotOf.get(v.id)!] = jaxpr.consts[i]; });
    jaxpr.invars.forEach((v, i) => { env[slotOf.get(v.id)!] = inputs[i]; });
    for (const st of steps) {
      const t0 = times ? performance.now() : 0;
      if (st.host) {
        const outs = st.host.run(st.operands!.map((o) => ("slot" in o ? env[o.slot]! : o.value)));
        if (times) times[st.info!] += performance.now() - t0;
        st.outIndex!.forEach((oi, j) => hold(st.outSlots[j], outs[oi]));
        for (const s of st.free) drop(s);
        continue;
      }
      if (!st.fn) {
        hold(st.outSlots[0], { aval: st.outVars[0].aval, data: env[st.inSlots[0]]!.data });
        for (const s of st.free) drop(s);
        continue;
      }
      const args: Data[] = [];
      for (const s of st.inSlots) args.push(env[s]!.data);
      for (let j = 0; j < st.outSlots.length; j++) {
        const v = st.outVars[j];
        const slotJ = st.outSlots[j];
        const isOut = outputSlots.has(slotJ);
        let data: Data;
        if (!isOut || recycle) {
          data = take(v);
          if (isOut) lent.push({ dt: v.aval.dtype, data });
          else holders.set(data, 0);
        } else data = newBuffer(v.aval.dtype, size(v.aval.shape));
        hold(slotJ, { aval: v.aval, data });
        args.push(data);
      }
      st.fn(...args);
      if (times) times[st.info!] += performance.now() - t0;
      for (const s of st.free) drop(s);
    }
    return outputs.map((o) => ("lit" in o ? filled(o.lit) : env[o.slot]!));
  };
  const run = (inputs: ArrayValue[]): ArrayValue[] => {
    checkInputs(jaxpr, inputs, names);
    return exec(inputs);
  };
  const runRecycling = (inputs: ArrayValue[]): ArrayValue[] => {
    checkInputs(jaxpr, inputs, names);
    return exec(inputs, undefined, true);
  };

  const fixed = steps.filter((st) => st.fn !== null).length;
  const hosts = steps.filter((st) => st.host).map((st) => st.host!);
  const profile = (inputs: ArrayValue[], runs: number): (number | undefined)[] => {
    checkInputs(jaxpr, inputs, names);
    const samples: number[][] = kernels.map(() => []);
    for (let r = 0; r < Math.max(1, runs); r++) {
      const times = new Array<number>(kernels.length).fill(0);
      exec(inputs, times);
      for (const st of steps) if (st.info !== undefined) samples[st.info].push(times[st.info]);
    }
    return samples.map((xs) => {
      if (xs.length === 0) return undefined;
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted[sorted.length >> 1];
    });
  };
  return {
    run, runRecycling, exec, kernels, profile,
    get launches() { return hosts.reduce((n, h) => n + h.launches(), fixed); },
  };
}

/** Rows [from, to) of a buffer, without copying. */
function rows(data: ArrayValue["data"], from: number, to: number): ArrayValue["data"] {
  return (data as Float32Array).subarray(from, to) as unknown as ArrayValue["data"];
}

const WHILE_TIME_LIMIT_MS = 60_000;

/** The host side of a control-flow equation: its sub-executables and the loop that drives them. */
function hostStep(
  e: Eqn, at: number, name: string, mode: "eager" | "fused", options: CompileOptions, names: (v: Var) => string,
  ctx: Context, reportedAt: number,
): { host: Host; info: KernelInfo; subKernels: KernelInfo[] } {
  const times = ctx.times ?? 1;
  const local = at;
  at = ctx.prefix ? at : reportedAt; // messages name the top-level equation (after jit inlining: the original one)
  const sub = (j: Jaxpr, part: string, note: string, runs: number): Built =>
    compile(j, mode, { ...options, names }, { eqnIndex: () => reportedAt, prefix: `${name}.${part}`, note, times: times * runs });
  const subKernels: Built[] = [];
  let host: Host;
  let source: string;
  let reason: string;
  let copied = 0;
  const sig = (xs: readonly Atom[]) => xs.map((a) => (a.kind === "var" ? `${names(a)}:${typeString(a.aval)}` : `${literalValue(a)}:${typeString(a.aval)}`)).join(", ");
  switch (e.prim) {
    case "scan": {
      const p = e.params as Params["scan"];
      const n = p.length, nc = p.num_consts, nk = p.num_carry;
      const body = sub(p.jaxpr, "body.", `scan body (eqn ${at}): runs ${n} times per call, driven by the host; bytes and flops count all ${n} runs`, n);
      subKernels.push(body);
      const yAvals = p.jaxpr.outvars.slice(nk).map((o) => o.aval);
      const yRow = yAvals.map((a) => size(a.shape));
      copied = yAvals.reduce((t, a) => t + n * size(a.shape) * itemBytes[a.dtype], 0);
      let last: number | undefined;
      host = {
        run(ops) {
          const consts = ops.slice(0, nc), xs = ops.slice(nc + nk);
          let carry = ops.slice(nc, nc + nk);
          const xAvals = xs.map((x) => ({ ...x.aval, shape: x.aval.shape.slice(1) }));
          const xRow = xAvals.map((a) => size(a.shape));
          const ys = yAvals.map((a) => ({ aval: { ...a, shape: [n, ...a.shape] }, data: newBuffer(a.dtype, n * size(a.shape)) }));
          let launches = 0;
          for (let t = 0; t < n; t++) {
            const i = p.reverse ? n - 1 - t : t;
            const x = xs.map((v, k) => ({ aval: xAvals[k], data: rows(v.data, i * xRow[k], (i + 1) * xRow[k]) }));
            const outs = body.exec([...consts, ...carry, ...x]);
            launches += body.launches;
            carry = outs.slice(0, nk);
            ys.forEach((y, k) => (y.data as Float32Array).set(outs[nk + k].data as Float32Array, i * yRow[k]));
          }
          last = launches;
          return [...carry, ...ys];
        },
        launches: () => last ?? n * body.launches,
      };
      const opsIn = e.inputs;
      source = [
        `// ${name}: scan, a loop of ${n} steps driven by the host${p.reverse ? " (in reverse)" : ""}; eqn ${at}`,
        `// consts: ${sig(opsIn.slice(0, nc)) || "none"}`,
        `// carry:  ${sig(opsIn.slice(nc, nc + nk)) || "none"}`,
        `// xs:     ${sig(opsIn.slice(nc + nk)) || "none"} (one row per step, a view)`,
        `// ys:     ${sig(e.outputs.slice(nk)) || "none"} (each step's row copied in)`,
        `for (let t = 0; t < ${n}; t++) {`,
        `  const i = ${p.reverse ? `${n - 1} - t` : "t"};`,
        `  [carry, y] = body(consts, carry, xs[i]);   // the kernels ${name}.body.*`,
        `  ys[i] = y;`,
        `}`,
      ].join("\n") + "\n";
      reason = `scan: the host loops ${n} times over its body's kernels (listed next), passing the carry between steps`;
      break;
    }
    case "while": {
      const p = e.params as Params["while"];
      const ncc = p.cond_nconsts, nbc = p.body_nconsts;
      const cond = sub(p.cond_jaxpr, "cond.", `while condition (eqn ${at}): runs before every trip, a data-dependent number of times per call; bytes and flops count one run`, 1);
      const body = sub(p.body_jaxpr, "body.", `while body (eqn ${at}): runs once per trip, a data-dependent number of times per call; bytes and flops count one trip`, 1);
      subKernels.push(cond, body);
      let last: number | undefined;
      host = {
        run(ops) {
          const cc = ops.slice(0, ncc), bc = ops.slice(ncc, ncc + nbc);
          let carry = ops.slice(ncc + nbc);
          let launches = 0, trips = 0;
          const t0 = Date.now();
          for (;;) {
            const pred = cond.exec([...cc, ...carry])[0];
            launches += cond.launches;
            if (!pred.data[0]) break;
            carry = body.exec([...bc, ...carry]);
            launches += body.launches;
            if ((++trips & 1023) === 0 && Date.now() - t0 > WHILE_TIME_LIMIT_MS) {
              throw new JitError("RuntimeError", `a while_loop (eqn ${at}) ran ${trips} trips in ${WHILE_TIME_LIMIT_MS / 1000} s and was stopped; does its condition ever become False?`, e.span);
            }
          }
          last = launches;
          return carry;
        },
        launches: () => last ?? 2 * cond.launches + body.launches,
      };
      source = [
        `// ${name}: while, a loop driven by the host; eqn ${at}`,
        `// cond consts: ${sig(e.inputs.slice(0, ncc)) || "none"}; body consts: ${sig(e.inputs.slice(ncc, ncc + nbc)) || "none"}`,
        `// carry: ${sig(e.inputs.slice(ncc + nbc)) || "none"}`,
        `while (cond(cond_consts, carry)[0]) {   // the kernels ${name}.cond.*`,
        `  carry = body(body_consts, carry);      // the kernels ${name}.body.*`,
        `}`,
      ].join("\n") + "\n";
      reason = "while: the host evaluates the condition's kernels, then runs the body's kernels, until the condition is False";
      break;
    }
    case "cond": {
      const p = e.params as Params["cond"];
      const nb = p.branches.length;
      const branches = p.branches.map((j, k) => sub(j, `branch${k}.`, `cond branch ${k} (eqn ${at}): runs when the index is ${k}${k === nb - 1 ? " (or out of range)" : ""}; bytes and flops count one run`, 1));
      subKernels.push(...branches);
      let last: number | undefined;
      host = {
        run(ops) {
          let i = ops[0].data[0];
          if (!(i >= 0 && i < nb)) i = nb - 1;
          const br = branches[i];
          const outs = br.exec(ops.slice(1));
          last = br.launches;
          return outs;
        },
        launches: () => last ?? Math.max(...branches.map((b) => b.launches)),
      };
      source = [
        `// ${name}: cond, the host picks a branch by the index ${sig(e.inputs.slice(0, 1))}; eqn ${at}`,
        `// operands: ${sig(e.inputs.slice(1)) || "none"}`,
        ...p.branches.map((_, k) => `// index ${k}${k === nb - 1 ? " (or out of range)" : ""}: the kernels ${name}.branch${k}.*`),
      ].join("\n") + "\n";
      reason = `cond: the host reads the index and runs one of ${nb} branches' kernels (listed next)`;
      break;
    }
    case "jit": {
      const p = e.params as Params["jit"];
      const inner = sub(p.jaxpr, "", `jit call of ${p.name} (eqn ${at}): its own executable`, 1);
      subKernels.push(inner);
      host = { run: (ops) => inner.exec(ops), launches: () => inner.launches };
      source = `// ${name}: a call of the jitted function ${p.name}; eqn ${at}\n// operands: ${sig(e.inputs)}\n`;
      reason = `jit call of ${p.name}: runs its own executable (its kernels are listed next)`;
      break;
    }
    default:
      throw new Error(`not a control-flow primitive: ${e.prim}`);
  }
  const buf = (v: Atom): BufferInfo => ({ name: v.kind === "var" ? names(v) : literalText(v), type: typeString(v.aval), bytes: size(v.aval.shape) * itemBytes[v.aval.dtype] });
  const info: KernelInfo = {
    name,
    kind: kernelKind(e.prim),
    eqns: [local],
    ops: 1,
    inputs: e.inputs.map(buf),
    outputs: e.outputs.map(buf),
    bytesRead: copied,
    bytesWritten: copied,
    flops: 0,
    language: "javascript",
    source,
    spans: [e.span],
    reason,
  };
  return { host, info, subKernels: subKernels.flatMap((b) => b.kernels) };
}

function literalText(a: Literal): string {
  return `${literalValue(a)}:${typeString(a.aval)}`;
}

function filled(lit: Literal): ArrayValue {
  const data = newBuffer(lit.aval.dtype, size(lit.aval.shape));
  data.fill(literalValue(lit));
  return { aval: lit.aval, data };
}

const dataKind: Record<ArrayValue["aval"]["dtype"], new (n: number) => Data> = {
  f32: Float32Array, f64: Float64Array, i32: Int32Array, bool: Uint8Array,
};

function checkInputs(jaxpr: Jaxpr, inputs: ArrayValue[], names: (v: Var) => string): void {
  if (inputs.length !== jaxpr.invars.length) {
    throw new Error(`expected ${jaxpr.invars.length} input arrays, got ${inputs.length}`);
  }
  jaxpr.invars.forEach((v, i) => {
    const a = inputs[i];
    const want = typeString(v.aval), got = typeString(a.aval);
    if (want !== got) throw new Error(`input ${i} (${names(v)}): expected ${want}, got ${got}`);
    if (!(a.data instanceof dataKind[v.aval.dtype]) || a.data.length !== size(v.aval.shape)) {
      throw new Error(`input ${i} (${names(v)}): its data is not a ${dataKind[v.aval.dtype].name} of ${size(v.aval.shape)} elements`);
    }
  });
}

const bufferInfo = (v: Var, names: (v: Var) => string): BufferInfo => ({
  name: names(v),
  type: typeString(v.aval),
  bytes: size(v.aval.shape) * itemBytes[v.aval.dtype],
});

function kernelInfo(name: string, k: KernelPlan, eqns: Eqn[], names: (v: Var) => string, source: string): KernelInfo {
  const inputs = k.inputs.map((v) => bufferInfo(v, names));
  const outputs = k.outputs.map((v) => bufferInfo(v, names));
  const spans: Span[] = [];
  const seen = new Set<string>();
  for (const e of eqns) {
    const s = e.span;
    const key = `${s.file}:${s.line}:${s.col}:${s.endLine}:${s.endCol}`;
    if (!seen.has(key)) { seen.add(key); spans.push(s); }
  }
  return {
    name,
    kind: k.kind,
    eqns: [...k.eqns],
    ops: eqns.length,
    inputs,
    outputs,
    bytesRead: k.view ? 0 : inputs.reduce((t, b) => t + b.bytes, 0),
    bytesWritten: k.view ? 0 : outputs.reduce((t, b) => t + b.bytes, 0),
    flops: eqns.reduce((t, e) => t + eqnFlops(e), 0),
    language: "javascript",
    source,
    spans,
    reason: k.reason,
  };
}

/**
 * FLOPs of one equation: one per output element of an elementwise op; one per input
 * element of a reduction or scan (argmax: one compare each); 2*M*N*K for dot_general
 * (output size times contracted size, times two); one per update element of scatter-add
 * and scatter-mul; zero for data movement (broadcast, reshape, gather, scatter, ...).
 */
export function eqnFlops(e: Eqn): number {
  if (isLoopOp(e)) return isDataMovement(e) ? 0 : e.outputs.reduce((t, o) => t + size(o.aval.shape), 0);
  switch (e.prim) {
    case "reduce_sum": case "reduce_max": case "reduce_min": case "reduce_prod": case "reduce_and": case "reduce_or":
    case "argmax": case "argmin": case "cumsum": case "cumprod": case "cummax": case "cummin":
      return size(e.inputs[0].aval.shape);
    case "dot_general": {
      const p = e.params as { dimension_numbers: [[number[], number[]], [number[], number[]]] };
      const shape = e.inputs[0].aval.shape;
      const k = p.dimension_numbers[0][0].reduce((t, d) => t * shape[d], 1);
      return 2 * size(e.outputs[0].aval.shape) * k;
    }
    case "scatter-add": case "scatter-mul":
      return size(e.inputs[2].aval.shape);
    default:
      return 0;
  }
}

export function atomText(a: Atom, names: (v: Var) => string): string {
  if (a.kind === "var") return names(a);
  const v = typeof a.value === "boolean" ? (a.value ? "True" : "False") : String(a.value);
  return `${v}:${typeString(a.aval)}`;
}

function paramsText(e: Eqn): string {
  const entries = Object.entries(e.params as Record<string, unknown>);
  if (entries.length === 0) return "";
  // Python-style: tuples (nested too), True/False, None, and dimension-number records as k=v lists.
  const fmt = (x: unknown): string => {
    if (Array.isArray(x)) return `(${x.map(fmt).join(", ")}${x.length === 1 ? "," : ""})`;
    if (typeof x === "boolean") return x ? "True" : "False";
    if (x === null || x === undefined) return "None";
    if (typeof x === "object") return `(${Object.entries(x).map(([k, v]) => `${k}=${fmt(v)}`).join(", ")})`;
    return String(x);
  };
  return `[${entries.map(([k, v]) => `${k}=${fmt(v)}`).join(" ")}]`;
}

function header(name: string, k: KernelPlan, eqns: Eqn[], names: (v: Var) => string): string {
  const range = k.eqns.length === 1 ? `eqn ${k.eqns[0]}` : `eqns ${rangesText(k.eqns)}`;
  const shape = isLoopOp(eqns[0]) ? `loop over [${k.loopShape.join(",")}]` : `output ${eqns[0].outputs.map((o) => typeString(o.aval)).join(", ")}`;
  const lines = [`// ${name}: ${k.kind}${k.view ? " (view)" : ""}, ${range}, ${shape}`];
  eqns.forEach((e, j) => {
    const outs = e.outputs.map((o) => `${names(o)}:${typeString(o.aval)}`).join(" ");
    const ins = e.inputs.map((a) => atomText(a, names)).join(" ");
    lines.push(`//   [${k.eqns[j]}] ${outs} = ${e.prim}${paramsText(e)} ${ins}   (line ${e.span.line})`);
  });
  lines.push(`// ${k.reason}`);
  return lines.join("\n");
}

/** 0,1,2,3,7 -> "0-3, 7" */
function rangesText(xs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(j > i ? `${xs[i]}-${xs[j]}` : `${xs[i]}`);
    i = j + 1;
  }
  return parts.join(", ");
}
