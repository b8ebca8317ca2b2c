// The tracer: JAX's jaxprs, shapes, dtypes and errors for the Python that JAX users write.
import { test } from "node:test";
import assert from "node:assert/strict";
import { traceFunction } from "../../compiler-core/src/trace/trace";
import { printJaxpr } from "../../compiler-core/src/ir/print";
import { JitError } from "../../compiler-core/src/frontend/source";
import { irText } from "../../compiler-core/src/report";

const HEADER = "import jax\nimport jax.numpy as jnp\n";

function jaxpr(body: string, args: string, fn = "f"): string {
  return irText(printJaxpr(traceFunction({ file: "t.py", source: HEADER + body, fn, args }).jaxpr));
}

function traceError(body: string, args: string, fn = "f"): JitError {
  try {
    traceFunction({ file: "t.py", source: HEADER + body, fn, args });
  } catch (e) {
    if (e instanceof JitError) return e;
    throw e;
  }
  assert.fail("expected a trace error");
}

test("prints JAX's jaxpr format with inline weakly-typed scalar literals", () => {
  assert.equal(jaxpr("def f(x):\n    return jnp.tanh(x * 2 + 1.5)\n", "x=f32[8]"), [
    "{ lambda ; a:f32[8]. let",
    "    b:f32[8] = mul a 2.0:f32[]",
    "    c:f32[8] = add b 1.5:f32[]",
    "    d:f32[8] = tanh c",
    "  in (d,) }",
  ].join("\n"));
});

test("an int32 array meeting a Python float converts, as JAX's weak types promote", () => {
  const j = jaxpr("def f(i):\n    return i + 0.5\n", "i=i32[4]");
  assert.match(j, /b:f32\[4\] = convert_element_type\[new_dtype=float32 weak_type=True\] a/);
  assert.match(j, /c:f32\[4\] = add b 0.5:f32\[\]/);
  assert.match(jaxpr("def f(i):\n    return i * 3\n", "i=i32[4]"), /mul a 3:i32\[\]/);
});

test("true division of ints gives float32, comparisons give bool", () => {
  const j = jaxpr("def f(a, b):\n    return a / b, a > b\n", "a=i32[3], b=i32[3]");
  assert.match(j, /convert_element_type\[new_dtype=float32 weak_type=False\] a/);
  assert.match(j, /:bool\[3\] = gt a b/);
  assert.match(j, /in \(e, f\) \}/);
});

test("rank promotion inserts broadcast_in_dim; size-1 dims broadcast inside the op", () => {
  const j = jaxpr("def f(x, y, z):\n    return x + y + z\n", "x=f32[10,20], y=f32[20], z=f32[10,1]");
  assert.match(j, /d:f32\[1,20\] = broadcast_in_dim\[broadcast_dimensions=\(1,\)\] b/);
  assert.match(j, /e:f32\[10,20\] = add a d/);
  assert.match(j, /f:f32\[10,20\] = add e c/);
});

test("incompatible shapes name both shapes", () => {
  const e = traceError("def f(x, y):\n    return x * y\n", "x=f32[3,4], y=f32[5]");
  assert.equal(e.kind, "ShapeError");
  assert.match(e.message, /\(3, 4\).*\(5,\)/);
  assert.equal(e.span?.line, 4);
  assert.equal(e.span?.col, 12);
});

test("jnp.where broadcasts all three operands and binds select_n(pred, false, true)", () => {
  const j = jaxpr("def f(x):\n    return jnp.where(x > 0, x, 0.0)\n", "x=f32[6]");
  assert.match(j, /c:f32\[6\] = broadcast_in_dim 0.0:f32\[\]/);
  assert.match(j, /d:f32\[6\] = select_n b c a/);
});

test("integer powers are integer_pow, float powers are pow", () => {
  assert.match(jaxpr("def f(x):\n    return x ** 3\n", "x=f32[2]"), /integer_pow\[y=3\] a/);
  assert.match(jaxpr("def f(x):\n    return x ** 2.5\n", "x=f32[2]"), /pow a 2.5:f32\[\]/);
  assert.match(jaxpr("def f(x):\n    return jnp.square(x) + jnp.reciprocal(x)\n", "x=f32[2]"), /square a[\s\S]*integer_pow\[y=-1\] a/);
});

test("every equation carries the span of the expression that made it", () => {
  const r = traceFunction({ file: "t.py", source: HEADER + "def f(x):\n    y = jnp.exp(x)\n    return y * 2.0\n", fn: "f", args: "x=f32[4]" });
  const [exp, mul] = r.jaxpr.eqns;
  assert.deepEqual([exp.span.line, exp.span.col, exp.span.endCol], [4, 9, 19]);
  assert.deepEqual([mul.span.line, mul.span.col, mul.span.endCol], [5, 12, 19]);
});

