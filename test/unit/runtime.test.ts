// The CPU backend: eager interpreter and fused kernels against independently computed
// values (numpy-made fixtures and hand-worked cases), fusion structure, byte accounting,
// timing, random inputs, and a property test that eager and fused agree.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import type { ArrayValue, Atom, DType, Eqn, Jaxpr, Literal, Var } from "../../compiler-core/src/ir/types";
import type { Prim } from "../../compiler-core/src/ir/primitives";
import { alphaName, compileEager, compileFused, kernelCacheSize, minimumBytes } from "../../compiler-core/src/runtime/cpu";
import { planFusion } from "../../compiler-core/src/fusion/fuse";
import { maxRelDiff, measure, summarize } from "../../compiler-core/src/runtime/timing";
import { fillRandom } from "../../compiler-core/src/runtime/random";
import { array, close, decode, list } from "./lib/build";

// ---- building jaxprs by hand ----

class Builder {
  private nextId = 0;
  eqns: Eqn[] = [];
  invars: Var[] = [];
  constvars: Var[] = [];
  consts: ArrayValue[] = [];

  v(shape: number[], dtype: DType = "f32"): Var {
    return { kind: "var", id: this.nextId++, aval: { shape, dtype, weak: false } };
  }
  input(shape: number[], dtype: DType = "f32"): Var {
    const x = this.v(shape, dtype);
    this.invars.push(x);
    return x;
  }
  constant(value: ArrayValue): Var {
    const x = this.v([...value.aval.shape], value.aval.dtype);
    this.constvars.push(x);
    this.consts.push(value);
    return x;
  }
  op(prim: Prim, inputs: Atom[], params: Record<string, unknown> = {}, out?: { shape?: number[]; dtype?: DType }): Var {
    const shape = out?.shape ?? (prim === "broadcast_in_dim" ? (params.shape as number[]) : broadcastShape(inputs));
    const dtype = out?.dtype ?? outDtype(prim, inputs, params);
    const o = this.v(shape, dtype);
    const line = this.eqns.length + 1;
    this.eqns.push({ prim, params: params as never, inputs, outputs: [o], span: { file: "t.py", line, col: 5, endLine: line, endCol: 9 } });
    return o;
  }
  build(outvars: Atom[]): Jaxpr {
    return { constvars: this.constvars, consts: this.consts, invars: this.invars, eqns: this.eqns, outvars };
  }
}

function broadcastShape(inputs: Atom[]): number[] {
  const ranked = inputs.filter((a) => a.aval.shape.length > 0);
  if (ranked.length === 0) return [];
  return ranked[0].aval.shape.map((_, i) => Math.max(...ranked.map((a) => a.aval.shape[i])));
}

function outDtype(prim: Prim, inputs: Atom[], params: Record<string, unknown>): DType {
  if (["eq", "ne", "lt", "le", "gt", "ge", "is_finite"].includes(prim)) return "bool";
  if (prim === "convert_element_type") return params.new_dtype as DType;
  if (prim === "select_n") return inputs[1].aval.dtype;
  return inputs[0].aval.dtype;
}

const lit = (value: number | boolean, dtype: DType = "f32"): Literal => ({ kind: "lit", value, aval: { shape: [], dtype, weak: true } });


/** Run both ways; assert they agree exactly; return the fused outputs. */
function runBoth(jaxpr: Jaxpr, inputs: ArrayValue[]): ArrayValue[] {
  const eager = compileEager(jaxpr).run(inputs);
  const fused = compileFused(jaxpr).run(inputs);
  assert.equal(fused.length, eager.length);
  fused.forEach((f, i) => {
    assert.deepEqual(f.aval.shape, eager[i].aval.shape);
    assert.equal(f.aval.dtype, eager[i].aval.dtype);
    assert.deepEqual(list(f), list(eager[i]), `output ${i}: eager and fused differ`);
  });
  return fused;
}

// ---- every primitive against numpy ----

interface FixtureCase {
  prim: Prim;
  params: Record<string, unknown>;
  dtypes: DType[];
  out: DType;
  inputs: (number | string)[][];
  expected: (number | string)[];
  tol: number;
}

const fixtures: FixtureCase[] = JSON.parse(readFileSync(new URL("./fixtures/prims.json", import.meta.url), "utf8")).cases;

