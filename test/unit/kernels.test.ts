// The CPU backend's non-elementwise kernels (and the newer elementwise primitives), eager
// and fused, against NumPy-made fixtures (fixtures/kernels.json, from
// fixtures/make_kernel_fixtures.py) and plain reference computations written here; the
// fusion plan's boundaries, kinds, reasons and FLOPs; views; and a property test that
// random programs mixing elementwise ops, reductions, transposes, reshapes and matmuls give
// the same result eager and fused.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import type { ArrayValue, DType, Jaxpr, Literal, Var } from "../../compiler-core/src/ir/types";
import type { Prim } from "../../compiler-core/src/ir/primitives";
import { size } from "../../compiler-core/src/ir/types";
import { compileEager, compileFused, type Executable } from "../../compiler-core/src/runtime/cpu";
import { fillRandom } from "../../compiler-core/src/runtime/random";
import { JaxprBuilder, array, close, decode, list } from "./lib/build";
import { maxRelDiff, measure } from "../../compiler-core/src/runtime/timing";

// ---- building jaxprs; output avals come from the tracer's own shape rules ----

class B extends JaxprBuilder {
  constructor() { super("k.py"); }
}

const lit = (value: number | boolean, dtype: DType = "f32"): Literal => ({ kind: "lit", value, aval: { shape: [], dtype, weak: false } });

const iota = (n: number, f: (i: number) => number = (i) => i): number[] => Array.from({ length: n }, (_, i) => f(i));

/** Run eager and fused; assert they agree bit for bit (NaN = NaN); return the fused outputs. */
function runBoth(jaxpr: Jaxpr, inputs: ArrayValue[]): ArrayValue[] {
  const eager = compileEager(jaxpr).run(inputs);
  const fused = compileFused(jaxpr).run(inputs);
  assert.equal(fused.length, eager.length);
  fused.forEach((f, i) => {
    assert.deepEqual(f.aval.shape, eager[i].aval.shape);
    assert.equal(f.aval.dtype, eager[i].aval.dtype);
    for (let k = 0; k < f.data.length; k++) {
      assert.ok(Object.is(f.data[k], eager[i].data[k]), `output ${i}[${k}]: eager ${eager[i].data[k]}, fused ${f.data[k]}`);
    }
  });
  return fused;
}

// ---- every kernel against numpy (fixtures/kernels.json) ----

interface Tensor { dtype: DType; shape: number[]; data: (number | string)[] }
interface KernelCase { name: string; prim: Prim; params: Record<string, unknown>; inputs: Tensor[]; outputs: Tensor[]; tol: number }

/** A fixture tensor stored in its dtype (float32 values are written as their shortest float32 decimal). */
const value = (t: Tensor): ArrayValue => array(t.dtype, t.shape, t.data.map(decode));

const fixtures: KernelCase[] = JSON.parse(readFileSync(new URL("./fixtures/kernels.json", import.meta.url), "utf8")).cases;

describe("kernels match numpy (fixtures/kernels.json)", () => {
  assert.ok(fixtures.length >= 150, "fixture file has the cases");
  for (const c of fixtures) {
    test(c.name, () => {
      const b = new B();
      const ins = c.inputs.map((t) => b.input(t.shape, t.dtype));
      const outs = b.ops(c.prim, ins, c.params);
      assert.equal(outs.length, c.outputs.length, "number of outputs");
      outs.forEach((o, j) => {
        assert.deepEqual(o.aval.shape, c.outputs[j].shape, `output ${j} shape (abstract eval)`);
        assert.equal(o.aval.dtype, c.outputs[j].dtype);
      });
      const jaxpr = b.build(outs);
      const inputs = c.inputs.map(value);
      const results: [string, Executable][] = [["eager", compileEager(jaxpr)], ["fused", compileFused(jaxpr)]];
      for (const [mode, exe] of results) {
        const got = exe.run(inputs);
        c.outputs.forEach((t, j) => {
          const want = value(t);
          assert.deepEqual(got[j].aval.shape, t.shape);
          for (let i = 0; i < want.data.length; i++) {
            assert.ok(close(got[j].data[i], want.data[i], c.tol), `${mode} output ${j}[${i}] = ${got[j].data[i]}, numpy says ${want.data[i]}`);
          }
        });
      }
      runBoth(jaxpr, inputs);
    });
  }
});