test("equations inside a helper carry the helper's line and the call site", () => {
  const src = "def helper(v):\n    return jnp.sin(v)\n\ndef f(x):\n    return helper(x) + 1.0\n";
  const r = traceFunction({ file: "t.py", source: HEADER + src, fn: "f", args: "x=f32[4]" });
  const sin = r.jaxpr.eqns[0];
  assert.equal(sin.span.line, 4);
  assert.equal(sin.callStack?.[0].line, 7);
  assert.equal(r.jaxpr.eqns[1].callStack, undefined);
});

test("Python control flow on static values unrolls at trace time", () => {
  const src = [
    "SCALE = 2.0",
    "def f(x, n=3, *, mode='tanh'):",
    "    acts = {'tanh': jnp.tanh, 'sin': jnp.sin}",
    "    ys = [x * (i + 1) for i in range(n) if i != 1]",
    "    total = ys[0]",
    "    for k, y in enumerate(ys[1:]):",
    "        total += y * SCALE",
    "    a, *rest = (1, 2, 3)",
    "    while len(rest) > 0:",
    "        rest.pop()",
    "    g = lambda v, c=a: v - c",
    "    return acts[mode](g(total)) if n > 2 else total",
  ].join("\n");
  const j = jaxpr(src + "\n", "x=f32[5]");
  assert.deepEqual(j.split("\n").slice(1, -1).map((l) => l.trim().split(" = ")[1].split(" ")[0]), ["mul", "mul", "mul", "add", "sub", "tanh"]);
});

test("pytree results flatten in JAX's order: tuples in order, dicts by sorted key", () => {
  const r = traceFunction({ file: "t.py", source: HEADER + "def f(x):\n    return {'b': x + 1.0, 'a': (x * 2.0, None)}\n", fn: "f", args: "x=f32[2]" });
  assert.deepEqual(r.outTree, { dict: [["a", { tuple: [{ leaf: 0 }, { none: true }] }], ["b", { leaf: 1 }]] });
  assert.match(irText(printJaxpr(r.jaxpr)), /in \(c, b\) \}/);
});

test("pytree arguments from the spec become one input per leaf", () => {
  const r = traceFunction({ file: "t.py", source: HEADER + "def f(params, x):\n    (w, b), = params\n    return x * w + b\n", fn: "f", args: "params=[(f32[3], f32[3])], x=f32[3]" });
  assert.deepEqual(r.inputs.map((l) => l.path), ["params[0][0]", "params[0][1]", "x"]);
  assert.equal(r.args[0].type, "[(f32[3], f32[3])]");
});

test("static arguments from functools.partial(jax.jit, static_argnums) stay Python values", () => {
  const src = "import functools\n@functools.partial(jax.jit, static_argnums=(1,))\ndef f(x, n):\n    for _ in range(n):\n        x = jnp.sin(x)\n    return x\n";
  assert.equal((jaxpr(src, "x=f32[2], n=3").match(/sin/g) ?? []).length, 3);
  assert.equal(traceError(src, "x=f32[2], n=f32[]").kind, "SpecError");
});

test("branching on a traced value is a TracerBoolConversionError naming the argument and line", () => {
  const e = traceError("def f(x):\n    y = x * 2.0\n    if y.sum() > 0 if False else y[0] > 0:\n        return y\n    return -y\n", "x=f32[3]");
  assert.ok(e.kind === "TracerBoolConversionError" || e.kind === "UnsupportedError");
  const e2 = traceError("def f(x):\n    y = jnp.exp(x) > 1.0\n    if y:\n        return x\n    return -x\n", "x=f32[]");
  assert.equal(e2.kind, "TracerBoolConversionError");
  assert.equal(e2.span?.line, 5);
  assert.match(e2.message, /argument 'x'/);
  assert.match(e2.message, /jnp\.where/);
  assert.match(e2.message, /lax\.cond/);
  assert.match(e2.message, /static_argnums/);
  assert.ok(e2.related.some((r) => r.span.line === 4), "related information points at the line the value came through");
});

test("float() of a traced value is a ConcretizationTypeError", () => {
  assert.equal(traceError("def f(x):\n    return float(x) * 2\n", "x=f32[]").kind, "ConcretizationTypeError");
});

test("an unknown jnp function is an AttributeError suggesting the closest name", () => {
  const e = traceError("def f(x):\n    return jnp.tanhh(x)\n", "x=f32[5]");
  assert.equal(e.kind, "AttributeError");
  assert.match(e.message, /has no attribute 'tanhh'. Did you mean 'tanh'\?/);
  assert.deepEqual([e.span?.line, e.span?.col], [4, 16]);
});

