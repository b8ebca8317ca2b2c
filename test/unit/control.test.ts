// lax control flow and nested jit: the jaxprs JAX prints for them, their errors, and their
// execution by the CPU backend in both modes (host-driven loops over compiled sub-jaxprs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { traceFunction } from "../../compiler-core/src/trace/trace";
import { printJaxpr } from "../../compiler-core/src/ir/print";
import { JitError } from "../../compiler-core/src/frontend/source";
import { irText } from "../../compiler-core/src/report";
import { compileEager, compileFused } from "../../compiler-core/src/runtime/cpu";
import type { ArrayValue, DType } from "../../compiler-core/src/ir/types";

const HEADER = "import jax\nimport jax.numpy as jnp\nfrom jax import lax\n";

function traced(body: string, args: string, fn = "f") {
  return traceFunction({ file: "t.py", source: HEADER + body, fn, args });
}

function jaxpr(body: string, args: string, fn = "f"): string {
  return irText(printJaxpr(traced(body, args, fn).jaxpr));
}

function traceError(body: string, args: string, fn = "f"): JitError {
  try {
    traced(body, args, fn);
  } catch (e) {
    if (e instanceof JitError) return e;
    throw e;
  }
  assert.fail("expected a trace error");
}

function arr(dtype: DType, shape: number[], values: number[]): ArrayValue {
  const data = dtype === "f32" ? Float32Array.from(values) : dtype === "i32" ? Int32Array.from(values) : dtype === "bool" ? Uint8Array.from(values) : Float64Array.from(values);
  return { aval: { shape, dtype, weak: false }, data };
}

/** Runs in both modes; asserts they agree and returns the outputs (as plain arrays) and the executables. */
function run(body: string, args: string, inputs: ArrayValue[], fn = "f") {
  const t = traced(body, args, fn);
  const eager = compileEager(t.jaxpr), fused = compileFused(t.jaxpr);
  const a = eager.run(inputs), b = fused.run(inputs);
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    assert.deepEqual(x.aval.shape, b[i].aval.shape);
    assert.deepEqual(Array.from(x.data), Array.from(b[i].data), `output ${i}: eager and compiled differ`);
  });
  return { outs: a.map((x) => Array.from(x.data)), shapes: a.map((x) => x.aval.shape), eager, fused, jaxpr: t.jaxpr };
}

const close = (got: number[], want: number[], tol = 1e-5) => {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `element ${i}: ${g} vs ${want[i]}`));
};

// ------------------------------------------------------------------ while_loop

const WHILE = `def f(x, n):
    def cond(c):
        i, v = c
        return (i < n) & (jnp.sum(v) < 100.0)
    def body(c):
        i, v = c
        return i + 1, v * 2.0
    return lax.while_loop(cond, body, (0, x))
`;

test("while_loop with a traced condition: a while equation with cond and body jaxprs; the closed-over n is a cond const", () => {
  assert.equal(jaxpr(WHILE, "x=f32[4], n=i32[]"), [
    "{ lambda ; a:f32[4] b:i32[]. let",
    "    c:i32[] d:f32[4] = while[",
    "      body_jaxpr={ lambda ; e:i32[] f:f32[4]. let",
    "          g:i32[] = add e 1:i32[]",
    "          h:f32[4] = mul f 2.0:f32[]",
    "        in (g, h) }",
    "      body_nconsts=0",
    "      cond_jaxpr={ lambda ; i:i32[] j:i32[] k:f32[4]. let",
    "          l:bool[] = lt j i",
    "          m:f32[] = reduce_sum[axes=(0,) out_sharding=None] k",
    "          n:bool[] = lt m 100.0:f32[]",
    "          o:bool[] = and l n",
    "        in (o,) }",
    "      cond_nconsts=1",
    "    ] b 0:i32[] a",
    "  in (c, d) }",
  ].join("\n"));
});

