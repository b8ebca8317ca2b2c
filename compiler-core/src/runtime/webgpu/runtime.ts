// The WebGPU backend's executables, from the same plans as the CPU backend:
// - eager (planEager): one precompiled single-primitive kernel per equation, each encoded,
//   dispatched and submitted on its own, every intermediate in its own pooled buffer (eager JAX);
// - compiled (planFusion): the fusion plan's kernels, all encoded into one command buffer.
//   Loop kernels (with index ops: slice, rev, transpose, concatenate, pad, iota) are one WGSL
//   loop kernel; reduction/rowwise kernels one row kernel (codegen/wgsl_row.ts); a matmul with
//   an epilogue one tiled dot_general writing through the epilogue. A plan kernel this backend
//   has no fused WGSL for (a kind it does not know, more storage buffers than the adapter
//   binds, a row kernel whose reduction arrays do not fit in workgroup memory) runs UNFUSED:
//   each of its equations as its own kernel in the same command buffer, with the reason said
//   in the kernel list. Reshape/squeeze are views (no kernel).
// Nested jit calls are inlined first in both modes (eager JAX would dispatch the callee's ops
// one by one as well). Control flow (scan/while/cond) and float64 are refused with a
// WebGPUFault; the API layer then runs the function on the CPU and says why.
//
// Buffers: consts are uploaded once per executable; inputs per run (or once, for timing,
// through upload()); intermediates and outputs come from the device's buffer pool and go back
// to it after their last use (queue order makes reuse inside one submission safe). Outputs are
// read back through staging buffers reused across runs.
import type { BufferInfo, KernelInfo, Span } from "../../report";
import type { ArrayValue, Eqn, Jaxpr, Literal, Var } from "../../ir/types";
import { itemBytes, newBuffer, size, typeString } from "../../ir/types";
import { inlineCalls, isLoopOp, planEager, planFusion, type FusionOptions, type KernelPlan } from "../../fusion/fuse";
import { isBitcast } from "../../codegen/ops";
import { literalValue } from "../../codegen/js";
import { generateWgslLoop, isWgslIndexOp, WgslUnsupported, type WgslKernel } from "../../codegen/wgsl";
import { generateWgslOp } from "../../codegen/wgsl_ops";
import { generateWgslRow, wgslDotEpilogue, WgslNoFusion, type WgslRowOptions } from "../../codegen/wgsl_row";
import { isElementwise, isHigherOrder, subJaxprs } from "../../ir/primitives";
import { atomText, eqnFlops, jaxprVarNames } from "../cpu";
import {
  BufferPool, checkFault, getGpu, memoryGuard, pipeline, Staging, WebGPUFault, bindGroupLayout,
  type MemoryGuardOptions,
} from "./device";

export { WebGPUFault } from "./device";

export interface WebGPUCompileOptions extends FusionOptions {
  memory?: MemoryGuardOptions;
  /** Names of vars in kernel sources (default: the printed jaxpr's). */
  names?: (v: Var) => string;
  /** Kernel kinds treated as unknown (tests of the unfused fallback). */
  unfuseKinds?: string[];
  /** Subgroup reductions in row kernels (default: when the device has the `subgroups` feature). */
  subgroups?: boolean;
}

/** Device-resident arguments and results of one executable. */
export interface Resident {
  readonly inputs: ArrayValue[];
  /** Buffers of jaxpr.invars (uploaded). */
  readonly buffers: GPUBuffer[];
}

export interface WebGPUExecutable {
  mode: "eager" | "compiled";
  /** What runs, one entry per kernel (views included), language "wgsl". */
  kernels: KernelInfo[];
  /** Dispatches per call. */
  launches: number;
  /** The adapter, for the Report. */
  device: string;
  /** Upload, run, read back. */
  runAsync(inputs: ArrayValue[]): Promise<ArrayValue[]>;
  /** Upload inputs once (for timing). */
  upload(inputs: ArrayValue[]): Resident;
  /** Run on resident inputs and wait until the GPU has finished (outputs stay on the device). */
  execute(res: Resident): Promise<void>;
  /** Run on resident inputs and read the outputs back. */
  executeAndRead(res: Resident): Promise<ArrayValue[]>;
  /** GPU time per kernel (ms; 0 = below the timer's resolution), median of `runs`; null without timestamp queries. */
  profile(res: Resident, runs?: number): Promise<(number | null)[] | null>;
  release(res: Resident): void;
  dispose(): void;
}