test("an undefined name is a NameError with a suggestion", () => {
  const e = traceError("def f(x):\n    scale = 2.0\n    return x * scal\n", "x=f32[5]");
  assert.equal(e.kind, "NameError");
  assert.match(e.message, /Did you mean 'scale'/);
});

test("syntax errors name the line and column", () => {
  const e = traceError("def f(x)\n    return x\n", "x=f32[5]");
  assert.equal(e.kind, "SyntaxError");
  assert.equal(e.span?.line, 3);
  assert.match(e.message, /expected ':'/);
  const e2 = traceError("def f(x):\n    return jnp.tanh(x\n", "x=f32[5]");
  assert.equal(e2.kind, "SyntaxError");
  assert.match(e2.message, /'\(' was never closed/);
  assert.deepEqual([e2.span?.line, e2.span?.col], [4, 20]);
});

test("an infinite loop ends within 2 seconds with a clear error", () => {
  const t0 = Date.now();
  const e = traceError("def f(x):\n    i = 0\n    while i >= 0:\n        i += 1\n    return x\n", "x=f32[5]");
  assert.equal(e.kind, "TimeoutError");
  assert.ok(Date.now() - t0 < 3000);
});

test("runaway recursion is a RecursionError", () => {
  const e = traceError("def g(v):\n    return g(v)\n\ndef f(x):\n    return g(x)\n", "x=f32[5]");
  assert.equal(e.kind, "RecursionError");
});

