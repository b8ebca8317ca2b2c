// jax.vmap: batched programs agree with running the function once per example and stacking
// (both traced from Python source and run on the CPU runtime), in_axes/out_axes handling,
// nested vmap, pytrees, and JAX's error messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { traceFunction } from "../../compiler-core/src/trace/trace";
import { printJaxpr } from "../../compiler-core/src/ir/print";
import { irText } from "../../compiler-core/src/report";
import { JitError } from "../../compiler-core/src/frontend/source";
import { compileEager, compileFused } from "../../compiler-core/src/runtime/cpu";
import { fillRandom } from "../../compiler-core/src/runtime/random";
import { newBuffer, size, type ArrayValue, type Aval, type Jaxpr } from "../../compiler-core/src/ir/types";
import { JaxprBuilder, literal } from "../../compiler-core/src/trace/builder";
import { BatchCtx, batchJaxpr, type BVal } from "../../compiler-core/src/trace/batching";
import type { Tracer } from "../../compiler-core/src/trace/values";

const HEADER = "import jax\nimport jax.numpy as jnp\nfrom jax import lax\n";

function trace(src: string, fn: string, args: string): Jaxpr {
  return traceFunction({ file: "t.py", source: HEADER + src, fn, args }).jaxpr;
}

function jaxprText(src: string, fn: string, args: string): string {
  return irText(printJaxpr(trace(src, fn, args)));
}

function traceError(src: string, fn: string, args: string): JitError {
  try {
    trace(src, fn, args);
  } catch (e) {
    if (e instanceof JitError) return e;
    throw e;
  }
  assert.fail("expected a trace error");
}

// ---- arrays: slicing one example out, stacking examples ----

const strides = (shape: readonly number[]) => shape.map((_, i) => size(shape.slice(i + 1)));

/** x[..., i, ...] with i on `axis`. */
function take(x: ArrayValue, axis: number, i: number): ArrayValue {
  const shape = x.aval.shape.filter((_, d) => d !== axis);
  const out = newBuffer(x.aval.dtype, size(shape));
  const xs = strides(x.aval.shape), os = strides(shape);
  for (let k = 0; k < out.length; k++) {
    let src = i * xs[axis];
    shape.forEach((_, d) => { src += Math.floor(k / os[d]) % shape[d] * xs[d < axis ? d : d + 1]; });
    out[k] = x.data[src];
  }
  return { aval: { ...x.aval, shape }, data: out };
}

/** Stacks equal-shaped arrays along a new axis 0. */
function stack(xs: ArrayValue[]): ArrayValue {
  const n = size(xs[0].aval.shape);
  const out = newBuffer(xs[0].aval.dtype, n * xs.length);
  xs.forEach((x, i) => out.set(x.data as never, i * n));
  return { aval: { ...xs[0].aval, shape: [xs.length, ...xs[0].aval.shape] }, data: out };
}

function assertClose(got: ArrayValue, want: ArrayValue, what: string): void {
  assert.deepEqual(got.aval.shape, want.aval.shape, `${what}: shape`);
  assert.equal(got.aval.dtype, want.aval.dtype, `${what}: dtype`);
  for (let i = 0; i < want.data.length; i++) {
    const a = Number(got.data[i]), b = Number(want.data[i]);
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a === b) continue;
    assert.ok(Math.abs(a - b) <= 1e-5 * (1 + Math.abs(b)), `${what}: element ${i} is ${a}, one by one it is ${b}`);
  }
}

const specOf = (a: Aval) => `${a.dtype}[${a.shape.join(",")}]`;
const withAxis = (shape: number[], axis: number | null, n: number) => (axis === null ? shape : [...shape.slice(0, axis), n, ...shape.slice(axis)]);
const axisText = (a: number | null) => (a === null ? "None" : String(a));

interface Case {
  /** The body of `def f(x, y, w):` computing `h` from x ([P,Q]), y ([P,Q] or [Q]) and w ([Q,Q]). */
  body: string[];
  P: number;
  Q: number;
  yRank: 1 | 2;
  axes: [number | null, number | null, number | null];
  B: number;
  twoOutputs: boolean;
  seed: number;
}