interface KernelStep {
  kind: "kernel";
  info: number;
  kernel: WgslKernel;
  pipelines: GPUComputePipeline[];
  layout: GPUBindGroupLayout;
  inSlots: number[];
  outSlots: number[];
  bindCache: Map<string, GPUBindGroup>;
}
interface ViewStep { kind: "view"; inSlot: number; outSlot: number }
type Step = KernelStep | ViewStep;

const POSITIONAL = ["x", "y", "z", "w", "u", "v", "s", "t"];

/** Equations the WGSL loop codegen computes per element with plain views (single-equation kernels). */
const wgslLoopOp = (e: Eqn): boolean => isElementwise(e.prim) || e.prim === "broadcast_in_dim";
/** Equations a fused WGSL loop kernel computes: also the index ops (slice, rev, transpose, concatenate, pad, iota). */
const wgslFusedLoopOp = (e: Eqn): boolean => wgslLoopOp(e) || isWgslIndexOp(e);

/** Why a jaxpr cannot run on the WebGPU backend at all, or undefined. */
export function webgpuRefusal(jaxpr: Jaxpr): string | undefined {
  const visit = (j: Jaxpr): string | undefined => {
    for (const v of [...j.invars, ...j.constvars]) if (v.aval.dtype === "f64") return "it has float64 values, and WGSL has no float64 type";
    for (const e of j.eqns) {
      if (e.prim === "jit") {
        const r = visit(subJaxprs(e.prim, e.params)[0]);
        if (r) return r;
        continue;
      }
      if (isHigherOrder(e.prim)) return `it uses ${e.prim === "while" ? "lax.while_loop" : e.prim === "scan" ? "lax.scan" : "lax.cond"} (control flow runs on the CPU backend for now)`;
      if ([...e.inputs, ...e.outputs].some((a) => a.aval.dtype === "f64")) return "it has float64 values, and WGSL has no float64 type";
    }
    return undefined;
  };
  return visit(jaxpr);
}

let bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
const bufferId = (b: GPUBuffer): number => {
  let id = bufferIds.get(b);
  if (id === undefined) { id = nextBufferId++; bufferIds.set(b, id); }
  return id;
};

