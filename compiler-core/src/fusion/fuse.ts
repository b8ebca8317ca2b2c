// The fusion plan: which equations of a jaxpr run together in one kernel, which buffers
// each kernel reads and writes, and why each kernel ends where it ends.
//
// Loop fusion, in two steps:
// 1. Producer into consumer: walking the equations backwards, an elementwise equation (or
//    broadcast_in_dim) joins the kernel of its consumers when they all sit in one loop
//    kernel, so its result stays in a register. A result that is a function output joins
//    only if it has the loop's shape (it is written from inside the loop).
// 2. Siblings: loop kernels with the same loop shape merge (multi-output fusion) unless the
//    merge would make the kernel graph cyclic.
// Every other equation (reductions, dot_general, data movement, gather, scatter) gets a
// kernel of its own for now, and elementwise producers are not fused into it: its reason
// says which kind of boundary it is. Reshape and squeeze are bitcasts when compiled (XLA
// reuses the buffer): their kernel is a view, nothing runs. Equations nobody uses are
// dropped, as jit does. Control flow (cond, while, scan) is a kernel of its own that the
// runtime drives from the host over its sub-jaxprs' own plans; nested jit calls are inlined
// first (inlineCalls), as XLA inlines calls.
import type { Atom, Eqn, Jaxpr, Var } from "../ir/types";
import { typeString } from "../ir/types";
import { isElementwise, isReduction, type Params, type Prim } from "../ir/primitives";
import { JaxprBuilder } from "../trace/builder";
import { isBitcast } from "../codegen/ops";
import { isRowReduction, rowFusible, type RowSpace } from "../codegen/row";
import { isIndexLoopOp } from "../codegen/js";

export interface KernelPlan {
  /** elementwise | broadcast | reduction | matmul | gather | scatter | copy */
  kind: string;
  /** Indices into jaxpr.eqns, ascending. */
  eqns: number[];
  /** Buffers the kernel reads: vars its equations use but do not produce (first use first). */
  inputs: Var[];
  /** Buffers the kernel writes: results used after it or returned. */
  outputs: Var[];
  /** The shape the kernel loops over (every output has it). */
  loopShape: number[];
  /** Why the kernel ends here. */
  reason: string;
  /** A reshape/squeeze whose output is its input's buffer: nothing runs, no bytes move. */
  view?: boolean;
  /** Reduction and row-wise kernels: the row space (shape and reduced axes) the kernel loops over. */
  row?: RowSpace;
  /** Matmul kernels: the index (into eqns) of the dot_general; the other eqns are its epilogue over its output. */
  dot?: number;
}

export interface FusionPlan {
  /** Kernels in execution order; kernel i is named `kernel_i`. */
  kernels: KernelPlan[];
  /** Equations whose results are never used; they are not computed. */
  dead: number[];
}

/** Whether the loop codegen computes this equation (one output element from the same element of each input). */
export function isLoopOp(e: Eqn): boolean {
  return isElementwise(e.prim) || e.prim === "broadcast_in_dim" || isIndexLoopOp(e);
}

/** Loop ops that compute nothing: they only say where a value is read from. */
export function isDataMovement(e: Eqn): boolean {
  return e.prim === "broadcast_in_dim" || isIndexLoopOp(e);
}

/** The kind of kernel an equation that is not a loop op runs as. */
export function kernelKind(prim: Prim): "reduction" | "matmul" | "gather" | "scatter" | "copy" | "loop" | "cond" | "call" {
  if (prim === "scan" || prim === "while") return "loop";
  if (prim === "cond") return "cond";
  if (prim === "jit") return "call";
  if (isReduction(prim) || prim === "cumsum" || prim === "cumprod" || prim === "cummax" || prim === "cummin") return "reduction";
  if (prim === "dot_general") return "matmul";
  if (prim === "gather") return "gather";
  if (prim === "scatter" || prim === "scatter-add" || prim === "scatter-mul") return "scatter";
  return "copy";
}

