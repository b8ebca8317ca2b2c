// The WASM SIMD path of the CPU backend: kernels as WebAssembly modules built by our own
// emitter (module.ts), for f32 elementwise loops (loop.ts) and f32 matmuls with their
// fused epilogues (dot.ts + loop.ts). Memory is staging, not an allocator: each kernel owns
// one WebAssembly.Memory sized for its static buffers; its JS wrapper copies the inputs in
// (TypedArray.set), calls `run`, and copies the outputs out, so a WASM kernel has the same
// `(in_..., out_...) => void` signature as a JS one. Kernels whose staging would pass 1 GiB,
// or that read or compute anything the emitter does not cover, stay JavaScript.
//
// JITLENS_WASM=0 turns the path off (A/B measurement, escape hatch); it is on by default.
import type { Eqn, Var } from "../../ir/types";
import { Func, Module } from "./module";
import { emitLoop, IMPORTS, Staging, WasmUnsupported, type CopyIn, type CopyOut } from "./loop";
import { emitDot } from "./dot";
import { emitRow } from "./row";

export { WasmUnsupported } from "./loop";

type Data = Float32Array | Float64Array | Int32Array | Uint8Array;
export type KernelFn = (...buffers: Data[]) => void;

export interface WasmKernel {
  fnName: string;
  /** A WAT-like listing of the module, with the staging layout. */
  text: string;
  /** The module's binary. */
  bytes: Uint8Array;
  /** Builds the kernel function (compiles the module; memory is made on the first call). */
  make(): KernelFn;
}

/** The engine's WebAssembly API (typed here: the project's TS lib has no WebAssembly declarations). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Staging limit: kernels needing more memory stay JavaScript. */
export const MAX_STAGING_BYTES = 1 << 30;
const PAGE = 65536;

let simd: boolean | undefined;
/** Whether this engine runs WebAssembly SIMD128 (checked once by validating a tiny module). */
export function wasmSimdSupported(): boolean {
  if (simd === undefined) {
    try {
      const m = new Module();
      const f = new Func("run");
      f.i32x4(0).op("v128.any_true").op("drop");
      m.addFunc(f, "run");
      simd = WA !== undefined && WA.validate(m.bytes());
    } catch {
      simd = false;
    }
  }
  return simd!;
}

/** JITLENS_WASM=0 turns the WASM kernels off; default on where SIMD runs. */
export function wasmEnabled(): boolean {
  const env = typeof process !== "undefined" ? process.env?.JITLENS_WASM : undefined;
  if (env === "0" || env === "false" || env === "off") return false;
  return wasmSimdSupported();
}

/**
 * Live staging: every kernel keeps its memory between calls (no page faults after the first),
 * but the kernel cache lives as long as the process, so the memories of kernels not used
 * lately are let go (their next call makes a fresh one) once the live total passes this.
 */
export const MAX_LIVE_STAGING_BYTES = 1 << 30;
interface Live { bytes: number; last: number; drop(): void }
const live = new Set<Live>();
let liveBytes = 0;
let clock = 0;
function admit(l: Live): void {
  live.add(l);
  liveBytes += l.bytes;
  while (liveBytes > MAX_LIVE_STAGING_BYTES && live.size > 1) {
    let oldest: Live | undefined;
    for (const x of live) if (x !== l && (!oldest || x.last < oldest.last)) oldest = x;
    if (!oldest) break;
    live.delete(oldest);
    liveBytes -= oldest.bytes;
    oldest.drop();
  }
}
/** Bytes of staging memory held by WASM kernels now (for tests). */
export function liveStagingBytes(): number { return liveBytes; }

function finish(fnName: string, m: Module, st: Staging, ins: CopyIn[], outs: CopyOut[], note: string[]): WasmKernel {
  if (st.bytes > MAX_STAGING_BYTES) throw new WasmUnsupported(`staging of ${st.bytes} bytes (over 1 GiB)`);
  m.memoryPages = Math.max(1, Math.ceil(st.bytes / PAGE));
  const bytes = m.bytes();
  const layout = [
    `;; ${fnName}: WebAssembly SIMD kernel; staging memory ${st.bytes} bytes (${m.memoryPages} pages)`,
    ...note.map((l) => `;; ${l}`),
    ...ins.map((c) => `;; in:  arg ${c.arg} -> bytes [${c.offset}, ${c.offset + 4 * c.count})${c.note ? ` (${c.note})` : ""}`),
    ...outs.map((c) => `;; out: bytes [${c.offset}, ${c.offset + 4 * c.count}) -> arg ${c.arg}`),
  ];
  const text = `${layout.join("\n")}\n${m.text()}`;
  return {
    fnName, text, bytes,
    make() {
      const mod = new WA!.Module(bytes);
      let heap: Float32Array | undefined;
      let heap64: Float64Array | undefined;
      let run: (() => void) | undefined;
      const entry: Live = { bytes: m.memoryPages * PAGE, last: 0, drop: () => { heap = heap64 = run = undefined; } };
      const fn: KernelFn & { release?: () => void } = (...bufs: Data[]) => {
        entry.last = ++clock;
        if (!heap) {
          const inst = new WA!.Instance(mod, { m: IMPORTS });
          admit(entry);
          const buffer = (inst.exports.memory as { buffer: ArrayBuffer }).buffer;
          heap = new Float32Array(buffer);
          heap64 = new Float64Array(buffer);
          run = inst.exports.run as () => void;
        }
        for (const c of ins) {
          const src = bufs[c.arg] as Float32Array;
          if (c.copy) c.copy(src, heap, heap64!);
          else heap.set(src, c.offset >> 2);
        }
        run!();
        for (const o of outs) (bufs[o.arg] as Float32Array).set(heap.subarray(o.offset >> 2, (o.offset >> 2) + o.count));
      };
      fn.release = () => {
        if (!live.delete(entry)) return;
        liveBytes -= entry.bytes;
        entry.drop();
      };
      return fn;
    },
  };
}