test("while_loop runs until its condition is False, in both modes; launches count the trips", () => {
  const x = arr("f32", [4], [1, 2, 3, 4]);
  // Stops on i < n:
  const r = run(WHILE, "x=f32[4], n=i32[]", [x, arr("i32", [], [3])]);
  assert.deepEqual(r.outs, [[3], [8, 16, 24, 32]]);
  // 4 cond kernels per check in eager mode (lt, reduce_sum, lt, and), 1 body kernel per trip (mul; the add is its own):
  assert.equal(r.eager.launches, 4 * 4 + 3 * 2);
  // Stops on the sum (10, 20, 40, 80, 160 -> 4 trips):
  const s = run(WHILE, "x=f32[4], n=i32[]", [x, arr("i32", [], [100])]);
  assert.deepEqual(s.outs, [[4], [16, 32, 48, 64]]);
  // Never enters:
  assert.deepEqual(run(WHILE, "x=f32[4], n=i32[]", [x, arr("i32", [], [-5])]).outs, [[0], [1, 2, 3, 4]]);
});

test("while_loop: a carry the body passes through and the condition ignores becomes a body const", () => {
  const j = jaxpr(`def f(x, y):
    return lax.while_loop(lambda c: c[0] < 10.0, lambda c: (c[0] + c[1], c[1]), (x, y))
`, "x=f32[], y=f32[]");
  assert.match(j, /    c:f32\[\] = while\[/);
  assert.match(j, /body_jaxpr=\{ lambda ; d:f32\[\] e:f32\[\]\. let\n {10}f:f32\[\] = add e d\n {8}in \(f,\) \}/);
  assert.match(j, /body_nconsts=1/);
  assert.match(j, /\] b a\n/);
  const r = run(`def f(x, y):
    return lax.while_loop(lambda c: c[0] < 10.0, lambda c: (c[0] + c[1], c[1]), (x, y))
`, "x=f32[], y=f32[]", [arr("f32", [], [1]), arr("f32", [], [4])]);
  assert.deepEqual(r.outs, [[13], [4]]);
});

test("fori_loop: static bounds lower to scan (the index a weak int carry), traced bounds to while", () => {
  const s = jaxpr("def f(x):\n    return lax.fori_loop(0, 5, lambda i, c: c * 1.1 + 1.0, x)\n", "x=f32[]");
  assert.match(s, /_:i32\[\] b:f32\[\] = scan\[/);
  assert.match(s, /e:i32\[\] = add c 1:i32\[\]/);
  assert.match(s, /length=5\n/);
  assert.match(s, /\] 0:i32\[\] a\n/);
  const w = jaxpr("def f(x, n):\n    return lax.fori_loop(0, n, lambda i, c: c * 1.1 + 1.0, x)\n", "x=f32[], n=i32[]");
  assert.equal(w, [
    "{ lambda ; a:f32[] b:i32[]. let",
    "    _:i32[] _:i32[] c:f32[] = while[",
    "      body_jaxpr={ lambda ; d:i32[] e:i32[] f:f32[]. let",
    "          g:i32[] = add d 1:i32[]",
    "          h:f32[] = mul f 1.100000023841858:f32[]",
    "          i:f32[] = add h 1.0:f32[]",
    "        in (g, e, i) }",
    "      body_nconsts=0",
    "      cond_jaxpr={ lambda ; j:i32[] k:i32[] l:f32[]. let",
    "          m:bool[] = lt j k",
    "        in (m,) }",
    "      cond_nconsts=0",
    "    ] 0:i32[] b a",
    "  in (c,) }",
  ].join("\n"));
  const r = run("def f(x, n):\n    return lax.fori_loop(0, n, lambda i, c: c + i, x)\n", "x=f32[], n=i32[]", [arr("f32", [], [0.5]), arr("i32", [], [5])]);
  assert.deepEqual(r.outs, [[10.5]]); // 0+1+2+3+4, the index converted to float by the add
  const s2 = run("def f(x):\n    return lax.fori_loop(2, 6, lambda i, c: c * 2.0 + i, x)\n", "x=f32[3]", [arr("f32", [3], [1, 0, -1])]);
  let want = [1, 0, -1];
  for (let i = 2; i < 6; i++) want = want.map((v) => v * 2 + i);
  assert.deepEqual(s2.outs, [want]);
});