/** vmap(f)(xs...) against f run on each example and stacked; also the batched program fused. */
function checkCase(c: Case): void {
  const { P, Q, B } = c;
  const src = [
    "def f(x, y, w):",
    "    h = x",
    ...c.body.map((l) => `    h = ${l}`),
    c.twoOutputs ? "    return h, jnp.sum(h * y)" : "    return h",
    "",
    "def g(x, y, w):",
    `    return jax.vmap(f, in_axes=(${c.axes.map(axisText).join(", ")}))(x, y, w)`,
    "",
  ].join("\n").replaceAll("{P}", String(P)).replaceAll("{Q}", String(Q));
  const per: Aval[] = [[P, Q], c.yRank === 2 ? [P, Q] : [Q], [Q, Q]].map((shape) => ({ shape, dtype: "f32", weak: false }));
  const big: Aval[] = per.map((a, i) => ({ ...a, shape: withAxis([...a.shape], c.axes[i], B) }));
  const names = ["x", "y", "w"];
  let jg: Jaxpr, jf: Jaxpr;
  try {
    jg = trace(src, "g", big.map((a, i) => `${names[i]}=${specOf(a)}`).join(", "));
    jf = trace(src, "f", per.map((a, i) => `${names[i]}=${specOf(a)}`).join(", "));
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${src}`);
  }
  const inputs = big.map((a, i) => fillRandom(a, c.seed + i));
  const got = compileEager(jg).run(inputs);
  const fused = compileFused(jg).run(inputs);
  const one = compileEager(jf);
  const rows = Array.from({ length: B }, (_, b) => one.run(inputs.map((x, i) => (c.axes[i] === null ? x : take(x, c.axes[i]!, b)))));
  const want = rows[0].map((_, k) => stack(rows.map((r) => r[k])));
  assert.equal(got.length, want.length);
  got.forEach((g, k) => {
    try {
      assertClose(g, want[k], `output ${k}`);
      assertClose(fused[k], want[k], `output ${k} (fused)`);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${src}\n${irText(printJaxpr(jg))}`);
    }
  });
}

/** Steps of the random programs: each maps h ([P,Q] per example) to a new [P,Q] value. */
const OPS = [
  "jnp.tanh(h)",
  "jnp.exp(-jnp.abs(h))",
  "jnp.sin(h) * 2.0 + 1",
  "h ** 2 - h",
  "jnp.sqrt(jnp.abs(h) + 1.0)",
  "jnp.maximum(h, 0.0) - jnp.minimum(h, y)",
  "h + y",
  "h * y - 0.5",
  "h / (jnp.abs(y) + 1.0)",
  "h - jnp.max(h, axis=1, keepdims=True)",
  "h / (jnp.sum(jnp.abs(h), axis=0) + 1.0)",
  "h - jnp.mean(h)",
  "h * jnp.sum(y)",
  "h + jnp.sum(w)",
  "h * jnp.min(h, axis=0, keepdims=True)",
  "h * jnp.prod(jnp.tanh(h), axis=1, keepdims=True)",
  "jnp.tanh(h @ w)",
  "h @ (h.T @ h) * 0.1",
  "jnp.tanh(jnp.einsum('pq,qr->pr', h, w))",
  "jnp.dot(w, h.T).T",
  "lax.dot_general(h, w, (([1], [1]), ([], [])))",
  "jnp.where(h > 0, h, y * 0.5)",
  "jnp.where(h > y, 1.0, -1.0) * h",
  "jnp.clip(h, -1.0, 1.0)",
  "jnp.flip(h, axis=1)",
  "h[::-1]",
  "jnp.roll(h, 1, axis=0)",
  "jnp.concatenate([h[:, 1:], h[:, :1]], axis=1)",
  "h.reshape({Q}, {P}).T",
  "jnp.cumsum(h, axis=1)",
  "jnp.cumprod(jnp.tanh(h), axis=0)",
  "h.at[0].add(1.0)",
  "h.at[1].set(y[0])",
  "h.at[:, 0].mul(3.0)",
  "h.at[jnp.argmax(h, axis=0) % {P}].add(1.0)",
  "h + jnp.argmax(h, axis=1, keepdims=True).astype(jnp.float32)",
  "h - jnp.argmin(h, axis=0).astype(jnp.float32)",
  "h * (jnp.arange({Q}) * 0.1)",
  "jax.nn.softmax(h, axis=0)",
  "h - jax.nn.logsumexp(h, axis=1, keepdims=True)",
  "jax.nn.log_softmax(h)",
  "jnp.take(h, jnp.argmax(h, axis=0) % {Q}, axis=1)",
  "h + jnp.take_along_axis(h, jnp.argmax(h, axis=1, keepdims=True), axis=1)",
  "h[:, jnp.array([{Q} - 1 - i for i in range({Q})])]",
  "w[jnp.argmin(h, axis=1)] + h",
  "jnp.tril(h)",
  "jnp.triu(h, 1) + h",
  "jax.nn.one_hot(jnp.argmax(h, axis=1), {Q}) + h",
  "jnp.concatenate(jnp.split(h, [1], axis=0)[::-1], axis=0)",
  "jnp.squeeze(jnp.expand_dims(h, 0), 0) * 2",
  "jnp.broadcast_to(jnp.sum(h, axis=0), ({P}, {Q})) + h",
  "(h > 0).astype(jnp.int32) * 2 + h",
  "h % 1.5",
  "h // 0.7",
  "jax.nn.relu(h) + jax.nn.sigmoid(y)",
  "jnp.var(h, axis=0) + h",
  "jnp.linalg.norm(h, axis=1, keepdims=True) * h",
  "jnp.where(jnp.all(h > -1, axis=1, keepdims=True), h, -h)",
  "jnp.where(jnp.any(h > 1, axis=0), h, 0.5 * h)",
  "jnp.tile(h[:1], ({P}, 1)) * h",
  "jnp.repeat(h[:, :1], {Q}, axis=1) + h",
  "jax.nn.gelu(h)",
  "jnp.log(jnp.abs(h) + 1) * jnp.sign(y)",
  "jnp.stack([h[0], h[-1]])[jnp.zeros(({P},), dtype=jnp.int32)] + h",
  "jnp.where(h > 0, y, 2.0)",
  "h - jnp.max(h)",
  "(jnp.concatenate([h, w], axis=0) @ w)[1:{P} + 1] * 0.1",
  "h @ w.at[jnp.argmax(h, axis=1) % {Q}].add(h)",
  "h @ w.at[jnp.argmin(h, axis=1) % {Q}].set(0.5)",
  "h.at[jnp.argmax(h[:, 0])].set(0.0)",
  "h[jnp.argmax(h[:, 0])] + h",
  "jax.vmap(lambda r, c: r * c + jnp.sum(w))(h, jnp.arange({P}) * 1.0)",
  "jax.vmap(lambda col: jnp.cumsum(col[::-1]), in_axes=1, out_axes=1)(h)",
  "jax.grad(lambda v: jnp.sum(jnp.tanh(v @ w) * y))(h)",
  "jax.grad(lambda v: jnp.sum(jax.nn.softmax(v, axis=1) * y))(h)",
  "jax.vmap(jax.grad(lambda r: jnp.sum(jnp.sin(r) * r)))(h)",
];

