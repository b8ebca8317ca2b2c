// Reverse-mode autodiff (jax.grad, jax.value_and_grad): every differentiable primitive's
// gradient against central finite differences in float64 (random shapes, broadcasting, random
// weights), second derivatives, pytrees, argnums, has_aux, and JAX's error messages.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { traceFunction } from "../../compiler-core/src/trace/trace";
import { JaxprBuilder, literal } from "../../compiler-core/src/trace/builder";
import { gradJaxpr, NON_DIFFERENTIABLE, VJP_RULES } from "../../compiler-core/src/trace/ad";
import { Tracer } from "../../compiler-core/src/trace/values";
import { compileEager, compileFused } from "../../compiler-core/src/runtime/cpu";
import { printJaxpr } from "../../compiler-core/src/ir/print";
import { irText } from "../../compiler-core/src/report";
import { JitError } from "../../compiler-core/src/frontend/source";
import type { Params, Prim } from "../../compiler-core/src/ir/primitives";
import { newBuffer, size, type ArrayValue, type Aval, type DType, type Jaxpr } from "../../compiler-core/src/ir/types";

const HEADER = "import jax\nimport jax.numpy as jnp\nfrom jax import lax\n";
const SPAN = { file: "t.py", line: 1, col: 1, endLine: 1, endCol: 2 };

// ------------------------------------------------------------------ helpers

/** A seeded generator of uniform numbers in [0, 1). */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Sampler = (u: () => number) => number;
const normal: Sampler = (u) => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
const positive: Sampler = (u) => 0.3 + Math.abs(normal(u));
const awayFromZero: Sampler = (u) => (u() < 0.5 ? -1 : 1) * (0.4 + Math.abs(normal(u)));
const between = (lo: number, hi: number): Sampler => (u) => lo + (hi - lo) * u();

function array(dtype: DType, shape: readonly number[], fill: (i: number) => number): ArrayValue {
  const data = newBuffer(dtype, size(shape));
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  return { aval: { shape: [...shape], dtype, weak: false }, data };
}

function traceSrc(body: string, fn: string, args: string): Jaxpr {
  return traceFunction({ file: "t.py", source: HEADER + body, fn, args }).jaxpr;
}

function run(j: Jaxpr, inputs: ArrayValue[]): ArrayValue[] {
  return compileEager(j).run(inputs);
}

const specOf = (a: Aval) => `${a.dtype}[${a.shape.join(",")}]`;

/**
 * Checks analytic gradients against central differences. `f` maps inputs to a scalar; `grads`
 * holds the analytic gradient of each input in `wrt`. Tolerance: |g - fd| <= tol * (1 + |fd|).
 */
function checkAgainstFd(f: (xs: ArrayValue[]) => number, inputs: ArrayValue[], wrt: number[], grads: ArrayValue[], tol: number, h0 = 1e-5): void {
  wrt.forEach((k, gi) => {
    const x = inputs[k];
    const g = grads[gi];
    assert.deepEqual(g.aval.shape, x.aval.shape, "gradient shape");
    assert.equal(g.aval.dtype, x.aval.dtype, "gradient dtype");
    for (let i = 0; i < x.data.length; i++) {
      const x0 = x.data[i];
      const h = h0 * Math.max(1, Math.abs(x0));
      const shifted = (d: number) => {
        const data = x.data.slice() as typeof x.data;
        data[i] = x0 + d;
        const xs = inputs.slice();
        xs[k] = { aval: x.aval, data };
        return f(xs);
      };
      const fd = (shifted(h) - shifted(-h)) / (2 * h);
      const got = g.data[i];
      assert.ok(Math.abs(got - fd) <= tol * (1 + Math.abs(fd)), `input ${k} element ${i}: gradient ${got}, finite differences ${fd}`);
    }
  });
}

// ------------------------------------------------------------------ cases

interface ArgSpec {
  name: string;
  shape: number[];
  dtype?: "f64" | "i32";
  sample?: Sampler;
  /** Differentiated (float args only). Default: true for floats. */
  diff?: boolean;
}

/** One instance of a case: the arguments and a Python expression over them, or a jaxpr body built directly. */
interface Inst {
  args: ArgSpec[];
  /** A Python expression (traced through jnp), ... */
  expr?: string;
  /** Module-level Python the expression uses (helper functions). */
  prelude?: string;
  /** ... or equations bound directly, for primitives no jnp function reaches. */
  build?: (b: JaxprBuilder, ins: Tracer[]) => Tracer;
  /** Finite-difference step (default 1e-5); a linear function may use a large one. */
  h?: number;
}

interface Case {
  /** The primitive the case must exercise (checked in its jaxpr). */
  prim: Prim;
  label: string;
  gen: fc.Arbitrary<Inst>;
  /** Also check second derivatives (grad of a weighted sum of the gradient). */
  second?: boolean;
}

const dim = fc.integer({ min: 1, max: 4 });
const shapeArb = (minRank = 0, maxRank = 3) => fc.array(dim, { minLength: minRank, maxLength: maxRank });

/** An operand shape that broadcasts to `base`: itself, with some dims 1, rank 0, or a suffix. */
const broadcastArb = (base: number[]) =>
  fc.record({ mode: fc.integer({ min: 0, max: 3 }), mask: fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }), drop: fc.integer({ min: 0, max: base.length }) })
    .map(({ mode, mask, drop }) => (mode === 0 ? base : mode === 1 ? base.map((d, i) => (mask[i] ? 1 : d)) : mode === 2 ? [] : base.slice(drop)));

/** Two operands whose shapes broadcast together. */
const pairArb = fc.tuple(shapeArb(0, 3), fc.boolean()).chain(([base, swap]) =>
  fc.tuple(broadcastArb(base), fc.constant(base)).map(([other, b]) => (swap ? [other, b] : [b, other]) as [number[], number[]]));

