// WGSL row kernels: a reduction fused with the elementwise work before and after it (softmax,
// layer norm, mean and variance, column sums, a full sum of a computed value), and a matmul's
// elementwise epilogue. The schedule is codegen/row.ts's (analyzeRow and rowSchedule): the
// row space, its outer (kept) and inner (reduced) index, the views through which every value
// is read, the phases (inner loops) and which row-level values a later phase needs.
//
// Mapping to the GPU:
// - T threads per row (T = 256, or the power of two >= the row length when rows are short, so
//   one workgroup holds 256 / T rows); the workgroups walk the rows grid-stride (few
//   workgroups on SwiftShader, many on a GPU).
// - Each phase is a strided loop of the row's T threads over the inner index: the thread
//   computes its elements' values, accumulates the phase's reductions in registers and writes
//   the row-level outputs of the phase. Then each reduction of the phase is combined across
//   the T threads: a pairwise tree in workgroup memory (several reductions share the
//   barriers), or, with the `subgroups` feature on the device and one row per workgroup, a
//   butterfly of subgroupShuffleXor in each subgroup and a short tree over the subgroups'
//   results. Every thread of the row then reads the result (it is outer-level).
// - Outer-level values (one per row: a reduction's result and what is computed from it) are
//   computed by every thread of the row (registers, no memory traffic); outer-level outputs are
//   written by the row's first thread.
// - Column mode: when no row-level read is contiguous along the row but one is contiguous across
//   rows (a reduction over a leading axis: column sums, z-scores of columns) and there are >= 32
//   rows, each thread takes one row and loops over it sequentially: coalesced reads, no barriers.
// - A row-level value a later phase needs is kept in workgroup memory when the scratch rows
//   fit in the device's workgroup storage (maxComputeWorkgroupStorageSize, with the reduction
//   arrays): a thread keeps exactly the elements it computed, so no barrier is needed for them.
//   Longer rows recompute the value (row.ts's rule, with the GPU's limit).
// - Reductions use the monoids of the standalone WGSL reductions (NaN propagates through
//   max/min; bool sum is or, prod is and); float sums accumulate in float32: a sequential
//   partial per thread (row length / T elements; compensated with two-sum when longer than 8)
//   and then a pairwise tree.
import type { Atom } from "../ir/types";
import { analyzeRow, rowSchedule, RowFusionError, type RowKernelSpec, type RowNode, type RowAnalysis } from "./row";
import { bindings, litText, storageType, wgslIdent, wgslOpExpr, WgslUnsupported, type WgslKernel, type WgslOptions } from "./wgsl";
import { monoid } from "./wgsl_ops";
import { helperCode } from "./wgsl_math";
import { rowStrides } from "./js";

/** A fused kernel the WGSL generator does not do (the runtime then runs the plan kernel unfused). */
export class WgslNoFusion extends WgslUnsupported {}

export interface WgslRowOptions extends WgslOptions {
  /** maxComputeWorkgroupStorageSize of the device (default 16384, WebGPU's default limit). */
  workgroupStorage?: number;
  /** Use subgroup operations for the reductions (the device must have the `subgroups` feature enabled). */
  subgroups?: boolean;
}

const nextPow2 = (n: number): number => { let p = 1; while (p < n) p *= 2; return p; };

/** Names, index expressions and value statements of a row kernel's nodes (shared by the row kernel and the matmul epilogue). */
class RowEmitter {
  readonly helpers = new Set<string>();
  private used = new Set<string>();
  private names = new Map<RowNode, string>();
  readonly inBuf = new Map<number, string>();
  readonly outBuf = new Map<number, string>();
  readonly S: readonly number[];
  readonly outerDims: number[];
  readonly innerDims: number[];
  needOuterCoords = false;
  needInnerCoords = false;