describe("primitives match numpy (fixtures/prims.json)", () => {
  assert.ok(fixtures.length >= 70, "fixture file has the cases");
  for (const c of fixtures) {
    const label = `${c.prim}${Object.keys(c.params).length ? JSON.stringify(c.params) : ""} ${c.dtypes.join(",")} -> ${c.out}`;
    test(label, () => {
      const n = c.inputs[0].length;
      const b = new Builder();
      const xs = c.dtypes.map((d) => b.input([n], d));
      const y = b.op(c.prim, xs, c.params, { dtype: c.out });
      const jaxpr = b.build([y]);
      const inputs = c.inputs.map((vals, i) => array(c.dtypes[i], [n], vals.map(decode)));
      for (const [mode, exe] of [["eager", compileEager(jaxpr)], ["fused", compileFused(jaxpr)]] as const) {
        const got = exe.run(inputs)[0];
        assert.equal(got.aval.dtype, c.out);
        c.expected.map(decode).forEach((want, i) => {
          const args = c.inputs.map((vals) => vals[i]).join(", ");
          assert.ok(close(got.data[i], want, c.tol), `${mode} ${c.prim}(${args}) = ${got.data[i]}, numpy says ${want}`);
        });
      }
    });
  }
});

// ---- hand-worked semantics ----

function unary(prim: Prim, dtype: DType, values: number[], params: Record<string, unknown> = {}): number[] {
  const b = new Builder();
  const x = b.input([values.length], dtype);
  const y = b.op(prim, [x], params);
  return list(runBoth(b.build([y]), [array(dtype, [values.length], values)])[0]);
}

function binary(prim: Prim, dtype: DType, xs: number[], ys: number[]): number[] {
  const b = new Builder();
  const x = b.input([xs.length], dtype);
  const y = b.input([ys.length], dtype);
  const z = b.op(prim, [x, y]);
  return list(runBoth(b.build([z]), [array(dtype, [xs.length], xs), array(dtype, [ys.length], ys)])[0]);
}