const unaryPy = (prim: Prim, expr: string, sample: Sampler = normal, second = true): Case => ({
  prim, label: `${prim}: ${expr}`, second,
  gen: shapeArb().map((shape) => ({ args: [{ name: "x", shape, sample }], expr })),
});

const binaryPy = (prim: Prim, expr: string, sx: Sampler = normal, sy: Sampler = normal, second = true): Case => ({
  prim, label: `${prim}: ${expr}`, second,
  gen: pairArb.map(([a, b]) => ({ args: [{ name: "x", shape: a, sample: sx }, { name: "y", shape: b, sample: sy }], expr })),
});

const unaryDirect = (prim: Prim, sample: Sampler = normal): Case => ({
  prim, label: `${prim} (bound directly)`,
  gen: shapeArb().map((shape) => ({ args: [{ name: "x", shape, sample }], build: (b, [x]) => b.bind(prim, [x], {} as Params[typeof prim]) })),
});

const axisArb = (rank: number) => fc.integer({ min: 0, max: Math.max(0, rank - 1) });

const CASES: Case[] = [
  // Elementwise unary through jnp.
  unaryPy("neg", "-x"),
  unaryPy("exp", "jnp.exp(x)"),
  unaryPy("log", "jnp.log(x)", positive),
  unaryPy("tanh", "jnp.tanh(x)"),
  unaryPy("logistic", "jax.nn.sigmoid(x)"),
  unaryPy("sin", "jnp.sin(x)"),
  unaryPy("cos", "jnp.cos(x)"),
  unaryPy("sqrt", "jnp.sqrt(x)", positive),
  unaryPy("rsqrt", "lax.rsqrt(x)", positive),
  unaryPy("abs", "jnp.abs(x)", awayFromZero),
  unaryPy("log1p", "jnp.log1p(x)", positive),
  unaryPy("expm1", "jnp.expm1(x)"),
  unaryPy("erf", "lax.erf(x)"),
  unaryPy("square", "jnp.square(x)"),
  unaryPy("integer_pow", "x ** 3"),
  unaryPy("integer_pow", "x ** 2"),
  unaryPy("integer_pow", "x ** -2", awayFromZero),
  unaryPy("integer_pow", "jnp.reciprocal(x)", awayFromZero),
  unaryPy("integer_pow", "x ** 0 + x ** 1"),
  // Elementwise unary that no jnp function reaches yet.
  unaryDirect("exp2"),
  unaryDirect("tan", between(-1.2, 1.2)),
  unaryDirect("cbrt", awayFromZero),
  unaryDirect("asin", between(-0.9, 0.9)),
  unaryDirect("acos", between(-0.9, 0.9)),
  unaryDirect("atan"),
  unaryDirect("sinh"),
  unaryDirect("cosh"),
  unaryDirect("asinh"),
  unaryDirect("acosh", (u) => 1.2 + Math.abs(normal(u))),
  unaryDirect("atanh", between(-0.9, 0.9)),
  // Elementwise binary, broadcasting included (rank promotion, size-1 dims, scalars).
  binaryPy("add", "x + y"),
  binaryPy("sub", "x - y"),
  binaryPy("mul", "x * y"),
  binaryPy("div", "x / y", normal, awayFromZero),
  binaryPy("rem", "jnp.remainder(x, y)", (u) => 3 * normal(u), awayFromZero),
  binaryPy("pow", "x ** y", positive, normal),
  binaryPy("max", "jnp.maximum(x, y)"),
  binaryPy("min", "jnp.minimum(x, y)"),
  binaryPy("atan2", "jnp.arctan2(x, y)"),
  binaryPy("select_n", "jnp.where(x > y, x * 2.0, y)"),
  {
    prim: "select_n", label: "select_n with a scalar case and a size-1 predicate (bound directly)",
    gen: shapeArb(1, 3).map((shape) => ({
      args: [{ name: "x", shape }, { name: "s", shape: [] }],
      build: (b, [x, s]) => {
        const pred = b.bind("gt", [x, literal(0, { shape: [], dtype: "f64", weak: true })], {});
        return b.bind("select_n", [pred, s, x], {});
      },
    })),
  },
  {
    prim: "clamp", label: "clamp(lo, x, hi) with scalar and array bounds (bound directly)",
    gen: fc.tuple(shapeArb(), fc.boolean()).map(([shape, arrayBounds]) => ({
      args: [{ name: "lo", shape: arrayBounds ? shape : [], sample: between(-1.5, -0.2) }, { name: "x", shape, sample: (u) => 2 * normal(u) }, { name: "hi", shape: arrayBounds ? shape : [], sample: between(0.2, 1.5) }],
      build: (b, [lo, x, hi]) => b.bind("clamp", [lo, x, hi], {}),
    })),
  },
  {
    prim: "convert_element_type", label: "convert_element_type f64 -> f32 -> f64 (a linear function: large step)",
    gen: shapeArb().map((shape) => ({ args: [{ name: "x", shape }], expr: "x.astype(jnp.float32).astype(jnp.float64) * 3.0", h: 0.5 })),
  },
  // Broadcasts and reductions.
  {
    prim: "broadcast_in_dim", label: "jnp.broadcast_to / x[:, None]",
    gen: fc.tuple(shapeArb(0, 2), fc.array(dim, { minLength: 1, maxLength: 2 }), fc.boolean()).map(([shape, lead, stretch]) => {
      const src = stretch && shape.length ? [1, ...shape.slice(1)] : shape;
      const target = [...lead, ...(stretch && shape.length ? [3, ...shape.slice(1)] : shape)];
      return { args: [{ name: "x", shape: src }], expr: `jnp.broadcast_to(x, (${target.join(", ")},)) * jnp.expand_dims(jnp.sum(x), 0)` };
    }),
  },
  {
    prim: "broadcast_in_dim", label: "broadcast_in_dim with permuted and stretched dims (bound directly)",
    gen: fc.tuple(dim, dim, dim, fc.boolean()).map(([a, bsz, c, stretch]) => ({
      args: [{ name: "x", shape: [stretch ? 1 : a, bsz] }],
      build: (b, [x]) => b.bind("broadcast_in_dim", [x], { shape: [bsz, c, a], broadcast_dimensions: [2, 0] }),
    })),
  },
  ...(["sum", "max", "min", "prod"] as const).map((fn): Case => ({
    prim: fn === "sum" ? "reduce_sum" : fn === "max" ? "reduce_max" : fn === "min" ? "reduce_min" : "reduce_prod",
    label: `jnp.${fn} over random axes`,
    second: fn !== "prod",
    gen: fc.tuple(shapeArb(1, 3), fc.boolean(), fc.boolean()).chain(([shape, all, keep]) => axisArb(shape.length).map((axis) => ({
      args: [{ name: "x", shape, sample: fn === "prod" ? awayFromZero : normal }],
      expr: all ? `jnp.${fn}(x) * x` : `jnp.${fn}(x, axis=${axis}, keepdims=${keep ? "True" : "False"})`,
    }))),
  })),
  ...(["cumsum", "cumprod"] as const).map((fn): Case => ({
    prim: fn, label: `jnp.${fn}`,
    gen: shapeArb(1, 3).chain((shape) => axisArb(shape.length).map((axis) => ({ args: [{ name: "x", shape, sample: fn === "cumprod" ? awayFromZero : normal }], expr: `jnp.${fn}(x, axis=${axis})` }))),
  })),
  ...(["cumsum", "cumprod", "cummax", "cummin"] as const).map((prim): Case => ({
    prim, label: `${prim} with reverse (bound directly)`,
    gen: fc.tuple(shapeArb(1, 3), fc.boolean()).chain(([shape, reverse]) => axisArb(shape.length).map((axis) => ({
      args: [{ name: "x", shape, sample: prim === "cumprod" ? awayFromZero : normal }],
      build: (b, [x]) => b.bind(prim, [x], { axis, reverse }),
    }))),
  })),
  // Matmul-like contractions.
  {
    prim: "dot_general", label: "matmul, dot and einsum (batch, contraction, transposes)",
    second: true,
    gen: fc.tuple(fc.integer({ min: 0, max: 7 }), dim, dim, dim, dim).map(([kind, b, m, k, n]) => {
      const forms: [number[], number[], string][] = [
        [[m, k], [k, n], "x @ y"],
        [[k], [k, n], "x @ y"],
        [[m, k], [k], "x @ y"],
        [[b, m, k], [b, k, n], "x @ y"],
        [[b, m, k], [k, n], "x @ y"],
        [[m, k], [n, k], "jnp.einsum('ij,kj->ik', x, y)"],
        [[b, m, k], [b, n, k], "jnp.einsum('bqd,bkd->bqk', x, y)"],
        [[m, k], [k, n], "jnp.einsum('ij,jk->ki', x, y)"],
      ];
      const [sx, sy, expr] = forms[kind];
      return { args: [{ name: "x", shape: sx }, { name: "y", shape: sy }], expr };
    }),
  },
  {
    prim: "dot_general", label: "dot_general with batch dims not leading (bound directly)",
    gen: fc.tuple(dim, dim, dim, dim).map(([b, m, k, n]) => ({
      args: [{ name: "x", shape: [k, b, m] }, { name: "y", shape: [n, k, b] }],
      build: (bb, [x, y]) => bb.bind("dot_general", [x, y], { dimension_numbers: [[[0], [1]], [[1], [2]]], preferred_element_type: "f64" }),
    })),
  },
  // Data movement.
  {
    prim: "reshape", label: "x.reshape(-1)",
    gen: shapeArb(2, 3).map((shape) => ({ args: [{ name: "x", shape: [2, ...shape.slice(1)] }], expr: "x.reshape(-1)" })),
  },
  {
    prim: "transpose", label: "jnp.transpose with a random permutation",
    gen: shapeArb(2, 3).chain((shape) => fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length }).map((p) => (p.every((d, i) => d === i) ? p.reverse() : p)).map((perm) => ({
      args: [{ name: "x", shape }], expr: `jnp.transpose(x, (${perm.join(", ")},))`,
    }))),
  },
  {
    prim: "squeeze", label: "jnp.squeeze",
    gen: shapeArb(0, 2).map((shape) => ({ args: [{ name: "x", shape: [1, ...shape, 1] }], expr: "jnp.squeeze(x)" })),
  },
  {
    prim: "concatenate", label: "jnp.concatenate / jnp.stack",
    gen: fc.tuple(shapeArb(1, 3), dim, fc.boolean()).chain(([shape, n2, stack]) => axisArb(shape.length).map((axis) => {
      const other = stack ? shape : shape.map((d, i) => (i === axis ? n2 : d));
      return { args: [{ name: "x", shape }, { name: "y", shape: other }], expr: stack ? `jnp.stack([x, y, x], axis=${axis})` : `jnp.concatenate([x, y], axis=${axis})` };
    })),
  },
  {
    prim: "concatenate", label: "concatenate of a differentiated and a constant operand",
    gen: shapeArb(1, 2).map((shape) => ({ args: [{ name: "x", shape }, { name: "y", shape, diff: false }], expr: "jnp.concatenate([y, x, y], axis=0)" })),
  },
  {
    prim: "split", label: "jnp.split, some pieces unused",
    gen: fc.tuple(shapeArb(1, 3), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 })).chain(([shape, k, use]) => axisArb(shape.length).map((axis) => {
      const s = shape.map((d, i) => (i === axis ? d * k : d));
      return { args: [{ name: "x", shape: s }], expr: `jnp.split(x, ${k}, axis=${axis})[${Math.min(use, k - 1)}] * 2.0` };
    })),
  },
  {
    prim: "slice", label: "static slices with strides",
    gen: fc.tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })).map(([n, m, step, start]) => ({
      args: [{ name: "x", shape: [n + 1, m] }], expr: `x[${start}:, ::${step}]`,
    })),
  },
  {
    prim: "rev", label: "jnp.flip and x[::-1]",
    gen: shapeArb(1, 3).map((shape) => ({ args: [{ name: "x", shape }], expr: `jnp.flip(x, axis=${shape.length - 1})[::-1]` })),
  },
  {
    prim: "pad", label: "pad with negative and interior padding (bound directly)",
    gen: fc.tuple(shapeArb(1, 2), fc.array(fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 2, maxLength: 2 })).map(([shape, cfg]) => ({
      args: [{ name: "x", shape: shape.map((d) => d + 1) }, { name: "v", shape: [] }],
      build: (b, [x, v]) => b.bind("pad", [x, v], { padding_config: shape.map((_, i) => cfg[i]) }),
    })),
  },
  {
    prim: "dynamic_slice", label: "dynamic_slice with traced (and clamped) starts (bound directly)",
    gen: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: -2, max: 6 }), fc.integer({ min: 0, max: 3 })).map(([n, m, i0, j0]) => ({
      args: [{ name: "x", shape: [n + 1, m] }, { name: "i", shape: [], dtype: "i32", sample: () => i0 }],
      build: (b, [x, i]) => b.bind("dynamic_slice", [x, i, literal(j0, { shape: [], dtype: "i32", weak: false })], { slice_sizes: [n, Math.min(m, 2)] }),
    })),
  },
  {
    prim: "dynamic_update_slice", label: "dynamic_update_slice (bound directly)",
    gen: fc.tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: -1, max: 5 })).map(([n, m, i0]) => ({
      args: [{ name: "x", shape: [n, m] }, { name: "u", shape: [n - 1, m] }, { name: "i", shape: [], dtype: "i32", sample: () => i0 }],
      build: (b, [x, u, i]) => b.bind("dynamic_update_slice", [x, u, i, literal(0, { shape: [], dtype: "i32", weak: false })], {}),
    })),
  },
  // Indexing.
  {
    prim: "gather", label: "x[ids] and x[:, ids] with repeated and negative ids",
    gen: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.boolean()).map(([n, m, k, cols]) => ({
      args: [{ name: "x", shape: cols ? [m, n] : [n, m] }, { name: "ids", shape: [k], dtype: "i32", sample: (u) => Math.floor(u() * 2 * n) - n }],
      expr: cols ? "x[:, ids]" : "x[ids]",
    })),
  },
  {
    prim: "gather", label: "jnp.take_along_axis (gather with batching dims)",
    gen: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })).map(([r, n, k]) => ({
      args: [{ name: "x", shape: [r, n] }, { name: "ids", shape: [r, k], dtype: "i32", sample: (u) => Math.floor(u() * n) }],
      expr: "jnp.take_along_axis(x, ids, axis=1)",
    })),
  },
  ...(["add", "set", "mul"] as const).map((op): Case => ({
    prim: op === "add" ? "scatter-add" : op === "set" ? "scatter" : "scatter-mul",
    label: `x.at[ids].${op}(y) with repeated ids`,
    gen: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 })).map(([n, m, k]) => ({
      args: [{ name: "x", shape: [n, m] }, { name: "ids", shape: [k], dtype: "i32", sample: (u) => Math.floor(u() * n) }, { name: "y", shape: [k, m], sample: op === "mul" ? awayFromZero : normal }],
      expr: `x.at[ids].${op}(y)`,
    })),
  })),
  ...(["add", "set", "mul"] as const).map((op): Case => ({
    prim: op === "add" ? "scatter-add" : op === "set" ? "scatter" : "scatter-mul",
    label: `x.at[i].${op}(y) with a static index (unique)`,
    gen: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 })).chain(([n, m]) => fc.integer({ min: -n, max: n - 1 }).map((i) => ({
      args: [{ name: "x", shape: [n, m] }, { name: "y", shape: [m], sample: awayFromZero }],
      expr: `x.at[${i}].${op}(y)`,
    }))),
  })),
  // Primitives holding sub-jaxprs.
  {
    prim: "jit", label: "a call of a jax.jit-decorated function", second: true,
    gen: pairArb.map(([a, b]) => ({
      prelude: "@jax.jit\ndef helper(a, b):\n    return jnp.sin(a) * b + a * a\n\n",
      args: [{ name: "x", shape: a }, { name: "y", shape: b }], expr: "helper(x, y)",
    })),
  },
  {
    prim: "cond", label: "lax.cond on a traced predicate, a captured value in one branch", second: true,
    gen: shapeArb().map((shape) => ({
      args: [{ name: "x", shape }, { name: "y", shape }],
      expr: "lax.cond(jnp.sum(x) > 0, lambda v: jnp.sin(v) * y, lambda v: v * v + y, x)",
    })),
  },
  {
    prim: "cond", label: "lax.cond with an output both branches pass through, and lax.switch",
    gen: fc.tuple(shapeArb(), fc.boolean()).map(([shape, sw]) => ({
      args: [{ name: "x", shape }, { name: "y", shape }],
      expr: sw
        ? "lax.switch(jnp.argmax(jnp.array([1.0, 3.0, 2.0])), [jnp.sin, jnp.cos, lambda v: v * y], x)"
        : "(lambda r: r[0] * r[1])(lax.cond(jnp.sum(y) > 0, lambda v: (v, v * 2.0), lambda v: (v, jnp.tanh(v)), x))",
    })),
  },
  {
    prim: "scan", label: "lax.scan with consts, a carry and stacked outputs (both directions)", second: true,
    gen: fc.tuple(dim, fc.integer({ min: 0, max: 4 }), fc.boolean()).map(([n, t, reverse]) => ({
      prelude: "def scanned(c0, xs, k, reverse):\n    def step(c, r):\n        c = jnp.tanh(c * r + k) + 0.5 * c\n        return c, c * r\n" +
        "    c, ys = lax.scan(step, c0, xs, reverse=reverse)\n    return jnp.concatenate([ys, c[None] * 3.0])\n\n",
      args: [{ name: "x", shape: [n] }, { name: "y", shape: [t, n] }, { name: "z", shape: [n] }],
      expr: `scanned(x, y, z, ${reverse ? "True" : "False"})`,
    })),
  },
  {
    prim: "scan", label: "lax.fori_loop with static bounds (a scan with an int counter in the carry)",
    gen: shapeArb().map((shape) => ({
      args: [{ name: "x", shape, sample: between(-0.9, 0.9) }, { name: "y", shape }],
      expr: "lax.fori_loop(0, 3, lambda i, c: c * x + jnp.sin(c) * i, y)",
    })),
  },
];

