// The WebGPU backend on Dawn (npm `webgpu`), in CI on SwiftShader: every NumPy-fixture numeric
// test of the CPU backend (fixtures/prims.json, fixtures/kernels.json, test/fixtures/numeric)
// runs here too, eager and compiled, with the same tolerances; plus the faults (memory guard,
// float64, control flow, an unknown kernel kind run unfused) and the API/CLI fallbacks.
// A missing adapter FAILS these tests (it does not skip them): install Debian's chromium (for
// SwiftShader's Vulkan driver) and libvulkan1.
process.env.VK_ICD_FILENAMES ??= "/usr/lib/chromium/vk_swiftshader_icd.json";

import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import type { ArrayValue, DType, Jaxpr } from "../../compiler-core/src/ir/types";
import type { Prim } from "../../compiler-core/src/ir/primitives";
import { newBuffer, size } from "../../compiler-core/src/ir/types";
import { compileWebGPU, webgpuRefusal, formatGpuTime, type WebGPUExecutable } from "../../compiler-core/src/runtime/webgpu/runtime";
import { probeGpu, WebGPUFault } from "../../compiler-core/src/runtime/webgpu/device";
import { compileEager, compileFused } from "../../compiler-core/src/runtime/cpu";
import { analyze, makeInputs, prepare } from "../../compiler-core/src/api";
import { readNpy } from "../../compiler-core/src/npy";
import { JaxprBuilder, close, decode } from "./lib/build";

const root = path.resolve(__dirname, "../..");

before(async () => {
  const p = await probeGpu();
  if (!p.ok) {
    assert.fail(`no WebGPU adapter, so the WebGPU tests cannot run: ${p.reason}\n` +
      "Install Debian's chromium (SwiftShader's Vulkan driver) and libvulkan1, and keep " +
      "VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (the tests set it when unset).");
  }
});

test("an adapter exists and is named in the device string", async () => {
  const p = await probeGpu();
  assert.ok(p.ok, p.ok ? "" : p.reason);
  assert.match(p.ctx.name, /^WebGPU: /);
});

// ---- building jaxprs ----

class B extends JaxprBuilder {
  constructor() { super("w.py"); }
}

function array(dtype: DType, shape: number[], values: ArrayLike<number>): ArrayValue {
  const data = newBuffer(dtype, size(shape));
  for (let i = 0; i < data.length; i++) data[i] = values[i];
  return { aval: { shape, dtype, weak: false }, data };
}

async function both(jaxpr: Jaxpr, inputs: ArrayValue[]): Promise<[string, ArrayValue[]][]> {
  const out: [string, ArrayValue[]][] = [];
  for (const mode of ["eager", "compiled"] as const) {
    const exe = await compileWebGPU(jaxpr, mode);
    try {
      out.push([mode, await exe.runAsync(inputs)]);
    } finally {
      exe.dispose();
    }
  }
  return out;
}

const hasF64 = (dts: DType[]) => dts.includes("f64");

// ---- every primitive against numpy ----

interface PrimCase { prim: Prim; params: Record<string, unknown>; dtypes: DType[]; out: DType; inputs: (number | string)[][]; expected: (number | string)[]; tol: number }
const primCases: PrimCase[] = JSON.parse(readFileSync(path.join(__dirname, "fixtures/prims.json"), "utf8")).cases;

describe("WebGPU: primitives match numpy (fixtures/prims.json)", () => {
  for (const c of primCases) {
    const label = `${c.prim}${Object.keys(c.params).length ? JSON.stringify(c.params) : ""} ${c.dtypes.join(",")} -> ${c.out}`;
    test(label, async () => {
      const n = c.inputs[0].length;
      const b = new B();
      const xs = c.dtypes.map((d) => b.input([n], d));
      const [y] = b.ops(c.prim, xs, c.params, [{ shape: [n], dtype: c.out, weak: false }]);
      const jaxpr = b.build([y]);
      if (hasF64([...c.dtypes, c.out])) {
        assert.match(webgpuRefusal(jaxpr) ?? "", /float64/);
        await assert.rejects(compileWebGPU(jaxpr, "compiled"), (e: unknown) => e instanceof WebGPUFault && /float64/.test(e.message));
        return;
      }
      const inputs = c.inputs.map((vals, i) => array(c.dtypes[i], [n], vals.map(decode)));
      for (const [mode, outs] of await both(jaxpr, inputs)) {
        const got = outs[0];
        assert.equal(got.aval.dtype, c.out);
        c.expected.map(decode).forEach((want, i) => {
          const args = c.inputs.map((vals) => vals[i]).join(", ");
          assert.ok(close(got.data[i], want, c.tol), `${mode} ${c.prim}(${args}) = ${got.data[i]}, numpy says ${want}`);
        });
      }
    });
  }
});