// ---- hand-worked semantics ----

describe("reductions", () => {
  test("axes=[] is the identity (a copy eager, the same values fused)", () => {
    const b = new B();
    const x = b.input([2, 3]);
    const y = b.op("reduce_sum", [x], { axes: [] });
    const z = b.op("reduce_max", [x], { axes: [] });
    const vals = [1, -0, NaN, 4, -5, Infinity];
    const [o1, o2] = runBoth(b.build([y, z]), [array("f32", [2, 3], vals)]);
    assert.deepEqual(o1.aval.shape, [2, 3]);
    assert.ok(list(o1).every((v, i) => Object.is(v, Math.fround(vals[i]))));
    assert.ok(list(o2).every((v, i) => Object.is(v, Math.fround(vals[i]))));
  });

  test("reductions of bools: sum is or, prod is and, max is or, min is and", () => {
    const b = new B();
    const x = b.input([3, 2], "bool");
    const outs = (["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"] as const).map((p) => b.op(p, [x], { axes: [1] }));
    const got = runBoth(b.build(outs), [array("bool", [3, 2], [0, 0, 0, 1, 1, 1])]).map(list);
    assert.deepEqual(got, [[0, 1, 1], [0, 0, 1], [0, 1, 1], [0, 0, 1]]);
  });

  test("float32 sums accumulate in float64 and round once", () => {
    // 2^24 + 1 + 1 + ... : in float32 each +1 is lost; the float64 sum keeps them.
    const b = new B();
    const x = b.input([5]);
    const s = b.op("reduce_sum", [x], { axes: [0] });
    const [o] = runBoth(b.build([s]), [array("f32", [5], [16777216, 1, 1, 1, 1])]);
    assert.equal(o.data[0], 16777220);
  });

  test("a reduction over middle and outer axes matches a plain loop", () => {
    const b = new B();
    const x = b.input([3, 4, 5, 2]);
    const s = b.op("reduce_sum", [x], { axes: [0, 2] });
    const m = b.op("reduce_max", [x], { axes: [1, 3] });
    const xv = fillRandom(x.aval, 11);
    const [os, om] = runBoth(b.build([s, m]), [xv]);
    const at = (i: number, j: number, k: number, l: number) => xv.data[((i * 4 + j) * 5 + k) * 2 + l];
    const ws: number[] = [], wm: number[] = [];
    for (let j = 0; j < 4; j++) for (let l = 0; l < 2; l++) {
      let t = 0;
      for (let i = 0; i < 3; i++) for (let k = 0; k < 5; k++) t += at(i, j, k, l);
      ws.push(Math.fround(t));
    }
    for (let i = 0; i < 3; i++) for (let k = 0; k < 5; k++) {
      let t = -Infinity;
      for (let j = 0; j < 4; j++) for (let l = 0; l < 2; l++) t = Math.max(t, at(i, j, k, l));
      wm.push(t);
    }
    assert.deepEqual(list(os), ws);
    assert.deepEqual(list(om), wm);
  });

  test("long rows (split accumulators): NaN still propagates, ints still wrap, -inf/+inf and remainders", () => {
    for (const n of [16, 37, 40]) {
      const b = new B();
      const x = b.input([2, n]);
      const k = b.input([1, n], "i32");
      const mx = b.op("reduce_max", [x], { axes: [1] });
      const mn = b.op("reduce_min", [x], { axes: [1] });
      const sm = b.op("reduce_sum", [x], { axes: [1] });
      const si = b.op("reduce_sum", [k], { axes: [1] });
      const vals = iota(2 * n, (i) => (i === n + 13 ? NaN : ((i * 7919) % 101) - 50 + (i === n - 1 ? 1000 : 0)));
      const ints = iota(n, (i) => 2147483000 - i);
      const [omx, omn, osm, osi] = runBoth(b.build([mx, mn, sm, si]), [array("f32", [2, n], vals), array("i32", [1, n], ints)]);
      const row = vals.slice(0, n);
      assert.deepEqual(list(omx).slice(0, 1), [Math.max(...row)]);
      assert.deepEqual(list(omn).slice(0, 1), [Math.min(...row)]);
      assert.ok(Number.isNaN(omx.data[1]) && Number.isNaN(omn.data[1]), `n=${n}: NaN in row 1 propagates`);
      assert.equal(osm.data[0], row.reduce((t, v) => t + v, 0));
      assert.equal(osi.data[0], ints.reduce((t, v) => (t + v) | 0, 0));
    }
  });

  test("argmax returns the first maximum and the first NaN", () => {
    const b = new B();
    const x = b.input([2, 5]);
    const i = b.op("argmax", [x], { axes: [1], index_dtype: "i32" });
    const j = b.op("argmin", [x], { axes: [1], index_dtype: "i32" });
    const [oi, oj] = runBoth(b.build([i, j]), [array("f32", [2, 5], [2, 7, 7, -1, -1, 0, NaN, 3, NaN, -9])]);
    assert.deepEqual(list(oi), [1, 1]);
    assert.deepEqual(list(oj), [3, 1]);
  });
});