// ------------------------------------------------------------------ running a case

interface Built {
  f: Jaxpr;
  g: Jaxpr;
  /** The inputs of f and g (the same list). */
  avals: Aval[];
  wrt: number[];
}

/** f(args..., w) = sum(expr * w), and its gradient with respect to the differentiated args. */
function buildCase(inst: Inst): Built {
  const args = inst.args;
  const spec = (a: ArgSpec) => `${a.name}=${a.dtype ?? "f64"}[${a.shape.join(",")}]`;
  const wrt = args.map((a, i) => ((a.dtype ?? "f64") === "f64" && a.diff !== false ? i : -1)).filter((i) => i >= 0);
  if (inst.expr !== undefined) {
    const names = args.map((a) => a.name).join(", ");
    const pre = inst.prelude ?? "";
    const probe = traceSrc(`${pre}def p(${names}):\n    return ${inst.expr}\n`, "p", args.map(spec).join(", "));
    const outAval = probe.outvars[0].aval;
    const specs = [...args.map(spec), `w=${specOf({ ...outAval, dtype: "f64" })}`].join(", ");
    const body = `${pre}def f(${names}, w):\n    return jnp.sum((${inst.expr}) * w)\n\n` +
      `def g(${names}, w):\n    return jax.grad(f, argnums=(${wrt.join(", ")},))(${names}, w)\n`;
    const f = traceSrc(body, "f", specs);
    const g = traceSrc(body, "g", specs);
    return { f, g, avals: f.invars.map((v) => v.aval), wrt };
  }
  const b = new JaxprBuilder();
  b.span = SPAN;
  const ins = args.map((a) => b.input({ shape: a.shape, dtype: a.dtype ?? "f64", weak: false }, a.name));
  const y = inst.build!(b, ins);
  const w = b.input({ shape: [...y.aval.shape], dtype: "f64", weak: false }, "w");
  const s = b.bind("reduce_sum", [b.bind("mul", [y, w], {})], { axes: y.aval.shape.map((_, i) => i) });
  const f = b.finish([s.atom]);
  const gb = new JaxprBuilder();
  gb.span = SPAN;
  const g = gradJaxpr(gb, f, wrt);
  return { f, g, avals: f.invars.map((v) => v.aval), wrt };
}