describe("semantics", () => {
  test("sign keeps ±0 and NaN (XLA), and is ±1 elsewhere", () => {
    const got = unary("sign", "f32", [-3, -0, 0, 2, NaN, -Infinity]);
    assert.ok(Object.is(got[1], -0) && Object.is(got[2], 0));
    assert.deepEqual([got[0], got[3], got[5]], [-1, 1, -1]);
    assert.ok(Number.isNaN(got[4]));
  });

  test("round is half to even and keeps the sign of zero", () => {
    const got = unary("round", "f32", [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998, 3.5000002, -0.4]);
    assert.deepEqual(got.slice(0, 6), [0, 2, 2, -0, -2, -2]);
    assert.ok(Object.is(got[3], -0));
    assert.deepEqual(got.slice(6, 8), [2, 4]);
    assert.ok(Object.is(got[8], -0));
  });

  test("integer division truncates, remainder takes the dividend's sign, zero divisors follow XLA", () => {
    assert.deepEqual(binary("div", "i32", [-7, 7, -7, 5, -2147483648], [2, -2, -2, 0, -1]), [-3, -3, 3, -1, -2147483648]);
    assert.deepEqual(binary("rem", "i32", [-7, 7, -7, 5, -2147483648], [2, -2, -2, 0, -1]), [-1, 1, -1, 5, 0]);
  });

  test("float rem is fmod", () => {
    assert.deepEqual(binary("rem", "f32", [-7.5, 7.5, 5], [2, -2, 0.75]), [-1.5, 1.5, 0.5]);
  });

  test("max and min propagate NaN", () => {
    const mx = binary("max", "f32", [NaN, 1, 2], [1, NaN, 3]);
    const mn = binary("min", "f32", [NaN, 1, 2], [1, NaN, 3]);
    assert.ok(Number.isNaN(mx[0]) && Number.isNaN(mx[1]) && mx[2] === 3);
    assert.ok(Number.isNaN(mn[0]) && Number.isNaN(mn[1]) && mn[2] === 2);
  });

  test("int32 arithmetic wraps", () => {
    assert.deepEqual(binary("add", "i32", [2147483647], [1]), [-2147483648]);
    assert.deepEqual(binary("mul", "i32", [65536, 123456789], [65536, 1000]), [0, -1097262584]);
    assert.deepEqual(unary("neg", "i32", [-2147483648]), [-2147483648]);
    assert.deepEqual(unary("integer_pow", "i32", [1000, 7], { y: 4 }), [-727379968, 2401]);
  });

  test("pow follows C: 1**nan = 1, (-1)**inf = 1; int pow is exact", () => {
    assert.deepEqual(binary("pow", "f32", [1, -1, 2], [NaN, Infinity, 10]), [1, 1, 1024]);
    assert.deepEqual(binary("pow", "i32", [3, 2, 5, 1], [19, 30, -1, -7]), [1162261467, 1073741824, 0, 1]);
  });

  test("float32 results are rounded to float32 at every op", () => {
    // 0.1f + 0.2f in float32 is 0.30000001192092896, not the double sum.
    const [s] = binary("add", "f32", [0.1], [0.2]);
    assert.equal(s, Math.fround(Math.fround(0.1) + Math.fround(0.2)));
    // x**3 rounds after each multiply, like JAX's expansion.
    const x = Math.fround(1.1);
    const [c] = unary("integer_pow", "f32", [x], { y: 3 });
    assert.equal(c, Math.fround(x * Math.fround(x * x)));
    // A chain kept in registers is rounded the same way as the eager one (runBoth checks).
    const b = new Builder();
    const a = b.input([1]);
    const m = b.op("mul", [a, lit(3)]);
    const d = b.op("div", [m, lit(7)]);
    const [out] = runBoth(b.build([d]), [array("f32", [1], [0.1])]);
    assert.equal(out.data[0], Math.fround(Math.fround(Math.fround(0.1) * 3) / 7));
  });

  test("convert_element_type saturates float -> int32 and maps NaN to 0", () => {
    assert.deepEqual(unary("convert_element_type", "f32", [1e10, -1e10, NaN, -3.99, 3.99], { new_dtype: "i32", weak_type: false }),
      [2147483647, -2147483648, 0, -3, 3]);
  });

  test("logistic is 1 / (1 + exp(-x))", () => {
    const got = unary("logistic", "f32", [0, 2, -2, 100]);
    assert.deepEqual(got, [0.5, Math.fround(1 / (1 + Math.exp(-2))), Math.fround(1 / (1 + Math.exp(2))), 1]);
  });

  test("select_n with an int32 predicate picks cases[pred]", () => {
    const b = new Builder();
    const p = b.input([4], "i32");
    const z = b.op("select_n", [p, lit(10, "i32"), lit(20, "i32"), lit(30, "i32")], {}, { shape: [4], dtype: "i32" });
    const [out] = runBoth(b.build([z]), [array("i32", [4], [2, 0, 1, 2])]);
    assert.deepEqual(list(out), [30, 10, 20, 30]);
  });

  test("bool ops", () => {
    assert.deepEqual(binary("and", "bool", [0, 0, 1, 1], [0, 1, 0, 1]), [0, 0, 0, 1]);
    assert.deepEqual(binary("or", "bool", [0, 0, 1, 1], [0, 1, 0, 1]), [0, 1, 1, 1]);
    assert.deepEqual(unary("not", "bool", [0, 1]), [1, 0]);
    assert.deepEqual(binary("eq", "bool", [0, 0, 1, 1], [0, 1, 0, 1]), [1, 0, 0, 1]);
  });

  test("unsupported dtype combinations are rejected at compile time", () => {
    const b = new Builder();
    const x = b.input([2], "i32");
    const y = b.op("exp", [x], {}, { dtype: "i32" });
    assert.throws(() => compileFused(b.build([y])), /no exp for i32/);
    assert.throws(() => compileEager(b.build([y])), /no exp for i32/);
  });
});

// ---- broadcasting ----

