// Row kernels: reductions fused with the elementwise work before and after them.
//
// A row kernel iterates over a *row space*: a shape S and the axes A of S that are reduced.
// The outer loop runs over the kept (outer) index of S, one row at a time; inside it, one or
// more loops run over the reduced (inner) index of the row. Every value of the kernel is
// seen through a view into S (as in codegen/js.ts: one entry per dimension of the value, the
// dimension of S that indexes it, -1 for size 1), so a value is either row-level (its view
// uses a reduced dimension: computed in an inner loop) or outer-level (one value per row).
//
// Phases: a reduction's result exists only after the loop that accumulates it, so a value
// that depends on a reduction (softmax's exp(x - max)) runs in a later inner loop. Each inner
// loop p computes what its sinks need: the reductions accumulated in it and the row-level
// outputs written in it. A row-level value computed in one loop and needed in a later one is
// kept in a row-sized scratch buffer (the row stays in cache: one read of the input), unless
// the row is too long, when it is recomputed. Outer-level values run between the loops.
//
// The same generator writes a matmul's epilogue: the dot's output shape is the row space
// with no reduced axes but the last as the inner loop, and the dot's accumulated row is an
// `external` value the caller supplies.
import type { Atom, DType, Eqn, Var } from "../ir/types";
import { isElementwise, isReduction } from "../ir/primitives";
import { HELPERS, jsIdent, literalValue, numberText, opExpr, operandView, rowStrides, type JsCodegenOptions } from "./js";
import { monoid, type DotEpilogue } from "./ops";

export interface RowSpace {
  /** The shape every row-level value is indexed by. */
  shape: readonly number[];
  /** The reduced (inner) axes of `shape`, ascending. */
  axes: readonly number[];
}

export interface RowKernelSpec {
  fnName: string;
  /** The kernel's equations in program order: elementwise ops, broadcast_in_dim and reductions over `space.axes` of `space.shape`. */
  eqns: readonly Eqn[];
  /** Buffers read, in parameter order. */
  inputs: readonly Var[];
  /** Buffers written, in parameter order: each has the shape S, or the outer shape (size-1 dims allowed). */
  outputs: readonly Var[];
  space: RowSpace;
  name: (v: Var) => string;
  /** A row-level value the caller supplies per inner index (a matmul's result row): identity view only. */
  external?: Var;
}

/** Rows up to this long keep values needed by a later phase in a scratch row; longer rows recompute them. */
export const SCRATCH_MAX = 1 << 16;

export class RowFusionError extends Error {}

type View = number[];

const REDUCIBLE = new Set(["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or"]);

/** Whether an equation can be a row kernel's reduction (argmax and the scans stay kernels of their own). */
export function isRowReduction(e: Eqn): boolean {
  return REDUCIBLE.has(e.prim);
}

interface Node {
  key: string;
  /** read: a buffer element; op: an equation's value; red: a reduction's result; ext: the external value. */
  type: "read" | "op" | "red" | "ext";
  v: Var;
  view: View;
  row: boolean;
  phase: number;
  deps: Node[];
  eqn?: Eqn;
  /** Operand texts (nodes or literal text) of an op, in order. */
  args?: (Node | string)[];
  /** A read: its strides per dimension of S. */
  strides?: number[];
  /** Loop-invariant (reads nothing that varies with the row): hoisted out of the outer loop. */
  invariant: boolean;
  order: number;
}

export interface RowAnalysis {
  nodes: Node[];
  /** The node each of spec.outputs is written from. */
  outputs: Node[];
  outer: number[];
  inner: number[];
  nOuter: number;
  nInner: number;
  loops: number;
}

/**
 * Checks that `spec` is a valid row kernel and schedules it. Throws RowFusionError when a
 * value cannot be indexed by the row space (a transposed use, a reduction over other axes, an
 * output of another shape).
 */