function sampleInputs(inst: Inst, avals: Aval[], seed: number): ArrayValue[] {
  const u = uniform(seed);
  return avals.map((a, k) => {
    const s = inst.args[k]?.sample ?? normal;
    return array(a.dtype, a.shape, () => s(u));
  });
}

const scalarOf = (j: Jaxpr) => (xs: ArrayValue[]) => run(j, xs)[0].data[0];

function usesPrim(j: Jaxpr, prim: Prim): boolean {
  return j.eqns.some((e) => e.prim === prim);
}

// ------------------------------------------------------------------ the property tests

describe("gradients match float64 central differences", () => {
  test("every primitive with a gradient rule has a case below", () => {
    const covered = new Set(CASES.map((c) => c.prim));
    const missing = Object.keys(VJP_RULES).filter((p) => !covered.has(p as Prim));
    assert.deepEqual(missing, []);
    for (const p of NON_DIFFERENTIABLE) assert.ok(!(p in VJP_RULES), `${p} is both non-differentiable and has a rule`);
  });

  for (const c of CASES) {
    test(c.label, () => {
      fc.assert(fc.property(c.gen, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (inst, seed) => {
        const { f, g, avals, wrt } = buildCase(inst);
        assert.ok(usesPrim(f, c.prim), `the case does not reach ${c.prim}:\n${irText(printJaxpr(f))}`);
        const inputs = sampleInputs(inst, avals, seed);
        const grads = run(g, inputs);
        assert.equal(grads.length, wrt.length);
        checkAgainstFd(scalarOf(f), inputs, wrt, grads, 1e-6, inst.h);
      }), { numRuns: 25 });
    });
  }
});