// ---- every kernel against numpy ----

interface Tensor { dtype: DType; shape: number[]; data: (number | string)[] }
interface KernelCase { name: string; prim: Prim; params: Record<string, unknown>; inputs: Tensor[]; outputs: Tensor[]; tol: number }
const kernelCases: KernelCase[] = JSON.parse(readFileSync(path.join(__dirname, "fixtures/kernels.json"), "utf8")).cases;
const value = (t: Tensor): ArrayValue => array(t.dtype, t.shape, t.data.map(decode));

describe("WebGPU: kernels match numpy (fixtures/kernels.json)", () => {
  for (const c of kernelCases) {
    test(c.name, async () => {
      const b = new B();
      const ins = c.inputs.map((t) => b.input(t.shape, t.dtype));
      const outs = b.ops(c.prim, ins, c.params);
      const jaxpr = b.build(outs);
      if (hasF64([...c.inputs, ...c.outputs].map((t) => t.dtype))) {
        assert.match(webgpuRefusal(jaxpr) ?? "", /float64/);
        return;
      }
      const inputs = c.inputs.map(value);
      for (const [mode, got] of await both(jaxpr, inputs)) {
        c.outputs.forEach((t, j) => {
          const want = value(t);
          assert.deepEqual(got[j].aval.shape, t.shape);
          assert.equal(got[j].aval.dtype, t.dtype);
          for (let i = 0; i < want.data.length; i++) {
            assert.ok(close(got[j].data[i], want.data[i], c.tol), `${mode} output ${j}[${i}] = ${got[j].data[i]}, numpy says ${want.data[i]}`);
          }
        });
      }
    });
  }
});

// ---- the example functions against NumPy's float64 results (test/fixtures/numeric) ----

const numeric = path.join(root, "test", "fixtures", "numeric");

describe("WebGPU: examples match NumPy's float64 results (test/fixtures/numeric)", () => {
  for (const name of readdirSync(numeric)) {
    const dir = path.join(numeric, name);
    const meta: { file: string; fn: string; args: string[]; tolerance: number } = JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8"));
    test(`${meta.file}:${meta.fn} (rel. error < ${meta.tolerance})`, async () => {
      const file = path.join(root, "examples", meta.file);
      const p = prepare({ file, source: readFileSync(file, "utf8"), fn: meta.fn, args: meta.args.map((a) => a.replaceAll("{dir}", dir)).join(", "), run: false });
      const inputs = makeInputs(p.trace, 0);
      const wantBuf = readFileSync(path.join(dir, "expected.npy"));
      const want = readNpy(new Uint8Array(wantBuf.buffer, wantBuf.byteOffset, wantBuf.byteLength), "expected.npy");
      const refusal = webgpuRefusal(p.trace.jaxpr);
      if (refusal) {
        // Control flow runs on the CPU backend: the API says so and falls back.
        assert.match(refusal, /control flow|float64/);
        return;
      }
      for (const [mode, outs] of await both(p.trace.jaxpr, inputs)) {
        const got = outs[0];
        assert.deepEqual(got.aval.shape, want.aval.shape);
        let err = 0, scale = 0;
        for (let i = 0; i < want.data.length; i++) {
          scale = Math.max(scale, Math.abs(want.data[i]));
          err = Math.max(err, Math.abs(got.data[i] - want.data[i]));
        }
        assert.ok(err / scale < meta.tolerance, `${mode}: relative error ${err / scale}`);
      }
    });
  }
});

// ---- structure, faults and fallbacks ----