// ------------------------------------------------------------------ cond and switch

test("cond on a bool[] argument: the predicate converted to an int32 index, branches stored false-first", () => {
  const r = run("def f(x, p):\n    return lax.cond(p, lambda v: v * v, lambda v: v - 1.0, x)\n", "x=f32[3], p=bool[]", [arr("f32", [3], [1, 2, 3]), arr("bool", [], [1])]);
  assert.deepEqual(r.outs, [[1, 4, 9]]);
  const g = run("def f(x, p):\n    return lax.cond(p, lambda v: v * v, lambda v: v - 1.0, x)\n", "x=f32[3], p=bool[]", [arr("f32", [3], [1, 2, 3]), arr("bool", [], [0])]);
  assert.deepEqual(g.outs, [[0, 1, 2]]);
  assert.equal(g.fused.launches, 2, "the predicate's convert and the false branch's sub");
  const j = irText(printJaxpr(g.jaxpr));
  assert.match(j, /c:i32\[\] = convert_element_type\[new_dtype=int32 weak_type=False\] b/);
  assert.match(j, /branches=\(\n {8}\{ lambda ; e:f32\[3\]\. let\n {12}f:f32\[3\] = sub e 1\.0:f32\[\]/);
});

test("cond with a traced predicate and a closed-over value: one shared const, a numeric predicate compared with 0", () => {
  const src = "def f(x):\n    k = jnp.exp(x)\n    return lax.cond(jnp.sum(x), lambda v: v * k, lambda v: v - k, x)\n";
  const j = jaxpr(src, "x=f32[2]");
  assert.match(j, /d:bool\[\] = ne c 0\.0:f32\[\]/);
  assert.match(j, /\{ lambda ; g:f32\[2\] h:f32\[2\]\. let\n {12}i:f32\[2\] = sub h g/);
  assert.match(j, /\] e b a\n/);
  const r = run(src, "x=f32[2]", [arr("f32", [2], [1, -1])]);
  close(r.outs[0], [1 - Math.E, -1 - Math.exp(-1)]); // sum is 0: the false branch
});

test("cond: outputs both branches pass through are not outputs of the cond; Python if on the predicate is still an error", () => {
  const j = jaxpr("def f(x, p):\n    return lax.cond(p, lambda v: (v, v * 2.0), lambda v: (v, v), x)\n", "x=f32[2], p=bool[]");
  assert.match(j, /d:f32\[2\] = cond\[/);
  assert.match(j, /in \(a, d\) \}$/);
  const e = traceError("def f(x, p):\n    def t(v):\n        if p:\n            return v\n        return -v\n    return lax.cond(p, t, lambda v: v, x)\n", "x=f32[2], p=bool[]");
  assert.equal(e.kind, "TracerBoolConversionError");
  assert.equal(e.span?.line, 6);
});

test("switch clamps its index; an out-of-range index picks the first or last branch", () => {
  const src = "def f(i, x):\n    return lax.switch(i, [lambda v: v + 1.0, lambda v: v * 2.0, jnp.sin], x)\n";
  const j = jaxpr(src, "i=i32[], x=f32[2]");
  assert.match(j, /c:i32\[\] = clamp 0:i32\[\] a 2:i32\[\]/);
  assert.match(j, /j:f32\[2\] = sin i\n/);
  const x = arr("f32", [2], [0.5, 1]);
  const at = (i: number) => run(src, "i=i32[], x=f32[2]", [arr("i32", [], [i]), x]).outs[0];
  assert.deepEqual(at(-4), [1.5, 2]);
  assert.deepEqual(at(0), [1.5, 2]);
  assert.deepEqual(at(1), [1, 2]);
  close(at(2), [Math.sin(0.5), Math.sin(1)]);
  close(at(9), [Math.sin(0.5), Math.sin(1)]);
  assert.equal(traceError("def f(i, x):\n    return lax.switch(i, [lambda v: v, lambda v: v], x)\n", "i=f32[], x=f32[2]").kind, "TypeError");
});

test("cond and switch branch mismatches name both types", () => {
  const e = traceError("def f(x, p):\n    return lax.cond(p, lambda v: v, lambda v: v[:2], x)\n", "x=f32[4], p=bool[]");
  assert.equal(e.kind, "TypeError");
  assert.equal(e.message, "true_fun and false_fun output must have identical types, got DIFFERENT ShapedArray(float32[4]) vs. ShapedArray(float32[2]).");
  assert.equal(e.span?.line, 5);
  const s = traceError("def f(i, x):\n    return lax.switch(i, [lambda v: v, lambda v: v.astype(jnp.int32)], x)\n", "i=i32[], x=f32[4]");
  assert.match(s.message, /branch 0 and 1 outputs must have identical types, got DIFFERENT ShapedArray\(float32\[4\]\) vs\. ShapedArray\(int32\[4\]\)/);
  const t = traceError("def f(x, p):\n    return lax.cond(p, lambda v: (v, v), lambda v: v, x)\n", "x=f32[4], p=bool[]");
  assert.match(t.message, /same type structure.*PyTreeDef\(\(\*, \*\)\) and PyTreeDef\(\*\)/);
});

// ------------------------------------------------------------------ scan and map

const SCAN = `def f(xs, w):
    def step(carry, x):
        s, m = carry
        y = x * w
        return (s + y, jnp.maximum(m, y)), {"y": y, "t": jnp.sum(y)}
    return lax.scan(step, (jnp.zeros(3), xs[0]), xs, reverse=True)
`;

test("scan with a pytree carry, dict ys and reverse=True: consts, carry and xs operands; ys in sorted-key order", () => {
  const j = jaxpr(SCAN, "xs=f32[5,3], w=f32[3]");
  assert.match(j, /    f:f32\[3\] g:f32\[3\] h:f32\[5\] i:f32\[5,3\] = scan\[\n      _split_transpose=False\n      jaxpr=\{ lambda ; j:f32\[3\] k:f32\[3\] l:f32\[3\] m:f32\[3\]\. let/);
  assert.match(j, /in \(o, p, q, n\) \}\n      length=5\n      linear=\(False, False, False, False\)\n      num_carry=2\n      num_consts=1\n      reverse=True\n      unroll=1\n    \] b c e a\n/);
  const xs = [[1, 2, 3], [-1, 0, 2], [4, -2, 1], [0.5, 0.5, 0.5], [2, 1, -3]];
  const w = [1, -0.5, 2];
  const r = run(SCAN, "xs=f32[5,3], w=f32[3]", [arr("f32", [5, 3], xs.flat()), arr("f32", [3], w)]);
  let s = [0, 0, 0], m = [...xs[0]];
  const ys: number[][] = new Array(5), ts: number[] = new Array(5);
  for (let i = 4; i >= 0; i--) {
    const y = xs[i].map((v, k) => Math.fround(v * w[k]));
    s = s.map((v, k) => Math.fround(v + y[k]));
    m = m.map((v, k) => Math.max(v, y[k]));
    ys[i] = y;
    ts[i] = y.reduce((a, b) => a + b, 0);
  }
  assert.deepEqual(r.outs[0], s);
  assert.deepEqual(r.outs[1], m);
  close(r.outs[2], ts);
  assert.deepEqual(r.outs[3], ys.flat());
  assert.deepEqual(r.shapes, [[3], [3], [5], [5, 3]]);
});

test("scan launches its body's kernels once per step and lists them under the scan, with per-call bytes", () => {
  const src = "def f(xs):\n    def step(acc, x):\n        acc = 0.9 * acc + 0.1 * x\n        return acc, acc\n    return lax.scan(step, xs[0], xs)[1]\n";
  const r = run(src, "xs=f32[12,4]", [arr("f32", [12, 4], Array.from({ length: 48 }, (_, i) => i % 7))]);
  assert.equal(r.eager.launches, 1 + 1 + 12 * 3, "slice, squeeze, and 3 per step");
  assert.equal(r.fused.launches, 1 + 12, "slice (squeeze is a view), and the fused body per step");
  const names = r.fused.kernels.map((k) => k.name);
  assert.deepEqual(names, ["kernel_0", "kernel_1", "kernel_2", "kernel_2.body.kernel_0"]);
  const [loop, bodyK] = r.fused.kernels.slice(2);
  assert.equal(loop.kind, "loop");
  assert.match(loop.reason, /loops 12 times/);
  assert.equal(bodyK.kind, "elementwise");
  assert.deepEqual(bodyK.eqns, [2], "body kernels point at the scan equation");
  assert.match(bodyK.reason, /^scan body \(eqn 2\): runs 12 times per call/);
  assert.equal(bodyK.bytesRead, 12 * 2 * 16);
  assert.equal(bodyK.spans[0].line, 6, "the body's own line");
  const rows: number[] = [];
  let acc = [0, 1, 2, 3].map((i) => i % 7);
  for (let i = 0; i < 12; i++) {
    const x = [0, 1, 2, 3].map((k) => (i * 4 + k) % 7);
    acc = acc.map((a, k) => Math.fround(Math.fround(Math.fround(0.9) * a) + Math.fround(Math.fround(0.1) * x[k])));
    rows.push(...acc);
  }
  assert.deepEqual(r.outs[0], rows);
});

test("scan: a weakly typed init is promoted and the body traced again; forwarded carries become consts; xs rows returned as ys are not stacked", () => {
  assert.match(jaxpr("def f(xs):\n    return lax.scan(lambda c, x: (c + x, None), 0, xs)[0]\n", "xs=f32[4]"), /\] 0\.0:f32\[\] a\n/);
  const j = jaxpr("def f(w, xs):\n    return lax.scan(lambda c, x: ((c[0] * x, c[1]), x), (w, w), xs)\n", "w=f32[], xs=f32[6]");
  assert.match(j, /    c:f32\[\] = scan\[\n      _split_transpose=False\n      jaxpr=\{ lambda ; d:f32\[\] e:f32\[\] f:f32\[\]\. let\n {10}g:f32\[\] = mul e f\n {8}in \(g,\) \}/);
  assert.match(j, /num_carry=1\n      num_consts=1\n/);
  assert.match(j, /in \(c, a, b\) \}$/);
  const r = run("def f(w, xs):\n    return lax.scan(lambda c, x: ((c[0] * x, c[1]), x), (w, w), xs)\n", "w=f32[], xs=f32[6]", [arr("f32", [], [2]), arr("f32", [6], [1, 2, 3, 1, 1, 0.5])]);
  assert.deepEqual(r.outs, [[6], [2], [1, 2, 3, 1, 1, 0.5]]);
});

test("lax.map is a scan with an empty carry; constants made in the body become operands", () => {
  const src = "def f(xs):\n    return lax.map(lambda r: jnp.sum(r * jnp.array([1.0, 2.0, 3.0])), xs)\n";
  const j = jaxpr(src, "xs=f32[4,3]");
  assert.match(j, /^\{ lambda a:f32\[3\]; b:f32\[4,3\]\. let\n    c:f32\[4\] = scan\[/);
  assert.match(j, /num_carry=0\n      num_consts=1\n/);
  const r = run(src, "xs=f32[4,3]", [arr("f32", [4, 3], [1, 1, 1, 0, 1, 0, 2, 0, -1, 0.5, 0.5, 0.5])]);
  assert.deepEqual(r.outs, [[6, 2, -1, 3]]);
});

test("carry mismatches name the component and both types, at the call, as JAX words them", () => {
  const e = traceError("def f(x):\n    return lax.scan(lambda acc, r: (acc[:, None], r), x, jnp.ones((3, 4)))\n", "x=f32[4]");
  assert.equal(e.kind, "TypeError");
  assert.equal(e.span?.line, 5);
  assert.equal(e.message, "scan body function carry input and carry output must have equal types, but they differ: The input carry acc has type float32[4] but the corresponding output carry component has type float32[4,1], so the shapes do not match. Revise the function so that all output types match the corresponding input types.");
  const w = traceError("def f(x):\n    return lax.while_loop(lambda c: c.sum() < 3.0, lambda c: jnp.concatenate([c, c]), x)\n", "x=f32[4]");
  assert.match(w.message, /^while_loop body function carry input and carry output must have equal types, .*The input carry c has type float32\[4\] but the corresponding output carry component has type float32\[8\]/);
  const fo = traceError("def f(x):\n    return lax.fori_loop(0, 3, lambda i, c: c.astype(jnp.int32), x)\n", "x=f32[4]");
  assert.match(fo.message, /The input carry component loop_carry\[1\] has type float32\[4\] but the corresponding output carry component has type int32\[4\], so the dtypes do not match/);
  const t = traceError("def f(x):\n    return lax.scan(lambda c, r: ((c, c), r), x, jnp.ones((3, 4)))\n", "x=f32[4]");
  assert.match(t.message, /must have the same pytree structure.*PyTreeDef\(\*\).*PyTreeDef\(\(\*, \*\)\)/);
  assert.match(traceError("def f(x):\n    return lax.scan(lambda c, r: c, x, jnp.ones((3, 4)))\n", "x=f32[4]").message, /scan body output must be a pair/);
  assert.match(traceError("def f(x):\n    return lax.while_loop(lambda c: c < 3.0, lambda c: c + 1.0, x)\n", "x=f32[4]").message, /cond_fun must return a boolean scalar, but got output type\(s\) \[ShapedArray\(bool\[4\]\)\]/);
  assert.match(traceError("def f(x, y):\n    return lax.scan(lambda c, r: (c, r), 0.0, (x, y))\n", "x=f32[4], y=f32[3]").message, /scan got values with different leading axis sizes: 4, 3\./);
});

// ------------------------------------------------------------------ nested jit

const NESTED = `@jax.jit
def helper(a, b):
    return jnp.tanh(a) * b

def f(x, y):
    z = helper(x, y)
    return helper(z, 2.0) + helper(z, y)
`;

test("a jitted function called inside the traced one is a jit equation; its binders take the caller's names; a jaxpr used twice is hoisted", () => {
  assert.equal(jaxpr(NESTED, "x=f32[6], y=f32[6]"), [
    "let helper = { lambda ; a:f32[6] b:f32[6]. let",
    "    c:f32[6] = tanh a",
    "    d:f32[6] = mul c b",
    "  in (d,) } in",
    "{ lambda ; e:f32[6] f:f32[6]. let",
    "    g:f32[6] = jit[name=helper jaxpr=helper] e f",
    "    h:f32[6] = jit[",
    "      name=helper",
    "      jaxpr={ lambda ; g:f32[6] i:f32[]. let",
    "          j:f32[6] = tanh g",
    "          h:f32[6] = mul j i",
    "        in (h,) }",
    "    ] g 2.0:f32[]",
    "    k:f32[6] = jit[name=helper jaxpr=helper] g f",
    "    l:f32[6] = add h k",
    "  in (l,) }",
  ].join("\n"));
  const x = [0.1, -0.5, 1, 2, -3, 0], y = [1, 2, 3, -1, 0.5, 4];
  const r = run(NESTED, "x=f32[6], y=f32[6]", [arr("f32", [6], x), arr("f32", [6], y)]);
  const z = x.map((v, i) => Math.tanh(v) * y[i]);
  close(r.outs[0], z.map((v, i) => Math.tanh(v) * 2 + Math.tanh(v) * y[i]));
  assert.ok(r.eager.kernels.some((k) => k.kind === "call" && /jit call of helper/.test(k.reason)), "eager runs each call as its own executable");
  assert.ok(!r.fused.kernels.some((k) => k.kind === "call"), "compiled mode inlines the calls");
  assert.equal(r.fused.launches, 1, "inlined, everything fuses into one loop");
  assert.deepEqual(r.fused.kernels[0].eqns, [0, 1, 2, 3], "inlined equations report the call equations");
});

test("nested jit with static arguments, pytrees and a jitted function inside a scan body", () => {
  const src = `from functools import partial

@partial(jax.jit, static_argnames=("n",))
def power(x, n):
    for _ in range(n - 1):
        x = x * x
    return {"p": x, "s": jnp.sum(x)}

def f(xs):
    return lax.scan(lambda c, r: (c + power(r, n=2)["s"], power(r, 3)["p"]), 0.0, xs)
`;
  const j = jaxpr(src, "xs=f32[3,2]");
  assert.match(j, /jit\[\n {12}name=power\n {12}jaxpr=\{ lambda ; /);
  const r = run(src, "xs=f32[3,2]", [arr("f32", [3, 2], [1, 2, -1, 0.5, 3, 1])]);
  assert.deepEqual(r.outs[0], [1 + 4 + 1 + 0.25 + 9 + 1]);
  assert.deepEqual(r.outs[1], [1, 16, 1, 0.0625, 81, 1]);
});

test("inner equations print on their own lines with their own spans", () => {
  const t = traced("def f(x):\n    def body(i, v):\n        return jnp.cos(v)\n    return lax.fori_loop(0, 8, body, x)\n", "x=f32[4]");
  const lines = printJaxpr(t.jaxpr);
  const cos = lines.find((l) => / = cos /.test(l.text))!;
  assert.equal(cos.spans[0].line, 6, "the body's line");
  assert.ok(cos.spans.some((s) => s.line === 7), "and the loop's call site");
  for (const l of lines.slice(1, -1)) assert.ok(l.spans.length > 0, `line without spans: ${l.text}`);
});

test("the traced function itself stays inlined even when jitted; jit(inline=True) leaves no equation", () => {
  const src = `@jax.jit
def g(v):
    return v + 1.0

@jax.jit
def f(x):
    h = jax.jit(lambda v: v * 2.0, inline=True)
    return g(h(x))
`;
  assert.equal(jaxpr(src, "x=f32[3]"), [
    "{ lambda ; a:f32[3]. let",
    "    b:f32[3] = mul a 2.0:f32[]",
    "    c:f32[3] = jit[",
    "      name=g",
    "      jaxpr={ lambda ; b:f32[3]. let",
    "          c:f32[3] = add b 1.0:f32[]",
    "        in (c,) }",
    "    ] b",
    "  in (c,) }",
  ].join("\n"));
  const e = traceError("@jax.jit\ndef g(v, mode):\n    return v\n\ndef f(x):\n    return g(x, 'relu')\n", "x=f32[3]");
  assert.equal(e.kind, "TypeError");
  assert.match(e.message, /static_argnums or static_argnames/);
});

test("a body traced twice (weak init promoted) leaves only the kept trace's constants", () => {
  const src = "def f(xs):\n    return lax.scan(lambda c, x: (c + jnp.sum(x * jnp.array([1.0, 2.0, 3.0])), None), 0, xs)[0]\n";
  assert.match(jaxpr(src, "xs=f32[4,3]"), /^\{ lambda a:f32\[3\]; b:f32\[4,3\]\. let\n/);
  assert.deepEqual(run(src, "xs=f32[4,3]", [arr("f32", [4, 3], [1, 1, 1, 0, 1, 0, 2, 0, -1, 0.5, 0.5, 0.5])]).outs, [[10]]);
});
