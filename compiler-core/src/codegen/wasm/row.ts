// WASM row kernels: codegen/row.ts's reductions fused with their elementwise producers and
// epilogues (softmax, layer norm, logsumexp, sums of squares), for float32 row spaces whose
// reduced axes are the trailing ones (so a row is P contiguous elements).
//
// Per row: one inner loop per phase (a value that needs a reduction's result runs in a loop
// after the one that accumulates it), four lanes per step as loop.ts; values computed in one
// loop and needed in a later one go through a row-sized scratch region (no recomputation of
// exp). Values that do not vary along the row (reads of a column, reduction results and what
// is computed from them) are computed between the loops, splatted.
//
// Sums over rows of 16 or more elements run in four float64 partial sums (element j in sum
// j % 4, the last P % 4 elements into sum 0, then (s0 + s2) + (s1 + s3), rounded once): the
// eager reduce kernel's order (codegen/ops.ts genReduce), so an eager reduce_sum and a fused
// one agree bit for bit, and 4x fewer dependent adds than one running sum. Shorter rows, and
// products, accumulate lane by lane in element order (float64, rounded once); max/min by
// `v > acc || v != v`, in element order — as the JS kernels. (The JS row kernels,
// codegen/row.ts, still sum in one running float64 sum: the same value unless the float64
// rounding differences cross a float32 rounding boundary, which takes contrived data.)
import type { Atom, Eqn, Var } from "../../ir/types";
import { size } from "../../ir/types";
import { literalValue } from "../js";
import { Func, Module } from "./module";
import { cf, get } from "./math";
import { opV, WasmUnsupported, type CopyIn, type CopyOut, type Staging, type Val } from "./loop";

const no = (why: string): never => { throw new WasmUnsupported(why); };
const REDUCE = new Set(["reduce_sum", "reduce_max", "reduce_min", "reduce_prod"]);

export interface RowEmitSpec {
  eqns: readonly Eqn[];
  inputs: readonly Var[];
  outputs: readonly Var[];
  space: { shape: readonly number[]; axes: readonly number[] };
  argOf: (v: Var, output: boolean) => number;
}

interface Node {
  key: string;
  /** read | op | red (a reduction's result) */
  type: "read" | "op" | "red";
  v: Var;
  view: number[];
  row: boolean;
  phase: number;
  eqn?: Eqn;
  deps: (Node | Atom)[];
  kind?: "full" | "inner" | "outer" | "scalar";
  /** Loops that need this value (row-level values only). */
  needIn: Set<number>;
  scratch?: number;
  val?: Val;
}

