// The CPU backend. Two ways to run a jaxpr:
// - compileEager: the interpreter. One kernel launch per equation, each result written to
//   its own fresh typed array (JAX without jit). Kernels are specialised per primitive,
//   dtype and broadcast pattern and shared through a cache keyed by their source text.
// - compileFused: the fusion plan's kernels, generated as tight JavaScript loops.
// Elementwise groups are loop kernels (codegen/js.ts); every other equation is a kernel of
// its own, generated for its shapes and params (codegen/ops.ts). A compiled reshape or
// squeeze is a view: its output shares the input's buffer and no kernel runs (XLA's
// bitcast); eager mode copies, as each eager op returns a fresh array.
// Both return an Executable whose `kernels` describe what runs, for the Report.
import type { KernelInfo, Span, BufferInfo } from "../report";
import type { ArrayValue, Atom, Eqn, Jaxpr, Literal, Var } from "../ir/types";
import { itemBytes, newBuffer, size, typeString } from "../ir/types";
import { generateLoopKernel, literalValue, type JsCodegenOptions } from "../codegen/js";
import { generateOpKernel } from "../codegen/ops";
import { isLoopOp, planEager, planFusion, type FusionOptions, type FusionPlan, type KernelPlan } from "../fusion/fuse";

export interface Executable {
  /** Run on the values of jaxpr.invars (consts come from jaxpr.consts); returns the outvars' values. */
  run(inputs: ArrayValue[]): ArrayValue[];
  /** What runs, in order, one entry per kernel (views included: they launch nothing). */
  kernels: KernelInfo[];
  /** Kernel launches per call (kernels that are not views). */
  launches: number;
}

export interface CompileOptions extends JsCodegenOptions, FusionOptions {
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

/** JAX's variable names: a..z, ba, bb, ... by order of appearance (constvars, invars, equations). */
export function alphaName(n: number): string {
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

export function jaxprVarNames(jaxpr: Jaxpr): (v: Var) => string {
  const names = new Map<number, string>();
  const add = (v: Var) => { if (!names.has(v.id)) names.set(v.id, alphaName(names.size)); };
  jaxpr.constvars.forEach(add);
  jaxpr.invars.forEach(add);
  for (const e of jaxpr.eqns) e.outputs.forEach(add);
  return (v) => names.get(v.id) ?? `v${v.id}`;
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
  return build(jaxpr, planEager(jaxpr), "eager", options);
}

/** Compiled: the fusion plan's kernels. */
export function compileFused(jaxpr: Jaxpr, options: CompileOptions = {}): Executable {
  return build(jaxpr, planFusion(jaxpr, options), "fused", options);
}

// Eager kernels name their operands by position so one kernel serves every equation
// with the same primitive, dtypes and broadcast pattern.
const POSITIONAL = ["x", "y", "z", "w", "u", "v", "s", "t"];
const positionalName = (k: number): string => POSITIONAL[k] ?? `x${alphaName(k)}`;

interface Step {
  /** A kernel function, or null for a view (the output takes the input's buffer). */
  fn: KernelFn | null;
  inSlots: number[];
  outSlots: number[];
  outVars: Var[];
  /** Slots holding intermediates whose last use is this step. */
  free: number[];
}

function build(jaxpr: Jaxpr, plan: FusionPlan, mode: "eager" | "fused", options: CompileOptions): Executable {
  const names = options.names ?? jaxprVarNames(jaxpr);
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
    let fnName: string;
    let nameOf: (v: Var) => string;
    if (mode === "eager") {
      const pos = new Map<number, string>(k.inputs.map((v, j) => [v.id, positionalName(j)]));
      k.outputs.forEach((v, j) => pos.set(v.id, k.outputs.length === 1 ? "r" : `r${alphaName(j)}`));
      fnName = first.prim.replace(/-/g, "_");
      nameOf = (v) => pos.get(v.id) ?? "r";
    } else {
      fnName = kernelName;
      nameOf = names;
    }
    if (k.view) {
      const source = `${header(kernelName, k, eqns, names)}\n// ${names(k.outputs[0])} = ${names(k.inputs[0])}'s buffer, read as ${typeString(k.outputs[0].aval)}\n`;
      kernels.push(kernelInfo(kernelName, k, eqns, names, source));
      return { fn: null, inSlots: k.inputs.map(slot), outSlots: k.outputs.map(slot), outVars: k.outputs, free: [] };
    }
    const gen = isLoopOp(first)
      ? generateLoopKernel({ fnName, eqns, inputs: k.inputs, outputs: k.outputs, loopShape: k.loopShape, name: nameOf }, options)
      : generateOpKernel({ fnName, eqn: first, inputs: k.inputs, outputs: k.outputs, name: nameOf }, options);
    const source = `${header(kernelName, k, eqns, names)}\n${gen.code}\n`;
    kernels.push(kernelInfo(kernelName, k, eqns, names, source));
    return {
      fn: compileJs(gen.code, gen.fnName),
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

  const run = (inputs: ArrayValue[]): ArrayValue[] => {
    checkInputs(jaxpr, inputs, names);
    const env = new Array<ArrayValue | undefined>(nSlots);
    jaxpr.constvars.forEach((v, i) => { env[slotOf.get(v.id)!] = jaxpr.consts[i]; });
    jaxpr.invars.forEach((v, i) => { env[slotOf.get(v.id)!] = inputs[i]; });
    for (const st of steps) {
      if (!st.fn) {
        env[st.outSlots[0]] = { aval: st.outVars[0].aval, data: env[st.inSlots[0]]!.data };
        for (const s of st.free) env[s] = undefined;
        continue;
      }
      const args: Data[] = [];
      for (const s of st.inSlots) args.push(env[s]!.data);
      for (let j = 0; j < st.outSlots.length; j++) {
        const v = st.outVars[j];
        const data = newBuffer(v.aval.dtype, size(v.aval.shape));
        env[st.outSlots[j]] = { aval: v.aval, data };
        args.push(data);
      }
      st.fn(...args);
      for (const s of st.free) env[s] = undefined;
    }
    return outputs.map((o) => ("lit" in o ? filled(o.lit) : env[o.slot]!));
  };

  return { run, kernels, launches: steps.filter((st) => st.fn !== null).length };
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
  if (isLoopOp(e)) return e.prim === "broadcast_in_dim" ? 0 : e.outputs.reduce((t, o) => t + size(o.aval.shape), 0);
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

function atomText(a: Atom, names: (v: Var) => string): string {
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