/** Compile a jaxpr for the WebGPU device (created on first use). Throws WebGPUFault. */
export async function compileWebGPU(jaxpr: Jaxpr, mode: "eager" | "compiled", options: WebGPUCompileOptions = {}): Promise<WebGPUExecutable> {
  const refusal = webgpuRefusal(jaxpr);
  if (refusal) throw new WebGPUFault(`the WebGPU backend cannot run this function: ${refusal}`, "unsupported");
  const ctx = await getGpu();
  checkFault(ctx);
  const names = options.names ?? jaxprVarNames(jaxpr);
  const { jaxpr: flat, origin } = inlineCalls(jaxpr);
  const plan = mode === "eager" ? planEager(flat) : planFusion(flat, options);
  const wopts: WgslRowOptions = {
    workgroupSize: Math.min(256, ctx.limits.maxComputeInvocationsPerWorkgroup),
    workgroupStorage: ctx.limits.maxComputeWorkgroupStorageSize,
    subgroups: options.subgroups ?? ctx.subgroups,
    // SwiftShader runs workgroups on a few CPU threads: few, long grid-stride loops are faster.
    maxWorkgroups: ctx.swiftshader ? 64 : 4096,
    maxPerDimension: ctx.limits.maxComputeWorkgroupsPerDimension,
  };

  const slotOf = new Map<number, number>();
  const slotVar: Var[] = [];
  const slot = (v: Var): number => {
    let s = slotOf.get(v.id);
    if (s === undefined) { s = slotVar.length; slotOf.set(v.id, s); slotVar.push(v); }
    return s;
  };
  flat.constvars.forEach(slot);
  flat.invars.forEach(slot);
  const boundary = slotVar.length;

  const kernels: KernelInfo[] = [];
  const steps: Step[] = [];
  const reported = (idx: number[]) => [...new Set(idx.map((i) => origin[i]))];
  const maxBuffers = ctx.limits.maxStorageBuffersPerShaderStage;

  const addKernel = async (shown: string, k: KernelPlan, eqns: Eqn[], gen: WgslKernel, reason: string) => {
    const layoutKinds = "r".repeat(gen.inputs.length) + "w".repeat(gen.outputs.length + gen.scratch.length);
    if (layoutKinds.length > maxBuffers) {
      throw new WebGPUFault(`kernel ${shown} needs ${layoutKinds.length} storage buffers; the adapter allows ${maxBuffers} per kernel`, "limit");
    }
    const pipes = await Promise.all(gen.dispatches.map((d) => pipeline(ctx, gen.code, d.entry, layoutKinds)));
    const source = `${header(shown, k, eqns, names, reason)}\n${gen.code}`;
    kernels.push(info(shown, k, eqns, gen, names, source, reason, reported(k.eqns)));
    steps.push({
      kind: "kernel", info: kernels.length - 1, kernel: gen, pipelines: pipes, layout: bindGroupLayout(ctx, layoutKinds),
      inSlots: gen.inputs.map(slot), outSlots: gen.outputs.map(slot), bindCache: new Map(),
    });
  };

  /** One equation as its own kernel (eager, or an unfused part of a plan kernel). */
  const single = async (shown: string, e: Eqn, idx: number, reason: string, eager: boolean) => {
    const ins: Var[] = [];
    for (const a of e.inputs) if (a.kind === "var" && !ins.some((v) => v.id === a.id)) ins.push(a);
    const outs = [...e.outputs];
    const k: KernelPlan = { kind: wgslLoopOp(e) ? "elementwise" : "op", eqns: [idx], inputs: ins, outputs: outs, loopShape: [...(outs[0]?.aval.shape ?? [])], reason };
    if (!eager && isBitcast(e)) {
      kernels.push(info(shown, { ...k, view: true, kind: "copy" }, [e], null, names, `${header(shown, { ...k, view: true }, [e], names, reason)}\n// ${names(outs[0])} = ${names(ins[0])}'s buffer, read as ${typeString(outs[0].aval)}\n`, reason, reported([idx])));
      steps.push({ kind: "view", inSlot: slot(ins[0]), outSlot: slot(outs[0]) });
      return;
    }
    let nameOf = names;
    if (eager) {
      // Positional names, so one pipeline serves every equation of the same primitive and shapes.
      const pos = new Map<number, string>(ins.map((v, j) => [v.id, POSITIONAL[j] ?? `x${j}`]));
      outs.forEach((v, j) => pos.set(v.id, outs.length === 1 ? "r" : `r${j}`));
      nameOf = (v) => pos.get(v.id) ?? "r";
    }
    const gen = wgslLoopOp(e)
      ? generateWgslLoop({ eqns: [e], inputs: ins, outputs: outs, loopShape: k.loopShape, name: nameOf }, wopts)
      : generateWgslOp({ eqn: e, inputs: ins, outputs: outs, name: nameOf }, wopts);
    await addKernel(shown, { ...k, kind: wgslLoopOp(e) ? (e.prim === "broadcast_in_dim" ? "broadcast" : "elementwise") : kindOfPrim(e) }, [e], gen, reason);
  };

  const known = new Set(["elementwise", "broadcast", "reduction", "rowwise", "matmul", "gather", "scatter", "copy"]);
  const unfuse = new Set(options.unfuseKinds ?? []);
  try {
    for (let ki = 0; ki < plan.kernels.length; ki++) {
      const k = plan.kernels[ki];
      const eqns = k.eqns.map((i) => flat.eqns[i]);
      const first = eqns[0];
      if (mode === "eager") {
        await single(`eager_${origin[k.eqns[0]]}_${first.prim}`, first, k.eqns[0], k.reason, true);
        continue;
      }
      const shown = `kernel_${ki}`;
      // A lone index op (a transpose or slice of its own) keeps its data-movement kernel.
      const loop = eqns.every(wgslFusedLoopOp) && !(eqns.length === 1 && !wgslLoopOp(first));
      const known_ = known.has(k.kind) && !unfuse.has(k.kind);
      const fitsBindings = k.inputs.length + k.outputs.length <= maxBuffers;
      if (known_ && k.view) {
        kernels.push(info(shown, k, eqns, null, names, `${header(shown, k, eqns, names, k.reason)}\n// ${names(k.outputs[0])} = ${names(k.inputs[0])}'s buffer, read as ${typeString(k.outputs[0].aval)}\n`, k.reason, reported(k.eqns)));
        steps.push({ kind: "view", inSlot: slot(k.inputs[0]), outSlot: slot(k.outputs[0]) });
        continue;
      }
      let why: string | undefined;
      if (known_ && fitsBindings && eqns.length > 1 && (loop || k.row || k.dot !== undefined)) {
        try {
          let gen: WgslKernel;
          if (loop) {
            gen = generateWgslLoop({ eqns, inputs: k.inputs, outputs: k.outputs, loopShape: k.loopShape, name: names }, wopts);
          } else if (k.row) {
            gen = generateWgslRow({ fnName: shown, eqns, inputs: k.inputs, outputs: k.outputs, space: k.row, name: names }, wopts);
          } else {
            const dotEqn = flat.eqns[k.dot!];
            const d = dotEqn.outputs[0];
            const rest = eqns.filter((e) => e !== dotEqn);
            const inputs = k.inputs.filter((v) => v.id !== d.id);
            const ep = wgslDotEpilogue({
              fnName: shown, eqns: rest, inputs, outputs: k.outputs, name: names,
              space: { shape: d.aval.shape, axes: [d.aval.shape.length - 1] }, external: d,
            }, ["row", "col", "b", "tx", "ty", "acc", "comp", "ka", "kb", "va", "vb", "kn", "kk", "k0", "pe", "se", "ta", "tb", "wid", "lid"]);
            gen = generateWgslOp({ eqn: dotEqn, inputs, outputs: k.outputs, name: names, epilogue: ep }, wopts);
          }
          await addKernel(shown, k, eqns, gen, k.reason);
          continue;
        } catch (e) {
          if (!(e instanceof WgslNoFusion)) throw e;
          why = e.message;
        }
      }
      if (known_ && (loop || eqns.length === 1) && (!loop || fitsBindings)) {
        if (loop) {
          const gen = generateWgslLoop({ eqns, inputs: k.inputs, outputs: k.outputs, loopShape: k.loopShape, name: names }, wopts);
          await addKernel(shown, k, eqns, gen, k.reason);
        } else {
          await single(shown, first, k.eqns[0], k.reason, false);
          kernels[kernels.length - 1].kind = k.kind;
        }
        continue;
      }
      // Unfused: runs of loop ops over one shape still fuse into a loop kernel; every other
      // equation is a kernel of its own, in program order, in the same command buffer.
      why ??= !known_
        ? `the WebGPU backend has no fused kernel for kind '${k.kind}' yet`
        : !fitsBindings ? `the fused kernel needs ${k.inputs.length + k.outputs.length} storage buffers, more than the adapter's ${maxBuffers}`
        : eqns.every(isLoopOp) && !loop ? "the WGSL loop codegen cannot index one of these ops (concatenate of more than 4, interior padding)"
        : `the WebGPU backend has no fused kernel for this ${k.kind} group of ${eqns.length} ops yet`;
      const parts = splitKernel(k, eqns, maxBuffers);
      for (let j = 0; j < parts.length; j++) {
        const part = parts[j];
        const note = `part ${j + 1} of ${parts.length} of ${shown} (${k.kind}, run unfused: ${why}); plan: ${k.reason}`;
        if (part.eqns.length === 1 && !(wgslLoopOp(part.eqns[0]) && part.outputs.length < part.eqns[0].outputs.length)) {
          await single(`${shown}.${j}`, part.eqns[0], part.idx[0], note, false);
        } else {
          const sub: KernelPlan = { kind: "elementwise", eqns: part.idx, inputs: part.inputs, outputs: part.outputs, loopShape: part.shape, reason: note };
          const gen = generateWgslLoop({ eqns: part.eqns, inputs: part.inputs, outputs: part.outputs, loopShape: part.shape, name: names }, wopts);
          await addKernel(`${shown}.${j}`, sub, part.eqns, gen, note);
        }
      }
    }
  } catch (e) {
    if (e instanceof WgslUnsupported) throw new WebGPUFault(`the WebGPU backend cannot run this function: ${e.message}`, "unsupported");
    throw e;
  }

  // Liveness: free intermediates after their last use (not function outputs, inputs or consts).
  const outIds = new Set<number>();
  for (const o of flat.outvars) if (o.kind === "var") outIds.add(o.id);
  // A view shares its input's buffer: free the root only when every alias is dead.
  const root = new Map<number, number>();
  const rootOf = (s: number): number => root.get(s) ?? s;
  for (const st of steps) if (st.kind === "view") root.set(st.outSlot, rootOf(st.inSlot));
  const lastUse = new Map<number, number>();
  steps.forEach((st, k) => {
    const uses = st.kind === "view" ? [st.inSlot, st.outSlot] : [...st.inSlots, ...st.outSlots];
    for (const s of uses) lastUse.set(rootOf(s), k);
  });
  const pinned = new Set<number>();
  for (const [id, s] of slotOf) if (outIds.has(id)) pinned.add(rootOf(s));
  const frees: number[][] = steps.map(() => []);
  for (const [s, k] of lastUse) if (s >= boundary && !pinned.has(s)) frees[k].push(s);

  // Memory guard, before anything is allocated.
  const bufBytes = (v: Var) => size(v.aval.shape) * 4;
  const guardList = slotVar.map((v, s) => ({ name: names(v), bytes: rootOf(s) === s ? bufBytes(v) : 0 }));
  for (const st of steps) if (st.kind === "kernel") st.kernel.scratch.forEach((b, j) => guardList.push({ name: `scratch ${j} of ${kernels[st.info].name}`, bytes: b }));
  memoryGuard(ctx, guardList, options.memory);

  const outputs = flat.outvars.map((o): { slot: number } | { lit: Literal } => (o.kind === "lit" ? { lit: o } : { slot: slot(o) }));
  const constBufs: GPUBuffer[] = [];
  let constsReady = false;
  const staging = new Staging(ctx);
  let disposed = false;
  const launches = steps.reduce((n, st) => n + (st.kind === "kernel" ? st.kernel.dispatches.length : 0), 0);

  const uploadValue = (buf: GPUBuffer, a: ArrayValue) => {
    if (a.data.length === 0) return;
    const data = a.aval.dtype === "bool" ? Uint32Array.from(a.data as Uint8Array) : a.data;
    ctx.device.queue.writeBuffer(buf, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  };
  const ensureConsts = () => {
    if (constsReady) return;
    flat.constvars.forEach((v, i) => {
      const b = ctx.pool.acquire(bufBytes(v));
      uploadValue(b, flat.consts[i]);
      constBufs.push(b);
    });
    constsReady = true;
  };

  const upload = (inputs: ArrayValue[]): Resident => {
    if (disposed) throw new Error("executable disposed");
    checkFault(ctx);
    if (inputs.length !== flat.invars.length) throw new Error(`expected ${flat.invars.length} input arrays, got ${inputs.length}`);
    flat.invars.forEach((v, i) => {
      if (typeString(v.aval) !== typeString(inputs[i].aval)) throw new Error(`input ${i} (${names(v)}): expected ${typeString(v.aval)}, got ${typeString(inputs[i].aval)}`);
    });
    ensureConsts();
    const buffers = flat.invars.map((v, i) => {
      const b = ctx.pool.acquire(bufBytes(v));
      uploadValue(b, inputs[i]);
      return b;
    });
    return { inputs, buffers };
  };

  const bindGroup = (st: KernelStep, bufs: GPUBuffer[]): GPUBindGroup => {
    const key = bufs.map(bufferId).join(",");
    let bg = st.bindCache.get(key);
    if (!bg) {
      bg = ctx.device.createBindGroup({ layout: st.layout, entries: bufs.map((buffer, binding) => ({ binding, resource: { buffer } })) });
      if (st.bindCache.size > 64) st.bindCache.clear();
      st.bindCache.set(key, bg);
    }
    return bg;
  };

  interface Pass { begin: (label: number) => GPUComputePassEncoder; end: (p: GPUComputePassEncoder) => void }

  /** Encode and submit every step; returns the slot table (output buffers stay acquired). */
  const launch = (res: Resident, encoderFor: (stepIndex: number) => { enc: GPUCommandEncoder; pass: Pass }, flush: (stepIndex: number, enc: GPUCommandEncoder) => void): (GPUBuffer | undefined)[] => {
    const env = new Array<GPUBuffer | undefined>(slotVar.length);
    flat.constvars.forEach((_, i) => { env[i] = constBufs[i]; });
    flat.invars.forEach((_, i) => { env[flat.constvars.length + i] = res.buffers[i]; });
    const owned = new Set<number>();
    steps.forEach((st, k) => {
      if (st.kind === "view") {
        env[st.outSlot] = env[st.inSlot];
      } else {
        for (const s of st.outSlots) {
          if (!env[s]) { env[s] = ctx.pool.acquire(bufBytes(slotVar[s])); owned.add(s); }
        }
        const scratch = st.kernel.scratch.map((b) => ctx.pool.acquire(b));
        const { enc, pass } = encoderFor(k);
        if (st.kernel.dispatches.length) {
          const p = pass.begin(st.info);
          const bg = bindGroup(st, [...st.inSlots.map((s) => env[s]!), ...st.outSlots.map((s) => env[s]!), ...scratch]);
          st.kernel.dispatches.forEach((d, j) => {
            p.setPipeline(st.pipelines[j]);
            p.setBindGroup(0, bg);
            p.dispatchWorkgroups(...d.workgroups);
          });
          pass.end(p);
        }
        flush(k, enc);
        for (const b of scratch) ctx.pool.release(b);
      }
      for (const s of frees[k]) {
        if (owned.has(s) && env[s]) { ctx.pool.release(env[s]!); owned.delete(s); }
      }
    });
    (env as unknown as { owned: Set<number> }).owned = owned;
    return env;
  };

  const releaseRun = (env: (GPUBuffer | undefined)[]) => {
    const owned = (env as unknown as { owned: Set<number> }).owned;
    for (const s of owned) if (env[s]) ctx.pool.release(env[s]!);
  };

  const plainPass: Pass = { begin: () => undefined as unknown as GPUComputePassEncoder, end: () => {} };

  /** The whole call: eager submits per kernel, compiled one command buffer with one compute pass. */
  const encodeRun = (res: Resident, finish: (enc: GPUCommandEncoder, env: (GPUBuffer | undefined)[]) => void): (GPUBuffer | undefined)[] => {
    const dev = ctx.device;
    if (mode === "eager") {
      let enc = dev.createCommandEncoder();
      const env = launch(res, () => ({ enc, pass: { begin: () => enc.beginComputePass(), end: (p) => p.end() } }), (k, e) => {
        if (k === steps.length - 1) return;
        dev.queue.submit([e.finish()]);
        enc = dev.createCommandEncoder();
      });
      finish(enc, env);
      dev.queue.submit([enc.finish()]);
      return env;
    }
    const enc = dev.createCommandEncoder();
    let shared: GPUComputePassEncoder | undefined;
    const env = launch(res, () => ({
      enc,
      pass: {
        begin: () => (shared ??= enc.beginComputePass()),
        end: () => {},
      },
    }), () => {});
    shared?.end();
    finish(enc, env);
    dev.queue.submit([enc.finish()]);
    return env;
  };
  void plainPass;

  const readOutputs = async (env: (GPUBuffer | undefined)[], res: Resident, enc?: GPUCommandEncoder): Promise<ArrayValue[]> => {
    void enc;
    const reads: Promise<void>[] = [];
    const results = outputs.map((o, j): ArrayValue | (() => ArrayValue) => {
      if ("lit" in o) {
        const data = newBuffer(o.lit.aval.dtype, size(o.lit.aval.shape));
        data.fill(literalValue(o.lit));
        return { aval: o.lit.aval, data };
      }
      const v = slotVar[o.slot];
      if (o.slot < boundary) {
        const src = o.slot < flat.constvars.length ? flat.consts[o.slot] : res.inputs[o.slot - flat.constvars.length];
        return { aval: v.aval, data: src.data.slice() as ArrayValue["data"] };
      }
      const n = size(v.aval.shape);
      const st = staging.get(j, n * 4);
      return () => {
        const data = newBuffer(v.aval.dtype, n);
        if (n > 0) {
          const m = st.getMappedRange(0, n * 4);
          if (v.aval.dtype === "bool") (data as Uint8Array).set(new Uint32Array(m));
          else if (v.aval.dtype === "i32") (data as Int32Array).set(new Int32Array(m));
          else (data as Float32Array).set(new Float32Array(m));
        }
        st.unmap();
        return { aval: v.aval, data };
      };
    });
    outputs.forEach((o, j) => {
      if ("lit" in o || o.slot < boundary) return;
      const st = staging.get(j, 4);
      reads.push(st.mapAsync(GPUMapMode.READ));
    });
    await Promise.all(reads);
    releaseRun(env);
    return results.map((r) => (typeof r === "function" ? r() : r));
  };

  const guard = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    if (disposed) throw new Error("executable disposed");
    checkFault(ctx);
    ctx.device.pushErrorScope("out-of-memory");
    ctx.device.pushErrorScope("validation");
    let out: T;
    try {
      out = await f();
    } finally {
      const v = await ctx.device.popErrorScope();
      const m = await ctx.device.popErrorScope();
      if (m) throw new WebGPUFault(`out of GPU memory while ${what}: ${m.message.split("\n")[0]}`, "memory");
      if (v) throw new WebGPUFault(`WebGPU validation error while ${what}: ${v.message.split("\n")[0]}`, "error");
    }
    checkFault(ctx);
    return out;
  };

  const executeAndRead = (res: Resident) => guard("running", async () => {
    let env: (GPUBuffer | undefined)[] = [];
    env = encodeRun(res, (enc, e) => {
      outputs.forEach((o, j) => {
        if ("lit" in o || o.slot < boundary) return;
        const n = size(slotVar[o.slot].aval.shape) * 4;
        if (n > 0) enc.copyBufferToBuffer(e[o.slot]!, 0, staging.get(j, n), 0, n);
      });
    });
    return readOutputs(env, res);
  });

  const execute = (res: Resident) => guard("running", async () => {
    const env = encodeRun(res, () => {});
    await ctx.device.queue.onSubmittedWorkDone();
    releaseRun(env);
  });

  const profile = async (res: Resident, runs = 5): Promise<(number | null)[] | null> => {
    if (!ctx.timestamps) return null;
    const nk = kernels.length;
    const count = Math.min(4096, 2 * nk);
    const qs = ctx.device.createQuerySet({ type: "timestamp", count });
    const resolve = ctx.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = ctx.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const samples: number[][] = kernels.map(() => []);
    try {
      for (let r = 0; r < runs; r++) {
        await guard("profiling", async () => {
          const enc = ctx.device.createCommandEncoder();
          const timed = new Set<number>();
          const env = launch(res, () => ({
            enc,
            pass: {
              begin: (label) => {
                if (2 * label + 1 < count) {
                  timed.add(label);
                  return enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * label, endOfPassWriteIndex: 2 * label + 1 } });
                }
                return enc.beginComputePass();
              },
              end: (p) => p.end(),
            },
          }), () => {});
          enc.resolveQuerySet(qs, 0, count, resolve, 0);
          enc.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
          ctx.device.queue.submit([enc.finish()]);
          await read.mapAsync(GPUMapMode.READ);
          const t = new BigInt64Array(read.getMappedRange().slice(0));
          read.unmap();
          for (const k of timed) samples[k].push(Math.max(0, Number(t[2 * k + 1] - t[2 * k])) / 1e6);
          releaseRun(env);
        });
      }
    } finally {
      qs.destroy();
      resolve.destroy();
      read.destroy();
    }
    return samples.map((s) => {
      if (!s.length) return null;
      const sorted = [...s].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)];
    });
  };

  const releaseRes = (res: Resident) => {
    for (const b of res.buffers) ctx.pool.release(b);
    (res as { buffers: GPUBuffer[] }).buffers = [];
  };

  return {
    mode,
    kernels,
    launches,
    device: ctx.name,
    upload,
    execute,
    executeAndRead,
    profile,
    release: releaseRes,
    async runAsync(inputs) {
      const res = upload(inputs);
      try {
        return await executeAndRead(res);
      } finally {
        releaseRes(res);
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const b of constBufs) ctx.pool.release(b);
      constBufs.length = 0;
      staging.dispose();
      for (const st of steps) if (st.kind === "kernel") st.bindCache.clear();
    },
  };
}

