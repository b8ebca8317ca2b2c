// The WASM SIMD path of the CPU backend (compiler-core/src/codegen/wasm): the binary emitter,
// module validation, the float32 transcendentals' accuracy against float64 Math and their
// bit-identity with the JS twins, and matmul/elementwise kernels against the JS kernels.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { Eqn, Var } from "../../compiler-core/src/ir/types";
import { Func, Module, sleb, uleb } from "../../compiler-core/src/codegen/wasm/module";
import { wasmDotKernel, wasmLoopKernel, wasmSimdSupported } from "../../compiler-core/src/codegen/wasm/index";
import { F32_MATH_HELPERS } from "../../compiler-core/src/codegen/wasm/mathjs";

// The project's TS lib has no WebAssembly declarations: the few calls the tests make.
const WebAssembly = (globalThis as unknown as { WebAssembly: {
  validate(b: Uint8Array): boolean;
  Module: new (b: Uint8Array) => object;
  Instance: new (m: object, imports?: object) => { exports: Record<string, unknown> };
} }).WebAssembly;

let nextId = 1;
const v = (shape: number[], dtype: "f32" | "bool" = "f32"): Var => ({ kind: "var", id: nextId++, aval: { dtype, shape } }) as unknown as Var;
const eqn = (prim: string, inputs: Var[], outputs: Var[], params: object = {}): Eqn => ({ prim, inputs, outputs, params, span: { file: "", line: 0, col: 0, endLine: 0, endCol: 0 } }) as unknown as Eqn;

/** Runs float32 `prim` over xs through a one-op WASM loop kernel. */
function wasmUnary(prim: string, xs: Float32Array): Float32Array {
  const x = v([xs.length]), y = v([xs.length]);
  const k = wasmLoopKernel({ fnName: "k", eqns: [eqn(prim, [x], [y])], inputs: [x], outputs: [y], loopShape: [xs.length] });
  assert.ok(WebAssembly.validate(k.bytes), `${prim}: the module validates`);
  const out = new Float32Array(xs.length);
  k.make()(xs, out);
  return out;
}

const jsTwin = (name: string): ((x: number) => number) => {
  const deps = name === "jlLogF" ? [] : ["jlP2"];
  return new Function(`${[...deps, name].map((h) => F32_MATH_HELPERS[h]).join("\n")}\nreturn ${name};`)();
};

/** ulp distance of float32 `got` from the float64 `want`, in units of float32 ulps at `want`. */
function ulps(got: number, want: number): number {
  if (Number.isNaN(want)) return Number.isNaN(got) ? 0 : Infinity;
  if (got === want) return 0;
  if (!Number.isFinite(want)) return Infinity;
  const w = Math.max(Math.abs(want), 1.1754943508222875e-38);
  const ulp = 2 ** (Math.floor(Math.log2(w)) - 23);
  return Math.abs(got - want) / ulp;
}

function sweep(lo: number, hi: number, n: number): Float32Array {
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = lo + ((hi - lo) * i) / (n - 1);
  return xs;
}

describe("wasm emitter", () => {
  test("LEB128", () => {
    assert.deepEqual(uleb(0), [0]);
    assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
    assert.deepEqual(sleb(-1), [0x7f]);
    assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
    assert.deepEqual(sleb(64), [0xc0, 0x00]);
  });

  test("a module with control flow, locals and SIMD validates and runs", () => {
    assert.ok(wasmSimdSupported());
    const m = new Module();
    const f = new Func("run", [{ type: "i32", name: "n" }], ["f32"]);
    const acc = f.local("v128", "acc"), i = f.local("i32", "i");
    f.f32x4(0).set(acc).i32(0).set(i);
    f.block("done").loop("l");
    f.get(i).get(0).op("i32.ge_s").brIf("done");
    f.get(acc).f32x4(1, 2, 3, 4).op("f32x4.add").set(acc);
    f.get(i).i32(1).op("i32.add").set(i).br("l");
    f.end().end();
    f.get(acc).lane("f32x4.extract_lane", 3);
    m.addFunc(f, "run");
    const bytes = m.bytes();
    assert.ok(WebAssembly.validate(bytes));
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    assert.equal((inst.exports.run as (n: number) => number)(10), 40);
    assert.match(m.text(), /f32x4\.add/);
  });
});