  constructor(readonly spec: RowKernelSpec, readonly an: RowAnalysis, reserved: string[]) {
    for (const r of reserved) this.used.add(r);
    this.S = spec.space.shape;
    this.outerDims = an.outer.filter((d) => this.S[d] !== 1);
    this.innerDims = an.inner.filter((d) => this.S[d] !== 1);
    for (const v of spec.inputs) this.inBuf.set(v.id, this.fresh(`in_${wgslIdent(spec.name(v))}`));
    for (const v of spec.outputs) this.outBuf.set(v.id, this.fresh(`out_${wgslIdent(spec.name(v))}`));
    for (const n of an.nodes) this.names.set(n, this.fresh(`v_${wgslIdent(spec.name(n.v))}`));
  }

  fresh(stem: string): string {
    let name = stem;
    for (let k = 1; this.used.has(name); k++) name = `${stem}_${k}`;
    this.used.add(name);
    return name;
  }

  nm(n: RowNode): string { return this.names.get(n)!; }

  /** The inner dims as one stride when they line up row-major (null: coordinates needed). */
  private collapsible(strides: readonly number[]): number | null {
    const dims = this.innerDims;
    if (dims.length === 0) return 0;
    for (let k = 0; k + 1 < dims.length; k++) if (strides[dims[k]] !== strides[dims[k + 1]] * this.S[dims[k + 1]]) return null;
    return strides[dims[dims.length - 1]];
  }

  /** u32 index of an access with `strides` per dim of S, from the outer index `o` and the inner index `r`. */
  index(strides: readonly number[]): string {
    const terms: string[] = [];
    const od = this.outerDims;
    if (od.length === 1) {
      const s = strides[od[0]];
      if (s) terms.push(s === 1 ? "o" : `o * ${s}u`);
    } else {
      for (const d of od) {
        if (!strides[d]) continue;
        this.needOuterCoords = true;
        terms.push(strides[d] === 1 ? `c${d}` : `c${d} * ${strides[d]}u`);
      }
    }
    const st = this.collapsible(strides);
    if (st !== null) {
      if (st) terms.push(st === 1 ? "r" : `r * ${st}u`);
    } else {
      this.needInnerCoords = true;
      for (const d of this.innerDims) if (strides[d]) terms.push(strides[d] === 1 ? `q${d}` : `q${d} * ${strides[d]}u`);
    }
    return terms.join(" + ") || "0u";
  }

  outerCoords(): string[] {
    const lines: string[] = [];
    if (!this.needOuterCoords) return lines;
    const od = this.outerDims;
    let s = 1;
    for (let k = od.length - 1; k >= 0; k--) {
      const d = od[k];
      const q = s === 1 ? "o" : `(o / ${s}u)`;
      lines.push(k === 0 ? `let c${d} = ${q};` : `let c${d} = ${q} % ${this.S[d]}u;`);
      s *= this.S[d];
    }
    return lines;
  }

  innerCoords(): string[] {
    const lines: string[] = [];
    if (!this.needInnerCoords) return lines;
    const id = this.innerDims;
    let s = 1;
    for (let k = id.length - 1; k >= 0; k--) {
      const d = id[k];
      const q = s === 1 ? "r" : `(r / ${s}u)`;
      lines.push(k === 0 ? `let q${d} = ${q};` : `let q${d} = ${q} % ${this.S[d]}u;`);
      s *= this.S[d];
    }
    return lines;
  }