/** exp(x) * 2 + y, then a row sum: a loop kernel and a reduction. */
function chain(): { jaxpr: Jaxpr; inputs: ArrayValue[] } {
  const b = new B();
  const x = b.input([8, 33]);
  const y = b.input([33]);
  const e = b.op("exp", [x]);
  const m = b.op("mul", [e, { kind: "lit", value: 2, aval: { shape: [], dtype: "f32", weak: true } }]);
  const yb = b.op("broadcast_in_dim", [y], { shape: [8, 33], broadcast_dimensions: [1] });
  const s = b.op("add", [m, yb]);
  const r = b.op("reduce_sum", [s], { axes: [1] });
  const inputs = [array("f32", [8, 33], Array.from({ length: 264 }, (_, i) => Math.sin(i) / 2)), array("f32", [33], Array.from({ length: 33 }, (_, i) => i / 7))];
  return { jaxpr: b.build([r, s]), inputs };
}

function agree(got: ArrayValue[], want: ArrayValue[], tol = 1e-6): void {
  assert.equal(got.length, want.length);
  got.forEach((g, j) => {
    for (let i = 0; i < g.data.length; i++) assert.ok(close(g.data[i], want[j].data[i], tol), `output ${j}[${i}]: ${g.data[i]} vs ${want[j].data[i]}`);
  });
}