describe("dot_general", () => {
  /** Plain triple loop over canonical [M,K] x [K,N], float64 accumulation. */
  function matmulRef(a: ArrayLike<number>, bm: ArrayLike<number>, M: number, K: number, N: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * bm[k * N + j];
      out.push(Math.fround(s));
    }
    return out;
  }

  for (const [M, K, N] of [[1, 1, 1], [3, 5, 2], [4, 4, 4], [7, 3, 9], [13, 17, 6], [64, 33, 70]]) {
    test(`(M,K)x(K,N) = (${M},${K})x(${K},${N})`, () => {
      const b = new B();
      const x = b.input([M, K]);
      const y = b.input([K, N]);
      const z = b.op("dot_general", [x, y], { dimension_numbers: [[[1], [0]], [[], []]], preferred_element_type: null });
      const xv = fillRandom(x.aval, M), yv = fillRandom(y.aval, N + 100);
      const [o] = runBoth(b.build([z]), [xv, yv]);
      const want = matmulRef(xv.data, yv.data, M, K, N);
      assert.ok(list(o).every((v, i) => Math.abs(v - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i]))), "matches the plain loop");
    });
  }

  test("0 * inf in a product is NaN (no zero skipping)", () => {
    const b = new B();
    const x = b.input([1, 2]);
    const y = b.input([2, 1]);
    const z = b.op("dot_general", [x, y], { dimension_numbers: [[[1], [0]], [[], []]], preferred_element_type: null });
    const [o] = runBoth(b.build([z]), [array("f32", [1, 2], [0, 1]), array("f32", [2, 1], [Infinity, 2])]);
    assert.ok(Number.isNaN(o.data[0]));
  });

  test("FLOPs are 2*M*N*K, and the kernel is a matmul", () => {
    const b = new B();
    const x = b.input([2, 3, 4]);
    const y = b.input([2, 4, 5]);
    const z = b.op("dot_general", [x, y], { dimension_numbers: [[[2], [1]], [[0], [0]]], preferred_element_type: null });
    const k = compileFused(b.build([z])).kernels[0];
    assert.equal(k.kind, "matmul");
    assert.equal(k.flops, 2 * 2 * 3 * 5 * 4);
    assert.match(k.reason, /^matmul/);
  });
});