/** Why a non-loop equation is a kernel of its own (compiled mode). */
function ownKernelReason(e: Eqn): string {
  switch (kernelKind(e.prim)) {
    case "reduction": return `reduction (${e.prim}): runs as its own kernel (row kernels fuse sum, max, min, prod, and, or; not argmax or the cumulative scans)`;
    case "matmul": return "matmul: dot_general runs as its own kernel (epilogues are fused for float outputs with one free rhs dimension)";
    case "gather": return "gather: reads at data-dependent indices; producers are not fused into it (they would be recomputed for every gathered element)";
    case "scatter": return `scatter (${e.prim}): copies the operand, then writes the updates at their indices`;
    case "copy": return `data movement (${e.prim}): a kernel of its own`;
    case "loop": return `${e.prim}: a loop the host drives over its body's kernels; nothing around it is fused into it`;
    case "cond": return "cond: the host picks a branch and runs that branch's kernels; nothing around it is fused into it";
    case "call": return "jit call: runs its own executable";
  }
}

const scratch = new JaxprBuilder();

/**
 * Inlines nested `jit` calls (recursively), as XLA inlines calls before fusing: the result
 * has no `jit` equations at its top level. `origin[i]` is the index, in the given jaxpr, of the
 * equation that equation i came from. A jaxpr inlined a second time gets fresh variables.
 */
export function inlineCalls(jaxpr: Jaxpr): { jaxpr: Jaxpr; origin: number[] } {
  if (!jaxpr.eqns.some((e) => e.prim === "jit")) return { jaxpr, origin: jaxpr.eqns.map((_, i) => i) };
  const eqns: Eqn[] = [];
  const origin: number[] = [];
  const constvars = [...jaxpr.constvars];
  const consts = [...jaxpr.consts];
  const inlined = new Set<Jaxpr>();
  const subst = new Map<number, Atom>();
  const read = (a: Atom): Atom => (a.kind === "var" ? subst.get(a.id) ?? a : a);
  const emit = (e: Eqn, top: number): void => {
    const inputs = e.inputs.map(read);
    if (e.prim !== "jit") {
      eqns.push({ ...e, inputs });
      origin.push(top);
      return;
    }
    const inner = (e.params as Params["jit"]).jaxpr;
    const clone = inlined.has(inner);
    inlined.add(inner);
    inner.invars.forEach((v, i) => subst.set(v.id, inputs[i]));
    inner.constvars.forEach((v, i) => {
      // Constants of the callee become constants of the caller.
      const c = clone ? scratch.newVar(v.aval) : v;
      subst.set(v.id, c);
      constvars.push(c);
      consts.push(inner.consts[i]);
    });
    for (const ie of inner.eqns) {
      if (clone) {
        const outputs = ie.outputs.map((o) => scratch.newVar(o.aval));
        ie.outputs.forEach((o, i) => subst.set(o.id, outputs[i]));
        emit({ ...ie, inputs: ie.inputs.map(read), outputs }, top);
      } else emit(ie, top);
    }
    e.outputs.forEach((o, i) => subst.set(o.id, read(inner.outvars[i])));
  };
  jaxpr.eqns.forEach((e, i) => emit(e, i));
  return { jaxpr: { ...jaxpr, constvars, consts, eqns, outvars: jaxpr.outvars.map(read) }, origin };
}

const shapeKey = (s: readonly number[]): string => s.join("x");
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

interface Group {
  eqns: number[];
  loop: boolean;
  loopShape: number[];
  alive: boolean;
  /** A reduction (row) group: its row space. */
  row?: RowSpace;
  /** A matmul group: its dot_general equation. */
  dot?: number;
  /** Ended early by the size limit. */
  cut?: boolean;
}

export interface FusionOptions {
  /** Most elementwise ops in one loop kernel (default MAX_LOOP_OPS). */
  maxLoopOps?: number;
}

/** V8 stops optimizing very large functions (here somewhere past 1,250 ops of a chain),
 *  and an unoptimized kernel is slower than the interpreter, so loop kernels are cut. */
