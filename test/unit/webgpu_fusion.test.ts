// Fused kernels on the WebGPU backend (SwiftShader in CI): row kernels (reductions with their
// elementwise producers and consumers: softmax, log-softmax, layer norm, RMS norm, mean and
// variance, column reductions, a full reduction to a scalar), matmul epilogues (bias + gelu)
// and loop kernels with index ops (stencils of slices and concatenates, rev + pad, iota masks).
// Each compiles to as many WGSL kernels as the CPU backend's plan has (one for these), none of
// them "run unfused", and matches the CPU backend within the numeric fixtures' tolerances; row
// kernels are checked with the workgroup tree and with subgroup reductions.
// A missing adapter FAILS these tests (it does not skip them).
process.env.VK_ICD_FILENAMES ??= "/usr/lib/chromium/vk_swiftshader_icd.json";

import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import type { ArrayValue, Jaxpr } from "../../compiler-core/src/ir/types";
import { compileWebGPU, webgpuRefusal, type WebGPUCompileOptions } from "../../compiler-core/src/runtime/webgpu/runtime";
import { probeGpu } from "../../compiler-core/src/runtime/webgpu/device";
import { compileFused } from "../../compiler-core/src/runtime/cpu";
import { inlineCalls, planFusion } from "../../compiler-core/src/fusion/fuse";
import { makeInputs, prepare } from "../../compiler-core/src/api";

const root = path.resolve(__dirname, "../..");
let hasSubgroups = false;

before(async () => {
  const p = await probeGpu();
  if (!p.ok) {
    assert.fail(`no WebGPU adapter, so the WebGPU tests cannot run: ${p.reason}\n` +
      "Install Debian's chromium (SwiftShader's Vulkan driver) and libvulkan1, and keep " +
      "VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (the tests set it when unset).");
  }
  hasSubgroups = p.ctx.subgroups;
});

const SRC = `
import jax
import jax.numpy as jnp

def log_softmax(x):
    m = jnp.max(x, axis=-1, keepdims=True)
    s = x - m
    return s - jnp.log(jnp.sum(jnp.exp(s), axis=-1, keepdims=True))

def rms_norm(x, w):
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + 1e-6) * w

def mean_var(x):
    mu = jnp.mean(x, axis=1)
    return mu, jnp.mean((x - mu[:, None]) ** 2, axis=1)

def col_sum(x):
    return jnp.sum(jnp.tanh(x) * 2.0, axis=0)

def total(x):
    return jnp.sum(jnp.exp(x) * 0.5)

def max_abs_rows(x):
    return jnp.max(jnp.abs(x) + 1.0, axis=1)

def dense_gelu(x, w, b):
    return jax.nn.gelu(x @ w + b)

def bmm_scale(x, w):
    return jnp.tanh(jnp.einsum("bij,bjk->bik", x, w) * 0.5)

def softmax3(x):
    e = jnp.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

def count_pos(x):
    return jnp.sum((x > 0.2).astype(jnp.int32), axis=1), jnp.any(x > 1.5, axis=1)

def roll_mix(x):
    return jnp.roll(x, 3, axis=1) * 2.0 + x[:, ::-1] + jnp.transpose(x)[0][:, None]
`;

interface Case { name: string; file?: string; fn: string; args: string; tol: number; kernels?: number }