describe("data movement", () => {
  test("rev then slice is a negative-stride slice (x[7:0:-3])", () => {
    const b = new B();
    const x = b.input([9]);
    const r = b.op("rev", [x], { dimensions: [0] });
    const s = b.op("slice", [r], { start_indices: [1], limit_indices: [9], strides: [3] });
    const [o] = runBoth(b.build([s]), [array("f32", [9], iota(9))]);
    assert.deepEqual(list(o), [7, 4, 1]);
  });

  test("2-D rev + strided slice against index arithmetic", () => {
    const b = new B();
    const x = b.input([6, 7]);
    const r = b.op("rev", [x], { dimensions: [1] });
    const s = b.op("slice", [r], { start_indices: [1, 2], limit_indices: [6, 7], strides: [2, 2] });
    const [o] = runBoth(b.build([s]), [array("f32", [6, 7], iota(42))]);
    const want: number[] = [];
    for (let i = 1; i < 6; i += 2) for (let j = 2; j < 7; j += 2) want.push(i * 7 + (6 - j));
    assert.deepEqual(list(o), want);
  });

  test("literal operands: pad value and dynamic_slice indices (clamped)", () => {
    const b = new B();
    const x = b.input([4]);
    const p = b.op("pad", [x, lit(-1)], { padding_config: [[1, 0, 1]] });
    const d = b.op("dynamic_slice", [x, lit(7, "i32")], { slice_sizes: [2] });
    const u = b.op("dynamic_update_slice", [x, d, lit(-5, "i32")]);
    const [op, od, ou] = runBoth(b.build([p, d, u]), [array("f32", [4], [1, 2, 3, 4])]);
    assert.deepEqual(list(op), [-1, 1, -1, 2, -1, 3, -1, 4]);
    assert.deepEqual(list(od), [3, 4]);
    assert.deepEqual(list(ou), [3, 4, 3, 4]);
  });

  test("split: outputs that are jaxpr outputs, in both modes, and an unused piece", () => {
    const b = new B();
    const x = b.input([2, 5]);
    const [p, q, r] = b.ops("split", [x], { sizes: [2, 1, 2], axis: 1 });
    const e = b.op("exp", [q]);
    const jaxpr = b.build([p, e, r, p]);
    const xv = array("f32", [2, 5], iota(10));
    const [op, oe, or, op2] = runBoth(jaxpr, [xv]);
    assert.deepEqual(list(op), [0, 1, 5, 6]);
    assert.deepEqual(list(oe), [2, 7].map((v) => Math.fround(Math.exp(v))));
    assert.deepEqual(list(or), [3, 4, 8, 9]);
    assert.equal(op2, op);
    // Only the pieces in use are written by the compiled split.
    const b2 = new B();
    const y = b2.input([6]);
    const [, mid] = b2.ops("split", [y], { sizes: [1, 2, 3], axis: 0 });
    const j2 = b2.build([mid]);
    const fused = compileFused(j2);
    assert.equal(fused.kernels[0].outputs.length, 1);
    assert.equal(compileEager(j2).kernels[0].outputs.length, 3);
    assert.deepEqual(list(runBoth(j2, [array("f32", [6], iota(6))])[0]), [1, 2]);
  });

  test("reshape and squeeze are views when compiled, copies when eager", () => {
    const b = new B();
    const x = b.input([2, 1, 3]);
    const r = b.op("reshape", [x], { new_sizes: [3, 2], dimensions: null });
    const s = b.op("squeeze", [x], { dimensions: [1] });
    const t = b.op("mul", [s, lit(2)]);
    const u = b.op("reshape", [t], { new_sizes: [6], dimensions: null });
    const jaxpr = b.build([r, u]);
    const xv = array("f32", [2, 1, 3], iota(6));
    const fused = compileFused(jaxpr);
    const eager = compileEager(jaxpr);
    const [fr, fu] = fused.run([xv]);
    const [er] = eager.run([xv]);
    assert.equal(fr.data, xv.data, "the compiled reshape shares the input's buffer");
    assert.notEqual(er.data, xv.data, "the eager reshape copies");
    assert.deepEqual(fr.aval.shape, [3, 2]);
    assert.deepEqual(list(fu), iota(6, (i) => 2 * i));
    const views = fused.kernels.filter((k) => /\(view\)/.test(k.source));
    assert.equal(views.length, 3);
    for (const v of views) {
      assert.equal(v.kind, "copy");
      assert.equal(v.bytesRead + v.bytesWritten, 0);
      assert.match(v.reason, /view: (reshape|squeeze) is a bitcast/);
    }
    assert.equal(fused.launches, 1, "only the multiply runs");
    assert.equal(eager.launches, 4);
    runBoth(jaxpr, [xv]);
  });

  test("iota of every dtype", () => {
    for (const dtype of ["f32", "f64", "i32", "bool"] as DType[]) {
      const b = new B();
      const y = b.op("iota", [], { dtype, shape: [2, 3], dimension: 1 });
      const [o] = runBoth(b.build([y]), []);
      assert.equal(o.aval.dtype, dtype);
      assert.deepEqual(list(o), dtype === "bool" ? [0, 1, 1, 0, 1, 1] : [0, 1, 2, 0, 1, 2]);
    }
  });

  test("a transpose big enough for contiguous row copies", () => {
    const b = new B();
    const x = b.input([3, 80, 2]);
    const t = b.op("transpose", [x], { permutation: [0, 2, 1] });
    const t2 = b.op("transpose", [t], { permutation: [0, 2, 1] });
    const xv = fillRandom(x.aval, 5);
    const [o, o2] = runBoth(b.build([t, t2]), [xv]);
    assert.deepEqual(list(o2), list(xv));
    assert.equal(o.data[(1 * 2 + 1) * 80 + 7], xv.data[(1 * 80 + 7) * 2 + 1]);
  });
});