/** Steps with lax control flow and a nested jit (their own test below; also in the random programs). */
const CONTROL = [
  "lax.cond(jnp.sum(h) > 0, lambda v: v * 2.0, lambda v: -v, h)",
  "lax.cond(jnp.sum(w) > 0, lambda v: v * 2.0, lambda v: v - y, h)",
  "lax.switch(jnp.argmax(h[0]), [lambda v: v, lambda v: v * 2.0, lambda v: jnp.tanh(v), lambda v: -v], h)",
  "lax.fori_loop(0, 3, lambda i, v: jnp.cos(v) + y, h)",
  "lax.while_loop(lambda v: jnp.max(v) < 5.0, lambda v: v * 1.5 + 0.1, jnp.abs(h) + 0.1)",
  "lax.while_loop(lambda v: jnp.max(v) < jnp.sum(jnp.abs(w)), lambda v: v * 1.5 + y * y, jnp.abs(h) + 0.1)",
  "lax.scan(lambda c, r: (c + r, c * r), jnp.zeros({Q}), h)[1]",
  "lax.scan(lambda c, r: (c + jnp.sum(w), r * c), 1.0, h)[1]",
  "jax.jit(lambda v: v @ w + 1.0)(h)",
];

const AXES = [0, 1, null] as const;

test("vmap of each step, for in_axes 0, 1 and None, equals stacking the examples one by one", () => {
  let seed = 1;
  for (const op of OPS) {
    for (const ax of AXES) {
      for (const yRank of [1, 2] as const) {
        // x mapped on `ax`, y and w on the other choices in turn; at least one mapped.
        const ay = AXES[(AXES.indexOf(ax) + 1) % 3], aw = AXES[(AXES.indexOf(ax) + 2) % 3];
        checkCase({ body: [op], P: 3, Q: 4, yRank, axes: [ax, ay, aw], B: 3, twoOutputs: yRank === 2, seed: seed++ });
      }
    }
  }
});