export const MAX_LOOP_OPS = 500;

interface Graph {
  producer: Map<number, number>;
  consumers: Map<number, number[]>;
  outvars: Set<number>;
  live: boolean[];
}

function analyse(jaxpr: Jaxpr): Graph {
  const producer = new Map<number, number>();
  const consumers = new Map<number, number[]>();
  jaxpr.eqns.forEach((e, i) => {
    for (const o of e.outputs) producer.set(o.id, i);
    for (const x of e.inputs) {
      if (x.kind !== "var") continue;
      const list = consumers.get(x.id) ?? [];
      if (list[list.length - 1] !== i) list.push(i);
      consumers.set(x.id, list);
    }
  });
  const outvars = new Set<number>();
  for (const o of jaxpr.outvars) if (o.kind === "var") outvars.add(o.id);
  const live = new Array<boolean>(jaxpr.eqns.length).fill(false);
  const needed = new Set(outvars);
  for (let i = jaxpr.eqns.length - 1; i >= 0; i--) {
    const e = jaxpr.eqns[i];
    if (!e.outputs.some((o) => needed.has(o.id))) continue;
    live[i] = true;
    for (const x of e.inputs) if (x.kind === "var") needed.add(x.id);
  }
  return { producer, consumers, outvars, live };
}

/** Plan the fused (compiled) execution of a jaxpr. */
export function planFusion(jaxpr: Jaxpr, options: FusionOptions = {}): FusionPlan {
  const maxOps = Math.max(1, options.maxLoopOps ?? MAX_LOOP_OPS);
  const { eqns } = jaxpr;
  const g = analyse(jaxpr);
  const groups: Group[] = [];
  const groupOf = new Array<number>(eqns.length).fill(-1);
  const liveConsumers = (v: Var): number[] => (g.consumers.get(v.id) ?? []).filter((c) => g.live[c]);

  // 1. Producer-into-consumer fusion, last equation first.
  for (let i = eqns.length - 1; i >= 0; i--) {
    if (!g.live[i]) continue;
    const e = eqns[i];
    const out = e.outputs[0];
    if (isLoopOp(e) && e.outputs.length === 1) {
      const cg = new Set(liveConsumers(out).map((c) => groupOf[c]));
      if (cg.size === 1) {
        const t = [...cg][0];
        const target = groups[t];
        if (target.loop && (!g.outvars.has(out.id) || sameShape(out.aval.shape, target.loopShape))) {
          target.eqns.push(i);
          groupOf[i] = t;
          continue;
        }
      }
    }
    groupOf[i] = groups.length;
    groups.push({ eqns: [i], loop: isLoopOp(e), loopShape: [...(out?.aval.shape ?? [])], alive: true });
  }

  // Kernel-level edges, from the equations' uses.
  const successors = (gi: number): Set<number> => {
    const s = new Set<number>();
    for (const i of groups[gi].eqns) {
      for (const o of eqns[i].outputs) {
        for (const c of liveConsumers(o)) if (groupOf[c] !== gi) s.add(groupOf[c]);
      }
    }
    return s;
  };
  // Is there a path a -> ... -> b that passes through another kernel?
  const indirectPath = (a: number, b: number): boolean => {
    const seen = new Set<number>([a]);
    const stack = [...successors(a)].filter((x) => x !== b);
    while (stack.length) {
      const x = stack.pop()!;
      if (x === b) return true;
      if (seen.has(x)) continue;
      seen.add(x);
      for (const y of successors(x)) if (!seen.has(y)) stack.push(y);
    }
    return false;
  };
  const merge = (into: number, from: number) => {
    for (const i of groups[from].eqns) { groups[into].eqns.push(i); groupOf[i] = into; }
    groups[from].eqns = [];
    groups[from].alive = false;
  };

  // 2. Sibling fusion of loop kernels with one loop shape, first equations first.
  const order = groups.map((_, k) => k).sort((a, b) => Math.min(...groups[a].eqns) - Math.min(...groups[b].eqns));
  const anchors = new Map<string, number[]>();
  for (const k of order) {
    const grp = groups[k];
    if (!grp.loop) continue;
    const key = shapeKey(grp.loopShape);
    const list = anchors.get(key) ?? [];
    const into = list.find((a) => !indirectPath(a, k) && !indirectPath(k, a));
    if (into !== undefined) merge(into, k);
    else list.push(k);
    anchors.set(key, list);
  }

  // 3. Reduction fusion. A reduction starts a row group over its input's shape and reduced
  // axes; loop groups over that shape (its producers: input fusion; its consumers: the
  // row-wise epilogue) or over the kept shape, and other reductions of the same row space,
  // merge into it while the row codegen can index every value and the kernel graph stays
  // acyclic. A dot_general's loop consumers over its output shape become its epilogue.
  const names = (v: Var) => `v${v.id}`;
  const fits = (gi: number, extra: number): boolean => {
    const grp = groups[gi];
    const all = [...grp.eqns, ...groups[extra].eqns].sort((a, b) => a - b);
    const inKernel = new Set(all);
    const dotEqn = grp.dot;
    const eq = all.filter((i) => i !== dotEqn).map((i) => eqns[i]);
    const { inputs, outputs } = kernelBuffers(jaxpr, all, (o) => g.outvars.has(o.id) || liveConsumers(o).some((c) => !inKernel.has(c)));
    if (dotEqn !== undefined) {
      const d = eqns[dotEqn].outputs[0];
      const shape = d.aval.shape;
      if (shape.length === 0) return false;
      return rowFusible({
        fnName: "probe", eqns: eq, inputs: inputs.filter((v) => v.id !== d.id), outputs, name: names,
        space: { shape, axes: [shape.length - 1] }, external: d,
      });
    }
    return rowFusible({ fnName: "probe", eqns: eq, inputs, outputs, space: grp.row!, name: names });
  };
  for (let i = 0; i < eqns.length; i++) {
    const gi = groupOf[i];
    if (gi < 0 || !g.live[i]) continue;
    const e = eqns[i];
    const axes = isRowReduction(e) ? [...(e.params as { axes: number[] }).axes].sort((a, b) => a - b) : [];
    // A reduction over no elements but size-1 axes is a copy (its own kernel keeps -0 and NaN as they are).
    if (isRowReduction(e) && groups[gi].eqns.length === 1 && axes.some((d) => e.inputs[0].aval.shape[d] > 1)) {
      groups[gi].row = { shape: [...e.inputs[0].aval.shape], axes };
    }
    if (e.prim === "dot_general" && groups[gi].eqns.length === 1 && dotEpilogueOk(e)) groups[gi].dot = i;
  }
  const neighbours = (gi: number): number[] => {
    const out = new Set<number>(successors(gi));
    for (const i of groups[gi].eqns) {
      for (const x of eqns[i].inputs) {
        if (x.kind !== "var") continue;
        const pi = g.producer.get(x.id);
        if (pi !== undefined && groupOf[pi] !== gi && groupOf[pi] >= 0) out.add(groupOf[pi]);
      }
    }
    return [...out].filter((k) => groups[k].alive);
  };
  const rejected = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const k of groups.map((_, k) => k)) {
      const grp = groups[k];
      if (!grp.alive || (!grp.row && grp.dot === undefined)) continue;
      for (const n of neighbours(k)) {
        const other = groups[n];
        if (!other.alive || n === k) continue;
        let ok = false;
        if (grp.row) {
          ok = (other.loop && !other.cut) || (other.row !== undefined && sameShape(other.row.shape, grp.row.shape) &&
            sameShape(other.row.axes, grp.row.axes));
        } else {
          // Epilogue only: loop consumers of the matmul (producers stay out: they would be recomputed per use).
          ok = other.loop && successors(k).has(n);
        }
        if (!ok) continue;
        // Merges only add equations, so a (k, n) pair of unchanged sizes was probed already: a
        // rejected probe stays rejected, and the fixed-point loop does not ask rowFusible again.
        const probe = `${k}:${n}:${grp.eqns.length}:${other.eqns.length}`;
        if (rejected.has(probe) || indirectPath(k, n) || indirectPath(n, k)) continue;
        if (!fits(k, n)) { rejected.add(probe); continue; }
        merge(k, n);
        grp.loop = false;
        changed = true;
      }
    }
  }

  // 4. Cut loop kernels that are too large, in program order, where every value that
  // crosses the cut has the loop shape (so it can be written from the loop).
  for (let k = 0, n = groups.length; k < n; k++) {
    const grp = groups[k];
    const isOp = (i: number) => eqns[i].prim !== "broadcast_in_dim";
    if (!grp.alive || !grp.loop || grp.eqns.filter(isOp).length <= maxOps) continue;
    const sorted = [...grp.eqns].sort((a, b) => a - b);
    const chunks: number[][] = [];
    let chunk: number[] = [];
    let ops = 0;
    for (let p = 0; p < sorted.length; p++) {
      chunk.push(sorted[p]);
      if (isOp(sorted[p])) ops++;
      if (ops < maxOps || p === sorted.length - 1) continue;
      const later = (c: number) => groupOf[c] === k && c > sorted[p];
      const crossingOk = chunk.every((i) => eqns[i].outputs.every((o) =>
        sameShape(o.aval.shape, grp.loopShape) || !liveConsumers(o).some(later)));
      if (!crossingOk) continue;
      chunks.push(chunk);
      chunk = [];
      ops = 0;
    }
    if (chunk.length) chunks.push(chunk);
    if (chunks.length < 2) continue;
    grp.eqns = chunks[0];
    grp.cut = true;
    chunks.slice(1).forEach((c, j) => {
      const id = groups.length;
      groups.push({ eqns: c, loop: true, loopShape: grp.loopShape, alive: true, cut: j < chunks.length - 2 });
      for (const i of c) groupOf[i] = id;
    });
  }

  // Execution order: topological, earliest first equation first.
  const alive = groups.map((_, k) => k).filter((k) => groups[k].alive);
  for (const k of alive) groups[k].eqns.sort((a, b) => a - b);
  const indeg = new Map<number, number>(alive.map((k) => [k, 0]));
  const succ = new Map<number, Set<number>>(alive.map((k) => [k, successors(k)]));
  for (const k of alive) for (const s of succ.get(k)!) indeg.set(s, indeg.get(s)! + 1);
  const ready = alive.filter((k) => indeg.get(k) === 0);
  const sequence: number[] = [];
  while (ready.length) {
    ready.sort((a, b) => groups[a].eqns[0] - groups[b].eqns[0]);
    const k = ready.shift()!;
    sequence.push(k);
    for (const s of succ.get(k)!) {
      indeg.set(s, indeg.get(s)! - 1);
      if (indeg.get(s) === 0) ready.push(s);
    }
  }
  if (sequence.length !== alive.length) throw new Error("fusion produced a cyclic kernel graph");
  const kernelIndex = new Map(sequence.map((k, idx) => [k, idx]));

  /** Why the value `o` of group `k` is written to memory for the consumer group `x`. */
  const boundaryReason = (o: Var, k: number, x: number, nOthers: number): string => {
    const grp = groups[k], other = groups[x];
    const name = `kernel_${kernelIndex.get(x)}`;
    const oe = eqns[other.eqns[0]];
    const uses = liveConsumers(o).filter((c) => groupOf[c] === x).map((c) => eqns[c]);
    if (!other.loop && isBitcast(oe) && other.eqns.length === 1) return `consumer ${name} is a view (${oe.prim}) of this buffer`;
    if (uses.some((u) => u.prim === "dot_general")) return `matmul operand: ${name} reads it many times (once per output tile), so it is written once`;
    if (grp.dot !== undefined && other.row) return `consumer ${name} reduces the matmul's output; a matmul epilogue takes elementwise ops only`;
    if (other.row) {
      if (grp.row && sameShape(grp.row.shape, other.row.shape) && sameShape(grp.row.axes, other.row.axes)) return `merging with ${name} would form a cycle`;
      const u = uses[0];
      if (u && isRowReduction(u) && u.inputs[0].kind === "var" && u.inputs[0].id === o.id && grp.loop && !sameShape(grp.loopShape, other.row.shape)) {
        return `consumer ${name} reduces another shape: ${typeString({ ...o.aval, shape: other.row.shape })}`;
      }
      return `consumer ${name} is a row kernel over another row space (${typeString({ ...o.aval, shape: other.row.shape })}, axes (${other.row.axes.join(",")}))`;
    }
    if (!other.loop) {
      const kind = other.dot !== undefined ? "matmul" : kernelKind(oe.prim);
      if (uses.some((u) => u.prim === "gather")) return `gather operand: ${name} reads it at data-dependent indices`;
      return `consumer ${name} is a ${kind} kernel (${oe.prim}); elementwise producers are not fused into it`;
    }
    if (grp.row) return `consumer ${name} loops over a shape this row kernel cannot index: ${typeString({ ...o.aval, shape: other.loopShape })}`;
    if (grp.dot !== undefined) return `consumer ${name} is not elementwise over the matmul's output`;
    if (!sameShape(other.loopShape, grp.loopShape)) return `consumer ${name} loops over another shape: ${typeString({ ...o.aval, shape: other.loopShape })}`;
    if (grp.cut) return `size limit: ${name} continues this loop`;
    return nOthers === 1 ? `merging with ${name} would form a cycle` : `consumer ${name} is one of several`;
  };
  /** Whether equation i of a row group depends on one of the group's reductions (a row-wise epilogue). */
  const afterReduction = (grp: Group): boolean => {
    const reduced = new Set<number>();
    for (const i of grp.eqns) {
      const e = eqns[i];
      const fromRed = e.inputs.some((x) => x.kind === "var" && reduced.has(x.id));
      if (isRowReduction(e) || fromRed) for (const o of e.outputs) reduced.add(o.id);
      if (fromRed && !isRowReduction(e) && e.prim !== "broadcast_in_dim") return true;
    }
    return false;
  };

  const kernels = sequence.map((k): KernelPlan => {
    const grp = groups[k];
    const inKernel = new Set(grp.eqns);
    const { inputs, outputs } = kernelBuffers(jaxpr, grp.eqns, (o) =>
      g.outvars.has(o.id) || liveConsumers(o).some((c) => !inKernel.has(c)));
    const reasons: string[] = [];
    const first = eqns[grp.eqns[0]];
    const view = !grp.loop && isBitcast(first);
    const fused = grp.eqns.length;
    if (view) reasons.push(`view: ${first.prim} is a bitcast, the output is the input's buffer (nothing runs)`);
    else if (grp.row) {
      const reds = grp.eqns.filter((i) => isRowReduction(eqns[i]));
      const shape = typeString({ ...eqns[reds[0]].inputs[0].aval, shape: grp.row.shape });
      reasons.push(`row kernel: ${reds.length} reduction${reds.length > 1 ? "s" : ""} over axes (${grp.row.axes.join(",")}) of ${shape}` +
        (fused > reds.length ? ` with ${fused - reds.length} fused elementwise op${fused - reds.length > 1 ? "s" : ""}` : ""));
    } else if (grp.dot !== undefined) {
      reasons.push(fused > 1 ? `matmul with a fused epilogue of ${fused - 1} op${fused > 2 ? "s" : ""} applied to each output row in cache`
        : "matmul: dot_general (no elementwise consumer over its output to fuse as an epilogue)");
    } else if (!grp.loop) reasons.push(ownKernelReason(first));
    else if (fused === 1 && isIndexLoopOp(first)) reasons.push(`data movement (${first.prim}): nothing to fuse it with, a copy of its own`);
    if (grp.cut) reasons.push(`size limit: at most ${maxOps} ops per JavaScript kernel (V8 does not optimize much larger functions)`);
    for (const o of outputs) {
      if (g.outvars.has(o.id)) reasons.push("function output");
      const others = [...new Set(liveConsumers(o).filter((c) => !inKernel.has(c)).map((c) => groupOf[c]))];
      if (others.length > 1) {
        reasons.push(`several consumers: ${others.map((x) => `kernel_${kernelIndex.get(x)}`).join(", ")}`);
      }
      for (const x of others) reasons.push(boundaryReason(o, k, x, others.length));
    }
    const loopOps = grp.eqns.filter((i) => !isDataMovement(eqns[i])).length;
    const onlyBroadcast = grp.eqns.every((i) => eqns[i].prim === "broadcast_in_dim");
    const rowKind = grp.row ? (afterReduction(grp) ? "rowwise" : "reduction") : undefined;
    const plan: KernelPlan = {
      kind: rowKind ?? (grp.dot !== undefined ? "matmul" : !grp.loop ? kernelKind(first.prim) : loopOps > 0 ? "elementwise" : onlyBroadcast ? "broadcast" : "copy"),
      eqns: grp.eqns,
      inputs,
      outputs,
      loopShape: grp.row ? [...grp.row.shape] : grp.dot !== undefined ? [...eqns[grp.dot].outputs[0].aval.shape] : grp.loopShape,
      reason: [...new Set(reasons)].join("; "),
    };
    if (view) plan.view = true;
    if (grp.row) plan.row = grp.row;
    if (grp.dot !== undefined && grp.eqns.length > 1) plan.dot = grp.dot;
    return plan;
  });
  const dead = eqns.map((_, i) => i).filter((i) => !g.live[i]);
  return { kernels, dead };
}