export function emitRow(f: Func, m: Module, st: Staging, spec: RowEmitSpec): { ins: CopyIn[]; outs: CopyOut[] } {
  const S = spec.space.shape;
  const R = S.length;
  const axes = spec.space.axes;
  if (axes.length === 0) no("a row space without reduced axes");
  axes.forEach((a, i) => { if (a !== R - axes.length + i) no("reduced axes that are not the trailing ones"); });
  const first = R - axes.length;
  const P = S.slice(first).reduce((t, d) => t * d, 1);
  const rows = S.slice(0, first).reduce((t, d) => t * d, 1);
  if (P * rows === 0) no("an empty row space");
  const kept = S.map((_, i) => i).slice(0, first);
  const inputIds = new Set(spec.inputs.map((v) => v.id));
  const producer = new Map<number, Eqn>();
  for (const e of spec.eqns) for (const o of e.outputs) producer.set(o.id, e);

  // Views (backwards): value dims -> dims of S (-1: size 1). A computed value has one view.
  const viewOf = new Map<number, number[]>();
  const reads = new Map<string, { v: Var; view: number[] }>();
  const keyOf = (v: Var, vw: number[]) => `${v.id}:${vw.join(",")}`;
  const want = (a: Atom, vw: number[]) => {
    if (a.kind !== "var") return;
    if (inputIds.has(a.id)) { reads.set(keyOf(a, vw), { v: a, view: vw }); return; }
    if (!producer.has(a.id)) no("a value neither computed nor read");
    const had = viewOf.get(a.id);
    if (had && had.join(",") !== vw.join(",")) no("a value needed in two layouts");
    viewOf.set(a.id, vw);
  };
  const outerShape = S.slice(0, first);
  for (const v of spec.outputs) {
    if (v.aval.dtype !== "f32") no(`a ${v.aval.dtype} output`);
    const sh = v.aval.shape;
    if (sh.length === R && sh.every((d, i) => d === S[i])) want(v, sh.map((d, i) => (d === 1 ? -1 : i)));
    else if (size(sh) === rows) {
      // an outer-shaped output ([rows...] or with kept size-1 dims): the canonical view
      const nz = sh.filter((d) => d !== 1), oz = outerShape.filter((d) => d !== 1);
      if (nz.length !== oz.length || nz.some((d, i) => d !== oz[i])) no("an output of another shape");
      let k = 0;
      const keptNz = kept.filter((d) => S[d] !== 1);
      want(v, sh.map((d) => (d === 1 ? -1 : keptNz[k++])));
    } else no("an output of another shape");
  }
  const operandView = (e: Eqn, vw: number[]): number[][] => {
    if (e.prim === "broadcast_in_dim") {
      const dims = (e.params as { broadcast_dimensions: number[] }).broadcast_dimensions;
      const x = e.inputs[0];
      return [dims.map((d, i) => (x.aval.shape[i] === 1 ? -1 : vw[d]))];
    }
    if (REDUCE.has(e.prim)) {
      const x = e.inputs[0];
      if (x.aval.shape.length !== R || x.aval.shape.some((d, i) => d !== S[i])) no("a reduction of another shape");
      const ax = (e.params as { axes: number[] }).axes;
      if (ax.length !== axes.length || ax.some((a, i) => a !== axes[i])) no("a reduction over other axes");
      // the output's dims are the kept dims, in order
      const outDims = vw;
      const kd = kept;
      if (outDims.length !== kd.length || outDims.some((d, i) => d !== -1 && d !== kd[i])) no("a reduction seen through a transpose");
      return [S.map((d, i) => (d === 1 ? -1 : i))];
    }
    return e.inputs.map((x) => {
      if (x.aval.shape.length === 0) return [];
      if (x.aval.shape.length !== vw.length) no("not elementwise-broadcastable");
      return x.aval.shape.map((d, i) => (d === 1 ? -1 : vw[i]));
    });
  };
  for (let j = spec.eqns.length - 1; j >= 0; j--) {
    const e = spec.eqns[j];
    const vw = viewOf.get(e.outputs[0].id);
    if (!vw) continue;
    const ovs = operandView(e, vw);
    e.inputs.forEach((x, k) => want(x, ovs[k]));
  }

  // Nodes (forwards): reads, ops and reductions with their phase and level.
  const nodes = new Map<string, Node>();
  const readNode = (v: Var, vw: number[]): Node => {
    const key = keyOf(v, vw);
    let n = nodes.get(key);
    if (n) return n;
    if (v.aval.dtype !== "f32") no(`a ${v.aval.dtype} input`);
    const used = vw.filter((d) => d >= 0 && S[d] !== 1);
    for (let i = 1; i < used.length; i++) if (used[i] <= used[i - 1]) no("a transposed read");
    const nzKept = kept.filter((d) => S[d] !== 1), nzRow = S.map((_, i) => i).slice(first).filter((d) => S[d] !== 1);
    const eq = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    let kind: Node["kind"];
    if (used.length === 0) kind = "scalar";
    else if (eq(used, [...nzKept, ...nzRow])) kind = "full";
    else if (eq(used, nzRow)) kind = "inner";
    else if (eq(used, nzKept)) kind = "outer";
    else return no("a strided read");
    n = { key, type: "read", v, view: vw, row: kind === "full" || kind === "inner", phase: 0, deps: [], kind, needIn: new Set() };
    nodes.set(key, n);
    return n;
  };
  const nodeOf = (a: Atom, vw: number[]): Node | Atom => {
    if (a.kind === "lit") return a;
    if (inputIds.has(a.id)) return readNode(a, vw);
    return nodes.get(`${a.id}`)!;
  };
  const order: Node[] = [];
  const reductions: Node[] = [];
  for (const e of spec.eqns) {
    const out = e.outputs[0];
    const vw = viewOf.get(out.id);
    if (!vw) continue;
    const ovs = operandView(e, vw);
    const deps = e.inputs.map((x, k) => nodeOf(x, ovs[k]));
    const dn = deps.filter((d): d is Node => "key" in d);
    if (e.prim === "broadcast_in_dim") {
      const d = deps[0];
      if (!("key" in d)) no("a broadcast literal"); // (folded away upstream)
      nodes.set(`${out.id}`, d as Node);
      continue;
    }
    const red = REDUCE.has(e.prim);
    if (red && e.inputs[0].aval.dtype !== "f32") no(`${e.prim} of ${e.inputs[0].aval.dtype}`);
    const phase = red ? dn[0].phase + 1 : Math.max(0, ...dn.map((d) => d.phase));
    const n: Node = { key: `${out.id}`, type: red ? "red" : "op", v: out, view: vw, row: !red && dn.some((d) => d.row), phase, eqn: e, deps, needIn: new Set() };
    nodes.set(n.key, n);
    order.push(n);
    if (red) reductions.push(n);
  }
  // Loops: a reduction accumulates in its operand's phase; row-level outputs are written in theirs.
  const outNodes = spec.outputs.map((v) => {
    const vw = viewOf.get(v.id)!;
    return nodeOf(v, vw) as Node;
  });
  let loops = 1;
  for (const r of reductions) loops = Math.max(loops, (r.deps[0] as Node).phase + 1);
  for (const n of outNodes) if (n.row) loops = Math.max(loops, n.phase + 1);
  const need = (n: Node, p: number) => {
    if (!n.row || n.needIn.has(p)) return;
    n.needIn.add(p);
    if (n.type === "op") {
      if (n.phase < p) need(n, n.phase);
      else for (const d of n.deps) if ("key" in d) need(d, p);
    }
  };
  for (const r of reductions) need(r.deps[0] as Node, (r.deps[0] as Node).phase);
  spec.outputs.forEach((v, k) => { const n = outNodes[k]; if (n.row) need(n, n.phase); });

  // Staging.
  const ins: CopyIn[] = [];
  const regionOf = new Map<number, number>();
  const region = (v: Var): number => {
    let off = regionOf.get(v.id);
    if (off === undefined) {
      const cnt = size(v.aval.shape);
      off = st.alloc(cnt * 4);
      regionOf.set(v.id, off);
      ins.push({ arg: spec.argOf(v, false), offset: off, count: cnt });
    }
    return off;
  };
  const outs: CopyOut[] = spec.outputs.map((v) => ({ arg: spec.argOf(v, true), offset: st.alloc(size(v.aval.shape) * 4), count: size(v.aval.shape) }));
  for (const n of nodes.values()) if (n.type === "read") region(n.v);
  for (const n of order) if (n.type === "op" && n.row && [...n.needIn].some((p) => p > n.phase)) n.scratch = st.alloc(P * 4);

  // Emission.
  const o4 = f.local("i32", "o4"), row = f.local("i32", "row"), jb = f.local("i32", "jb"), addr = f.local("i32", "addr");
  const lane = f.local("f32", "lane");
  const accs = new Map<Node, number>();
  // reduce_sum over rows of 16 or more: the eager reduce kernel's order (codegen/ops.ts
  // genReduce): four float64 partial sums, element j of the row's first 4*floor(P/4) in sum j % 4
  // (two f64x2: [sums 0-1], [sums 2-3]), the last P % 4 elements added to sum 0 in order, then
  // (sum 0 + sum 2) + (sum 1 + sum 3), rounded once. Shorter rows: one running sum, as there.
  const sumAccs = new Map<Node, { lo: number; hi: number; last: number }>();
  for (const r of reductions) {
    if (r.eqn!.prim === "reduce_sum" && P >= 16) sumAccs.set(r, { lo: f.local("v128", "sum_lo"), hi: f.local("v128", "sum_hi"), last: f.local("v128", "sum_in") });
    else accs.set(r, f.local(r.eqn!.prim === "reduce_sum" || r.eqn!.prim === "reduce_prod" ? "f64" : "f32", "acc"));
  }
  const tail = P % 4;
  const mask = tail ? f.local("v128", "mask") : -1;
  const tailSum = tail ? f.local("f64", "tail_sum") : -1;
  const maskedIn = tail ? f.local("v128", "sum_step") : -1;
  const litVal = (a: Atom): Val => {
    const x = literalValue(a as never);
    if (a.aval.dtype === "bool") return { v: (g) => { g.i32x4(x ? -1 : 0); }, t: "m" };
    if (a.aval.dtype !== "f32") no(`a ${a.aval.dtype} literal`);
    return { v: cf(x), t: "f" };
  };
  const argVal = (d: Node | Atom): Val => ("key" in d ? d.val! : litVal(d));
  f.comment(`row kernel: ${rows} row(s) of ${P}, ${loops} loop(s) per row, 4 lanes per step`);
  // scalars once
  for (const n of nodes.values()) {
    if (n.type !== "read" || n.kind !== "scalar") continue;
    const i = f.local("v128", "scalar");
    f.i32(0).mem("v128.load32_splat", region(n.v)).set(i);
    n.val = { v: get(i), t: "f" };
  }
  const emitOp = (n: Node) => {
    f.comment(n.eqn!.prim);
    const r = opV(f, m, n.eqn!, n.deps.map(argVal));
    const i = f.local("v128", `e${spec.eqns.indexOf(n.eqn!)}`);
    r.v(f);
    f.set(i);
    n.val = { v: get(i), t: r.t };
  };
  const between = (p: number) => {
    for (const n of order) if (!n.row && n.type === "op" && n.phase === p) emitOp(n);
  };
  f.i32(0).set(o4).i32(0).set(row);
  f.loop("rows");
  for (const n of nodes.values()) {
    if (n.type !== "read" || n.kind !== "outer") continue;
    const i = f.local("v128", "col");
    f.get(o4).mem("v128.load32_splat", region(n.v)).set(i);
    n.val = { v: get(i), t: "f" };
  }
  for (let p = 0; p < loops; p++) {
    between(p);
    const here = reductions.filter((r) => (r.deps[0] as Node).phase === p);
    for (const r of here) {
      const prim = r.eqn!.prim;
      const sum = sumAccs.get(r);
      if (sum) f.f64x2(0).set(sum.lo).f64x2(0).set(sum.hi);
      else if (prim === "reduce_sum") f.f64(0).set(accs.get(r)!);
      else if (prim === "reduce_prod") f.f64(1).set(accs.get(r)!);
      else f.f32(prim === "reduce_max" ? -Infinity : Infinity).set(accs.get(r)!);
    }
    f.i32(0).set(jb);
    f.loop(`l${p}`);
    f.get(row).get(jb).op("i32.add").set(addr);
    for (const n of nodes.values()) {
      if (!n.needIn.has(p)) continue;
      if (n.type === "read") {
        const i = f.local("v128", "in");
        if (n.kind === "full") f.get(addr); else f.get(jb);
        f.mem("v128.load", region(n.v)).set(i);
        n.val = { v: get(i), t: "f" };
      } else if (n.type === "op" && n.phase < p) {
        const i = f.local("v128", `e${spec.eqns.indexOf(n.eqn!)}_kept`);
        f.get(jb).mem("v128.load", n.scratch!).set(i);
        n.val = { v: get(i), t: "f" };
      }
    }
    for (const n of order) {
      if (n.type !== "op" || !n.row || n.phase !== p || !n.needIn.has(p)) continue;
      emitOp(n);
      if (n.scratch !== undefined) {
        if (n.val!.t !== "f") no("a bool row value kept for a later loop");
        f.get(jb);
        n.val!.v(f);
        f.mem("v128.store", n.scratch);
      }
    }
    spec.outputs.forEach((v, k) => {
      const n = outNodes[k];
      if (!n.row || n.phase !== p) return;
      if (n.val!.t !== "f") no("a bool output");
      f.get(addr);
      n.val!.v(f);
      f.mem("v128.store", outs[k].offset);
    });
    // sums over rows of 16 or more: four float64 partial sums (two f64x2); a ragged last step
    // adds +0 (a no-op on sums that start at +0) and is summed after the loop
    const sums = here.filter((r) => sumAccs.has(r));
    if (sums.length && tail) f.i32(0).get(jb).i32(16).op("i32.add").i32(P * 4).op("i32.le_u").op("i32.sub").op("i32x4.splat").set(mask);
    for (const r of sums) {
      const { lo, hi, last } = sumAccs.get(r)!;
      const masked = tail ? maskedIn : last;
      const src = (r.deps[0] as Node).val!;
      if (src.t !== "f") no("a reduction of bools");
      src.v(f);
      if (tail) f.tee(last).get(mask).op("v128.and");
      f.tee(masked).op("f64x2.promote_low_f32x4").get(lo).op("f64x2.add").set(lo);
      f.get(masked).get(masked).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).op("f64x2.promote_low_f32x4").get(hi).op("f64x2.add").set(hi);
    }
    const lanewise = here.filter((r) => !sumAccs.has(r));
    // products, max and min: lane by lane in element order (a ragged last step stops at the row's end)
    if (lanewise.length) {
      f.block(`lanes${p}`);
      for (let l = 0; l < 4; l++) {
        if (l > 0) f.get(jb).i32(4 * l).op("i32.add").i32(P * 4).op("i32.ge_u").brIf(`lanes${p}`);
        for (const r of lanewise) {
          const acc = accs.get(r)!;
          const src = (r.deps[0] as Node).val!;
          if (src.t !== "f") no("a reduction of bools");
          src.v(f);
          f.lane("f32x4.extract_lane", l);
          switch (r.eqn!.prim) {
            case "reduce_sum": f.op("f64.promote_f32").get(acc).op("f64.add").set(acc); break;
            case "reduce_prod": f.op("f64.promote_f32").get(acc).op("f64.mul").set(acc); break;
            default: {
              // v > acc || v != v ? v : acc  (NaN wins; the first of equal values stays)
              f.set(lane);
              f.get(lane).get(acc).get(lane).get(acc).op(r.eqn!.prim === "reduce_max" ? "f32.gt" : "f32.lt");
              f.get(lane).get(lane).op("f32.ne").op("i32.or").op("select").set(acc);
            }
          }
        }
      }
      f.end();
    }
    f.get(jb).i32(16).op("i32.add").tee(jb).i32(P * 4).op("i32.lt_u").brIf(`l${p}`);
    f.end();
    for (const r of here) {
      const i = f.local("v128", `e${spec.eqns.indexOf(r.eqn!)}`);
      const sum = sumAccs.get(r);
      if (sum) {
        if (tail) {
          // the last P % 4 elements (unmasked in `last`, from the last step) into sum 0, in order
          f.get(sum.lo).lane("f64x2.extract_lane", 0).set(tailSum);
          for (let l = 0; l < tail; l++) f.get(tailSum).get(sum.last).lane("f32x4.extract_lane", l).op("f64.promote_f32").op("f64.add").set(tailSum);
          f.get(sum.lo).get(tailSum).lane("f64x2.replace_lane", 0).set(sum.lo);
        }
        // (sum 0 + sum 2) + (sum 1 + sum 3), rounded once
        f.get(sum.lo).get(sum.hi).op("f64x2.add").tee(sum.lo).lane("f64x2.extract_lane", 0).get(sum.lo).lane("f64x2.extract_lane", 1).op("f64.add");
        f.op("f32.demote_f64").op("f32x4.splat").set(i);
        r.val = { v: get(i), t: "f" };
        continue;
      }
      const acc = accs.get(r)!;
      f.get(acc);
      if (r.eqn!.prim === "reduce_sum" || r.eqn!.prim === "reduce_prod") f.op("f32.demote_f64");
      f.op("f32x4.splat").set(i);
      r.val = { v: get(i), t: "f" };
    }
  }
  between(loops);
  spec.outputs.forEach((v, k) => {
    const n = outNodes[k];
    if (n.row) return;
    if (n.val!.t !== "f") no("a bool output");
    if (size(v.aval.shape) === rows) {
      f.get(o4);
      n.val!.v(f);
      f.lane("f32x4.extract_lane", 0).mem("f32.store", outs[k].offset);
    } else {
      // an S-shaped output of a per-row value: the row filled with it
      f.i32(0).set(jb);
      f.loop(`fill${k}`);
      f.get(row).get(jb).op("i32.add");
      n.val!.v(f);
      f.mem("v128.store", outs[k].offset);
      f.get(jb).i32(16).op("i32.add").tee(jb).i32(P * 4).op("i32.lt_u").brIf(`fill${k}`);
      f.end();
    }
  });
  f.get(row).i32(P * 4).op("i32.add").set(row);
  f.get(o4).i32(4).op("i32.add").tee(o4).i32(rows * 4).op("i32.lt_u").brIf("rows");
  f.end();
  return { ins, outs };
}