test("property: vmap of random programs equals stacking the examples one by one", () => {
  const axis = fc.constantFrom<number | null>(0, 1, null);
  fc.assert(
    fc.property(
      fc.record({
        ops: fc.array(fc.integer({ min: 0, max: OPS.length + CONTROL.length - 1 }), { minLength: 1, maxLength: 5 }),
        P: fc.integer({ min: 2, max: 4 }),
        Q: fc.integer({ min: 2, max: 4 }),
        B: fc.integer({ min: 1, max: 4 }),
        yRank: fc.constantFrom<1 | 2>(1, 2),
        axes: fc.tuple(axis, axis, axis),
        twoOutputs: fc.boolean(),
        seed: fc.nat({ max: 1_000_000 }),
      }),
      (r) => {
        const axes: Case["axes"] = r.axes.every((a) => a === null) ? [0, null, null] : r.axes;
        checkCase({ ...r, axes, body: r.ops.map((i) => [...OPS, ...CONTROL][i]) });
      },
    ),
    { numRuns: 150, seed: 424242 },
  );
});

// ---- the jaxprs vmap produces ----

test("vmap of softmax is softmax along the last axis of the batch (the batch axis leads)", () => {
  assert.equal(jaxprText("def f(xs):\n    return jax.vmap(jax.nn.softmax)(xs)\n", "f", "xs=f32[20,8]"), [
    "{ lambda ; a:f32[20,8]. let",
    "    b:f32[20] = reduce_max[axes=(1,)] a",
    "    c:f32[20] = max b -inf:f32[]",
    "    d:f32[20,1] = broadcast_in_dim[broadcast_dimensions=(0,)] c",
    "    e:f32[20,8] = sub a d",
    "    f:f32[20,8] = exp e",
    "    g:f32[20] = reduce_sum[axes=(1,) out_sharding=None] f",
    "    h:f32[20,1] = broadcast_in_dim[broadcast_dimensions=(0,)] g",
    "    i:f32[20,8] = div f h",
    "  in (i,) }",
  ].join("\n"));
});

test("in_axes=1 transposes the mapped axis to the front; out_axes=1 puts it back", () => {
  const j = jaxprText("def f(x, w):\n    return jax.vmap(lambda r: jnp.tanh(r @ w), in_axes=1, out_axes=1)(x)\n", "f", "x=f32[5,3], w=f32[5,4]");
  assert.equal(j, [
    "{ lambda ; a:f32[5,3] b:f32[5,4]. let",
    "    c:f32[3,5] = transpose[permutation=(1, 0)] a",
    "    d:f32[3,4] = dot_general[dimension_numbers=(([1], [0]), ([], [])) preferred_element_type=float32] c b",
    "    e:f32[3,4] = tanh d",
    "    f:f32[4,3] = transpose[permutation=(1, 0)] e",
    "  in (f,) }",
  ].join("\n"));
});

test("an unbatched operand of an elementwise op is broadcast; an unbatched scalar stays a scalar", () => {
  const j = jaxprText("def f(xs, y):\n    return jax.vmap(lambda x: x * y + 2.0)(xs)\n", "f", "xs=f32[6,4], y=f32[4]");
  assert.match(j, /c:f32\[6,4\] = broadcast_in_dim\[broadcast_dimensions=\(1,\)\] b/);
  assert.match(j, /d:f32\[6,4\] = mul a c/);
  assert.match(j, /e:f32\[6,4\] = add d 2.0:f32\[\]/);
});

test("both sides batched: dot_general gains a batch dimension", () => {
  const j = jaxprText("def f(a, b):\n    return jax.vmap(jnp.matmul)(a, b)\n", "f", "a=f32[7,2,3], b=f32[7,3,5]");
  assert.match(j, /c:f32\[7,2,5\] = dot_general\[dimension_numbers=\(\(\[2\], \[1\]\), \(\[0\], \[0\]\)\) preferred_element_type=float32\] a b/);
});

test("equations vmap emits keep the source lines of the function's code", () => {
  const src = "def f(xs):\n    def row(x):\n        y = jnp.sin(x)\n        return y * 2\n    return jax.vmap(row)(xs)\n";
  const jaxpr = trace(src, "f", "xs=f32[3,4]");
  assert.deepEqual(jaxpr.eqns.map((e) => e.span.line), [6, 7]);
  assert.deepEqual(jaxpr.eqns.map((e) => e.callStack?.[0]?.line), [8, 8]);
});

// ---- nesting, pytrees, in_axes/out_axes forms ----

function runJ(src: string, fn: string, args: string, seed = 7): { out: ArrayValue[]; ins: ArrayValue[] } {
  const r = traceFunction({ file: "t.py", source: HEADER + src, fn, args });
  const ins = r.inputs.map((l, i) => fillRandom(l.aval, seed + i));
  return { out: compileEager(r.jaxpr).run(ins), ins };
}