export function analyzeRow(spec: RowKernelSpec): RowAnalysis {
  const S = spec.space.shape;
  const A = spec.space.axes;
  const isInner = (d: number) => A.includes(d);
  const outer = S.map((_, d) => d).filter((d) => !isInner(d));
  const inner = [...A];
  const fail = (msg: string): never => { throw new RowFusionError(msg); };
  const producer = new Map<number, Eqn>();
  for (const e of spec.eqns) for (const o of e.outputs) producer.set(o.id, e);
  const inputIds = new Set(spec.inputs.map((v) => v.id));
  const extId = spec.external?.id;
  const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const identity = (): View => S.map((d, i) => (d === 1 ? -1 : i));
  // The outer-level view of a value whose non-1 dims are the outer non-1 dims in order.
  const outerView = (shape: readonly number[]): View | null => {
    const want = outer.filter((d) => S[d] !== 1);
    const view: View = [];
    let k = 0;
    for (const n of shape) {
      if (n === 1) { view.push(-1); continue; }
      if (k >= want.length || S[want[k]] !== n) return null;
      view.push(want[k++]);
    }
    return k === want.length ? view : null;
  };
  const viewKey = (v: Var, view: View) => `${v.id}:${view.join(",")}`;

  for (const e of spec.eqns) {
    if (e.outputs.length !== 1) fail(`${e.prim} has several outputs`);
    if (isReduction(e.prim)) {
      if (!isRowReduction(e)) fail(`${e.prim} is not a row reduction`);
      const axes = [...(e.params as { axes: number[] }).axes].sort((a, b) => a - b);
      if (!sameShape(e.inputs[0].aval.shape, S) || !sameShape(axes, A)) fail(`${e.prim} reduces another row space`);
    } else if (!(e.prim === "broadcast_in_dim" || isElementwise(e.prim))) fail(`${e.prim} is not elementwise`);
  }

  // Backwards: the views in which each value is needed.
  const wanted = new Map<number, Map<string, View>>();
  const want = (a: Atom, view: View) => {
    if (a.kind !== "var" || inputIds.has(a.id)) return;
    if (a.id === extId) {
      if (view.join(",") !== identity().join(",")) fail("the matmul result is not used elementwise");
      return;
    }
    if (!producer.has(a.id)) fail(`var ${spec.name(a)} is neither produced nor an input`);
    let m = wanted.get(a.id);
    if (!m) wanted.set(a.id, (m = new Map()));
    m.set(view.join(","), view);
  };
  for (const v of spec.outputs) {
    const view = sameShape(v.aval.shape, S) ? identity() : outerView(v.aval.shape);
    if (!view) fail(`output ${spec.name(v)} is neither the row shape nor the outer shape`);
    if (v.id === extId) continue;
    want(v, view!);
  }
  const redView = (): View => outer.map((d) => (S[d] === 1 ? -1 : d));
  for (let j = spec.eqns.length - 1; j >= 0; j--) {
    const e = spec.eqns[j];
    for (const view of wanted.get(e.outputs[0].id)?.values() ?? []) {
      if (isReduction(e.prim)) {
        if (view.join(",") !== redView().join(",")) fail(`${e.prim}'s result is used transposed`);
        want(e.inputs[0], identity());
      } else if (e.prim === "broadcast_in_dim") {
        const dims = (e.params as { broadcast_dimensions: number[] }).broadcast_dimensions;
        want(e.inputs[0], e.inputs[0].aval.shape.map((d, i) => (d === 1 ? -1 : view[dims[i]])));
      } else {
        for (const x of e.inputs) {
          let ov: View;
          try { ov = operandView(x, e.outputs[0], view); } catch (err) { fail((err as Error).message); }
          want(x, ov!);
        }
      }
    }
  }

  // Forwards: one node per (value, view), in program order.
  const nodes: Node[] = [];
  const byKey = new Map<string, Node>();
  const rowOf = (view: View) => view.some((d) => d >= 0 && isInner(d));
  const readOf = (v: Var, view: View): Node => {
    const key = viewKey(v, view);
    let n = byKey.get(key);
    if (n) return n;
    const strides = new Array<number>(S.length).fill(0);
    const rs = rowStrides(v.aval.shape);
    view.forEach((d, i) => { if (d >= 0) strides[d] += rs[i]; });
    const ext = v.id === extId;
    n = {
      key, type: ext ? "ext" : "read", v, view, row: ext || rowOf(view), phase: 0, deps: [], strides,
      invariant: !ext && strides.every((s) => s === 0), order: nodes.length,
    };
    nodes.push(n);
    byKey.set(key, n);
    return n;
  };
  const valueOf = (a: Atom, view: View): Node | string => {
    if (a.kind === "lit") return "";
    if (inputIds.has(a.id) || a.id === extId) return readOf(a, view);
    const n = byKey.get(viewKey(a, view));
    if (!n) fail(`internal: ${spec.name(a)} not computed in view ${view}`);
    return n!;
  };
  for (const e of spec.eqns) {
    const out = e.outputs[0];
    for (const view of wanted.get(out.id)?.values() ?? []) {
      let args: (Node | string)[];
      if (isReduction(e.prim)) args = [valueOf(e.inputs[0], identity())];
      else if (e.prim === "broadcast_in_dim") {
        const dims = (e.params as { broadcast_dimensions: number[] }).broadcast_dimensions;
        args = [valueOf(e.inputs[0], e.inputs[0].aval.shape.map((d, i) => (d === 1 ? -1 : view[dims[i]])))];
      } else args = e.inputs.map((x) => valueOf(x, operandView(x, out, view)));
      const deps = args.filter((x): x is Node => typeof x !== "string");
      const red = isReduction(e.prim);
      const phase = red ? deps[0].phase + 1 : Math.max(0, ...deps.map((d) => d.phase));
      const n: Node = {
        key: viewKey(out, view), type: red ? "red" : "op", v: out, view, row: !red && rowOf(view), phase, deps, eqn: e, args,
        invariant: !red && deps.every((d) => d.invariant), order: nodes.length,
      };
      nodes.push(n);
      byKey.set(n.key, n);
    }
  }
  const outputs = spec.outputs.map((v) => {
    const view = sameShape(v.aval.shape, S) ? identity() : outerView(v.aval.shape)!;
    if (v.id === extId) return readOf(v, view);
    const n = byKey.get(viewKey(v, view));
    if (!n) fail(`internal: output ${spec.name(v)} is not computed`);
    return n!;
  });
  let loops = 0;
  for (const n of nodes) if (n.type === "red") loops = Math.max(loops, n.phase);
  for (const n of outputs) if (n.row) loops = Math.max(loops, n.phase + 1);
  if (spec.external) loops = Math.max(loops, 1);
  return {
    nodes, outputs, outer, inner, loops,
    nOuter: outer.reduce((p, d) => p * S[d], 1),
    nInner: inner.reduce((p, d) => p * S[d], 1),
  };
}