describe("wasm float32 transcendentals", () => {
  const cases: [string, string, (x: number) => number, Float32Array, number][] = [
    ["exp", "jlExpF", Math.exp, sweep(-103, 88.7, 200001), 1],
    ["log", "jlLogF", Math.log, new Float32Array([...sweep(1e-6, 10, 100001), ...sweep(10, 3e38, 100001), 1e-40, 3e-39, 1e-45]), 1],
    ["tanh", "jlTanhF", Math.tanh, new Float32Array([...sweep(-12, 12, 200001), ...sweep(-1e-3, 1e-3, 20001), 1e-30, -1e-38, 1e-45]), 1],
  ];
  for (const [prim, twin, ref, xs, bound] of cases) {
    test(`${prim}: max error vs float64 Math within ${bound} ulp; the JS twin is bit-identical`, () => {
      const got = wasmUnary(prim, xs);
      const js = jsTwin(twin);
      let worst = 0, at = 0;
      for (let i = 0; i < xs.length; i++) {
        const e = ulps(got[i], ref(xs[i]));
        if (e > worst) { worst = e; at = xs[i]; }
        assert.ok(Object.is(Math.fround(js(xs[i])), got[i]), `${prim}(${xs[i]}): JS ${js(xs[i])}, WASM ${got[i]}`);
      }
      console.log(`# ${prim}: max ${worst.toFixed(2)} ulp (at ${at}) over ${xs.length} points`);
      assert.ok(worst <= bound, `${prim}: ${worst} ulp at ${at}`);
    });
  }

  test("logistic is Math's 1 / (1 + exp(-x)), rounded once (lane by lane through an import)", () => {
    const xs = sweep(-100, 30, 20001);
    const got = wasmUnary("logistic", xs);
    for (let i = 0; i < xs.length; i++) assert.ok(Object.is(got[i], Math.fround(1 / (1 + Math.exp(-xs[i])))), `logistic(${xs[i]})`);
  });

  test("special values", () => {
    const xs = new Float32Array([NaN, Infinity, -Infinity, 0, -0, 100, -200]);
    const e = wasmUnary("exp", xs), l = wasmUnary("log", xs), t = wasmUnary("tanh", xs), s = wasmUnary("logistic", xs);
    assert.deepEqual(Array.from(e), [NaN, Infinity, 0, 1, 1, Infinity, 0]);
    assert.deepEqual(Array.from(l), [NaN, Infinity, NaN, -Infinity, -Infinity, Math.fround(Math.log(100)), NaN]);
    assert.deepEqual(Array.from(t).map((x) => (Object.is(x, -0) ? "-0" : x)), [NaN, 1, -1, 0, "-0", 1, -1]);
    assert.deepEqual(Array.from(s), [NaN, 1, 0, 0.5, 0.5, 1, 0]);
  });
});