/** The eager plan: one kernel per equation, every result materialised (JAX without jit). */
export function planEager(jaxpr: Jaxpr): FusionPlan {
  const kernels = jaxpr.eqns.map((e, i): KernelPlan => {
    const { inputs, outputs } = kernelBuffers(jaxpr, [i], () => true);
    return {
      kind: isLoopOp(e) ? (e.prim === "broadcast_in_dim" ? "broadcast" : isDataMovement(e) ? "copy" : "elementwise") : kernelKind(e.prim),
      eqns: [i],
      inputs,
      outputs,
      loopShape: [...(e.outputs[0]?.aval.shape ?? [])],
      reason: "eager: one kernel per primitive",
    };
  });
  return { kernels, dead: [] };
}

function kernelBuffers(jaxpr: Jaxpr, idx: number[], written: (o: Var) => boolean): { inputs: Var[]; outputs: Var[] } {
  const produced = new Set<number>();
  for (const i of idx) for (const o of jaxpr.eqns[i].outputs) produced.add(o.id);
  const inputs: Var[] = [];
  const seen = new Set<number>();
  const outputs: Var[] = [];
  for (const i of idx) {
    const e = jaxpr.eqns[i];
    for (const x of e.inputs) {
      if (x.kind !== "var" || produced.has(x.id) || seen.has(x.id)) continue;
      seen.add(x.id);
      inputs.push(x);
    }
    for (const o of e.outputs) if (written(o)) outputs.push(o);
  }
  return { inputs, outputs };
}

/** A dot_general whose output rows the matmul kernel can hand to an epilogue: float, one free rhs dim (the output's last). */
function dotEpilogueOk(e: Eqn): boolean {
  const dt = e.outputs[0].aval.dtype;
  if (dt !== "f32" && dt !== "f64") return false;
  const [[, cb], [, bb]] = (e.params as Params["dot_general"]).dimension_numbers;
  const bs = e.inputs[1].aval.shape;
  const freeB = bs.map((_, i) => i).filter((i) => !cb.includes(i) && !bb.includes(i));
  const out = e.outputs[0].aval.shape;
  return freeB.length === 1 && out.length > 0 && out[out.length - 1] > 1;
}