describe("gather and scatter", () => {
  const EMB = { offset_dims: [1], collapsed_slice_dims: [0], start_index_map: [0], operand_batching_dims: [], start_indices_batching_dims: [] };
  const PT = { update_window_dims: [], inserted_window_dims: [0], scatter_dims_to_operand_dims: [0], operand_batching_dims: [], scatter_indices_batching_dims: [] };

  test("table[ids] is a row gather; out of bounds rows are NaN in fill mode", () => {
    const b = new B();
    const tab = b.input([4, 2]);
    const ids = b.input([3, 1], "i32");
    const g = b.op("gather", [tab, ids], { dimension_numbers: EMB, slice_sizes: [1, 2], mode: "fill", fill_value: null, indices_are_sorted: false, unique_indices: false });
    const [o] = runBoth(b.build([g]), [array("f32", [4, 2], iota(8)), array("i32", [3, 1], [3, 4, 0])]);
    assert.deepEqual(o.aval.shape, [3, 2]);
    assert.deepEqual(list(o).slice(0, 2), [6, 7]);
    assert.ok(Number.isNaN(o.data[2]) && Number.isNaN(o.data[3]));
    assert.deepEqual(list(o).slice(4), [0, 1]);
  });

  test("scatter-add with duplicate indices accumulates, out of bounds updates are dropped", () => {
    const b = new B();
    const x = b.input([4]);
    const idx = b.input([5, 1], "i32");
    const u = b.input([5]);
    const s = b.op("scatter-add", [x, idx, u], { dimension_numbers: PT, mode: "fill", indices_are_sorted: false, unique_indices: false });
    const [o] = runBoth(b.build([s]), [array("f32", [4], [0, 0, 0, 0]), array("i32", [5, 1], [2, 2, -1, 4, 2]), array("f32", [5], [1, 10, 100, 1000, 5])]);
    assert.deepEqual(list(o), [0, 0, 16, 0]);
  });

  test("scatter does not modify its operand", () => {
    const b = new B();
    const x = b.input([3]);
    const idx = b.input([1, 1], "i32");
    const u = b.input([1]);
    const s = b.op("scatter", [x, idx, u], { dimension_numbers: PT, mode: "clip", indices_are_sorted: false, unique_indices: false });
    const xv = array("f32", [3], [1, 2, 3]);
    const [o] = runBoth(b.build([s]), [xv, array("i32", [1, 1], [9]), array("f32", [1], [7])]);
    assert.deepEqual(list(o), [1, 2, 7]);
    assert.deepEqual(list(xv), [1, 2, 3]);
  });

  test("kinds: gather and scatter kernels, scatter-add FLOPs per update", () => {
    const b = new B();
    const x = b.input([4, 2]);
    const idx = b.input([3, 1], "i32");
    const g = b.op("gather", [x, idx], { dimension_numbers: EMB, slice_sizes: [1, 2], mode: "clip", fill_value: null, indices_are_sorted: false, unique_indices: false });
    const s = b.op("scatter-add", [x, idx, g], { dimension_numbers: { ...PT, update_window_dims: [1] }, mode: "fill", indices_are_sorted: false, unique_indices: false });
    const ks = compileFused(b.build([s])).kernels;
    assert.deepEqual(ks.map((k) => k.kind), ["gather", "scatter"]);
    assert.equal(ks[0].flops, 0);
    assert.equal(ks[1].flops, 6);
  });
});