describe("second derivatives match central differences of the gradient", () => {
  for (const c of CASES.filter((x) => x.second)) {
    test(c.label, () => {
      fc.assert(fc.property(c.gen, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (inst, seed) => {
        const args = inst.args;
        const names = args.map((a) => a.name).join(", ");
        const spec = (a: ArgSpec) => `${a.name}=${a.dtype ?? "f64"}[${a.shape.join(",")}]`;
        const wrt = args.map((_, i) => i);
        const pre = inst.prelude ?? "";
        const probe = traceSrc(`${pre}def p(${names}):\n    return ${inst.expr}\n`, "p", args.map(spec).join(", "));
        const vs = wrt.map((i) => `v${i}`);
        const specs = [...args.map(spec), `w=${specOf({ ...probe.outvars[0].aval, dtype: "f64" })}`, ...args.map((a, i) => `v${i}=f64[${a.shape.join(",")}]`)].join(", ");
        const body = `${pre}def f(${names}, w):\n    return jnp.sum((${inst.expr}) * w)\n\n` +
          `def h(${names}, w, ${vs.join(", ")}):\n    gs = jax.grad(f, argnums=(${wrt.join(", ")},))(${names}, w)\n    return ${wrt.map((i) => `jnp.sum(gs[${i}] * v${i})`).join(" + ")}\n\n` +
          `def g2(${names}, w, ${vs.join(", ")}):\n    return jax.grad(h, argnums=(${wrt.join(", ")},))(${names}, w, ${vs.join(", ")})\n`;
        const h = traceSrc(body, "h", specs);
        const g2 = traceSrc(body, "g2", specs);
        const u = uniform(seed);
        const inputs = h.invars.map((v, k) => array(v.aval.dtype, v.aval.shape, () => (args[k]?.sample ?? normal)(u)));
        checkAgainstFd(scalarOf(h), inputs, wrt, run(g2, inputs), 1e-5);
      }), { numRuns: 10 });
    });
  }
});