/** Reference values computed directly in JavaScript. */
function arr(shape: number[], f: (idx: number[]) => number): ArrayValue {
  const data = new Float32Array(size(shape));
  const st = strides(shape);
  for (let k = 0; k < data.length; k++) data[k] = f(shape.map((d, i) => Math.floor(k / st[i]) % d));
  return { aval: { shape, dtype: "f32", weak: false }, data };
}
const at = (x: ArrayValue, ...idx: number[]) => Number(x.data[idx.reduce((s, v, i) => s + v * strides(x.aval.shape)[i], 0)]);

test("nested vmap: an outer product of rows by columns", () => {
  const src = "def f(a, b):\n    return jax.vmap(jax.vmap(jnp.dot, in_axes=(None, 1)), in_axes=(0, None))(a, b)\n";
  const { out, ins } = runJ(src, "f", "a=f32[3,4], b=f32[4,5]");
  const [a, b] = ins;
  assertClose(out[0], arr([3, 5], ([i, j]) => [0, 1, 2, 3].reduce((s, k) => s + at(a, i, k) * at(b, k, j), 0)), "a @ b");
});

test("vmap inside vmap inside a function that captures outer values", () => {
  const src = [
    "def f(xs, s):",
    "    def inner(x):",
    "        return jax.vmap(lambda v: v * s + jnp.sum(x))(x)",
    "    return jax.vmap(inner)(xs)",
  ].join("\n");
  const { out, ins } = runJ(src, "f", "xs=f32[2,3], s=f32[]");
  const [xs, s] = ins;
  const sum = (i: number) => [0, 1, 2].reduce((t, k) => t + at(xs, i, k), 0);
  assertClose(out[0], arr([2, 3], ([i, k]) => at(xs, i, k) * s.data[0] + sum(i)), "nested");
});

test("in_axes as a tuple with a dict entry, dict arguments and a tuple result", () => {
  const src = [
    "def f(p, x):",
    "    def g(p, x):",
    "        return {'out': p['w'] * x + p['b'], 'scale': p['w']}, x",
    "    return jax.vmap(g, in_axes=({'w': None, 'b': 0}, 1), out_axes=({'out': 0, 'scale': None}, 1))(p, x)",
  ].join("\n");
  const r = traceFunction({ file: "t.py", source: HEADER + src, fn: "f", args: "p={'w': f32[4], 'b': f32[5,4]}, x=f32[4,5]" });
  // Results in JAX's order: dict by key (out, scale), then x.
  assert.deepEqual(r.jaxpr.outvars.map((o) => o.aval.shape), [[5, 4], [4], [4, 5]]);
  const ins = r.inputs.map((l, i) => fillRandom(l.aval, 3 + i));
  const byPath = new Map(r.inputs.map((l, i) => [l.path, ins[i]]));
  const [b, w, x] = ["p['b']", "p['w']", "x"].map((k) => byPath.get(k)!);
  const out = compileEager(r.jaxpr).run(ins);
  assertClose(out[0], arr([5, 4], ([i, k]) => Math.fround(at(w, k) * at(x, k, i)) + at(b, i, k)), "out");
  assertClose(out[1], w, "scale (unbatched, out_axes None)");
  assertClose(out[2], x, "x mapped back to axis 1");
});

test("in_axes as a list, keyword arguments mapped on axis 0, and a static unmapped argument", () => {
  const src = [
    "def f(x, y):",
    "    def g(a, n, b):",
    "        return a ** n + b",
    "    return jax.vmap(g, in_axes=[1, None])(x, 3, b=y)",
  ].join("\n");
  const { out, ins } = runJ(src, "f", "x=f32[4,2], y=f32[2,4]");
  const [x, y] = ins;
  assertClose(out[0], arr([2, 4], ([i, k]) => Math.fround(at(x, k, i) ** 3) + at(y, i, k)), "a ** 3 + b");
  assert.match(jaxprText(src, "f", "x=f32[4,2], y=f32[2,4]"), /integer_pow\[y=3\]/);
});