describe("elementwise additions", () => {
  test("erf: odd, exact at 0, saturates, and close to the float64 reference", () => {
    const b = new B();
    const x = b.input([8]);
    const y = b.op("erf", [x]);
    const [o] = runBoth(b.build([y]), [array("f32", [8], [0, -0, 0.5, -0.5, 3, 7, -Infinity, NaN])]);
    assert.ok(Object.is(o.data[0], 0) && Object.is(o.data[1], -0));
    assert.equal(o.data[2], -o.data[3]);
    assert.equal(o.data[2], Math.fround(0.5204998778130465));
    assert.equal(o.data[4], Math.fround(0.9999779095030014));
    assert.deepEqual([o.data[5], o.data[6]], [1, -1]);
    assert.ok(Number.isNaN(o.data[7]));
  });

  test("clamp with scalar literal bounds fuses with its neighbours", () => {
    const b = new B();
    const x = b.input([5]);
    const c = b.op("clamp", [lit(-1), x, lit(1)]);
    const d = b.op("mul", [c, lit(3)]);
    const jaxpr = b.build([d]);
    assert.equal(compileFused(jaxpr).launches, 1);
    const [o] = runBoth(jaxpr, [array("f32", [5], [-5, -0.5, 0, 2, NaN])]);
    assert.deepEqual(list(o).slice(0, 4), [-3, -1.5, 0, 3]);
    assert.ok(Number.isNaN(o.data[4]));
  });

  test("integer square and clamp wrap / stay int32", () => {
    const b = new B();
    const x = b.input([3], "i32");
    const s = b.op("square", [x]);
    const c = b.op("clamp", [lit(-2, "i32"), x, lit(2, "i32")]);
    const [os, oc] = runBoth(b.build([s, c]), [array("i32", [3], [65536, -3, 46341])]);
    assert.deepEqual(list(os), [0, 9, -2147479015]);
    assert.deepEqual(list(oc), [2, -2, 2]);
  });
});

describe("fusion boundaries", () => {
  test("a softmax is one row kernel: the producer fused into the reduction, the division after it; the reason says so", () => {
    const b = new B();
    const x = b.input([4, 8]);
    const e = b.op("exp", [x]);
    const s = b.op("reduce_sum", [e], { axes: [1] });
    const bc = b.op("broadcast_in_dim", [s], { shape: [4, 8], broadcast_dimensions: [0] });
    const d = b.op("div", [e, bc]);
    const jaxpr = b.build([d]);
    const fused = compileFused(jaxpr);
    assert.deepEqual(fused.kernels.map((k) => [k.kind, k.eqns]), [["rowwise", [0, 1, 2, 3]]]);
    assert.match(fused.kernels[0].reason, /row kernel: 1 reduction over axes \(1\) of f32\[4,8\] with 3 fused elementwise ops; function output/);
    assert.equal(fused.kernels[0].flops, 96, "exp, sum and div: one flop per element each");
    assert.equal(fused.kernels[0].bytesRead + fused.kernels[0].bytesWritten, 2 * 4 * 32, "the input read once, the output written once");
    const [o] = runBoth(jaxpr, [fillRandom(x.aval, 3)]);
    for (let r = 0; r < 4; r++) {
      const row = list(o).slice(r * 8, r * 8 + 8);
      assert.ok(Math.abs(row.reduce((t, v) => t + v, 0) - 1) < 1e-6, "softmax rows sum to 1");
    }
  });

  test("data movement kernels: kind copy, zero FLOPs, bytes each way", () => {
    const b = new B();
    const x = b.input([3, 4]);
    const t = b.op("transpose", [x], { permutation: [1, 0] });
    const k = compileFused(b.build([t])).kernels[0];
    assert.equal(k.kind, "copy");
    assert.equal(k.flops, 0);
    assert.equal(k.bytesRead, 48);
    assert.equal(k.bytesWritten, 48);
    assert.match(k.reason, /data movement \(transpose\)/);
  });

  test("eager kernels of non-loop ops are shared by shape and params", () => {
    const b = new B();
    const x = b.input([3, 4]);
    const s1 = b.op("reduce_sum", [x], { axes: [1] });
    const y = b.op("exp", [x]);
    const s2 = b.op("reduce_sum", [y], { axes: [1] });
    const eager = compileEager(b.build([s1, s2]));
    assert.equal(eager.kernels[0].source.split("\n").slice(3).join("\n"), eager.kernels[2].source.split("\n").slice(3).join("\n"));
    assert.match(eager.kernels[0].source, /function reduce_sum\(in_x, out_r\)/);
  });
});

// ---- property: eager and fused agree on random programs with non-loop ops ----

const stepArb = fc.record({
  kind: fc.constantFrom("unary", "binary", "scalar", "sum", "max", "transpose", "reshape", "matmul", "bcast"),
  a: fc.nat(),
  b: fc.nat(),
  k: fc.nat(),
  value: fc.double({ min: -2, max: 2, noNaN: true }),
});