// ------------------------------------------------------------------ the Python API

function f64(shape: number[], values: number[]): ArrayValue {
  return array("f64", shape, (i) => values[i]);
}

function traceAndRun(body: string, fn: string, args: string, inputs: ArrayValue[]): ArrayValue[] {
  const j = traceSrc(body, fn, args);
  const eager = run(j, inputs);
  const fused = compileFused(j).run(inputs);
  eager.forEach((e, i) => assert.deepEqual(Array.from(fused[i].data), Array.from(e.data), "eager and compiled agree"));
  return eager;
}

const close = (got: ArrayLike<number>, want: number[], tol = 1e-12) => {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `element ${i}: ${got[i]} != ${want[i]}`);
};

function traceError(body: string, fn: string, args: string): JitError {
  try {
    traceSrc(body, fn, args);
  } catch (e) {
    if (e instanceof JitError) return e;
    throw e;
  }
  assert.fail("expected a trace error");
}

test("grad(grad(tanh)) is -2 tanh(x) (1 - tanh(x)^2)", () => {
  const xs = [-1.3, -0.2, 0, 0.4, 2.1];
  const body = "def d2(x):\n    return jax.grad(jax.grad(jnp.tanh))(x)\n\ndef f(xs):\n    return jnp.stack([d2(xs[i]) for i in range(5)])\n";
  const [out] = traceAndRun(body, "f", "xs=f64[5]", [f64([5], xs)]);
  close(out.data, xs.map((x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2)));
  // Third order too: d3 tanh = -2 (1 - t^2)(1 - 3 t^2).
  const [o3] = traceAndRun("def f(x):\n    return jax.grad(jax.grad(jax.grad(jnp.tanh)))(x)\n", "f", "x=f64[]", [f64([], [0.7])]);
  const t = Math.tanh(0.7);
  close(o3.data, [-2 * (1 - t * t) * (1 - 3 * t * t)]);
});

test("examples/transforms.py linreg_grad: the gradient of a mean squared error", () => {
  const source = `def linreg_grad(w, x, y):\n    def loss(w):\n        return jnp.mean((x @ w - y) ** 2)\n    return jax.grad(loss)(w)\n`;
  const w = [0.5, -1, 2], x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], y = [1, -1, 0.5, 2];
  const [g] = traceAndRun(source, "linreg_grad", "w=f64[3], x=f64[4,3], y=f64[4]", [f64([3], w), f64([4, 3], x), f64([4], y)]);
  const r = [0, 1, 2, 3].map((i) => x[3 * i] * w[0] + x[3 * i + 1] * w[1] + x[3 * i + 2] * w[2] - y[i]);
  close(g.data, [0, 1, 2].map((j) => (2 / 4) * r.reduce((s, ri, i) => s + ri * x[3 * i + j], 0)));
});

test("argnums as a tuple returns a tuple of gradients; an int returns one", () => {
  const body = "def f(a, b, c):\n    return jnp.sum(a * b) + jnp.sum(c * c) * 3.0\n\n" +
    "def g(a, b, c):\n    return jax.grad(f, argnums=(0, 2))(a, b, c)\n\ndef h(a, b, c):\n    return jax.grad(f, argnums=1)(a, b, c)\n";
  const ins = [f64([2], [1, 2]), f64([2], [3, 4]), f64([2], [5, 6])];
  const [ga, gc] = traceAndRun(body, "g", "a=f64[2], b=f64[2], c=f64[2]", ins);
  close(ga.data, [3, 4]);
  close(gc.data, [30, 36]);
  const out = traceAndRun(body, "h", "a=f64[2], b=f64[2], c=f64[2]", ins);
  assert.equal(out.length, 1);
  close(out[0].data, [1, 2]);
  const e = traceError(body + "def bad(a, b, c):\n    return jax.grad(f, argnums=(0, 3))(a, b, c)\n", "bad", "a=f64[2], b=f64[2], c=f64[2]");
  assert.equal(e.kind, "TypeError");
  assert.match(e.message, /differentiating with respect to argnums=\(0, 3\) requires at least 4 positional arguments to be passed by the caller, but got only 3 positional arguments\./);
});