  /** The statement(s) computing node n (a read, the external value or an op) into `lines`. */
  emit(lines: string[], n: RowNode, ext?: string): void {
    const name = this.nm(n);
    if (n.type === "read") {
      lines.push(`let ${name} = ${this.inBuf.get(n.v.id)}[${this.index(n.strides!)}];`);
      return;
    }
    if (n.type === "ext") {
      if (!ext) throw new WgslNoFusion("the row kernel reads an external value it was not given");
      lines.push(`let ${name} = ${ext};`);
      return;
    }
    if (n.type === "red") throw new Error("internal: a reduction's result is not an elementwise value");
    const e = n.eqn!;
    const args = n.args!.map((a, k) => (typeof a === "string" ? litText(e.inputs[k] as Atom & { kind: "lit" }, this.helpers) : this.nm(a)));
    if (e.prim === "broadcast_in_dim") { lines.push(`let ${name} = ${args[0]};`); return; }
    const aux = (expr: string): string => {
      const t = this.fresh(`${name}_t`);
      lines.push(`let ${t} = ${expr};`);
      return t;
    };
    const expr = wgslOpExpr(e, args, this.helpers, aux);
    lines.push(`let ${name} = ${expr}; // ${e.prim}`);
  }
}

const ind = (lines: string[], depth: number): string[] => lines.map((l) => "  ".repeat(depth) + l);