test("property: random chains of elementwise ops, reductions, transposes, reshapes and matmuls agree eager vs fused", () => {
  const UN: Prim[] = ["neg", "exp", "tanh", "sin", "abs", "logistic", "erf", "square", "atan", "sinh"];
  const BIN: Prim[] = ["add", "sub", "mul", "max", "min"];
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
      fc.array(stepArb, { minLength: 1, maxLength: 14 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      fc.nat(),
      (shape, steps, outs, seed) => {
        const b = new B();
        const x = b.input(shape);
        const vals: Var[] = [x];
        const pick = (n: number) => vals[n % vals.length];
        for (const s of steps) {
          const a = pick(s.a);
          const r = a.aval.shape.length;
          switch (s.kind) {
            case "unary": vals.push(b.op(UN[s.k % UN.length], [a])); break;
            case "binary": {
              // a partner of the same shape, if there is one; else a scalar literal
              const same = vals.filter((v) => v.aval.shape.length === r && v.aval.shape.every((d, i) => d === a.aval.shape[i]));
              vals.push(b.op(BIN[s.k % BIN.length], [a, same.length ? same[s.b % same.length] : lit(s.value)]));
              break;
            }
            case "scalar": vals.push(b.op(s.k % 2 ? "mul" : "add", [a, lit(s.value)])); break;
            case "sum": case "max": {
              if (r === 0) break;
              const axes = iota(r).filter((d) => (s.b >> d) & 1);
              vals.push(b.op(s.kind === "sum" ? "reduce_sum" : "reduce_max", [a], { axes }));
              break;
            }
            case "transpose": {
              const perm = iota(r);
              for (let i = r - 1; i > 0; i--) { const j = (s.b + i) % (i + 1); [perm[i], perm[j]] = [perm[j], perm[i]]; }
              vals.push(b.op("transpose", [a], { permutation: perm }));
              break;
            }
            case "reshape": {
              const n = size(a.aval.shape);
              const d0 = [1, 2, 3, 4, 5].filter((d) => n % d === 0)[s.b % [1, 2, 3, 4, 5].filter((d) => n % d === 0).length];
              vals.push(b.op("reshape", [a], { new_sizes: s.k % 2 ? [n] : [d0, n / d0], dimensions: null }));
              break;
            }
            case "matmul": {
              // contract the last dim of a with the first dim of a same-sized partner (or of a itself)
              if (r === 0) break;
              const K = a.aval.shape[r - 1];
              const cands = vals.filter((v) => v.aval.shape.length >= 1 && v.aval.shape[0] === K);
              const y = cands[s.b % cands.length] ?? a;
              if (y.aval.shape[0] !== K) break;
              vals.push(b.op("dot_general", [a, y], { dimension_numbers: [[[r - 1], [0]], [[], []]], preferred_element_type: null }));
              break;
            }
            case "bcast": {
              const shapeOut = [2, ...a.aval.shape];
              const e = b.op("broadcast_in_dim", [a], { shape: shapeOut, broadcast_dimensions: iota(r, (i) => i + 1) });
              vals.push(b.op("mul", [e, lit(s.value)]));
              break;
            }
          }
          if (size(vals[vals.length - 1].aval.shape) > 4096) vals.pop();
        }
        const jaxpr = b.build(outs.map((o) => pick(o)));
        const inputs = [fillRandom(x.aval, seed)];
        const eager = compileEager(jaxpr);
        const fused = compileFused(jaxpr);
        const e = eager.run(inputs);
        const f = fused.run(inputs);
        e.forEach((ev, i) => {
          const d = maxRelDiff(ev, f[i]);
          assert.ok(d === 0, `output ${i} differs by ${d}\n${fused.kernels.map((k) => k.source).join("\n")}`);
        });
        assert.ok(fused.launches <= eager.launches);
      },
    ),
    { numRuns: Number(process.env.RUNS ?? 250), seed: Number(process.env.SEED ?? 4242) },
  );
});

// ---- measurements (JITLENS_BENCH=1 node --import tsx --test test/unit/kernels.test.ts) ----