const cases: Case[] = [
  { name: "softmax", file: "reductions.py", fn: "softmax", args: "x=f32[24,200]", tol: 1e-4 },
  { name: "softmax, short ragged rows (several rows per workgroup)", fn: "softmax3", args: "x=f32[3,37,10]", tol: 1e-4 },
  { name: "softmax, long rows (recomputed, no scratch row)", fn: "softmax3", args: "x=f32[2,9000]", tol: 1e-4 },
  { name: "log-softmax", fn: "log_softmax", args: "x=f32[16,300]", tol: 1e-4 },
  { name: "layernorm", file: "reductions.py", fn: "layernorm", args: "x=f32[12,512], scale=f32[512], shift=f32[512]", tol: 1e-4 },
  { name: "RMS norm", fn: "rms_norm", args: "x=f32[10,96], w=f32[96]", tol: 1e-4 },
  { name: "mean and variance (two outputs of the outer shape)", fn: "mean_var", args: "x=f32[20,130]", tol: 1e-4 },
  { name: "column reduction", fn: "col_sum", args: "x=f32[70,33]", tol: 1e-4 },
  { name: "z-score of columns", file: "reductions.py", fn: "zscore_cols", args: "x=f32[32,48]", tol: 1e-4 },
  { name: "full reduction to a scalar", fn: "total", args: "x=f32[3,500]", tol: 1e-4 },
  { name: "max with producers", fn: "max_abs_rows", args: "x=f32[9,400]", tol: 1e-6 },
  { name: "int32 and bool row reductions with producers", fn: "count_pos", args: "x=f32[12,100]", tol: 0 },
  { name: "logsumexp rows", file: "reductions.py", fn: "logsumexp_rows", args: "x=f32[8,300]", tol: 1e-4 },
  { name: "matmul + bias + gelu", fn: "dense_gelu", args: "x=f32[20,48], w=f32[48,40], b=f32[40]", tol: 1e-4 },
  { name: "batched matmul + scale + tanh", fn: "bmm_scale", args: "x=f32[3,17,20], w=f32[3,20,19]", tol: 1e-4 },
  { name: "linear_relu", file: "networks.py", fn: "linear_relu", args: "x=f32[16,64], w=f32[64,32], b=f32[32]", tol: 1e-4 },
  { name: "unrolled_heat (stencils of slices and concatenates)", file: "transforms.py", fn: "unrolled_heat", args: "x=f32[64], steps=4", tol: 1e-5 },
  { name: "reverse_and_pad", file: "indexing.py", fn: "reverse_and_pad", args: "x=f32[8,16]", tol: 1e-5 },
  { name: "masked_upper (iota mask)", file: "indexing.py", fn: "masked_upper", args: "x=f32[6,5]", tol: 1e-5 },
  { name: "add_row_index (iota)", file: "indexing.py", fn: "add_row_index", args: "x=f32[10,20]", tol: 1e-5 },
  { name: "roll + rev + transposed row", fn: "roll_mix", args: "x=f32[9,9]", tol: 1e-5 },
];

function load(c: Case): { jaxpr: Jaxpr; inputs: ArrayValue[] } {
  const file = c.file ? path.join(root, "examples", c.file) : "fusion_cases.py";
  const source = c.file ? readFileSync(file, "utf8") : SRC;
  const p = prepare({ file, source, fn: c.fn, args: c.args, run: false });
  return { jaxpr: p.trace.jaxpr, inputs: makeInputs(p.trace, 3) };
}

/** Kernels of the CPU backend's plan that run (views excluded). */
function cpuKernels(jaxpr: Jaxpr): number {
  return planFusion(inlineCalls(jaxpr).jaxpr).kernels.filter((k) => !k.view).length;
}

function within(got: ArrayValue[], want: ArrayValue[], tol: number, what: string): void {
  assert.equal(got.length, want.length);
  got.forEach((g, j) => {
    assert.deepEqual(g.aval.shape, want[j].aval.shape);
    let err = 0, scale = 0;
    for (let i = 0; i < g.data.length; i++) {
      const w = want[j].data[i], v = g.data[i];
      if (Number.isNaN(w) || Number.isNaN(v)) { assert.ok(Number.isNaN(w) && Number.isNaN(v), `${what} output ${j}[${i}]: ${v} vs ${w}`); continue; }
      if (!Number.isFinite(w) || !Number.isFinite(v)) { assert.equal(v, w, `${what} output ${j}[${i}]`); continue; }
      scale = Math.max(scale, Math.abs(w));
      err = Math.max(err, Math.abs(v - w));
    }
    assert.ok(err <= tol * Math.max(scale, 1e-30), `${what} output ${j}: relative error ${err / scale} > ${tol}`);
  });
}

async function checkFused(c: Case, options: WebGPUCompileOptions = {}, what = "compiled") {
  const { jaxpr, inputs } = load(c);
  assert.equal(webgpuRefusal(jaxpr), undefined);
  const want = compileFused(jaxpr).run(inputs);
  const planned = cpuKernels(jaxpr);
  const exe = await compileWebGPU(jaxpr, "compiled", options);
  try {
    const running = exe.kernels.filter((k) => k.bytesRead + k.bytesWritten > 0 || k.source.includes("@compute"));
    const reasons = exe.kernels.map((k) => `${k.name}: ${k.reason}`).join("\n");
    assert.ok(!exe.kernels.some((k) => /unfused/.test(k.reason)), reasons);
    assert.ok(exe.kernels.every((k) => /^kernel_\d+$/.test(k.name)), reasons);
    assert.equal(running.length, planned, reasons);
    if (c.kernels !== undefined) assert.equal(running.length, c.kernels);
    within(await exe.runAsync(inputs), want, c.tol, what);
    return exe.kernels;
  } finally {
    exe.dispose();
  }
}