/** A fused row kernel (reductions with their elementwise producers and consumers) in WGSL. */
export function generateWgslRow(spec: RowKernelSpec & { header?: string }, opts: WgslRowOptions = {}): WgslKernel {
  let an: RowAnalysis;
  try { an = analyzeRow(spec); } catch (e) {
    if (e instanceof RowFusionError) throw new WgslNoFusion(`the row kernel cannot be scheduled: ${e.message}`);
    throw e;
  }
  if (spec.external) throw new WgslNoFusion("a row kernel with an external value is a matmul epilogue");
  for (const v of [...spec.inputs, ...spec.outputs]) storageType(v.aval.dtype);
  const { nOuter, nInner, loops: L, nodes } = an;
  const maxWg = Math.min(opts.workgroupSize ?? 256, 256);
  // Column mode: when the rows are strided in memory and neighbouring rows are adjacent (a
  // reduction over a leading axis), a thread per row reads coalesced and needs no barrier.
  const S0 = spec.space.shape;
  const lastInner = [...an.inner].reverse().find((d) => S0[d] !== 1);
  const lastOuter = [...an.outer].reverse().find((d) => S0[d] !== 1);
  const rowReads = nodes.filter((n) => n.type === "read" && n.row);
  const innerUnit = rowReads.some((n) => lastInner !== undefined && n.strides![lastInner] === 1);
  const outerUnit = rowReads.some((n) => lastOuter !== undefined && n.strides![lastOuter] === 1);
  const column = !innerUnit && outerUnit && nOuter >= 32;
  const T = column ? 1 : Math.min(maxWg, nextPow2(Math.max(1, nInner)));
  const RPW = Math.max(1, Math.min(maxWg / T, nextPow2(nOuter)));
  const WG = T * RPW;
  const reds = nodes.filter((n) => n.type === "red");
  const storage = opts.workgroupStorage ?? 16384;
  const partBytes = T > 1 ? reds.length * WG * 4 : 0;
  if (partBytes > storage) throw new WgslNoFusion(`${reds.length} reductions need ${partBytes} bytes of workgroup memory, more than the device's ${storage}`);
  // Scratch rows in workgroup memory when they fit, else recompute.
  let sched = rowSchedule(spec, an, true);
  const scratchBytes = sched.loaded.size * RPW * nInner * 4;
  if (sched.loaded.size && partBytes + scratchBytes > storage) sched = rowSchedule(spec, an, false);
  const { sinks, closure, firstLoop, loaded, isLeafIn } = sched;
  const useSubgroups = !!opts.subgroups && RPW === 1 && T >= 32 && reds.length > 0;

  const em = new RowEmitter(spec, an, ["o", "r", "t", "g", "lid", "wid", "nwg", "ok", "s", "slot", "sgs", "sgl"]);
  const S = em.S;
  const outNode = new Map<number, RowNode>(spec.outputs.map((v, k) => [v.id, an.outputs[k]]));
  const rowOuts = spec.outputs.filter((v) => outNode.get(v.id)!.row);
  const scratch = new Map<RowNode, string>();
  for (const n of loaded) scratch.set(n, em.fresh(`row_${em.nm(n)}`));
  const part = new Map<RowNode, string>();
  if (T > 1) for (const n of reds) part.set(n, em.fresh(`part_${em.nm(n)}`));
  const mono = new Map(reds.map((n) => [n, monoid(n.eqn!.prim, n.v.aval.dtype, em.helpers)]));
  const ragged = nOuter % RPW !== 0;
  const wr = (cond: string) => (ragged ? `if (ok${cond ? ` && ${cond}` : ""}) ` : cond ? `if (${cond}) ` : "");

  const body: string[] = [];
  const done = new Set<RowNode>();
  const emitOuter = (phase: number) => {
    for (const n of nodes) {
      if (n.row || done.has(n) || n.phase !== phase || n.type === "red") continue;
      done.add(n);
      em.emit(body, n);
    }
  };
  const tree = (accs: RowNode[]): string[] => {
    const lines: string[] = [];
    const arr = (n: RowNode) => part.get(n)!;
    if (T === 1) {
      for (const n of accs) lines.push(`let ${em.nm(n)} = acc_${em.nm(n)}; // ${n.eqn!.prim}`);
      return lines;
    }
    if (useSubgroups) {
      // One row per workgroup: a butterfly in each subgroup, then the subgroups' results in order.
      lines.push(`for (var m = sgs >> 1u; m > 0u; m = m >> 1u) {`);
      for (const n of accs) lines.push(`  acc_${em.nm(n)} = ${mono.get(n)!.op(`acc_${em.nm(n)}`, `subgroupShuffleXor(acc_${em.nm(n)}, m)`)};`);
      lines.push(`}`);
      lines.push(`if (sgl == 0u) {`);
      for (const n of accs) lines.push(`  ${arr(n)}[lid / sgs] = acc_${em.nm(n)};`);
      lines.push(`}`);
      lines.push(`workgroupBarrier();`);
      lines.push(`if (lid == 0u) {`);
      lines.push(`  for (var k = 1u; k < ${WG}u / sgs; k = k + 1u) {`);
      for (const n of accs) lines.push(`    ${arr(n)}[0] = ${mono.get(n)!.op(`${arr(n)}[0]`, `${arr(n)}[k]`)};`);
      lines.push(`  }`);
      lines.push(`}`);
      lines.push(`workgroupBarrier();`);
      for (const n of accs) lines.push(`let ${em.nm(n)} = ${arr(n)}[0]; // ${n.eqn!.prim}`);
      return lines;
    }
    for (const n of accs) lines.push(`${arr(n)}[lid] = acc_${em.nm(n)};`);
    lines.push(`workgroupBarrier();`);
    if (T > 1) {
      lines.push(`for (var s = ${T / 2}u; s > 0u; s = s >> 1u) {`);
      lines.push(`  if (t < s) {`);
      for (const n of accs) lines.push(`    ${arr(n)}[lid] = ${mono.get(n)!.op(`${arr(n)}[lid]`, `${arr(n)}[lid + s]`)};`);
      lines.push(`  }`);
      lines.push(`  workgroupBarrier();`);
      lines.push(`}`);
    }
    const at = RPW > 1 ? `slot * ${T}u` : "0u";
    for (const n of accs) lines.push(`let ${em.nm(n)} = ${arr(n)}[${at}]; // ${n.eqn!.prim}`);
    return lines;
  };

  for (let p = 0; p < L; p++) {
    emitOuter(p);
    const accs = reds.filter((n) => n.deps[0].phase === p);
    for (const n of accs) body.push(`var acc_${em.nm(n)}: ${storageType(n.v.aval.dtype)} = ${mono.get(n)!.init};`);
    // Long sequential partials of float sums are compensated (two-sum); the error term is dropped
    // when it is NaN (an infinite partial).
    const comp = accs.filter((n) => n.eqn!.prim === "reduce_sum" && n.v.aval.dtype === "f32" && Math.ceil(nInner / T) > 8);
    if (comp.length) { em.helpers.add("jl_twoprod"); em.helpers.add("jl_isnan"); }
    for (const n of comp) body.push(`var cmp_${em.nm(n)} = 0.0;`);
    const leaf = isLeafIn(p);
    const need = closure(sinks[p], leaf);
    for (const n of loaded) if (firstLoop.get(n) === p) for (const m of closure([n], leaf)) need.add(m);
    const loop: string[] = [];
    const sIdx = RPW > 1 ? `slot * ${nInner}u + r` : "r";
    for (const n of nodes) {
      if (!need.has(n)) continue;
      if (leaf(n)) { loop.push(`let ${em.nm(n)} = ${scratch.get(n)}[${sIdx}];`); continue; }
      em.emit(loop, n);
      const s = scratch.get(n);
      if (s && firstLoop.get(n) === p) loop.push(`${s}[${sIdx}] = ${em.nm(n)};`);
    }
    for (const n of accs) {
      if (comp.includes(n)) loop.push(`{ let ts = jl_twosum(acc_${em.nm(n)}, ${em.nm(n.deps[0])}); acc_${em.nm(n)} = ts.x; cmp_${em.nm(n)} = cmp_${em.nm(n)} + ts.y; }`);
      else loop.push(`acc_${em.nm(n)} = ${mono.get(n)!.op(`acc_${em.nm(n)}`, em.nm(n.deps[0]))};`);
    }
    for (const v of rowOuts) {
      const n = outNode.get(v.id)!;
      if (n.phase !== p) continue;
      loop.push(`${wr("")}{ ${em.outBuf.get(v.id)}[${em.index(rowStrides(S))}] = ${em.nm(n)}; }`);
    }
    em.needInnerCoords = em.needInnerCoords; // set by the index() calls above
    body.push(`for (var r = t; r < ${nInner}u; r = r + ${T}u) {`);
    body.push(...ind([...em.innerCoords(), ...loop], 1));
    body.push(`}`);
    for (const n of comp) body.push(`if (!jl_isnan(cmp_${em.nm(n)})) { acc_${em.nm(n)} = acc_${em.nm(n)} + cmp_${em.nm(n)}; }`);
    if (accs.length) body.push(...tree(accs));
  }
  emitOuter(L);
  for (const v of spec.outputs) {
    const n = outNode.get(v.id)!;
    if (n.row) continue;
    body.push(`${wr("t == 0u")}{ ${em.outBuf.get(v.id)}[o] = ${em.nm(n)}; }`);
  }
  // The next row group reuses the reduction arrays: everyone must have read them.
  if (reds.length && T > 1) body.push("workgroupBarrier();");

  const NG = Math.ceil(nOuter / RPW);
  const maxGroups = Math.min(opts.maxWorkgroups ?? 4096, opts.maxPerDimension ?? 65535);
  const groups = Math.max(1, Math.min(NG, maxGroups));
  const decls: string[] = [];
  for (const n of reds) if (T > 1) decls.push(`var<workgroup> ${part.get(n)}: array<${storageType(n.v.aval.dtype)}, ${WG}>;`);
  for (const [n, s] of scratch) decls.push(`var<workgroup> ${s}: array<${storageType(n.v.aval.dtype)}, ${RPW * nInner}>;`);
  const builtins = [
    "@builtin(workgroup_id) wid: vec3<u32>", "@builtin(num_workgroups) nwg: vec3<u32>", "@builtin(local_invocation_index) lid: u32",
    ...(useSubgroups ? ["@builtin(subgroup_size) sgs: u32", "@builtin(subgroup_invocation_id) sgl: u32"] : []),
  ];
  const main: string[] = [
    `@compute @workgroup_size(${WG})`,
    `fn main(${builtins.join(", ")}) {`,
    ...(T === 1 ? ["  let slot = lid;", "  let t = 0u;"] : RPW > 1 ? [`  let slot = lid / ${T}u;`, `  let t = lid % ${T}u;`] : ["  let t = lid;"]),
    `  for (var g = wid.x; g < ${NG}u; g = g + nwg.x) {`,
    ...(RPW > 1
      ? (ragged ? [`    let ok = g * ${RPW}u + slot < ${nOuter}u;`, `    let o = min(g * ${RPW}u + slot, ${nOuter - 1}u);`] : [`    let o = g * ${RPW}u + slot;`])
      : ["    let o = g;"]),
    ...ind(em.outerCoords(), 2),
    ...ind(body, 2),
    "  }",
    "}",
  ];
  const lines: string[] = [];
  if (spec.header) lines.push(spec.header);
  if (useSubgroups) lines.push("enable subgroups;");
  const bind = bindings(
    spec.inputs.map((v) => ({ name: em.inBuf.get(v.id)!, dtype: v.aval.dtype })),
    spec.outputs.map((v) => ({ name: em.outBuf.get(v.id)!, dtype: v.aval.dtype })),
  );
  const code = [...lines, helperCode(em.helpers), bind, decls.join("\n"), main.join("\n")].filter(Boolean).join("\n\n") + "\n";
  return {
    code,
    inputs: [...spec.inputs],
    outputs: [...spec.outputs],
    scratch: [],
    dispatches: nOuter === 0 ? [] : [{ entry: "main", workgroups: [groups, 1, 1] }],
  };
}