test("gradients of pytree parameters keep the pytree (dicts by sorted key, lists, tuples, None)", () => {
  const body = "def loss(params, x):\n    h = jnp.tanh(x @ params['w'] + params['b'])\n    s = params['layers'][0][0] * params['layers'][1]\n    return jnp.sum(h) + jnp.sum(s)\n\n" +
    "def f(w, b, l0, l1, x):\n    params = {'w': w, 'b': b, 'layers': [(l0, None), l1]}\n    g = jax.grad(loss)(params, x)\n    assert g['layers'][0][1] is None\n    return g\n";
  const j = traceFunction({ file: "t.py", source: HEADER + body, fn: "f", args: "w=f64[2,2], b=f64[2], l0=f64[], l1=f64[3], x=f64[2]" });
  // Flattened in JAX's order: b, layers (l0, l1), w.
  assert.deepEqual(j.outTree, { dict: [["b", { leaf: 0 }], ["layers", { list: [{ tuple: [{ leaf: 1 }, { none: true }] }, { leaf: 2 }] }], ["w", { leaf: 3 }]] });
  const w = [0.1, 0.2, -0.3, 0.4], b = [0.5, -0.6], x = [1.5, -2];
  const [gb, gl0, gl1, gw] = run(j.jaxpr, [f64([2, 2], w), f64([2], b), f64([], [2]), f64([3], [1, 2, 3]), f64([2], x)]);
  const pre = [0, 1].map((k) => x[0] * w[k] + x[1] * w[2 + k] + b[k]);
  const d = pre.map((p) => 1 - Math.tanh(p) ** 2);
  close(gb.data, d);
  close(gw.data, [x[0] * d[0], x[0] * d[1], x[1] * d[0], x[1] * d[1]]);
  close(gl0.data, [6]);
  close(gl1.data, [2, 2, 2]);
});

test("has_aux: grad returns (grads, aux); value_and_grad returns ((value, aux), grads)", () => {
  const body = "def loss(x):\n    y = x * x\n    return jnp.sum(y), {'y': y, 'n': 3}\n\n" +
    "def g(x):\n    gr, aux = jax.grad(loss, has_aux=True)(x)\n    assert aux['n'] == 3\n    return gr, aux['y'], aux['n']\n\n" +
    "def v(x):\n    (val, aux), gr = jax.value_and_grad(loss, has_aux=True)(x)\n    return val, gr, aux['y']\n";
  const x = f64([3], [1, -2, 0.5]);
  const [gr, y, n] = traceAndRun(body, "g", "x=f64[3]", [x]);
  close(gr.data, [2, -4, 1]);
  close(y.data, [1, 4, 0.25]);
  assert.equal(n.data[0], 3);
  const [val, gr2, y2] = traceAndRun(body, "v", "x=f64[3]", [x]);
  close(val.data, [5.25]);
  close(gr2.data, [2, -4, 1]);
  close(y2.data, [1, 4, 0.25]);
  const e = traceError("def loss(x):\n    return jnp.sum(x)\n\ndef g(x):\n    return jax.grad(loss, has_aux=True)(x)\n", "g", "x=f64[3]");
  assert.equal(e.kind, "TypeError");
  assert.match(e.message, /^expected function with aux output to return a two-element tuple, but got type <class 'Array'>/);
});

test("value_and_grad returns (value, grads); from jax import works; Python floats are differentiable", () => {
  const body = "from jax import grad, value_and_grad\n\ndef f(x, y):\n    v, (gx, gy) = value_and_grad(lambda a, b: jnp.sum(jnp.sin(a) * b), argnums=(0, 1))(x, y)\n    return v, gx, gy, grad(lambda t: t * t * 3.0)(2.0)\n";
  const x = [0.3, -1.1], y = [2, 5];
  const [v, gx, gy, g3] = traceAndRun(body, "f", "x=f64[2], y=f64[2]", [f64([2], x), f64([2], y)]);
  close(v.data, [Math.sin(x[0]) * y[0] + Math.sin(x[1]) * y[1]]);
  close(gx.data, [Math.cos(x[0]) * y[0], Math.cos(x[1]) * y[1]]);
  close(gy.data, [Math.sin(x[0]), Math.sin(x[1])]);
  assert.equal(g3.aval.dtype, "f32");
  close(g3.data, [12], 1e-6);
});

test("captured outer values are constants; stop_gradient, argmax, comparisons and unused inputs give zeros", () => {
  const body = "def f(x, y):\n    def inner(x):\n        k = jnp.argmax(x)\n        m = (x > 0).astype(jnp.float64)\n        return jnp.sum(x * y) + jnp.sum(lax.stop_gradient(x) * x) + k.astype(jnp.float64) + jnp.sum(m)\n    return jax.grad(inner)(x)\n\n" +
    "def unused(x, y):\n    return jax.grad(lambda a, b: jnp.sum(b), argnums=0)(x, y)\n";
  const x = [1, -2, 3], y = [4, 5, 6];
  const [g] = traceAndRun(body, "f", "x=f64[3], y=f64[3]", [f64([3], x), f64([3], y)]);
  close(g.data, [4 + 1, 5 - 2, 6 + 3]);
  const [z] = traceAndRun(body, "unused", "x=f64[3], y=f64[3]", [f64([3], x), f64([3], y)]);
  close(z.data, [0, 0, 0]);
  assert.match(irText(printJaxpr(traceSrc(body, "unused", "x=f64[3], y=f64[3]"))), /= broadcast_in_dim 0\.0:f64\[\]/);
});

test("reduce_prod's gradient is exact with zeros in the input", () => {
  const body = "def f(x):\n    return jax.grad(lambda a: jnp.prod(a))(x)\n";
  const [g] = traceAndRun(body, "f", "x=f64[4]", [f64([4], [2, 0, 3, 5])]);
  close(g.data, [0, 30, 0, 0]);
  const [g2] = traceAndRun(body, "f", "x=f64[4]", [f64([4], [2, 0, 3, 0])]);
  close(g2.data, [0, 0, 0, 0]);
});