interface Part { eqns: Eqn[]; idx: number[]; inputs: Var[]; outputs: Var[]; shape: number[] }

/**
 * A plan kernel split for the unfused path: maximal runs of consecutive loop ops whose outputs
 * all have one shape become loop kernels, every other equation stands alone. A part writes the
 * values later parts or other kernels read (the plan kernel's outputs).
 */
function splitKernel(k: KernelPlan, eqns: Eqn[], maxBuffers: number): Part[] {
  const runs: { eqns: Eqn[]; idx: number[] }[] = [];
  let cur: { eqns: Eqn[]; idx: number[]; shape: string } | undefined;
  eqns.forEach((e, j) => {
    const shape = e.outputs[0]?.aval.shape.join("x") ?? "";
    if (wgslLoopOp(e) && e.outputs.length === 1 && cur && cur.shape === shape) {
      cur.eqns.push(e);
      cur.idx.push(k.eqns[j]);
      return;
    }
    cur = wgslLoopOp(e) && e.outputs.length === 1 ? { eqns: [e], idx: [k.eqns[j]], shape } : undefined;
    runs.push(cur ?? { eqns: [e], idx: [k.eqns[j]] });
  });
  const kernelOut = new Set(k.outputs.map((v) => v.id));
  const parts = runs.map((r, ri): Part => {
    const produced = new Set<number>();
    for (const e of r.eqns) for (const o of e.outputs) produced.add(o.id);
    const inputs: Var[] = [];
    for (const e of r.eqns) for (const a of e.inputs) if (a.kind === "var" && !produced.has(a.id) && !inputs.some((v) => v.id === a.id)) inputs.push(a);
    const usedLater = new Set<number>();
    for (const later of runs.slice(ri + 1)) for (const e of later.eqns) for (const a of e.inputs) if (a.kind === "var") usedLater.add(a.id);
    const outputs: Var[] = [];
    for (const e of r.eqns) for (const o of e.outputs) if (kernelOut.has(o.id) || usedLater.has(o.id)) outputs.push(o);
    return { eqns: r.eqns, idx: r.idx, inputs, outputs: r.eqns.length === 1 && !wgslLoopOp(r.eqns[0]) ? [...r.eqns[0].outputs] : outputs, shape: [...(r.eqns[0].outputs[0]?.aval.shape ?? [])] };
  });
  // A loop part with more buffers than a kernel may bind runs one equation at a time.
  return parts.flatMap((p) => (p.eqns.length > 1 && p.inputs.length + p.outputs.length > maxBuffers
    ? p.eqns.map((e, j) => ({ eqns: [e], idx: [p.idx[j]], inputs: e.inputs.filter((a): a is Var => a.kind === "var"), outputs: [...e.outputs], shape: [...e.outputs[0].aval.shape] }))
    : [p]));
}