/** A matmul epilogue in WGSL: statements that compute and write the epilogue's outputs for one element of the dot's output. */
export interface WgslEpilogue {
  helpers: Set<string>;
  /** Buffer name of each input var the epilogue reads (the dot's own operands may be among them). */
  inBuf: Map<number, string>;
  outBuf: Map<number, string>;
  /** Statements for the element at outer index `o` (rows of the dot's output), inner index `r` (its column), value `acc`. */
  store: (acc: string, o: string, r: string) => string[];
}

/**
 * The epilogue of a matmul kernel: spec.external is the dot's result, the row space its output
 * shape with the last axis as the row. Names given in `reserved` are not used.
 */
export function wgslDotEpilogue(spec: RowKernelSpec, reserved: string[]): WgslEpilogue {
  let an: RowAnalysis;
  try { an = analyzeRow(spec); } catch (e) {
    if (e instanceof RowFusionError) throw new WgslNoFusion(`the matmul epilogue cannot be scheduled: ${e.message}`);
    throw e;
  }
  if (an.nodes.some((n) => n.type === "red")) throw new WgslNoFusion("a matmul epilogue with a reduction");
  const em = new RowEmitter(spec, an, [...reserved, "o", "r", "ep_o", "ep_r"]);
  const S = em.S;
  const outNode = new Map<number, RowNode>(spec.outputs.map((v, k) => [v.id, an.outputs[k]]));
  const store = (acc: string, o: string, r: string): string[] => {
    const lines: string[] = [];
    for (const n of an.nodes) em.emit(lines, n, acc);
    const writes: string[] = [];
    for (const v of spec.outputs) {
      const n = outNode.get(v.id)!;
      if (n.row) writes.push(`${em.outBuf.get(v.id)}[${em.index(rowStrides(S))}] = ${em.nm(n)};`);
      else writes.push(`if (r == 0u) { ${em.outBuf.get(v.id)}[o] = ${em.nm(n)}; }`);
    }
    return [`let o = ${o};`, `let r = ${r};`, ...em.outerCoords(), ...em.innerCoords(), ...lines, ...writes];
  };
  store("acc", "0u", "0u"); // a first pass sets the coordinate flags
  return { helpers: em.helpers, inBuf: em.inBuf, outBuf: em.outBuf, store };
}