test("the gradient jaxpr is JAX-shaped: forward equations, then the backward pass on the same lines", () => {
  const source = "import jax\nimport jax.numpy as jnp\n\ndef linreg_grad(w, x, y):\n    def loss(w):\n        return jnp.mean((x @ w - y) ** 2)\n    return jax.grad(loss)(w)\n";
  const r = traceFunction({ file: "t.py", source, fn: "linreg_grad", args: "w=f32[16], x=f32[64,16], y=f32[64]" });
  const lines = printJaxpr(r.jaxpr);
  assert.deepEqual(lines.map((l) => l.text), [
    "{ lambda ; a:f32[16] b:f32[64,16] c:f32[64]. let",
    "    d:f32[64] = dot_general[dimension_numbers=(([1], [0]), ([], [])) preferred_element_type=float32] b a",
    "    e:f32[64] = sub d c",
    "    f:f32[64] = integer_pow[y=2] e",
    "    g:f32[] = reduce_sum[axes=(0,) out_sharding=None] f",
    "    _:f32[] = div g 64.0:f32[]",
    "    h:f32[] = div 1.0:f32[] 64.0:f32[]",
    "    i:f32[64] = broadcast_in_dim h",
    "    j:f32[64] = mul 2.0:f32[] e",
    "    k:f32[64] = mul i j",
    "    l:f32[16] = dot_general[dimension_numbers=(([0], [0]), ([], [])) preferred_element_type=float32] k b",
    "  in (l,) }",
  ]);
  // Backward equations carry the span of the forward equation they differentiate.
  assert.equal(lines[6].spans[0].line, lines[5].spans[0].line);
  assert.equal(lines[10].spans[0].line, 6);
});

test("JAX's errors: non-scalar output, integer input, integer output, a primitive without a rule", () => {
  const e1 = traceError("def f(x):\n    return jax.grad(jnp.sin)(x)\n", "f", "x=f32[3]");
  assert.equal(e1.kind, "TypeError");
  assert.match(e1.message, /^Gradient only defined for scalar-output functions\. Output had shape: \(3,\)\./);
  assert.equal(e1.span?.line, 5);
  const e2 = traceError("def f(x):\n    return jax.grad(lambda a: jnp.sum(a * 2))(x)\n", "f", "x=i32[3]");
  assert.equal(e2.kind, "TypeError");
  assert.equal(e2.message, "grad requires real- or complex-valued inputs (input dtype that is a sub-dtype of np.inexact), but got int32. If you want to use Boolean- or integer-valued inputs, use vjp or set allow_int to True.");
  assert.match(traceError("def f(x):\n    return jax.grad(lambda a: a * a)(3)\n", "f", "x=f32[]").message, /but got int32/);
  const e3 = traceError("def f(x):\n    return jax.grad(lambda a: jnp.argmax(a))(x)\n", "f", "x=f32[3]");
  assert.match(e3.message, /^grad requires real-valued outputs \(output dtype that is a sub-dtype of np\.floating\), but got int32/);
  const e4 = traceError("def f(x):\n    return jax.grad(lambda a: (a, a))(x)\n", "f", "x=f32[]");
  assert.match(e4.message, /^Gradient only defined for scalar-output functions\. Output was \(/);

  const e5 = traceError("def f(x):\n    return jax.grad(lambda a: jnp.sum(lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (0, a))[1]))(x)\n", "f", "x=f32[3]");
  assert.match(e5.message, /^Reverse-mode differentiation does not work for lax\.while_loop or lax\.fori_loop with dynamic start\/stop values\./);
  assert.equal(e5.span?.line, 5);

  // A primitive without a rule: nextafter (JAX has none either).
  const b = new JaxprBuilder();
  b.span = SPAN;
  const x = b.input({ shape: [2], dtype: "f64", weak: false }, "x");
  const y = b.bind("nextafter", [x, literal(1, { shape: [], dtype: "f64", weak: true })], {});
  const f = b.finish([b.bind("reduce_sum", [y], { axes: [0] }).atom]);
  const gb = new JaxprBuilder();
  gb.span = SPAN;
  assert.throws(() => gradJaxpr(gb, f, [0]), (e: unknown) => {
    assert.ok(e instanceof JitError);
    assert.equal(e.message, "JIT Lens cannot differentiate 'nextafter' (no gradient rule)");
    return true;
  });
});

test("a function whose value does not depend on the input has a zero gradient", () => {
  const [g] = traceAndRun("def f(x):\n    return jax.grad(lambda a: 2.0)(x)\n", "f", "x=f64[2]", [f64([2], [1, 2])]);
  close(g.data, [0, 0]);
});

test("nested grads over different variables (a mixed partial), @jax.grad and functools.partial", () => {
  const body = "import functools\n\ndef f(x, y):\n" +
    "    d_dy = lambda a: jax.grad(lambda b: a * a * b ** 3)(y)\n" +
    "    mixed = jax.grad(d_dy)(x)\n" +
    "    @jax.grad\n    def slope(t):\n        return jnp.sin(t) * y\n" +
    "    g1 = functools.partial(jax.grad, argnums=1)(lambda a, b: a * b * b)(x, y)\n" +
    "    return mixed, slope(x), g1\n";
  const x = 1.5, y = -0.7;
  const [mixed, slope, g1] = traceAndRun(body, "f", "x=f64[], y=f64[]", [f64([], [x]), f64([], [y])]);
  close(mixed.data, [6 * x * y * y]);
  close(slope.data, [Math.cos(x) * y]);
  close(g1.data, [2 * x * y]);
});

test("grad of a jax.jit-decorated function leaves a jit equation for the backward pass", () => {
  const body = "@jax.jit\ndef loss(w, x):\n    return jnp.sum(jnp.tanh(x @ w))\n\ndef f(w, x):\n    return jax.grad(loss)(w, x)\n";
  const text = irText(printJaxpr(traceSrc(body, "f", "w=f32[4,2], x=f32[3,4]")));
  assert.match(text, /= jit\[\s*name=loss\s/);
  assert.match(text, /= jit\[\s*name=transpose\(jvp\(loss\)\)\s/);
});