test("bench: 256x256x256 matmul and 1024x1024 row sum", { skip: !process.env.JITLENS_BENCH }, () => {
  const b = new B();
  const x = b.input([256, 256]);
  const y = b.input([256, 256]);
  const z = b.op("dot_general", [x, y], { dimension_numbers: [[[1], [0]], [[], []]], preferred_element_type: null });
  const mm = compileFused(b.build([z]));
  const mmIn = [fillRandom(x.aval, 1), fillRandom(y.aval, 2)];
  const c = new B();
  const r = c.input([1024, 1024]);
  const s = c.op("reduce_sum", [r], { axes: [1] });
  const rs = compileFused(c.build([s]));
  const rsIn = [fillRandom(r.aval, 3)];
  const opts = { minRuns: 20, minTimeMs: 1000, warmup: 3 };
  const t1 = measure(() => mm.run(mmIn), opts);
  const t2 = measure(() => rs.run(rsIn), opts);
  console.log(`matmul 256^3: median ${t1.median_ms.toFixed(2)} ms (min ${t1.min_ms.toFixed(2)}, ${(2 * 256 ** 3 / t1.median_ms / 1e6).toFixed(2)} GFLOP/s)`);
  console.log(`row sum 1024x1024: median ${t2.median_ms.toFixed(3)} ms (min ${t2.min_ms.toFixed(3)}, ${(4 * 1024 * 1024 / t2.median_ms / 1e6).toFixed(2)} GB/s)`);
});

describe("a fused plan that cannot be compiled", () => {
  test("falls back to one kernel per equation, with the reason in every kernel", () => {
    const b = new B();
    const x = b.input([3, 4]);
    const y = b.op("exp", [x]);
    const t = b.op("transpose", [y], { permutation: [1, 0] });
    const jaxpr = b.build([t]);
    // A broken plan: a "row kernel" whose reduction does not exist.
    const broken = compileFused(jaxpr, {
      planner: () => ({ dead: [], kernels: [{ kind: "rowwise", eqns: [0, 1], inputs: [x], outputs: [t], loopShape: [4, 3], reason: "bad", row: { shape: [4, 3], axes: [1] } }] }),
    });
    assert.equal(broken.kernels.length, 2);
    assert.ok(broken.kernels.every((k) => /not fused: the fused plan failed to compile/.test(k.reason)));
    const xv = fillRandom(x.aval, 1);
    const [o] = broken.run([xv]);
    const [want] = compileEager(jaxpr).run([xv]);
    assert.deepEqual(list(o), list(want));
  });
});

describe("buffer reuse", () => {
  test("eager intermediates reuse freed buffers; outputs are fresh unless recycled", () => {
    const b = new B();
    const x = b.input([1000]);
    const y1 = b.op("exp", [x]);
    const y2 = b.op("neg", [y1]);
    const y3 = b.op("exp", [y2]);
    const y4 = b.op("neg", [y3]);
    const jaxpr = b.build([y4]);
    const eager = compileEager(jaxpr);
    const xv = fillRandom(x.aval, 2);
    const [a] = eager.run([xv]);
    const [a2] = eager.run([xv]);
    assert.notEqual(a.data, a2.data, "run: a fresh output array each call");
    assert.deepEqual(list(a), list(a2), "stale pooled intermediates change nothing");
    const [r1] = eager.runRecycling([xv]);
    const snapshot = list(r1);
    const [r2] = eager.runRecycling([xv]);
    // The previous call's output went back to the pool: it is this call's output or was
    // overwritten as one of its intermediates.
    assert.ok(r1.data === r2.data || list(r1).some((v, i) => v !== snapshot[i]), "runRecycling reuses the previous output buffer");
    assert.deepEqual(list(r2), snapshot);
    assert.deepEqual(list(r2), list(a));
  });

  test("a view of an intermediate keeps its buffer out of the pool while it is read", () => {
    const b = new B();
    const x = b.input([4, 6]);
    const e = b.op("exp", [x]);
    const t = b.op("transpose", [e], { permutation: [1, 0] }); // a kernel of its own
    const r = b.op("reshape", [t], { new_sizes: [24], dimensions: null }); // a view of t
    const s = b.op("reduce_sum", [t], { axes: [1] });
    const jaxpr = b.build([r, s]);
    const xv = fillRandom(x.aval, 4);
    const fused = compileFused(jaxpr);
    const first = fused.run([xv]).map(list);
    for (let k = 0; k < 3; k++) assert.deepEqual(fused.run([xv]).map(list), first);
    assert.deepEqual(first, compileEager(jaxpr).run([xv]).map(list));
  });
});