describe("WebGPU fusion: one kernel where the CPU plan has one, same results as the CPU", () => {
  for (const c of cases) {
    test(c.name, async () => {
      const kernels = await checkFused(c);
      if (hasSubgroups && kernels.some((k) => /var<workgroup> part_/.test(k.source))) {
        // The same kernels without subgroup operations (the workgroup tree).
        await checkFused(c, { subgroups: false }, "compiled (workgroup tree)");
      }
    });
  }
});

describe("WebGPU fusion: NaN and infinities in row kernels behave as on the CPU", () => {
  for (const [name, fn, shape] of [["softmax", "softmax3", [4, 300]], ["max with producers", "max_abs_rows", [4, 300]], ["column sum (column mode)", "col_sum", [300, 40]], ["log-softmax, short rows", "log_softmax", [6, 7]]] as const) {
    test(name, async () => {
      const { jaxpr, inputs } = load({ name, fn, args: `x=f32[${shape.join(",")}]`, tol: 1e-4 });
      const x = inputs[0].data as Float32Array;
      const w = shape[1];
      x[w + 5] = NaN;
      x[2 * w + 1] = -Infinity;
      x[3 * w + 2] = Infinity;
      x[3 * w + 4] = Infinity;
      x[0] = -0;
      const want = compileFused(jaxpr).run(inputs);
      for (const subgroups of hasSubgroups ? [true, false] : [false]) {
        const exe = await compileWebGPU(jaxpr, "compiled", { subgroups });
        try {
          within(await exe.runAsync(inputs), want, 1e-4, `subgroups ${subgroups}`);
        } finally {
          exe.dispose();
        }
      }
    });
  }
});

describe("WebGPU fusion: the single-kernel cases", () => {
  test("softmax, layernorm, log-softmax, RMS norm, matmul+bias+gelu, unrolled_heat are ONE WGSL kernel", async () => {
    for (const name of ["softmax", "layernorm", "log-softmax", "RMS norm", "matmul + bias + gelu", "unrolled_heat (stencils of slices and concatenates)", "reverse_and_pad", "masked_upper (iota mask)"]) {
      const c = cases.find((x) => x.name === name)!;
      const { jaxpr } = load(c);
      assert.equal(cpuKernels(jaxpr), 1, `${name}: CPU plan`);
      const exe = await compileWebGPU(jaxpr, "compiled");
      try {
        assert.equal(exe.launches, 1, `${name}: ${exe.kernels.map((k) => k.reason).join("; ")}`);
        const k = exe.kernels.find((x) => x.source.includes("@compute"))!;
        assert.match(k.source, /@compute/);
        if (/softmax|layernorm|RMS/.test(name)) {
          assert.equal(k.kind, "rowwise");
          assert.match(k.source, /var<workgroup> part_/);
        }
        if (/matmul/.test(name)) assert.match(k.source, /jl_erf|jl_tanh/);
      } finally {
        exe.dispose();
      }
    }
  });

  test("the row kernel keeps the exp row in workgroup memory when it fits, recomputes it when it does not", async () => {
    const short = load(cases[0]);
    const long = load(cases[2]);
    const a = await compileWebGPU(short.jaxpr, "compiled");
    const b = await compileWebGPU(long.jaxpr, "compiled");
    try {
      assert.match(a.kernels[0].source, /var<workgroup> row_/);
      assert.doesNotMatch(b.kernels.find((k) => k.source.includes("@compute"))!.source, /var<workgroup> row_/);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe("WebGPU fusion: every example the GPU accepts has the CPU plan's kernel count, none unfused", () => {
  const numeric = path.join(root, "test", "fixtures", "numeric");
  for (const name of readdirSync(numeric)) {
    const dir = path.join(numeric, name);
    const meta: { file: string; fn: string; args: string[]; tolerance: number } = JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8"));
    test(`${meta.file}:${meta.fn}`, async () => {
      const file = path.join(root, "examples", meta.file);
      const p = prepare({ file, source: readFileSync(file, "utf8"), fn: meta.fn, args: meta.args.map((a) => a.replaceAll("{dir}", dir)).join(", "), run: false });
      if (webgpuRefusal(p.trace.jaxpr)) return; // control flow: the CPU runs it
      const exe = await compileWebGPU(p.trace.jaxpr, "compiled");
      try {
        const reasons = exe.kernels.map((k) => `${k.name}: ${k.reason}`).join("\n");
        assert.ok(!exe.kernels.some((k) => /unfused/.test(k.reason)), reasons);
        assert.equal(exe.kernels.length, planFusion(inlineCalls(p.trace.jaxpr).jaxpr).kernels.length, reasons);
      } finally {
        exe.dispose();
      }
    });
  }
});