describe("wasm kernels", () => {
  test("min/max propagate NaN and order -0 < +0, as Math.min/max", () => {
    const x = v([8]), y = v([8]), a = v([8]), b = v([8]);
    const k = wasmLoopKernel({ fnName: "k", eqns: [eqn("max", [x, y], [a]), eqn("min", [x, y], [b])], inputs: [x, y], outputs: [a, b], loopShape: [8] });
    const xs = new Float32Array([NaN, 1, -0, 0, 2, -Infinity, 3, NaN]), ys = new Float32Array([1, NaN, 0, -0, -2, 5, 3, NaN]);
    const oa = new Float32Array(8), ob = new Float32Array(8);
    k.make()(xs, ys, oa, ob);
    for (let i = 0; i < 8; i++) {
      assert.ok(Object.is(oa[i], Math.max(xs[i], ys[i])), `max ${i}`);
      assert.ok(Object.is(ob[i], Math.min(xs[i], ys[i])), `min ${i}`);
    }
  });

  test("matmul, batched and transposed layouts, ragged edges, against a float64 loop", () => {
    for (const [Bt, M, K, N, tb] of [[1, 1, 1, 4, false], [1, 5, 7, 6, true], [3, 9, 6, 10, false], [2, 13, 17, 33, true]] as const) {
      const a = v(Bt > 1 ? [Bt, M, K] : [M, K]), b = v(Bt > 1 ? (tb ? [Bt, N, K] : [Bt, K, N]) : tb ? [N, K] : [K, N]), c = v(Bt > 1 ? [Bt, M, N] : [M, N]);
      const r = Bt > 1 ? 1 : 0;
      const dn = [[[r + 1], [tb ? r + 1 : r]], [Bt > 1 ? [0] : [], Bt > 1 ? [0] : []]];
      const k = wasmDotKernel({ fnName: "k", dot: eqn("dot_general", [a, b], [c], { dimension_numbers: dn }), epilogue: [], inputs: [a, b], outputs: [c] });
      assert.ok(WebAssembly.validate(k.bytes));
      const A = Float32Array.from({ length: Bt * M * K }, (_, i) => Math.sin(i) * 3), B = Float32Array.from({ length: Bt * K * N }, (_, i) => Math.cos(i * 0.7));
      const C = new Float32Array(Bt * M * N);
      k.make()(A, B, C);
      for (let t = 0; t < Bt; t++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let s = 0;
        for (let q = 0; q < K; q++) s += A[(t * M + i) * K + q] * (tb ? B[(t * N + j) * K + q] : B[(t * K + q) * N + j]);
        const got = C[(t * M + i) * N + j];
        assert.ok(Math.abs(got - s) <= 1e-6 * Math.max(1, Math.abs(s)), `[${Bt},${M},${K},${N}] (${t},${i},${j}): ${got} vs ${s}`);
      }
    }
  });

  test("reads that are not contiguous or loop-invariant are refused", () => {
    const x = v([4, 6]), t = v([6, 4]), y = v([6, 4]);
    assert.throws(() => wasmLoopKernel({ fnName: "k", eqns: [eqn("transpose", [x], [t], { permutation: [1, 0] }), eqn("neg", [t], [y])], inputs: [x], outputs: [y], loopShape: [6, 4] }), /WasmUnsupported|transpose/);
  });
});

// ---- whole programs: the WASM kernels agree bit for bit with the JS kernels and with eager ----

import type { Atom, Jaxpr } from "../../compiler-core/src/ir/types";
import { compileEager, compileFused } from "../../compiler-core/src/runtime/cpu";

class P {
  eqns: Eqn[] = [];
  invars: Var[] = [];
  input(shape: number[]): Var { const x = v(shape); this.invars.push(x); return x; }
  op(prim: string, inputs: Atom[], shape: number[], params: object = {}, dtype: "f32" | "bool" = "f32"): Var {
    const o = v(shape, dtype);
    this.eqns.push(eqn(prim, inputs as Var[], [o], params));
    return o;
  }
  build(outs: Var[]): Jaxpr { return { constvars: [], consts: [], invars: this.invars, eqns: this.eqns, outvars: outs } as unknown as Jaxpr; }
}
const flit = (x: number): Atom => ({ kind: "lit", value: x, aval: { shape: [], dtype: "f32", weak: true } }) as unknown as Atom;