describe("broadcasting", () => {
  test("scalar literal and rank-0 var operands", () => {
    const b = new Builder();
    const x = b.input([2, 3]);
    const s = b.input([]);
    const y = b.op("mul", [x, lit(2)]);
    const z = b.op("sub", [y, s]);
    const w = b.op("div", [lit(1), s]);
    const [o1, o2] = runBoth(b.build([z, w]), [array("f32", [2, 3], [1, 2, 3, 4, 5, 6]), array("f32", [], [4])]);
    assert.deepEqual(list(o1), [-2, 0, 2, 4, 6, 8]);
    assert.deepEqual(o2.aval.shape, []);
    assert.deepEqual(list(o2), [0.25]);
  });

  test("size-1 dimensions stretch: [3,1] + [1,4] -> [3,4]", () => {
    const b = new Builder();
    const x = b.input([3, 1]);
    const y = b.input([1, 4]);
    const z = b.op("add", [x, y]);
    const [o] = runBoth(b.build([z]), [array("f32", [3, 1], [0, 10, 20]), array("f32", [1, 4], [1, 2, 3, 4])]);
    assert.deepEqual(o.aval.shape, [3, 4]);
    assert.deepEqual(list(o), [1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24]);
  });

  test("size-1 dims in a rank-3 operand: [2,1,3] * [2,4,1]", () => {
    const b = new Builder();
    const x = b.input([2, 1, 3]);
    const y = b.input([2, 4, 1]);
    const z = b.op("mul", [x, y]);
    const xs = [1, 2, 3, 4, 5, 6], ys = [1, 2, 3, 4, 5, 6, 7, 8];
    const [o] = runBoth(b.build([z]), [array("f32", [2, 1, 3], xs), array("f32", [2, 4, 1], ys)]);
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) want.push(xs[i * 3 + k] * ys[i * 4 + j]);
    assert.deepEqual(list(o), want);
  });

  test("broadcast_in_dim: rows, columns, inner dims and scalars", () => {
    const b = new Builder();
    const row = b.input([4]);
    const col = b.input([3]);
    const mid = b.input([1, 4]);
    const s = b.input([]);
    const r = b.op("broadcast_in_dim", [row], { shape: [3, 4], broadcast_dimensions: [1] });
    const c = b.op("broadcast_in_dim", [col], { shape: [3, 4], broadcast_dimensions: [0] });
    const m = b.op("broadcast_in_dim", [mid], { shape: [2, 3, 4], broadcast_dimensions: [1, 2] });
    const sc = b.op("broadcast_in_dim", [s], { shape: [2, 2], broadcast_dimensions: [] });
    const rc = b.op("sub", [r, c]);
    const [o1, o2, o3] = runBoth(b.build([rc, m, sc]), [
      array("f32", [4], [1, 2, 3, 4]), array("f32", [3], [10, 20, 30]), array("f32", [1, 4], [5, 6, 7, 8]), array("f32", [], [9]),
    ]);
    assert.deepEqual(list(o1), [-9, -8, -7, -6, -19, -18, -17, -16, -29, -28, -27, -26]);
    assert.deepEqual(list(o2), Array.from({ length: 24 }, (_, i) => 5 + (i % 4)));
    assert.deepEqual(list(o3), [9, 9, 9, 9]);
  });

  test("one input read through two different views in one kernel (outer product)", () => {
    const b = new Builder();
    const x = b.input([3]);
    const e = b.op("exp", [x]);
    const r = b.op("broadcast_in_dim", [e], { shape: [3, 3], broadcast_dimensions: [1] });
    const c = b.op("broadcast_in_dim", [e], { shape: [3, 3], broadcast_dimensions: [0] });
    const p = b.op("mul", [r, c]);
    const jaxpr = b.build([p]);
    const fused = compileFused(jaxpr);
    assert.equal(fused.launches, 1);
    const xs = [0, 1, -1];
    const [o] = runBoth(jaxpr, [array("f32", [3], xs)]);
    const ex = xs.map((v) => Math.fround(Math.exp(v)));
    assert.deepEqual(list(o), ex.flatMap((ci) => ex.map((rj) => Math.fround(rj * ci))));
  });

  test("int and bool operands broadcast too", () => {
    const b = new Builder();
    const i = b.input([2, 3], "i32");
    const m = b.input([1, 3], "bool");
    const gt = b.op("gt", [i, lit(0, "i32")]);
    const both = b.op("and", [gt, m]);
    const pick = b.op("select_n", [both, i, lit(-1, "i32")]);
    const [o1, o2] = runBoth(b.build([both, pick]), [array("i32", [2, 3], [1, -2, 3, 4, 5, -6]), array("bool", [1, 3], [1, 1, 0])]);
    assert.deepEqual(list(o1), [1, 0, 0, 1, 1, 0]);
    assert.deepEqual(list(o2), [-1, -2, 3, -1, -1, -6]);
  });
});

// ---- fusion structure, buffers and accounting ----

/** A 10-op elementwise chain on f32[n]. */
function chain10(n: number): { jaxpr: Jaxpr; x: Var } {
  const b = new Builder();
  const x = b.input([n]);
  let v = b.op("mul", [x, lit(0.5)]);
  v = b.op("add", [v, lit(1)]);
  v = b.op("tanh", [v]);
  v = b.op("mul", [v, x]);
  v = b.op("exp", [v]);
  v = b.op("sub", [v, x]);
  v = b.op("abs", [v]);
  v = b.op("sqrt", [v]);
  v = b.op("max", [v, x]);
  v = b.op("neg", [v]);
  return { jaxpr: b.build([v]), x };
}