/** Whether `spec` is a valid row kernel. */
export function rowFusible(spec: RowKernelSpec): boolean {
  try {
    analyzeRow(spec);
    return true;
  } catch (e) {
    if (e instanceof RowFusionError) return false;
    throw e;
  }
}

export type RowNode = Node;

/** The inner loops' schedule of a row kernel (shared by the JS and WGSL generators). */
export interface RowSchedule {
  /** Per inner loop p: its sinks (the inputs of the reductions accumulated in it, the row-level outputs written in it). */
  sinks: Node[][];
  /** The row-level values `roots` need, not looking through nodes where `leaf` is true (those are included). */
  closure: (roots: Node[], leaf: (n: Node) => boolean) => Set<Node>;
  /** The first loop that computes each row-level op value. */
  firstLoop: Map<Node, number>;
  /** Row-level values kept in a scratch row: computed in firstLoop, loaded in later loops. */
  loaded: Set<Node>;
  /** In loop p, whether a value is loaded from its scratch row rather than computed. */
  isLeafIn: (p: number) => (n: Node) => boolean;
}

/**
 * Which values each inner loop computes, and which row-level values more than one loop needs
 * (kept in a scratch row when `scratchAllowed` and there are several loops; else recomputed).
 */
export function rowSchedule(spec: RowKernelSpec, an: RowAnalysis, scratchAllowed: boolean): RowSchedule {
  const { nodes } = an;
  // Sinks of each inner loop: reductions accumulated in it and row outputs written in it.
  const outNode = new Map<number, Node>(spec.outputs.map((v, k) => [v.id, an.outputs[k]]));
  const L = an.loops;
  const sinks: Node[][] = Array.from({ length: L }, () => []);
  for (const n of nodes) if (n.type === "red") sinks[n.deps[0].phase].push(n.deps[0]);
  const rowOuts = spec.outputs.filter((v) => outNode.get(v.id)!.row);
  for (const v of rowOuts) sinks[outNode.get(v.id)!.phase].push(outNode.get(v.id)!);

  // Which row-level op values more than one loop needs: kept in a scratch row.
  const closure = (roots: Node[], leaf: (n: Node) => boolean): Set<Node> => {
    const seen = new Set<Node>();
    const stack = roots.filter((n) => n.row);
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      if (leaf(n)) continue;
      for (const d of n.deps) if (d.row) stack.push(d);
    }
    return seen;
  };
  const plain = sinks.map((s) => closure(s, () => false));
  const firstLoop = new Map<Node, number>();
  const multi = new Set<Node>();
  plain.forEach((set, p) => {
    for (const n of set) {
      if (n.type !== "op" || !n.row) continue;
      if (!firstLoop.has(n)) firstLoop.set(n, p);
      else multi.add(n);
    }
  });
  const scratchOk = scratchAllowed && L > 1;
  const loaded = new Set<Node>();
  const isLeafIn = (p: number) => (n: Node) => scratchOk && multi.has(n) && firstLoop.get(n)! < p;
  for (let p = 0; p < L; p++) for (const n of closure(sinks[p], isLeafIn(p))) if (isLeafIn(p)(n)) loaded.add(n);
  return { sinks, closure, firstLoop, loaded, isLeafIn };
}

