// Lowering: each class of primitive becomes the HLO a JAX user would recognise, with
// implicit broadcasts and converts made explicit and source spans kept on every line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { traceFunction } from "../../compiler-core/src/trace/trace";
import { lower } from "../../compiler-core/src/lower/lower";
import { printHlo } from "../../compiler-core/src/lower/print";
import { verify } from "../../compiler-core/src/passes/verify";
import { evalModule } from "../../compiler-core/src/passes/eval";
import { irText } from "../../compiler-core/src/report";
import type { HloModule } from "../../compiler-core/src/lower/hlo";

const HEADER = "import jax\nimport jax.numpy as jnp\nfrom jax import lax\n";

function lowered(body: string, args: string): HloModule {
  const t = traceFunction({ file: "t.py", source: HEADER + body, fn: "f", args });
  const m = lower(t.jaxpr, "jit_f");
  verify(m);
  return m;
}
const text = (m: HloModule) => irText(printHlo(m));
const entry = (m: HloModule) => text(m).split("\n").filter((l) => l.startsWith("  ")).map((l) => l.trim());

test("an elementwise op with a scalar literal gets an explicit constant and broadcast", () => {
  const lines = entry(lowered("def f(x):\n    return x + 2.0\n", "x=f32[512,1024]"));
  assert.deepEqual(lines, [
    "%Arg_0.0 = f32[512,1024]{1,0} parameter(0)",
    "%constant.1 = f32[] constant(2)",
    "%broadcast.2 = f32[512,1024]{1,0} broadcast(f32[] %constant.1), dimensions={}",
    "ROOT %add.3 = f32[512,1024]{1,0} add(f32[512,1024]{1,0} %Arg_0.0, f32[512,1024]{1,0} %broadcast.2)",
  ]);
});

test("module text has a header, an ENTRY signature and a closing brace", () => {
  const t = text(lowered("def f(x):\n    return jnp.exp(-x)\n", "x=f32[4]"));
  assert.match(t, /^HloModule jit_f\n/);
  assert.match(t, /ENTRY %main \(Arg_0\.0: f32\[4\]\{0\}\) -> f32\[4\]\{0\} \{/);
  assert.match(t, /negate\(f32\[4\]\{0\} %Arg_0\.0\)/);
  assert.match(t, /exponential\(/);
  assert.match(t, /\n}$/);
});

test("a size-1 dimension operand is reshaped then broadcast", () => {
  const t = text(lowered("def f(x, y):\n    return x * y\n", "x=f32[8,16], y=f32[8,1]"));
  assert.match(t, /reshape\(f32\[8,1\]\{1,0\} %Arg_1\.1\)/);
  assert.match(t, /f32\[8,16\]\{1,0\} broadcast\(f32\[8\]\{0\} %reshape\.\d+\), dimensions=\{0\}/);
});

test("a dtype change lowers to convert", () => {
  assert.match(text(lowered("def f(x):\n    return x.astype(jnp.int32)\n", "x=f32[3]")), /s32\[3\]\{0\} convert\(f32\[3\]\{0\} %Arg_0\.0\)/);
});

test("reductions carry an init constant, dimensions and a named reducer region", () => {
  const t = text(lowered("def f(x):\n    return jnp.sum(x, axis=1) + jnp.max(x, axis=0).sum()\n", "x=f32[4,5]"));
  assert.match(t, /reduce\(f32\[4,5\]\{1,0\} %Arg_0\.0, f32\[\] %constant\.\d+\), dimensions=\{1\}, to_apply=%region_add\.f32/);
  assert.match(t, /to_apply=%region_maximum\.f32/);
  assert.match(t, /%region_add\.f32 \(Arg_0: f32\[\], Arg_1: f32\[\]\) -> f32\[\] \{/);
  assert.match(t, /constant\(-inf\)/);
});

test("matmul lowers to dot with contracting and batch dimensions", () => {
  assert.match(text(lowered("def f(a, b):\n    return a @ b\n", "a=f32[4,8], b=f32[8,3]")), /f32\[4,3\]\{1,0\} dot\(.*\), lhs_contracting_dims=\{1\}, rhs_contracting_dims=\{0\}/);
  assert.match(text(lowered("def f(a, b):\n    return a @ b\n", "a=f32[2,4,8], b=f32[2,8,3]")), /dot\(.*\), lhs_batch_dims=\{0\}, rhs_batch_dims=\{0\}, lhs_contracting_dims=\{2\}, rhs_contracting_dims=\{1\}/);
});

test("data movement: slice, transpose, reshape, concatenate, iota", () => {
  const t = text(lowered("def f(x):\n    y = x[1:3, ::2].T.reshape(4)\n    return jnp.concatenate([y, jnp.arange(4.0)])\n", "x=f32[4,4]"));
  assert.match(t, /slice\(f32\[4,4\]\{1,0\} %Arg_0\.0\), slice=\{\[1:3\], \[0:4:2\]\}/);
  assert.match(t, /transpose\(.*\), dimensions=\{1,0\}/);
  assert.match(t, /f32\[4\]\{0\} reshape\(/);
  assert.match(t, /concatenate\(.*\), dimensions=\{0\}/);
});

test("comparisons carry a direction and jnp.where lowers to select", () => {
  const t = text(lowered("def f(x):\n    return jnp.where(x > 0, x, 0.0)\n", "x=f32[6]"));
  assert.match(t, /pred\[6\]\{0\} compare\(.*\), direction=GT/);
  assert.match(t, /f32\[6\]\{0\} select\(pred\[6\]\{0\} %compare\.\d+, f32\[6\]\{0\} %Arg_0\.0, /);
});

test("indexing with an array lowers to gather", () => {
  assert.match(text(lowered("def f(x, i):\n    return x[i]\n", "x=f32[10,4], i=i32[3]")), / gather\(f32\[10,4\]\{1,0\} %Arg_0\.0, /);
});

test("scatter-add keeps its combiner as a region", () => {
  assert.match(text(lowered("def f(x):\n    return x.at[0].add(1.0)\n", "x=f32[5]")), /scatter\(.*to_apply=%region_add\.f32/);
});

test("lax.cond lowers to one opaque call naming its branches", () => {
  const t = text(lowered("def f(p, x):\n    return lax.cond(p > 0, lambda v: v * 2.0, lambda v: v, x)\n", "p=f32[], x=f32[3]"));
  assert.match(t, /custom-call\(.*custom_call_target=cond, called_computations=\{%branch_0\.\d+, %branch_1\.\d+\}/);
});

test("every instruction line keeps the span of the equation it came from", () => {
  const m = lowered("def f(x):\n    y = x * 3.0\n    return jnp.tanh(y)\n", "x=f32[4]");
  const lines = printHlo(m).filter((l) => l.text.startsWith("  ") && !l.text.includes("parameter("));
  assert.ok(lines.length > 0);
  for (const l of lines) assert.ok(l.spans.length > 0, `no span on ${l.text}`);
  const tanh = lines.find((l) => l.text.includes("tanh("))!;
  assert.equal(tanh.spans[0].line, 6);
  assert.ok(lines.filter((l) => l.text.includes("broadcast(")).every((l) => l.spans[0].line === 5));
});

test("lowered modules compute what the jaxpr computes", () => {
  const m = lowered("def f(x):\n    return jnp.sum(x * 2.0 + 1.0, axis=0)\n", "x=f32[2,3]");
  const [out] = evalModule(m, [{ dims: [2, 3], data: [1, 2, 3, 4, 5, 6] }]);
  assert.deepEqual(out.data, [12, 16, 20]);
});