test("an unbatched result is broadcast for an int out_axes and passed through for None", () => {
  const src = "def f(x, c):\n    return jax.vmap(lambda v: (v + 1, c * 2, 1.0), in_axes=0, out_axes=(0, 1, 0))(x)\n";
  const r = traceFunction({ file: "t.py", source: HEADER + src, fn: "f", args: "x=f32[3], c=f32[2]" });
  assert.deepEqual(r.jaxpr.outvars.map((o) => o.aval.shape), [[3], [2, 3], [3]]);
  const src2 = "def f(x, c):\n    return jax.vmap(lambda v: (v + 1, c * 2), out_axes=(0, None))(x)\n";
  const r2 = traceFunction({ file: "t.py", source: HEADER + src2, fn: "f", args: "x=f32[3], c=f32[2]" });
  assert.deepEqual(r2.jaxpr.outvars.map((o) => o.aval.shape), [[3], [2]]);
});

test("vmap as a decorator, through functools.partial, and over a function of a function", () => {
  const src = [
    "import functools",
    "@functools.partial(jax.vmap, in_axes=(0, None))",
    "def scale(x, s):",
    "    return x * s",
    "@jax.vmap",
    "def norm(x):",
    "    return jnp.sqrt(jnp.sum(x * x))",
    "def f(x, s):",
    "    return scale(x, s), norm(x), jax.vmap(lambda r: jax.vmap(jnp.exp)(r))(x)",
  ].join("\n");
  const r = traceFunction({ file: "t.py", source: HEADER + src, fn: "f", args: "x=f32[4,3], s=f32[3]" });
  assert.deepEqual(r.jaxpr.outvars.map((o) => o.aval.shape), [[4, 3], [4], [4, 3]]);
});

test("gather and scatter with batched operand and batched indices", () => {
  const src = [
    "def f(tables, ids):",
    "    return jax.vmap(lambda t, i: t[i])(tables, ids), jax.vmap(lambda t, i: t.at[i].add(1.0))(tables, ids)",
  ].join("\n");
  const r = traceFunction({ file: "t.py", source: HEADER + src, fn: "f", args: "tables=f32[2,5,3], ids=i32[2,4]" });
  const t = fillRandom(r.inputs[0].aval, 1);
  const ids: ArrayValue = { aval: r.inputs[1].aval, data: Int32Array.from([0, 4, -1, 2, 3, 3, 1, -5]) };
  const [g, s] = compileEager(r.jaxpr).run([t, ids]);
  const norm = (i: number) => (i < 0 ? i + 5 : i);
  assertClose(g, arr([2, 4, 3], ([b, k, j]) => at(t, b, norm(at(ids, b, k)), j)), "gather");
  const want = arr([2, 5, 3], ([b, i, j]) => at(t, b, i, j) + [0, 1, 2, 3].filter((k) => norm(at(ids, b, k)) === i).length);
  assertClose(s, want, "scatter-add");
});

// ---- errors, in JAX's words ----

test("inconsistent mapped sizes are reported as JAX reports them", () => {
  const e = traceError("def f(x, y, z):\n    return jax.vmap(lambda a, b, c: a + b + c)(x, y, z)\n", "f", "x=f32[3], y=f32[4], z=f32[3]");
  assert.equal(e.kind, "ValueError");
  assert.equal(e.message, [
    "vmap got inconsistent sizes for array axes to be mapped:",
    "  * most axes (2 of them) had size 3, e.g. axis 0 of argument a of type float32[3];",
    "  * one axis had size 4: axis 0 of argument b of type float32[4]",
  ].join("\n"));
  assert.equal(e.span?.line, 5);
  const e2 = traceError("def f(x, y):\n    def g(p):\n        return p[0] + p[1]['k']\n    return jax.vmap(g)((x, {'k': y}))\n", "f", "x=f32[3,2], y=f32[5,2]");
  assert.match(e2.message, /one axis had size 3: axis 0 of argument p\[0\] of type float32\[3,2\];\n  \* one axis had size 5: axis 0 of argument p\[1\]\['k'\] of type float32\[5,2\]/);
});

test("mapping an axis the argument does not have, a scalar, or nothing at all", () => {
  const e = traceError("def f(x):\n    return jax.vmap(jnp.sin, in_axes=2)(x)\n", "f", "x=f32[3,4]");
  assert.equal(e.message, "vmap was requested to map its argument along axis 2, which implies that its rank should be at least 3, but is only 2 (its shape is (3, 4))");
  const e2 = traceError("def f(x):\n    return jax.vmap(lambda a, b: a * b)(x, 2.0)\n", "f", "x=f32[3]");
  assert.match(e2.message, /along axis 0, which implies that its rank should be at least 1, but is only 0 \(its shape is \(\)\)/);
  const e3 = traceError("def f(x):\n    return jax.vmap(jnp.sin, in_axes=None)(x)\n", "f", "x=f32[3]");
  assert.equal(e3.message, "vmap must have at least one non-None value in in_axes");
  const e4 = traceError("def f(x):\n    return jax.vmap(lambda: x)()\n", "f", "x=f32[3]");
  assert.equal(e4.message, "vmap wrapped function must be passed at least one argument containing an array, got empty *args=() and **kwargs={}");
});