export interface WasmLoopSpec {
  fnName: string;
  eqns: readonly Eqn[];
  inputs: readonly Var[];
  outputs: readonly Var[];
  loopShape: readonly number[];
}

const argMap = (inputs: readonly Var[], outputs: readonly Var[]) => {
  const inIx = new Map(inputs.map((v, k) => [v.id, k]));
  const outIx = new Map(outputs.map((v, k) => [v.id, inputs.length + k]));
  return (v: Var, output: boolean): number => {
    const k = output ? outIx.get(v.id) : inIx.get(v.id);
    if (k === undefined) throw new WasmUnsupported(`var ${v.id} is not a kernel ${output ? "output" : "input"}`);
    return k;
  };
};

/** An f32 elementwise loop kernel in WASM; throws WasmUnsupported where it cannot. */
export function wasmLoopKernel(spec: WasmLoopSpec): WasmKernel {
  const m = new Module();
  const st = new Staging();
  const f = new Func("run");
  const { ins, outs } = emitLoop(f, m, st, { ...spec, argOf: argMap(spec.inputs, spec.outputs) });
  m.addFunc(f, "run");
  return finish(spec.fnName, m, st, ins, outs, []);
}

export interface WasmRowSpec extends Omit<WasmLoopSpec, "loopShape"> {
  space: { shape: readonly number[]; axes: readonly number[] };
}

/** A float32 row kernel (reductions with their producers and epilogue) in WASM; throws WasmUnsupported where it cannot. */
export function wasmRowKernel(spec: WasmRowSpec): WasmKernel {
  const m = new Module();
  const st = new Staging();
  const f = new Func("run");
  const { ins, outs } = emitRow(f, m, st, { ...spec, argOf: argMap(spec.inputs, spec.outputs) });
  m.addFunc(f, "run");
  return finish(spec.fnName, m, st, ins, outs, []);
}

export interface WasmDotSpec {
  fnName: string;
  dot: Eqn;
  /** Elementwise equations over the dot's output (a fused epilogue), in program order. */
  epilogue: readonly Eqn[];
  inputs: readonly Var[];
  outputs: readonly Var[];
}

/** An f32 matmul (and its epilogue) in WASM; throws WasmUnsupported where it cannot. */
export function wasmDotKernel(spec: WasmDotSpec): WasmKernel {
  const m = new Module();
  const st = new Staging();
  const f = new Func("run");
  const argOf = argMap(spec.inputs, spec.outputs);
  const d = spec.dot.outputs[0];
  const lay = emitDot(f, st, spec.dot, (v) => argOf(v, false));
  let ext: Var = d;
  let eqns = spec.epilogue;
  let outputs = spec.outputs;
  let loopShape = d.aval.shape;
  if (eqns.length === 0) {
    // No epilogue: compact C's rows into the output, seen as [rows, N].
    ext = { ...d, aval: { ...d.aval, shape: [lay.Bt * lay.M, lay.N] } } as Var;
    outputs = spec.outputs.map((v) => (v.id === d.id ? ext : v));
    loopShape = ext.aval.shape;
  }
  f.comment("epilogue: per output row, from C");
  const loop = emitLoop(f, m, st, {
    eqns, inputs: spec.inputs, outputs, loopShape,
    argOf: (v, out) => argOf(v, out),
    ext: { v: ext, offset: lay.c, rowStride: lay.Np },
  });
  m.addFunc(f, "run");
  return finish(spec.fnName, m, st, [...lay.ins, ...loop.ins], loop.outs, [`matmul then ${eqns.length ? `its ${eqns.length}-op epilogue` : "a copy of C's rows"}`]);
}

/** Compiled WASM kernel functions, keyed by their listing (which names nothing by var id, so a retrace hits). */
const cache = new Map<string, KernelFn>();
/** Distinct kernels kept; the least recently compiled-against beyond it are dropped (executables holding one keep it). */
export const MAX_CACHED_KERNELS = 512;
export function wasmKernelFn(k: WasmKernel): KernelFn {
  let fn = cache.get(k.text);
  if (fn) {
    cache.delete(k.text);
  } else {
    fn = k.make();
    if (cache.size >= MAX_CACHED_KERNELS) {
      const [oldKey, oldFn] = cache.entries().next().value as [string, KernelFn & { release?: () => void }];
      cache.delete(oldKey);
      oldFn.release?.(); // its memory goes; an executable still holding it gets a fresh one on its next call
    }
  }
  cache.set(k.text, fn);
  return fn;
}