function kindOfPrim(e: Eqn): string {
  switch (e.prim) {
    case "reduce_sum": case "reduce_max": case "reduce_min": case "reduce_prod": case "reduce_and": case "reduce_or":
    case "argmax": case "argmin": case "cumsum": case "cumprod": case "cummax": case "cummin":
      return "reduction";
    case "dot_general": return "matmul";
    case "gather": return "gather";
    case "scatter": case "scatter-add": case "scatter-mul": return "scatter";
    default: return "copy";
  }
}

function header(name: string, k: KernelPlan, eqns: Eqn[], names: (v: Var) => string, reason: string): string {
  const shape = isLoopOp(eqns[0]) ? `loop over [${k.loopShape.join(",")}]` : `output ${eqns[0].outputs.map((o) => typeString(o.aval)).join(", ")}`;
  const lines = [`// ${name}: ${k.kind}${k.view ? " (view)" : ""}, ${k.eqns.length === 1 ? `eqn ${k.eqns[0]}` : `eqns ${k.eqns.join(", ")}`}, ${shape}`];
  eqns.forEach((e, j) => {
    const outs = e.outputs.map((o) => `${names(o)}:${typeString(o.aval)}`).join(" ");
    lines.push(`//   [${k.eqns[j]}] ${outs} = ${e.prim} ${e.inputs.map((a) => atomText(a, names)).join(" ")}   (line ${e.span.line})`);
  });
  lines.push(`// ${reason}`);
  return lines.join("\n");
}