test("out_axes=None for a batched result, and malformed in_axes", () => {
  const e = traceError("def f(x):\n    return jax.vmap(jnp.sin, out_axes=None)(x)\n", "f", "x=f32[3]");
  assert.equal(e.message, "at vmap out_axes, got axis spec None but output was batched on axis 0");
  const e1 = traceError("def f(x):\n    return jax.vmap(lambda a: (a, a * 2), out_axes=(0, None))(x)\n", "f", "x=f32[3]");
  assert.equal(e1.message, "at vmap out_axes[1], got axis spec None but output was batched on axis 0");
  const e2 = traceError("def f(x, y):\n    return jax.vmap(jnp.add, in_axes=(0, 0, 0))(x, y)\n", "f", "x=f32[3], y=f32[3]");
  assert.equal(e2.message, "vmap in_axes must be an int, None, or a tuple of entries corresponding to the positional arguments passed to the function, but got len(in_axes)=3, len(args)=2");
  const e3 = traceError("def f(x):\n    return jax.vmap(lambda p: p[0], in_axes=((0, 0),))((x,))\n", "f", "x=f32[3]");
  assert.match(e3.message, /^vmap in_axes specification must be a tree prefix of the corresponding value, got specification \(0, 0\) for value \(f32\[3\],\)/);
  const e4 = traceError("def f(x):\n    return jax.vmap(jnp.sin, in_axes='a')(x)\n", "f", "x=f32[3]");
  assert.equal(e4.kind, "TypeError");
});

test("an error inside the mapped function points at its line", () => {
  const e = traceError("def f(x):\n    def g(r):\n        return r @ r.T @ jnp.ones((7,))\n    return jax.vmap(g)(x)\n", "f", "x=f32[2,3,4]");
  assert.equal(e.kind, "ShapeError");
  assert.equal(e.span?.line, 6);
  const e2 = traceError("def f(x):\n    def g(r):\n        if r > 0:\n            return r\n        return -r\n    return jax.vmap(g)(x)\n", "f", "x=f32[3]");
  assert.equal(e2.kind, "TracerBoolConversionError");
  assert.match(e2.message, /argument 'x'/);
});

// ---- rules for primitives the jnp layer does not emit (yet): hand-built jaxprs ----

const SPAN = { file: "t.py", line: 1, col: 1, endLine: 1, endCol: 2 };
const f32 = (v: number) => literal(v, { shape: [], dtype: "f32", weak: true });
const i32 = (v: number) => literal(v, { shape: [], dtype: "i32", weak: false });

/** Per-example programs over x:f32[3,4], s:f32[], i:i32[], u:f32[2,2]. */
const HAND: [string, (b: JaxprBuilder, x: Tracer, s: Tracer, i: Tracer, u: Tracer) => Tracer[]][] = [
  ["clamp with scalar bounds", (b, x, s) => [b.bind("clamp", [s, x, f32(1)], {})]],
  ["clamp with array bounds", (b, x, s) => {
    const lo = b.bind("broadcast_in_dim", [s], { shape: [3, 4], broadcast_dimensions: [] });
    return [b.bind("clamp", [lo, x, b.bind("add", [lo, f32(0.5)], {})], {})];
  }],
  ["pad with a traced value", (b, x, s) => [b.bind("pad", [x, s], { padding_config: [[1, 0, 1], [-1, 2, 0]] })]],
  ["pad with a literal", (b, x) => [b.bind("pad", [x, f32(0.5)], { padding_config: [[0, 2, 0], [1, 1, 2]] })]],
  ["dynamic_slice", (b, x, _s, i) => [b.bind("dynamic_slice", [x, i, i], { slice_sizes: [2, 2] })]],
  ["dynamic_slice with a literal start", (b, x, _s, i) => [b.bind("dynamic_slice", [x, i32(1), i], { slice_sizes: [2, 3] })]],
  ["dynamic_update_slice", (b, x, _s, i, u) => [b.bind("dynamic_update_slice", [x, u, i, i32(1)], {})]],
  ["dynamic_update_slice at traced starts", (b, x, _s, i, u) => [b.bind("dynamic_update_slice", [x, u, i32(2), i], {})]],
  ["cummax and cummin", (b, x) => [b.bind("cummax", [x], { axis: 0, reverse: true }), b.bind("cummin", [x], { axis: 1, reverse: false })]],
  ["select_n with a scalar predicate", (b, x, s) => [b.bind("select_n", [b.bind("gt", [s, f32(0)], {}), x, b.bind("neg", [x], {})], {})]],
  ["select_n with an int32 predicate of scalars", (b, _x, s, i) => [b.bind("select_n", [b.bind("max", [b.bind("min", [i, i32(1)], {}), i32(0)], {}), s, f32(2)], {})]],
  ["iota and split", (b, x) => {
    const io = b.bind("iota", [], { dtype: "f32", shape: [3, 4], dimension: 1 });
    return b.bindMulti("split", [b.bind("add", [x, io], {})], { sizes: [1, 3], axis: 1 });
  }],
  ["concatenate and rev", (b, x, _s, _i, u) => [b.bind("rev", [b.bind("concatenate", [x, b.bind("pad", [u, f32(0)], { padding_config: [[0, 1, 0], [0, 2, 0]] })], { dimension: 0 })], { dimensions: [0, 1] })]],
  ["scalar broadcast", (b, _x, s) => [b.bind("broadcast_in_dim", [s], { shape: [2, 3], broadcast_dimensions: [] })]],
];