/** WASM compiled == eager exactly; == the JS kernels exactly, or (a matmul: float64 sums grouped differently) within 1e-6. */
function agree(j: Jaxpr, inputs: Float32Array[], wantWasm: string[], jsExact = true): void {
  const ins = inputs.map((d, i) => ({ aval: j.invars[i].aval, data: d }));
  const w = compileFused(j, { wasm: true }), s = compileFused(j, { wasm: false }), e = compileEager(j);
  assert.deepEqual(w.kernels.map((k) => `${k.kind}:${k.language}`), wantWasm);
  const [a, b, c] = [w.run(ins), s.run(ins), e.run(ins)];
  a.forEach((o, i) => {
    for (let k = 0; k < o.data.length; k++) {
      const ok = jsExact ? Object.is(o.data[k], b[i].data[k]) : Math.abs(o.data[k] - b[i].data[k]) <= 1e-6 * Math.max(1, Math.abs(b[i].data[k]));
      assert.ok(ok, `output ${i}[${k}]: wasm ${o.data[k]}, js ${b[i].data[k]}`);
      assert.ok(Object.is(o.data[k], c[i].data[k]), `output ${i}[${k}]: wasm ${o.data[k]}, eager ${c[i].data[k]}`);
    }
  });
}
const data = (n: number, seed: number, extra: number[] = []) => {
  const d = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 4);
  extra.forEach((x, i) => { d[(i * 37) % n] = x; });
  return d;
};

describe("wasm kernels in programs: bit-identical to the JS kernels and to eager", () => {
  test("softmax over ragged rows (a row kernel, exp kept in scratch)", () => {
    const R = 8, C = 203, p = new P();
    const x = p.input([R, C]);
    const m = p.op("reduce_max", [x], [R], { axes: [1] });
    const d = p.op("sub", [x, p.op("broadcast_in_dim", [m], [R, C], { shape: [R, C], broadcast_dimensions: [0] })], [R, C]);
    const ex = p.op("exp", [d], [R, C]);
    const s = p.op("reduce_sum", [ex], [R], { axes: [1] });
    const y = p.op("div", [ex, p.op("broadcast_in_dim", [s], [R, C], { shape: [R, C], broadcast_dimensions: [0] })], [R, C]);
    agree(p.build([y]), [data(R * C, 1)], ["rowwise:wasm"]);
  });

  test("layer norm with scale and shift rows; logsumexp rows as an outer-shaped output", () => {
    const R = 16, C = 96, p = new P();
    const x = p.input([R, C]), sc = p.input([C]), sh = p.input([C]);
    const bc = (a: Var) => p.op("broadcast_in_dim", [a], [R, C], { shape: [R, C], broadcast_dimensions: [0] });
    const br = (a: Var) => p.op("broadcast_in_dim", [a], [R, C], { shape: [R, C], broadcast_dimensions: [1] });
    const mu = p.op("div", [p.op("reduce_sum", [x], [R], { axes: [1] }), flit(C)], [R]);
    const xc = p.op("sub", [x, bc(mu)], [R, C]);
    const var_ = p.op("div", [p.op("reduce_sum", [p.op("mul", [xc, xc], [R, C])], [R], { axes: [1] }), flit(C)], [R]);
    const inv = p.op("rsqrt", [p.op("add", [var_, flit(1e-6)], [R])], [R]);
    const y = p.op("add", [p.op("mul", [p.op("mul", [xc, bc(inv)], [R, C]), br(sc)], [R, C]), br(sh)], [R, C]);
    const m = p.op("reduce_max", [x], [R], { axes: [1] });
    const lse = p.op("add", [p.op("log", [p.op("reduce_sum", [p.op("exp", [p.op("sub", [x, bc(m)], [R, C])], [R, C])], [R], { axes: [1] })], [R]), m], [R]);
    const j = p.build([y, lse]);
    const k = compileFused(j, { wasm: true }).kernels.map((q) => q.language);
    assert.ok(k.includes("wasm"), `some kernel is WASM: ${k}`);
    agree(j, [data(R * C, 2, [NaN, -0, 0, Infinity]), data(C, 3), data(C, 4)], compileFused(j, { wasm: true }).kernels.map((q) => `${q.kind}:${q.language}`));
  });

  test("max/min reductions keep JS's order for ±0 and NaN; a full sum of squares", () => {
    const n = 4096, p = new P();
    const x = p.input([n]);
    const mx = p.op("reduce_max", [x], [], { axes: [0] });
    const mn = p.op("reduce_min", [x], [], { axes: [0] });
    const ss = p.op("reduce_sum", [p.op("mul", [x, x], [n])], [], { axes: [0] });
    const d = new Float32Array(n).fill(-0);
    d[5] = 0; d[9] = -0;
    agree(p.build([mx, mn, ss]), [d], ["reduction:wasm", "reduction:wasm", "reduction:wasm"].slice(0, compileFused(p.build([mx, mn, ss])).kernels.length));
    const d2 = data(n, 5, [NaN]);
    agree(p.build([mx, mn, ss]), [d2], compileFused(p.build([mx, mn, ss])).kernels.map((q) => `${q.kind}:${q.language}`));
  });

  test("a matmul with a fused bias + tanh-gelu epilogue", () => {
    const M = 33, K = 40, N = 70, p = new P();
    const x = p.input([M, K]), w = p.input([K, N]), b = p.input([N]);
    const h = p.op("dot_general", [x, w], [M, N], { dimension_numbers: [[[1], [0]], [[], []]], preferred_element_type: null });
    const z = p.op("add", [h, p.op("broadcast_in_dim", [b], [M, N], { shape: [M, N], broadcast_dimensions: [1] })], [M, N]);
    const g = p.op("mul", [p.op("mul", [z, flit(0.5)], [M, N]), p.op("add", [p.op("tanh", [p.op("mul", [z, flit(0.7978845608)], [M, N])], [M, N]), flit(1)], [M, N])], [M, N]);
    agree(p.build([g]), [data(M * K, 6), data(K * N, 7), data(N, 8)], ["matmul:wasm"], false);
  });
});