function info(name: string, k: KernelPlan, eqns: Eqn[], gen: WgslKernel | null, names: (v: Var) => string, source: string, reason: string, eqnIdx: number[]): KernelInfo {
  const buf = (v: Var): BufferInfo => ({ name: names(v), type: typeString(v.aval), bytes: size(v.aval.shape) * itemBytes[v.aval.dtype] });
  const inputs = (gen?.inputs ?? k.inputs).map(buf);
  const outputs = (gen?.outputs ?? k.outputs).map(buf);
  const spans: Span[] = [];
  const seen = new Set<string>();
  for (const e of eqns) {
    const s = e.span;
    const key = `${s.file}:${s.line}:${s.col}`;
    if (!seen.has(key)) { seen.add(key); spans.push(s); }
  }
  return {
    name,
    kind: k.kind,
    eqns: eqnIdx,
    ops: eqns.length,
    inputs,
    outputs,
    bytesRead: k.view ? 0 : inputs.reduce((t, b) => t + b.bytes, 0),
    bytesWritten: k.view ? 0 : outputs.reduce((t, b) => t + b.bytes, 0),
    flops: eqns.reduce((t, e) => t + eqnFlops(e), 0),
    language: "wgsl",
    source,
    spans,
    reason,
  };
}

/** Text for a measured GPU time: never "0". */
export function formatGpuTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "not measured";
  if (ms <= 0) return "below timer resolution";
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(3)} ms`;
}

/** Test hook: reset the buffer-id table (ids only name bind groups in a cache). */
export function _resetBufferIds(): void {
  bufferIds = new WeakMap();
  nextBufferId = 1;
}

export { BufferPool };