test("hand-built programs: every batched/unbatched pattern of the inputs equals stacking the examples", () => {
  const per: Aval[] = [{ shape: [3, 4], dtype: "f32", weak: false }, { shape: [], dtype: "f32", weak: false }, { shape: [], dtype: "i32", weak: false }, { shape: [2, 2], dtype: "f32", weak: false }];
  const B = 3;
  let seed = 100;
  for (const [name, prog] of HAND) {
    const b = new JaxprBuilder();
    b.span = SPAN;
    const [x, s, i, u] = per.map((a) => b.input(a, "x"));
    const j = b.finish(prog(b, x, s, i, u).map((t) => t.atom));
    const one = compileEager(j);
    for (let mask = 1; mask < 16; mask++) {
      const mapped = per.map((_, k) => (mask >> k) & 1);
      const nb = new JaxprBuilder();
      nb.span = SPAN;
      const c = new BatchCtx(nb, B);
      const ins: BVal[] = per.map((a, k) => ({ x: nb.input(mapped[k] ? { ...a, shape: [B, ...a.shape] } : a, "x"), bd: mapped[k] ? 0 : null }));
      const outs = batchJaxpr(c, j, ins);
      const jb = nb.finish(outs.map((o) => (c.lead(o) as Tracer).atom));
      const inputs = jb.invars.map((v) => fillRandom(v.aval, seed++));
      const got = compileEager(jb).run(inputs);
      const rows = Array.from({ length: B }, (_, r) => one.run(inputs.map((x, k) => (mapped[k] ? take(x, 0, r) : x))));
      got.forEach((g, k) => {
        try {
          assertClose(g, stack(rows.map((row) => row[k])), `${name}, inputs mapped ${mapped.join("")}, output ${k}`);
        } catch (e) {
          throw new Error(`${(e as Error).message}\n${irText(printJaxpr(jb))}`);
        }
      });
    }
  }
});

test("a primitive without a batching rule is an error naming it", () => {
  const b = new JaxprBuilder();
  b.span = SPAN;
  const x = b.input({ shape: [3], dtype: "f32", weak: false }, "x");
  const j = b.finish([b.bind("neg", [x], {}).atom]);
  // Pretend the equation is a primitive the table does not know.
  (j.eqns[0] as { prim: string }).prim = "custom_thing";
  const nb = new JaxprBuilder();
  nb.span = SPAN;
  const ins: BVal[] = [{ x: nb.input({ shape: [2, 3], dtype: "f32", weak: false }, "x"), bd: 0 }];
  assert.throws(() => batchJaxpr(new BatchCtx(nb, 2), j, ins), (e: unknown) => e instanceof JitError && /no batching rule for the primitive 'custom_thing'/.test(e.message));
});

test("vmap of lax.cond, switch, while_loop, fori_loop, scan and a nested jit equals stacking the examples", () => {
  let seed = 500;
  for (const op of CONTROL) {
    for (const ax of AXES) {
      for (const yRank of [1, 2] as const) {
        const ay = AXES[(AXES.indexOf(ax) + 1) % 3], aw = AXES[(AXES.indexOf(ax) + 2) % 3];
        checkCase({ body: [op], P: 3, Q: 4, yRank, axes: [ax, ay, aw], B: 3, twoOutputs: yRank === 2, seed: seed++ });
      }
    }
  }
});
