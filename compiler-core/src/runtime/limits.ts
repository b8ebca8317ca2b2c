// The host-memory guard for runs: before any input is drawn or any buffer allocated, the
// memory a run needs (its inputs, constants, the peak of the intermediates an eager run keeps
// alive, and a second copy of the outputs for the eager/compiled cross-check) is computed from
// the jaxpr's types alone and compared with a limit. Past it the run is refused with the
// numbers: `f32[100000,100000] needs 37.3 GiB; the limit is 11.8 GiB (half of this machine's
// 23.5 GiB of memory; set JITLENS_MEMORY_LIMIT to change it)`. Tracing alone allocates nothing
// and is never refused. (The WebGPU backend has its own device-memory guard: webgpu/device.ts.)
import os from "node:os";
import { JitError } from "../frontend/source";
import { formatBytes } from "../format";
import { subJaxprs } from "../ir/primitives";
import { itemBytes, size, typeString, type Aval, type Jaxpr } from "../ir/types";
import type { Span } from "../report";

export interface MemoryLimit {
  bytes: number;
  /** Where the limit comes from, for messages. */
  source: string;
}

/** The largest element count of one typed array in this JavaScript engine (V8: 2**32 - 1 here). */
export const MAX_ELEMENTS = 2 ** 32 - 1;

/** `8GiB`, `512 MiB`, `2e9` (bytes) -> bytes; undefined when not a positive size. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*([\d.]+(?:e\d+)?)\s*(b|kib|kb|k|mib|mb|m|gib|gb|g|tib|tb|t)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? "b").toLowerCase();
  const scale = unit.startsWith("t") ? 2 ** 40 : unit.startsWith("g") ? 2 ** 30 : unit.startsWith("m") ? 2 ** 20 : unit.startsWith("k") ? 2 ** 10 : 1;
  const bytes = Math.floor(n * scale);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

/** The limit: JITLENS_MEMORY_LIMIT when set (e.g. `8GiB`), else half of this machine's memory. */
export function memoryLimit(env: NodeJS.ProcessEnv = process.env): MemoryLimit {
  const set = env.JITLENS_MEMORY_LIMIT;
  const parsed = set !== undefined ? parseBytes(set) : undefined;
  if (parsed !== undefined) return { bytes: parsed, source: `set by JITLENS_MEMORY_LIMIT=${set}` };
  const total = os.totalmem();
  return { bytes: Math.floor(total / 2), source: `half of this machine's ${formatBytes(total)} of memory; set JITLENS_MEMORY_LIMIT (e.g. 8GiB) to change it` };
}

export interface MemoryNeed {
  /** Bytes a run holds at its peak (see the file comment). */
  bytes: number;
  /** The largest single array of the run. */
  largest: { aval: Aval; bytes: number; elements: number; span?: Span } | undefined;
}

const bytesOf = (a: Aval) => size(a.shape) * itemBytes[a.dtype];

/** Peak live bytes of walking `jaxpr` equation by equation (each value freed after its last use). */
function peak(jaxpr: Jaxpr, note: (a: Aval, span?: Span) => void): { peak: number; held: number } {
  const lastUse = new Map<number, number>();
  jaxpr.eqns.forEach((e, i) => e.inputs.forEach((a) => { if (a.kind === "var") lastUse.set(a.id, i); }));
  const outs = new Set(jaxpr.outvars.flatMap((a) => (a.kind === "var" ? [a.id] : [])));
  const sizes = new Map<number, number>();
  let live = 0;
  for (const v of [...jaxpr.invars, ...jaxpr.constvars]) { note(v.aval); live += bytesOf(v.aval); }
  const held = live;
  let top = live;
  jaxpr.eqns.forEach((e, i) => {
    let inner = 0;
    for (const sub of subJaxprs(e.prim, e.params)) {
      // A sub-jaxpr's own inputs are the equation's operands (already counted): only its intermediates add.
      const p = peak(sub, note);
      inner = Math.max(inner, p.peak - p.held);
    }
    for (const o of e.outputs) { note(o.aval, e.span); const b = bytesOf(o.aval); sizes.set(o.id, b); live += b; }
    top = Math.max(top, live + inner);
    for (const a of e.inputs) {
      if (a.kind === "var" && lastUse.get(a.id) === i && !outs.has(a.id) && sizes.has(a.id)) { live -= sizes.get(a.id)!; sizes.delete(a.id); }
    }
    // Results nobody reads are dropped at once.
    for (const o of e.outputs) if (!lastUse.has(o.id) && !outs.has(o.id)) { live -= sizes.get(o.id) ?? 0; sizes.delete(o.id); }
  });
  return { peak: top, held };
}

/** What running `jaxpr` (eager and compiled, outputs cross-checked) needs in host memory. */
export function runMemoryNeed(jaxpr: Jaxpr): MemoryNeed {
  let largest: MemoryNeed["largest"];
  const note = (a: Aval, span?: Span) => {
    const b = bytesOf(a);
    if (!largest || b > largest.bytes) largest = { aval: a, bytes: b, elements: size(a.shape), span };
  };
  const p = peak(jaxpr, note);
  const outputs = jaxpr.outvars.reduce((s, a) => s + (a.kind === "var" ? bytesOf(a.aval) : 0), 0);
  return { bytes: p.peak + outputs, largest };
}

/** Refuses a run that would not fit, before anything is allocated: a ResourceError with the numbers. */
/** `at`: where to point when the largest array is an input (the def). */
export function checkRunMemory(jaxpr: Jaxpr, at?: Span, limit: MemoryLimit = memoryLimit()): void {
  const need = runMemoryNeed(jaxpr);
  const big = need.largest;
  if (need.bytes > limit.bytes) {
    const what = big && big.bytes * 4 >= need.bytes ? `${typeString(big.aval)} needs ${formatBytes(big.bytes)} (the run ${formatBytes(need.bytes)} in all)` : `the run needs ${formatBytes(need.bytes)} of memory${big ? ` (its largest array, ${typeString(big.aval)}, ${formatBytes(big.bytes)})` : ""}`;
    throw new JitError("ResourceError", `${what}; the limit is ${formatBytes(limit.bytes)} (${limit.source})`, big?.span ?? at);
  }
  if (big && big.elements > MAX_ELEMENTS) {
    throw new JitError("ResourceError", `${typeString(big.aval)} has ${big.elements.toLocaleString("en-US")} elements; one JavaScript array holds at most ${MAX_ELEMENTS.toLocaleString("en-US")} (trace only, or use smaller shapes)`, big.span ?? at);
  }
}