describe("WebGPU: executables", () => {
  test("eager launches one kernel per primitive, compiled fewer; kernels are WGSL; results agree with the CPU", async () => {
    const { jaxpr, inputs } = chain();
    const cpu = compileFused(jaxpr).run(inputs);
    const eager = await compileWebGPU(jaxpr, "eager");
    const compiled = await compileWebGPU(jaxpr, "compiled");
    try {
      assert.equal(eager.launches, 5);
      assert.ok(compiled.launches < eager.launches, `compiled launches ${compiled.launches}`);
      for (const k of [...eager.kernels, ...compiled.kernels]) {
        assert.equal(k.language, "wgsl");
        assert.match(k.source, /@compute/);
      }
      agree(await eager.runAsync(inputs), cpu);
      agree(await compiled.runAsync(inputs), cpu);
      // Resident inputs: execute (wait for the GPU) then read.
      const res = compiled.upload(inputs);
      await compiled.execute(res);
      agree(await compiled.executeAndRead(res), cpu);
      const times = await compiled.profile(res, 2);
      if (times) {
        assert.equal(times.length, compiled.kernels.length);
        for (const t of times) if (t !== null) assert.ok(t >= 0);
      }
      compiled.release(res);
    } finally {
      eager.dispose();
      compiled.dispose();
    }
  });

  test("GPU times are never printed as 0", () => {
    assert.equal(formatGpuTime(0), "below timer resolution");
    assert.match(formatGpuTime(0.0123), /µs/);
  });

  test("a kernel kind the backend does not fuse runs unfused, in one command buffer, with the same results", async () => {
    const { jaxpr, inputs } = chain();
    const normal = await compileWebGPU(jaxpr, "compiled");
    const kinds = [...new Set(normal.kernels.map((k) => k.kind))];
    const unfused = await compileWebGPU(jaxpr, "compiled", { unfuseKinds: kinds });
    try {
      assert.ok(unfused.launches >= normal.launches, `${unfused.launches} vs ${normal.launches}`);
      assert.ok(unfused.kernels.some((k) => /^part 1 of \d+ of kernel_\d+ \(\w+, run unfused: the WebGPU backend has no fused kernel for kind '\w+' yet\)/.test(k.reason)), unfused.kernels.map((k) => k.reason).join("\n"));
      assert.ok(unfused.kernels.every((k) => /^kernel_\d+\.\d+$/.test(k.name)), unfused.kernels.map((k) => k.name).join(" "));
      agree(await unfused.runAsync(inputs), await normal.runAsync(inputs));
      agree(await unfused.runAsync(inputs), compileFused(jaxpr).run(inputs));
    } finally {
      normal.dispose();
      unfused.dispose();
    }
  });

  test("the memory guard refuses a run before allocating, with the numbers", async () => {
    const { jaxpr } = chain();
    await assert.rejects(compileWebGPU(jaxpr, "compiled", { memory: { share: 1e-9 } }), (e: unknown) => {
      assert.ok(e instanceof WebGPUFault);
      assert.match(e.message, /memory guard: buffer \w+ needs [\d.]+ MiB .* more than 1e-9 of the adapter's largest storage buffer \([\d.]+ MiB\)/);
      return true;
    });
    await assert.rejects(compileWebGPU(jaxpr, "compiled", { memory: { totalBytes: 1000 } }), /memory guard: the run needs [\d.]+ MiB of device buffers at once, more than the cap of [\d.]+ MiB/);
  });

  test("float64 and control flow are refused with a reason", async () => {
    const b = new B();
    const x = b.input([4], "f64");
    const y = b.op("exp", [x]);
    await assert.rejects(compileWebGPU(b.build([y]), "eager"), /cannot run this function: it has float64 values, and WGSL has no float64 type/);
    const src = readFileSync(path.join(root, "examples", "transforms.py"), "utf8");
    assert.ok(src.length > 0);
  });

  test("outputs that are inputs or literals, bools and ints round-trip", async () => {
    const b = new B();
    const x = b.input([5], "i32");
    const p = b.input([5], "bool");
    const y = b.op("not", [p]);
    const jaxpr = b.build([x, y, { kind: "lit", value: 3, aval: { shape: [], dtype: "i32", weak: false } }]);
    const inputs = [array("i32", [5], [1, -2, 3, 2147483647, -2147483648]), array("bool", [5], [1, 0, 1, 1, 0])];
    for (const [mode, outs] of await both(jaxpr, inputs)) {
      assert.deepEqual(Array.from(outs[0].data), [1, -2, 3, 2147483647, -2147483648], mode);
      assert.deepEqual(Array.from(outs[1].data), [0, 1, 0, 0, 1], mode);
      assert.ok(outs[1].data instanceof Uint8Array);
      assert.deepEqual(Array.from(outs[2].data), [3]);
    }
  });
});

describe("WebGPU: reduction strategies", () => {
  const cases: [string, number[], number[], DType][] = [
    ["short rows: a thread per output", [37, 20], [1], "f32"],
    ["long rows: a workgroup tree per output", [5, 3000], [1], "f32"],
    ["middle axis, long", [3, 700, 4], [1], "f32"],
    ["very long rows: two passes through scratch", [2, 70000], [1], "f32"],
    ["very long int rows: two passes, wrapping", [1, 70000], [0, 1], "i32"],
  ];
  for (const [label, shape, axes, dtype] of cases) {
    test(`${label}: sum and max agree with the CPU`, async () => {
      for (const prim of ["reduce_sum", "reduce_max"] as const) {
        const b = new B();
        const x = b.input(shape, dtype);
        const y = b.op(prim, [x], { axes });
        const jaxpr = b.build([y]);
        const n = size(shape);
        const vals = Array.from({ length: n }, (_, i) => (dtype === "i32" ? ((i * 2654435761) | 0) : Math.sin(i * 0.37) * 3));
        if (dtype === "f32" && prim === "reduce_max") vals[Math.floor(n / 2)] = NaN; // NaN propagates
        const inputs = [array(dtype, shape, vals)];
        const want = compileFused(jaxpr).run(inputs)[0];
        for (const [mode, outs] of await both(jaxpr, inputs)) {
          for (let i = 0; i < want.data.length; i++) {
            assert.ok(close(outs[0].data[i], want.data[i], prim === "reduce_sum" && dtype === "f32" ? 1e-4 : 0), `${mode} ${prim}[${i}]: ${outs[0].data[i]} vs ${want.data[i]}`);
          }
        }
      }
    });
  }
});

describe("WebGPU: the command line", () => {
  test("run --backend webgpu writes the same .npy results as NumPy's (softmax fixture)", () => {
    const dir = path.join(numeric, "softmax");
    const meta = JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8"));
    const out = mkdtempSync(path.join(os.tmpdir(), "jitlens-wgpu-"));
    const args = meta.args.flatMap((a: string) => ["--arg", a.replaceAll("{dir}", dir)]);
    const r = spawnSync(process.execPath, [path.join(root, "bin", "jitlens.cjs"), "run", path.join(root, "examples", meta.file), "--fn", meta.fn, ...args, "--backend", "webgpu", "--out-dir", out], { encoding: "utf8", timeout: 60_000, env: process.env });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /jitlens: warning/, "ran on the GPU, no fallback");
    const got = readFileSync(path.join(out, "0.npy"));
    const want = readFileSync(path.join(dir, "expected.npy"));
    const g = readNpy(new Uint8Array(got.buffer, got.byteOffset, got.byteLength), "0.npy");
    const w = readNpy(new Uint8Array(want.buffer, want.byteOffset, want.byteLength), "expected.npy");
    let err = 0, scale = 0;
    for (let i = 0; i < w.data.length; i++) { scale = Math.max(scale, Math.abs(w.data[i])); err = Math.max(err, Math.abs(g.data[i] - w.data[i])); }
    assert.ok(err / scale < meta.tolerance, `relative error ${err / scale}`);
  });

  test("bench --backend webgpu with control flow falls back to the CPU and says why, exit 0", () => {
    const r = spawnSync(process.execPath, [path.join(root, "bin", "jitlens.cjs"), "bench", path.join(root, "examples", "transforms.py"), "--fn", "fixed_point", "--arg", "x=f32[16]", "--backend", "webgpu", "--format", "json"], { encoding: "utf8", timeout: 60_000, env: process.env });
    assert.equal(r.status, 0, r.stderr);
    const b = JSON.parse(r.stdout);
    assert.equal(b.backend, "cpu");
    assert.ok(b.warnings.some((w: string) => /lax.while_loop|control flow/.test(w)), r.stdout);
    assert.match(r.stderr, /jitlens: warning: WebGPU backend not used: .*control flow/);
  });
});