test("a retraced program gets the same WASM listing (no var ids in it), so the kernel cache hits", () => {
  const build = () => {
    const R = 8, C = 256, p = new P();
    const x = p.input([R, C]);
    const m = p.op("reduce_max", [x], [R], { axes: [1] });
    const ex = p.op("exp", [p.op("sub", [x, p.op("broadcast_in_dim", [m], [R, C], { shape: [R, C], broadcast_dimensions: [0] })], [R, C])], [R, C]);
    const y = p.op("tanh", [p.op("mul", [ex, flit(2)], [R, C])], [R, C]);
    return p.build([y]);
  };
  const a = compileFused(build(), { wasm: true }).kernels, b = compileFused(build(), { wasm: true }).kernels;
  assert.equal(a[0].language, "wasm");
  assert.equal(a.map((k) => k.source).join("\n"), b.map((k) => k.source).join("\n"));
});

test("a WASM row sum takes the eager reduce kernel's order (four float64 partial sums), even where the order decides the float32 result", () => {
  for (const C of [259, 1024, 1027]) {
    const R = 8, p = new P();
    const x = p.input([R, C]);
    const j = p.build([p.op("reduce_sum", [x], [R], { axes: [1] })]);
    // 1 + 2^-24 is a float32 tie; many 2^-56 terms break it in a partial sum of their own, not in a running sum
    const d = new Float32Array(R * C);
    for (let r = 0; r < R; r++) {
      const o = r * C;
      d[o] = 1;
      d[o + 4 * (r % 3)] += 2 ** -24;
      if (r >= 4) d[o + C - 1] += 2 ** -24;
      for (let k = 1; k < C; k += 4) if (k !== C - 1) d[o + k] = 2 ** -56;
    }
    const ins = [{ aval: x.aval, data: d }];
    const w = compileFused(j, { wasm: true });
    assert.deepEqual(w.kernels.map((k) => k.language), ["wasm"]);
    const got = w.run(ins as never)[0].data, want = compileEager(j, { wasm: false }).run(ins as never)[0].data;
    for (let r = 0; r < R; r++) assert.ok(Object.is(got[r], want[r]), `[${R},${C}] row ${r}: wasm ${got[r]}, eager JS ${want[r]}`);
    assert.ok(Array.from(got).some((g) => g !== 1), "some row's sum is not the tie's even neighbour (the rows discriminate)");
  }
});