test("a missing argument spec names the argument and shows the comment to add", () => {
  const e = traceError("def f(x, y):\n    return x + y\n", "x=f32[5]");
  assert.equal(e.kind, "SpecError");
  assert.match(e.message, /'y'/);
  assert.match(e.message, /# jitlens: y=f32\[1024\]/);
});

test("argument specs: scalars, the comment above decorators, and bad specs", () => {
  assert.match(jaxpr("def f(x, s):\n    return x * s\n", "x=f32[2,3], s=f32[]"), /a:f32\[2,3\] b:f32\[\]/);
  const src = HEADER + "# jitlens: x=i32[7]\n@jax.jit\ndef f(x):\n    return x + 1\n";
  assert.match(irText(printJaxpr(traceFunction({ file: "t.py", source: src, fn: "f" }).jaxpr)), /a:i32\[7\]/);
  const e = traceError("def f(x):\n    return x\n", "x=f33[2]");
  assert.equal(e.kind, "SpecError");
  assert.match(e.message, /f33/);
});

test("the function can be found by cursor offset", () => {
  const source = HEADER + "def a(x):\n    return x\n\ndef b(x):\n    return jnp.exp(x)\n";
  const r = traceFunction({ file: "t.py", source, offset: source.indexOf("jnp.exp"), args: "x=f32[1]" });
  assert.equal(r.fn.name, "b");
});

test("argument specs from jaxtyping annotations", () => {
  const src = HEADER + "from jaxtyping import Array, Float, Int\ndef f(x: Float[Array, \"4 8\"], i: Int[Array, \"3\"], n: int = 2):\n    return x * n\n";
  const r = traceFunction({ file: "t.py", source: src, fn: "f" });
  assert.deepEqual(r.args.map((a) => a.type), ["f32[4,8]", "i32[3]"]);
});

test("argument specs from a call with literal shapes in the same file", () => {
  const src = HEADER + "def f(x, w, k):\n    return (x @ w) * k\n\nif __name__ == '__main__':\n    print(f(jnp.ones((8, 16)), jax.random.normal(key, (16, 4)), k=0.5))\n";
  const r = traceFunction({ file: "t.py", source: src, fn: "f" });
  assert.deepEqual(r.args.map((a) => a.type), ["f32[8,16]", "f32[16,4]", "0.5"]);
});

test("reductions with axis and keepdims follow JAX: reduce_sum, broadcast_in_dim, then the divide", () => {
  const j = jaxpr("def f(x):\n    return jnp.mean(x, axis=-1, keepdims=True)\n", "x=f32[4,6]");
  assert.match(j, /b:f32\[4\] = reduce_sum\[axes=\(1,\) out_sharding=None\] a\n\s+c:f32\[4,1\] = broadcast_in_dim\[broadcast_dimensions=\(0,\)\] b\n\s+d:f32\[4,1\] = div c 6.0:f32\[\]/);
  assert.match(jaxpr("def f(x):\n    return x.argmax(axis=0), jnp.max(x), x.sum()\n", "x=f32[4,6]"), /argmax\[axes=\(0,\) index_dtype=int32\][\s\S]*reduce_max\[axes=\(0, 1\)\][\s\S]*reduce_sum\[axes=\(0, 1\)/);
});

test("matmul binds dot_general with JAX's dimension numbers; a mismatch names both shapes", () => {
  assert.match(jaxpr("def f(a, b):\n    return a @ b\n", "a=f32[2,3], b=f32[3,5]"), /c:f32\[2,5\] = dot_general\[dimension_numbers=\(\(\[1\], \[0\]\), \(\[\], \[\]\)\) preferred_element_type=float32\] a b/);
  assert.match(jaxpr("def f(a, b):\n    return jnp.matmul(a, b)\n", "a=f32[7,2,3], b=f32[7,3,5]"), /f32\[7,2,5\] = dot_general\[dimension_numbers=\(\(\[2\], \[1\]\), \(\[0\], \[0\]\)\)/);
  const e = traceError("def f(a, b):\n    return a @ b\n", "a=f32[4,3], b=f32[4,3]");
  assert.equal(e.kind, "ShapeError");
  assert.match(e.message, /\(4, 3\).*\(4, 3\)/);
  assert.match(e.message, /transpose/);
});

test("basic indexing becomes slice, rev, squeeze and broadcast_in_dim", () => {
  const j = jaxpr("def f(x):\n    return x[1:3, ::-1, 0][:, None]\n", "x=f32[4,5,6]");
  assert.match(j, /b:f32\[4,5,6\] = rev\[dimensions=\(1,\)\] a/);
  assert.match(j, /c:f32\[2,5,1\] = slice\[limit_indices=\(3, 5, 1\) start_indices=\(1, 0, 0\) strides=None\] b/);
  assert.match(j, /d:f32\[2,5\] = squeeze\[dimensions=\(2,\)\] c/);
  assert.match(j, /e:f32\[2,1,5\] = broadcast_in_dim\[broadcast_dimensions=\(0, 2\)\] d/);
  const e = traceError("def f(x):\n    return x[7]\n", "x=f32[4]");
  assert.equal(e.kind, "IndexError");
  assert.match(e.message, /index 7 is out of bounds for axis 0 with size 4/);
});

test("integer-array indexing is a gather; x.at[i].add is a scatter-add; jnp.array of a list is a constant", () => {
  assert.match(jaxpr("def f(t, i):\n    return t[i]\n", "t=f32[10,3], i=i32[5]"), /f32\[5,3\] = gather\[dimension_numbers=GatherDimensionNumbers\(offset_dims=\(1,\), collapsed_slice_dims=\(0,\)/);
  assert.match(jaxpr("def f(x):\n    return x.at[2].add(1.0)\n", "x=f32[4]"), /scatter-add\[/);
  assert.match(jaxpr("def f(x):\n    return x * jnp.array([1.0, 2.0, 3.0])\n", "x=f32[3]"), /^\{ lambda a:f32\[3\]; b:f32\[3\]\. let/);
});

test("shape errors in reshape and split name the shapes", () => {
  const r = traceError("def f(x):\n    return x.reshape(4, -1)\n", "x=f32[6]");
  assert.equal(r.kind, "ShapeError");
  assert.match(r.message, /\(6,\).*\(4, -1\)/);
  const s = traceError("def f(x):\n    a, b = jnp.split(x, 4)\n    return a + b\n", "x=f32[6]");
  assert.equal(s.kind, "ShapeError");
  assert.match(s.message, /shape \(6,\).*4 equal sections/);
});

test("an attribute JAX has but JIT Lens does not support yet says so; a typo suggests the real name", () => {
  assert.equal(traceError("def f(x):\n    return jnp.fft.fft(x)\n", "x=f32[4]").kind, "UnsupportedError");
  assert.match(traceError("def f(x):\n    return jnp.sqaure(x)\n", "x=f32[4]").message, /Did you mean 'square'/);
});

test("dict arguments become inputs in JAX's flattening order (sorted keys)", () => {
  const r = traceFunction({ file: "t.py", source: HEADER + "def f(p):\n    return p['w'] * p['b']\n", fn: "f", args: "p={'w': f32[2], 'b': f32[2]}" });
  assert.deepEqual(r.inputs.map((l) => l.path), ["p['b']", "p['w']"]);
});

test("a bad spec in the # jitlens: comment points at the comment's line", () => {
  const src = HEADER + "\n# jitlens: x=f32[2], y=oops\ndef f(x, y):\n    return x\n";
  try {
    traceFunction({ file: "t.py", source: src, fn: "f" });
    assert.fail("expected a SpecError");
  } catch (e) {
    assert.ok(e instanceof JitError);
    assert.equal(e.kind, "SpecError");
    assert.deepEqual([e.span?.line, e.span?.col, e.span?.endCol], [4, 1, 28]);
  }
});