describe("fusion", () => {
  test("a 10-op elementwise chain is one fused kernel; eager launches 10", () => {
    const { jaxpr } = chain10(1000);
    const fused = compileFused(jaxpr);
    const eager = compileEager(jaxpr);
    assert.equal(fused.launches, 1);
    assert.equal(fused.kernels.length, 1);
    assert.equal(eager.launches, 10);
    assert.equal(eager.kernels.length, 10);
    const k = fused.kernels[0];
    assert.equal(k.name, "kernel_0");
    assert.equal(k.kind, "elementwise");
    assert.deepEqual(k.eqns, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(k.ops, 10);
    assert.equal(k.flops, 10 * 1000);
    assert.equal(k.bytesRead, 4000);
    assert.equal(k.bytesWritten, 4000);
    assert.equal(k.reason, "function output");
    assert.equal(k.language, "javascript");
    assert.equal(k.spans.length, 10);
    // The intermediates never touch memory: only the input is read and the output written.
    assert.equal((k.source.match(/\bin_\w+\[/g) ?? []).length, 1);
    assert.equal((k.source.match(/\bout_\w+\[/g) ?? []).length, 1);
    assert.match(k.source, /^\/\/ kernel_0: elementwise, eqns 0-9/);
    assert.match(k.source, /function kernel_0\(in_a, out_k\)/);
    // Eager: every intermediate is written and read back.
    assert.deepEqual(eager.kernels.map((e) => e.name).slice(0, 3), ["eager_0_mul", "eager_1_add", "eager_2_tanh"]);
    const eagerBytes = eager.kernels.reduce((t, e) => t + e.bytesRead + e.bytesWritten, 0);
    // 10 writes; reads: 10 chained + x three more times.
    assert.equal(eagerBytes, 4000 * (10 + 13));
    assert.equal(minimumBytes(jaxpr), 8000);
  });

  test("eager kernels are shared by primitive, dtype and pattern", () => {
    const { jaxpr } = chain10(77);
    compileEager(jaxpr);
    const before = kernelCacheSize();
    const again = chain10(77);
    const e = compileEager(again.jaxpr);
    assert.equal(kernelCacheSize(), before, "no new kernel for an identical pattern");
    assert.match(e.kernels[4].source, /function exp\(in_x, out_r\)/);
    compileEager(chain10(78).jaxpr);
    assert.ok(kernelCacheSize() > before, "a new shape is a new kernel");
  });

  test("outputs of different shapes end a kernel, with the reason", () => {
    const b = new Builder();
    const x = b.input([4]);
    const e = b.op("exp", [x]);
    const big = b.op("broadcast_in_dim", [e], { shape: [3, 4], broadcast_dimensions: [1] });
    const y = b.op("mul", [big, lit(2)]);
    const jaxpr = b.build([y, e]);
    const fused = compileFused(jaxpr);
    assert.equal(fused.launches, 2);
    const [k0, k1] = fused.kernels;
    assert.deepEqual(k0.eqns, [0]);
    assert.deepEqual(k1.eqns, [1, 2]);
    assert.match(k0.reason, /function output/);
    assert.match(k0.reason, /consumer kernel_1 loops over another shape/);
    assert.equal(k1.reason, "function output");
    assert.equal(k1.bytesRead, 16);
    runBoth(jaxpr, [array("f32", [4], [0, 1, 2, 3])]);
  });

  test("same-shape siblings fuse into one multi-output kernel", () => {
    const b = new Builder();
    const x = b.input([5]);
    const y = b.input([5]);
    const s = b.op("sin", [x]);
    const c = b.op("cos", [y]);
    const t = b.op("add", [s, c]);
    const jaxpr = b.build([s, t, c]);
    const fused = compileFused(jaxpr);
    assert.equal(fused.launches, 1);
    assert.equal(fused.kernels[0].outputs.length, 3);
    assert.equal(fused.kernels[0].bytesWritten, 60);
    assert.equal(fused.kernels[0].bytesRead, 40);
    runBoth(jaxpr, [array("f32", [5], [0, 1, 2, 3, 4]), array("f32", [5], [5, 6, 7, 8, 9])]);
  });

  test("loops: same-shape operands give one flat loop; broadcasts nest loops, innermost contiguous", () => {
    const b = new Builder();
    const x = b.input([2, 3, 4]);
    const y = b.input([2, 3, 4]);
    const z = b.op("add", [x, y]);
    const flat = compileFused(b.build([z])).kernels[0].source;
    assert.match(flat, /for \(let i0 = 0; i0 < 24; i0\+\+\)/);
    assert.doesNotMatch(flat, /i1/);
    const c = new Builder();
    const m = c.input([5, 6]);
    const col = c.input([5, 1]);
    const w = c.op("mul", [m, col]);
    const nested = compileFused(c.build([w])).kernels[0].source;
    assert.match(nested, /for \(let i0 = 0; i0 < 5; i0\+\+\) \{\n\s+const b = in_b\[i0\];\n\s+for \(let i1 = 0; i1 < 6; i1\+\+\)/,
      "the column value is read once per row, outside the inner loop");
  });

  test("loop kernels above the size limit are cut where every crossing value has the loop shape", () => {
    const { jaxpr } = chain10(6);
    const cut = compileFused(jaxpr, { maxLoopOps: 4 });
    assert.deepEqual(cut.kernels.map((k) => k.eqns), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    assert.match(cut.kernels[0].reason, /size limit: at most 4 ops/);
    assert.doesNotMatch(cut.kernels[2].reason, /size limit/);
    const x = array("f32", [6], [-2, -1, 0, 0.5, 1, 3]);
    assert.deepEqual(list(cut.run([x])[0]), list(compileEager(jaxpr).run([x])[0]));
    // A smaller-shape value cannot be written from a [2,3] loop, so no cut right after it.
    const b = new Builder();
    const r = b.input([3]);
    const m = b.input([2, 3]);
    const e1 = b.op("exp", [r]);
    const e2 = b.op("neg", [e1]);
    const bc = b.op("broadcast_in_dim", [e2], { shape: [2, 3], broadcast_dimensions: [1] });
    const s1 = b.op("add", [bc, m]);
    const s2 = b.op("mul", [s1, m]);
    const j2 = b.build([s2]);
    const plan = planFusion(j2, { maxLoopOps: 1 });
    assert.deepEqual(plan.kernels.map((k) => k.eqns), [[0, 1, 2], [3], [4]]);
    runBoth(j2, [array("f32", [3], [0, 1, 2]), array("f32", [2, 3], [1, 2, 3, 4, 5, 6])]);
    const [o] = compileFused(j2, { maxLoopOps: 1 }).run([array("f32", [3], [0, 1, 2]), array("f32", [2, 3], [1, 2, 3, 4, 5, 6])]);
    assert.deepEqual(list(o), list(compileEager(j2).run([array("f32", [3], [0, 1, 2]), array("f32", [2, 3], [1, 2, 3, 4, 5, 6])])[0]));
  });

  test("unused equations are dropped when fused, run when eager", () => {
    const b = new Builder();
    const x = b.input([3]);
    b.op("exp", [x]);
    const y = b.op("neg", [x]);
    const jaxpr = b.build([y]);
    const plan = planFusion(jaxpr);
    assert.deepEqual(plan.dead, [0]);
    assert.deepEqual(compileFused(jaxpr).kernels[0].eqns, [1]);
    assert.equal(compileEager(jaxpr).launches, 2);
  });

  test("outvars that are inputs, consts or literals need no kernel", () => {
    const b = new Builder();
    const x = b.input([2]);
    const k = b.constant(array("i32", [3], [7, 8, 9]));
    const jaxpr = b.build([x, lit(2.5), k, lit(true, "bool")]);
    const input = array("f32", [2], [1, 2]);
    for (const exe of [compileEager(jaxpr), compileFused(jaxpr)]) {
      assert.equal(exe.launches, 0);
      const [o0, o1, o2, o3] = exe.run([input]);
      assert.equal(o0, input);
      assert.deepEqual(o1.aval.shape, []);
      assert.ok(o1.data instanceof Float32Array);
      assert.deepEqual(list(o1), [2.5]);
      assert.deepEqual(list(o2), [7, 8, 9]);
      assert.ok(o3.data instanceof Uint8Array);
      assert.deepEqual(list(o3), [1]);
    }
  });

  test("consts are read like inputs", () => {
    const b = new Builder();
    const x = b.input([3]);
    const w = b.constant(array("f32", [3], [1, 2, 3]));
    const y = b.op("mul", [x, w]);
    const jaxpr = b.build([y]);
    const [o] = runBoth(jaxpr, [array("f32", [3], [4, 5, 6])]);
    assert.deepEqual(list(o), [4, 10, 18]);
    // JAX names constvars first: the const is a, the input b.
    assert.deepEqual(compileFused(jaxpr).kernels[0].inputs.map((i) => i.name), ["b", "a"]);
  });

  test("a scalar output and an empty output", () => {
    const b = new Builder();
    const s = b.input([]);
    const e = b.input([0, 3]);
    const t = b.op("exp", [s]);
    const u = b.op("add", [e, lit(1)]);
    const [o1, o2] = runBoth(b.build([t, u]), [array("f32", [], [0]), array("f32", [0, 3], [])]);
    assert.deepEqual(list(o1), [1]);
    assert.equal(o2.data.length, 0);
  });

  test("run checks its inputs", () => {
    const { jaxpr } = chain10(4);
    const exe = compileFused(jaxpr);
    assert.throws(() => exe.run([]), /expected 1 input arrays, got 0/);
    assert.throws(() => exe.run([array("f32", [5], [1, 2, 3, 4, 5])]), /expected f32\[4\], got f32\[5\]/);
    assert.throws(() => exe.run([{ aval: { shape: [4], dtype: "f32", weak: false }, data: new Float64Array(4) }]), /Float32Array/);
  });

  test("variables are named like JAX prints them", () => {
    assert.deepEqual([0, 1, 25, 26, 27, 51, 52, 675, 676, 701, 702].map(alphaName), ["a", "b", "z", "ba", "bb", "bz", "ca", "zz", "baa", "baz", "bba"]);
  });
});

// ---- property: eager and fused agree on random elementwise programs ----

const UNARY_F: Prim[] = ["neg", "exp", "tanh", "sin", "cos", "abs", "sign", "floor", "ceil", "round", "logistic", "log1p", "sqrt"];
const BINARY_F: Prim[] = ["add", "sub", "mul", "div", "max", "min", "pow", "atan2", "rem"];

const programArb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }),
  steps: fc.array(
    fc.record({
      kind: fc.constantFrom("unary", "binary", "literal", "pow", "select", "bcast"),
      prim: fc.nat(),
      a: fc.nat(),
      b: fc.nat(),
      value: fc.double({ min: -3, max: 3, noNaN: true }),
      mask: fc.nat(),
    }),
    { minLength: 1, maxLength: 12 },
  ),
  outs: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  seed: fc.nat(),
});

test("property: random elementwise chains give the same result eager and fused", () => {
  fc.assert(
    fc.property(programArb, ({ shape, steps, outs, seed }) => {
      const b = new Builder();
      const x = b.input(shape);
      const small = b.input(shape.map((d, i) => (i % 2 === 0 ? 1 : d)));
      const vals: Var[] = [x, small];
      const full = (v: Var) => v.aval.shape.every((d, i) => d === shape[i]);
      for (const s of steps) {
        const a = vals[s.a % vals.length];
        const c = vals[s.b % vals.length];
        switch (s.kind) {
          case "unary": vals.push(b.op(UNARY_F[s.prim % UNARY_F.length], [a])); break;
          case "binary": vals.push(b.op(BINARY_F[s.prim % BINARY_F.length], [a, c])); break;
          case "literal": vals.push(b.op(s.prim % 2 ? "mul" : "add", [a, lit(s.value)])); break;
          case "pow": vals.push(b.op("integer_pow", [a], { y: (s.prim % 7) - 2 })); break;
          case "select": vals.push(b.op("select_n", [b.op("lt", [a, c]), a, c])); break;
          case "bcast":
            if (!full(a)) vals.push(b.op("broadcast_in_dim", [a], { shape, broadcast_dimensions: shape.map((_, i) => i) }));
            else vals.push(b.op("sign", [a]));
            break;
        }
      }
      const outvars = outs.map((o) => vals[o % vals.length]);
      const jaxpr = b.build(outvars);
      const inputs = [fillRandom(x.aval, seed), fillRandom(small.aval, seed + 1)];
      const eager = compileEager(jaxpr);
      const fused = compileFused(jaxpr);
      assert.equal(eager.launches, jaxpr.eqns.length);
      // Everything has one of two shapes here, so at most two loop kernels.
      assert.ok(fused.launches <= 2, `expected at most 2 kernels, got ${fused.launches}`);
      const e = eager.run(inputs);
      const f = fused.run(inputs);
      e.forEach((ev, i) => {
        const d = maxRelDiff(ev, f[i]);
        assert.ok(d <= 1e-6, `output ${i} differs by ${d}\n${fused.kernels.map((k) => k.source).join("\n")}`);
      });
    }),
    { numRuns: 300, seed: 20240601 },
  );
});

// ---- timing, comparison and random inputs ----

/** Busy-wait for `ms` milliseconds. */
function spin(ms: number): void {
  const t = performance.now();
  while (performance.now() - t < ms);
}

describe("timing", () => {
  test("measure repeats until both minimum runs and minimum time are met", () => {
    let calls = 0;
    const st = measure(() => { calls++; }, { minRuns: 7, minTimeMs: 0, warmup: 3 });
    assert.equal(st.runs, 7);
    assert.equal(calls, 10);
    const slow = measure(() => spin(2), { minRuns: 1, minTimeMs: 20 });
    // At least 20 ms measured, and no more runs than needed for that.
    assert.ok(slow.runs * slow.max_ms >= 20 && slow.runs <= 12, `runs ${slow.runs}`);
    assert.ok(slow.min_ms >= 2 && slow.min_ms <= slow.median_ms && slow.median_ms <= slow.max_ms);
  });

  test("measure stops at maxRuns or maxTimeMs", () => {
    assert.equal(measure(() => {}, { minRuns: 100, minTimeMs: 0, maxRuns: 4 }).runs, 4);
    const st = measure(() => spin(5), { minRuns: 1000, minTimeMs: 0, maxTimeMs: 30 });
    assert.ok(st.runs >= 1 && st.runs <= 7, `runs ${st.runs}`);
  });

  test("summarize: median of odd and even counts", () => {
    assert.deepEqual(summarize([3, 1, 2]), { median_ms: 2, min_ms: 1, max_ms: 3, runs: 3 });
    assert.equal(summarize([4, 1, 2, 3]).median_ms, 2.5);
  });

  test("maxRelDiff", () => {
    const a = array("f32", [5], [1, NaN, Infinity, 0, -2]);
    assert.equal(maxRelDiff(a, array("f32", [5], [1, NaN, Infinity, 0, -2])), 0);
    assert.ok(Math.abs(maxRelDiff(a, array("f32", [5], [1, NaN, Infinity, 0, -2.5])) - 0.2) < 1e-7);
    assert.equal(maxRelDiff(a, array("f32", [5], [1, 0, Infinity, 0, -2])), Infinity);
    assert.equal(maxRelDiff(a, array("f32", [5], [1, NaN, -Infinity, 0, -2])), Infinity);
    assert.throws(() => maxRelDiff(a, array("f32", [1, 5], [1, 2, 3, 4, 5])), /shapes differ/);
    // Scaled by the largest magnitude: a tiny element's own relative error does not dominate.
    const near0 = maxRelDiff(array("f64", [2], [10, 1e-7]), array("f64", [2], [10, 2e-7]));
    assert.ok(Math.abs(near0 - 1e-8) < 1e-15, String(near0));
  });
});

describe("random inputs", () => {
  test("deterministic per seed, standard normal floats", () => {
    const aval = { shape: [100, 100], dtype: "f32" as const, weak: false };
    const a = fillRandom(aval, 1), b = fillRandom(aval, 1), c = fillRandom(aval, 2);
    assert.deepEqual(list(a), list(b));
    assert.notDeepEqual(list(a), list(c));
    const xs = list(a);
    const mean = xs.reduce((t, v) => t + v, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((t, v) => t + (v - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 1) < 0.05, `mean ${mean} sd ${sd}`);
    assert.ok(xs.every(Number.isFinite));
  });

  test("ints uniform in [-10, 10), bools about half true", () => {
    const ints = list(fillRandom({ shape: [10000], dtype: "i32", weak: false }, 5));
    assert.equal(Math.min(...ints), -10);
    assert.equal(Math.max(...ints), 9);
    const bools = list(fillRandom({ shape: [10000], dtype: "bool", weak: false }, 5));
    const trues = bools.filter((v) => v === 1).length;
    assert.ok(bools.every((v) => v === 0 || v === 1));
    assert.ok(trues > 4700 && trues < 5300, `${trues} trues`);
  });
});