describe("WebGPU: the API falls back to the CPU and says why", () => {
  const file = path.join(root, "examples", "elementwise.py");
  const source = readFileSync(file, "utf8");
  const timing = { minRuns: 2, minTimeMs: 1 };

  test("backend webgpu: timings name the adapter; the kernels are WGSL", async () => {
    const r = await analyze({ file, source, fn: "softsign", backend: "webgpu", timing });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.timings?.backend, "webgpu");
    assert.match(r.timings!.device, /^WebGPU: /);
    assert.deepEqual(r.timings!.kernels, { eager: 3, compiled: 1 });
    assert.ok(r.kernels!.every((k) => k.language === "wgsl"));
    assert.ok(r.timings!.max_rel_diff < 1e-6);
  });

  test("float64 input: the run falls back to the CPU and the warning says why", async () => {
    const src = "import jax.numpy as jnp\n\ndef f(x):\n    return jnp.exp(x) * 2\n";
    const r = await analyze({ file: "f.py", source: src, fn: "f", args: "x=f64[8]", backend: "webgpu", timing });
    if (r.error) assert.fail(JSON.stringify(r.error));
    assert.equal(r.timings?.backend, "cpu");
    assert.ok(r.warnings?.some((w) => /WebGPU.*float64.*CPU/i.test(w)), JSON.stringify(r.warnings));
  });

  test("a memory-guard refusal falls back to the CPU with the numbers in the warning", async () => {
    const r = await analyze({ file, source, fn: "softsign", backend: "webgpu", timing, gpuMemoryShare: 1e-9 });
    assert.equal(r.timings?.backend, "cpu");
    assert.ok(r.warnings?.some((w) => /memory guard: buffer .* needs/.test(w)), JSON.stringify(r.warnings));
  });
});

describe("WebGPU: a lost device", () => {
  test("an executable of a lost device fails with a WebGPUFault; the next compile gets a fresh device", async () => {
    const { jaxpr, inputs } = chain();
    const exe = await compileWebGPU(jaxpr, "compiled");
    const p = await probeGpu();
    assert.ok(p.ok);
    p.ctx.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(exe.runAsync(inputs), (e: unknown) => e instanceof WebGPUFault && /lost/.test(e.message));
    const again = await compileWebGPU(jaxpr, "compiled");
    agree(await again.runAsync(inputs), compileFused(jaxpr).run(inputs));
    again.dispose();
  });
});

// Keep a reference so the type import is used.
export type { WebGPUExecutable };
void compileEager;