/** Code for a row kernel body, usable standalone or inside a matmul. */
export interface RowCode {
  /** Module-level declarations (helpers, scratch rows). */
  module: string[];
  /** Function-level declarations before the outer loop (constants, invariant values). */
  prelude: string[];
  /** The statements of one row: its outer index is `o`, the external value's row array (if any) `ext_row`. */
  row: string[];
  params: string[];
  /** The parameter name of each input var. */
  inParam: Map<number, string>;
  /** The number of rows (the outer loop's trip count). */
  nOuter: number;
}

export function generateRowCode(spec: RowKernelSpec, options: JsCodegenOptions = {}): RowCode {
  const fround = options.fround ?? true;
  const an = analyzeRow(spec);
  const S = spec.space.shape;
  const { nodes, outer, inner, nInner } = an;
  const used = new Set<string>(["o", "r", "t", "u"]);
  const fresh = (stem: string): string => {
    let name = stem;
    for (let k = 1; used.has(name); k++) name = `${stem}_${k}`;
    used.add(name);
    return name;
  };
  const inParam = new Map<number, string>();
  for (const v of spec.inputs) inParam.set(v.id, fresh(`in_${jsIdent(spec.name(v))}`));
  const outParam = new Map<number, string>();
  for (const v of spec.outputs) outParam.set(v.id, fresh(`out_${jsIdent(spec.name(v))}`));
  const helpers = new Set<string>();
  const module: string[] = [];
  const prelude: string[] = [];
  const consts = new Map<string, string>();
  const lit = (a: Atom): string => {
    if (a.kind !== "lit") throw new Error("not a literal");
    const v = literalValue(a);
    if (a.aval.dtype !== "f32" || v === a.value || typeof a.value === "boolean") return numberText(v);
    const key = `f32:${a.value}`;
    let name = consts.get(key);
    if (!name) {
      name = fresh(`lit${consts.size}`);
      consts.set(key, name);
      prelude.push(`const ${name} = Math.fround(${numberText(a.value as number)});  // ${a.value}:f32[]`);
    }
    return name;
  };
  const names = new Map<Node, string>();
  for (const n of nodes) names.set(n, fresh(n.type === "read" ? jsIdent(spec.name(n.v)) : jsIdent(spec.name(n.v))));
  const nm = (n: Node) => names.get(n)!;

  // Index of an access with `strides` per dim of S: an outer base (per row) plus an inner part.
  const collapsible = (strides: readonly number[]): number | null => {
    // The inner dims, row-major, as one stride: null if they do not line up.
    const dims = inner.filter((d) => S[d] !== 1);
    if (dims.length === 0) return 0;
    for (let k = 0; k + 1 < dims.length; k++) {
      if (strides[dims[k]] !== strides[dims[k + 1]] * S[dims[k + 1]]) return null;
    }
    return strides[dims[dims.length - 1]];
  };
  const outerDims = outer.filter((d) => S[d] !== 1);
  const innerDims = inner.filter((d) => S[d] !== 1);
  let needInnerCoords = false;
  const bases = new Map<string, string>(); // strides key -> base name
  const baseDecls: string[] = [];
  const baseOf = (strides: readonly number[]): string => {
    const terms = outerDims.filter((d) => strides[d] !== 0).map((d) => {
      const c = outerDims.length === 1 ? "o" : `c${d}`;
      return strides[d] === 1 ? c : `${c} * ${strides[d]}`;
    });
    if (terms.length === 0) return "0";
    if (terms.length === 1 && outerDims.length === 1 && strides[outerDims[0]] === 1) return "o";
    const key = terms.join(" + ");
    let b = bases.get(key);
    if (!b) {
      b = fresh("base");
      bases.set(key, b);
      baseDecls.push(`const ${b} = ${key};`);
    }
    return b;
  };
  const innerPart = (strides: readonly number[]): string => {
    const st = collapsible(strides);
    if (st === 0) return "";
    if (st !== null) return st === 1 ? "r" : `r * ${st}`;
    needInnerCoords = true;
    return innerDims.filter((d) => strides[d] !== 0).map((d) => (strides[d] === 1 ? `q${d}` : `q${d} * ${strides[d]}`)).join(" + ");
  };
  const index = (strides: readonly number[]): string => {
    const b = baseOf(strides);
    const i = innerPart(strides);
    if (!i) return b;
    return b === "0" ? i : `${b} + ${i}`;
  };

  const dtypeOf = (n: Node): DType => n.v.aval.dtype;
  const exprOf = (n: Node): string => {
    switch (n.type) {
      case "read": return `${inParam.get(n.v.id)}[${index(n.strides!)}]`;
      case "ext": return fround && dtypeOf(n) === "f32" ? "Math.fround(ext_row[r])" : "ext_row[r]";
      default: throw new Error("not a read");
    }
  };
  // Statement text of an op node (operands by name).
  const opText = (n: Node, ref: (d: Node) => string, emitAux: (line: string) => void): string => {
    const e = n.eqn!;
    const args = n.args!.map((a, k) => (typeof a === "string" ? lit(e.inputs[k]) : ref(a)));
    if (e.prim === "broadcast_in_dim") return args[0];
    return opExpr(e, args, fround, (expr) => {
      const t = fresh(`${nm(n)}_t`);
      emitAux(`const ${t} = ${expr};`);
      return t;
    }, (h) => helpers.add(h));
  };

  const outNode = new Map<number, Node>(spec.outputs.map((v, k) => [v.id, an.outputs[k]]));
  const L = an.loops;
  const rowOuts = spec.outputs.filter((v) => outNode.get(v.id)!.row);
  const { sinks, closure, firstLoop, loaded, isLeafIn } = rowSchedule(spec, an, nInner <= SCRATCH_MAX);
  const scratch = new Map<Node, string>();
  for (const n of loaded) {
    const s = fresh(`row_${nm(n)}`);
    scratch.set(n, s);
    const dt = dtypeOf(n);
    module.push(`const ${s} = new ${dt === "f32" ? "Float32Array" : dt === "f64" ? "Float64Array" : dt === "i32" ? "Int32Array" : "Uint8Array"}(${nInner});`);
  }

  // Invariant outer values: computed once, before the outer loop.
  const hoisted = new Set<Node>();
  const emitValue = (lines: string[], n: Node, ref: (d: Node) => string) => {
    if (n.type === "read" || n.type === "ext") lines.push(`const ${nm(n)} = ${exprOf(n)};`);
    else lines.push(`const ${nm(n)} = ${opText(n, ref, (l) => lines.push(l))};${n.eqn ? `  // ${n.eqn.prim}` : ""}`);
  };
  for (const n of nodes) {
    if (n.row || !n.invariant || n.type === "red") continue;
    emitValue(prelude, n, nm);
    hoisted.add(n);
  }

  // One pass over the row: it also declares the bases, constants and helpers it uses.
  const row = ((): string[] => {
    const lines: string[] = [];
    const ind = (depth: number, t: string) => lines.push("  ".repeat(depth) + t);
    if (outerDims.length > 1) {
      ind(0, "let t = o;");
      for (let k = outerDims.length - 1; k >= 0; k--) {
        const d = outerDims[k];
        ind(0, k === 0 ? `const c${d} = t;` : `const c${d} = t % ${S[d]}; t = (t / ${S[d]}) | 0;`);
      }
    }
    // Bases are declared lazily as accesses are generated: collect the body first.
    const body: string[] = [];
    const emitAt = (depth: number, t: string) => body.push("  ".repeat(depth) + t);
    const outerDone = new Set<Node>(hoisted);
    const emitOuter = (phase: number) => {
      for (const n of nodes) {
        if (n.row || outerDone.has(n) || n.phase !== phase) continue;
        if (n.type === "red") continue; // written after its loop
        outerDone.add(n);
        const tmp: string[] = [];
        emitValue(tmp, n, nm);
        for (const t of tmp) emitAt(0, t);
      }
    };
    const reds = nodes.filter((n) => n.type === "red");
    for (let p = 0; p < L; p++) {
      emitOuter(p);
      const accs = reds.filter((n) => n.deps[0].phase === p);
      for (const n of accs) emitAt(0, `let acc_${nm(n)} = ${monoid(n.eqn!.prim, dtypeOf(n)).init};`);
      emitAt(0, `for (let r = 0; r < ${nInner}; r++) {`);
      const loopLines: string[] = [];
      const leaf = isLeafIn(p);
      const need = closure(sinks[p], leaf);
      for (const n of loaded) if (firstLoop.get(n) === p) for (const m of closure([n], leaf)) need.add(m);
      const ref = (d: Node): string => nm(d);
      for (const n of nodes) {
        if (!need.has(n)) continue;
        if (leaf(n)) { loopLines.push(`const ${nm(n)} = ${scratch.get(n)}[r];`); continue; }
        emitValue(loopLines, n, ref);
        const s = scratch.get(n);
        if (s && firstLoop.get(n) === p) loopLines.push(`${s}[r] = ${nm(n)};`);
      }
      for (const n of accs) {
        const m = monoid(n.eqn!.prim, dtypeOf(n));
        loopLines.push(`acc_${nm(n)} = ${m.op(`acc_${nm(n)}`, nm(n.deps[0]))};`);
      }
      for (const v of rowOuts) {
        const n = outNode.get(v.id)!;
        if (n.phase !== p) continue;
        loopLines.push(`${outParam.get(v.id)}[${index(rowStrides(S))}] = ${nm(n)};`);
      }
      if (needInnerCoords) {
        let first = true;
        for (let k = innerDims.length - 1; k >= 0; k--) {
          const d = innerDims[k];
          if (first) { emitAt(1, k === 0 ? `const q${d} = r;` : `let u = r; const q${d} = u % ${S[d]}; u = (u / ${S[d]}) | 0;`); first = false; }
          else emitAt(1, k === 0 ? `const q${d} = u;` : `const q${d} = u % ${S[d]}; u = (u / ${S[d]}) | 0;`);
        }
      }
      for (const t of loopLines) emitAt(1, t);
      emitAt(0, "}");
      for (const n of accs) {
        const dt = dtypeOf(n);
        emitAt(0, `const ${nm(n)} = ${dt === "f32" && fround ? `Math.fround(acc_${nm(n)})` : `acc_${nm(n)}`};  // ${n.eqn!.prim}`);
      }
    }
    emitOuter(L);
    for (const v of spec.outputs) {
      const n = outNode.get(v.id)!;
      if (n.row) continue;
      emitAt(0, `${outParam.get(v.id)}[o] = ${nm(n)};`);
    }
    for (const b of baseDecls) ind(0, b);
    return [...lines, ...body];
  })();
  for (const h of [...helpers].sort()) module.unshift(HELPERS[h]);
  const params = [...spec.inputs.map((v) => inParam.get(v.id)!), ...spec.outputs.map((v) => outParam.get(v.id)!)];
  return { module, prelude, row, params, inParam, nOuter: an.nOuter };
}

/** A standalone row kernel (reductions with their fused producers and consumers). */
export function generateRowKernel(spec: RowKernelSpec, options: JsCodegenOptions = {}): { fnName: string; code: string } {
  const rc = generateRowCode(spec, options);
  const lines: string[] = [];
  lines.push(`function ${spec.fnName}(${rc.params.join(", ")}) {`);
  for (const l of rc.prelude) lines.push(`  ${l}`);
  if (rc.nOuter > 0) {
    lines.push(`  for (let o = 0; o < ${rc.nOuter}; o++) {`);
    for (const l of rc.row) lines.push(`    ${l}`);
    lines.push("  }");
  }
  lines.push("}");
  return { fnName: spec.fnName, code: [...rc.module, lines.join("\n")].join("\n\n") };
}

/** A matmul's epilogue (spec.external is the dot's result; the row space is its output shape, rows along the last axis). */
export function generateDotEpilogue(spec: RowKernelSpec, options: JsCodegenOptions = {}): DotEpilogue {
  const rc = generateRowCode(spec, options);
  const fn = `${spec.fnName}_row`;
  const lines = [`function ${fn}(o, ext_row, ${rc.params.join(", ")}) {`];
  for (const l of rc.prelude) lines.push(`  ${l}`);
  for (const l of rc.row) lines.push(`  ${l}`);
  lines.push("}");
  return {
    code: [...rc.module, lines.join("\n")].join("\n\n"),
    params: rc.params,
    paramOf: (v) => rc.inParam.get(v.id),
    call: (row, acc) => `${fn}(${row}, ${acc}, ${rc.params.join(", ")});`,
  };
}
