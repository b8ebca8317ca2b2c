// `npm run bench`'s pure half (scripts/bench-report.ts): options, the list of what is measured,
// and the markdown it writes. No timings are taken or asserted here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { prepare } from "../../compiler-core/src/api";
import { PEER_FNS } from "../../scripts/bench-peer";
import {
  BEGIN_MARK, BenchUsageError, DOC_SKELETON, END_MARK, WEBGPU_MARKS, WORKLOADS, WORKLOADS_FILE, WORKLOADS_PY,
  discoverExamples, examplesInSource, markdownTable, parseBenchArgs, predictedVsSeen, renderResults,
  replaceGenerated, timingRule, verdict, type BenchResults,
} from "../../scripts/bench-report";
import {
  GPU_WORKLOADS, SWIFTSHADER_LABEL, bandwidthShare, gpuTimingRule, loadRealJax, renderGpuResults, summarizeRealJax,
  type GpuBenchResults,
} from "../../scripts/bench-gpu-report";
import type { Report } from "../../compiler-core/src/report";

const root = path.resolve(__dirname, "../..");
const examplesDir = path.join(root, "examples");

test("every example the manifest expects to trace is benchmarked, with the manifest's arguments", () => {
  const manifest: { file: string; fn: string; args: string; expect: string }[] = JSON.parse(readFileSync(path.join(examplesDir, "manifest.json"), "utf8"));
  const found = discoverExamples(examplesDir);
  const key = (e: { file: string; fn: string }) => `${e.file}:${e.fn}`;
  const byKey = new Map(found.map((e) => [key(e), e]));
  for (const m of manifest.filter((m) => m.expect === "ok")) {
    const e = byKey.get(key(m));
    assert.ok(e, `${key(m)} has a bench entry`);
    assert.equal(e.args, m.args, `${key(m)} is benchmarked with the manifest's spec`);
  }
});

test("examples are found from the spec comment above a def, decorators allowed between", () => {
  const src = "import jax\n\n# jitlens: x=f32[4]\n# a note\n@jax.jit\ndef f(x):\n    return x\n\n\ndef no_spec(x):\n    return x\n\n# jitlens: y=f32[2]\n\ndef g(y):\n    return y\n";
  assert.deepEqual(examplesInSource("a.py", src), [{ file: "a.py", fn: "f", args: "x=f32[4]" }]);
});

test("every peer workload traces with our compiler and has a peer implementation", () => {
  for (const w of WORKLOADS) {
    assert.equal(typeof PEER_FNS[w.fn], "function", `${w.fn} has a @jax-js/jax version`);
    for (const quick of [true, false]) {
      const p = prepare({ file: WORKLOADS_FILE, source: WORKLOADS_PY, fn: w.fn, args: w.args(quick), run: false });
      assert.ok(p.compiled.launches >= 1, `${w.fn} compiles`);
    }
  }
});

test("options: --quick prints unless --out is given; a full run writes docs/BENCHMARKS.md; backends cpu and webgpu", () => {
  assert.deepEqual(parseBenchArgs([]), { quick: false, backend: "cpu", out: "docs/BENCHMARKS.md", outDefault: true });
  assert.deepEqual(parseBenchArgs(["--quick"]), { quick: true, backend: "cpu" });
  assert.deepEqual(parseBenchArgs(["--quick", "--out=x.md", "--json", "r.json", "--backend", "cpu"]), { quick: true, backend: "cpu", out: "x.md", json: "r.json" });
  assert.deepEqual(parseBenchArgs(["--backend", "webgpu"]), { quick: false, backend: "webgpu", out: "docs/BENCHMARKS.md", outDefault: true });
  assert.deepEqual(parseBenchArgs(["--backend=webgpu", "--out", "docs/BENCHMARKS.md"]), { quick: false, backend: "webgpu", out: "docs/BENCHMARKS.md" }, "an explicit --out is not the default");
  assert.throws(() => parseBenchArgs(["--backend", "auto"]), BenchUsageError);
  assert.throws(() => parseBenchArgs(["--backend", "tpu"]), BenchUsageError);
  assert.throws(() => parseBenchArgs(["--fast"]), BenchUsageError);
  assert.throws(() => parseBenchArgs(["--out"]), BenchUsageError);
  assert.ok(timingRule(true).copyMiB < timingRule(false).copyMiB);
});

test("markdownTable aligns columns, escapes pipes and pads short rows", () => {
  assert.equal(markdownTable(["a", "b"], [["x|y", "1"], ["z"]], ["l", "r"]), "| a | b |\n|---|---:|\n| x\\|y | 1 |\n| z |  |");
});

test("the generated section replaces only what is between the markers", () => {
  const doc = `# Title\n\nhand notes\n\n${BEGIN_MARK}\nold numbers\n${END_MARK}\n\n## More notes\n`;
  const next = replaceGenerated(doc, "new numbers");
  assert.equal(next, `# Title\n\nhand notes\n\n${BEGIN_MARK}\nnew numbers\n${END_MARK}\n\n## More notes\n`);
  assert.equal(replaceGenerated(next, "new numbers"), next, "idempotent");
  const fresh = replaceGenerated(DOC_SKELETON, "n");
  assert.ok(fresh.startsWith(DOC_SKELETON.trimEnd()) && fresh.endsWith(`${BEGIN_MARK}\nn\n${END_MARK}\n`));
});

test("verdicts and the predicted-vs-seen line come from peer/ours ratios", () => {
  assert.equal(verdict(2), "ours");
  assert.equal(verdict(1), "parity");
  assert.equal(verdict(0.5), "peer");
  const t = (m: number) => ({ median_ms: m, min_ms: m, max_ms: m, runs: 5 });
  const line = predictedVsSeen([
    { fn: "a", label: "A — x", predicted: "ours", why: "", elementwise: false, ours: { compiled: t(1) }, peer: { jit: t(3) } },
    { fn: "b", label: "B — x", predicted: "ours", why: "", elementwise: false, ours: { compiled: t(2) }, peer: { jit: t(1) } },
  ]);
  assert.match(line, /Seen ours faster on: A; peer faster on: B/);
  assert.match(line, /1 of 2 predictions held; ours beats the peer's jit on 1 of 2/);
});

test("the rendered report has every section and one row per example and workload", () => {
  const t = (m: number) => ({ median_ms: m, min_ms: m, max_ms: m, runs: 5 });
  const r: BenchResults = {
    date: "2026-01-01T00:00:00Z", quick: true, backend: "cpu",
    machine: { cpu: "Test CPU", cores: 2, node: "20", v8: "11", platform: "linux", loadavg: [0, 0, 0], peerVersion: "0.1.25", peerThreads: "single-threaded" },
    rule: timingRule(true),
    copy: [{ method: "loop", bytes: 1 << 24, best_ms: 2, gbps: 16.8 }], freshArrayMs: 3,
    examples: [
      { file: "e.py", fn: "f", args: "x=f32[4]", timings: { backend: "cpu", device: "d", eager: t(2), compiled: t(1), speedup: 2, first_call_ms: 1, kernels: { eager: 3, compiled: 1 }, bytes: { minimum: 32, eager: 96, compiled: 32 }, max_rel_diff: 0 } },
      { file: "errors.py", fn: "bad", args: "x=f32[4]", error: "ShapeError: no" },
    ],
    workloads: WORKLOADS.map((w) => ({ fn: w.fn, label: w.title, predicted: w.predicted, why: w.why, elementwise: !!w.elementwise, minimumBytes: 1 << 23, ours: { compiled: t(1) }, peer: { jit: t(1.1), maxDiff: 1e-7 } })),
    totalSeconds: 3,
  };
  const md = renderResults(r);
  for (const h of ["### Machine", "### How measured", "### Copy bandwidth", "### Compiled elementwise throughput", "### Examples", "### Peer", "**Predicted vs seen.**"]) assert.ok(md.includes(h), h);
  assert.match(md, /\| e\.f \| `x=f32\[4\]` \|.*\| 2\.00× \| 3 → 1 \|/);
  assert.match(md, /`errors\.py` `bad`: ShapeError: no/);
  for (const w of WORKLOADS) assert.ok(md.includes(`| ${w.title} |`), w.title);
  assert.match(md, /QUICK smoke run/);
  assert.match(md, /allocated and first touched .*: 3\.0 ms/);
});

// ---------------------------------------------------------------------------------------------
// The WebGPU bench's pure half (scripts/bench-gpu-report.ts)

test("GPU workloads: the issue's sizes, targets, a peer version of each, and they trace", () => {
  const byFn = (fn: string) => GPU_WORKLOADS.find((w) => w.fn === fn)!;
  assert.equal(byFn("axpb_chain").args(false), `x=f32[${64 << 20}]`);
  assert.equal(byFn("axpb_chain").args(true), `x=f32[${1 << 20}]`);
  assert.equal(byFn("axpb_chain").target, 0.7);
  assert.equal(byFn("softmax").args(false), "x=f32[4096,4096]");
  assert.equal(byFn("softmax").args(true), "x=f32[256,256]");
  assert.equal(byFn("softmax").target, 0.5);
  assert.equal(byFn("matmul").args(false), "a=f32[4096,4096], b=f32[4096,4096]");
  assert.equal(byFn("matmul").args(true), "a=f32[256,256], b=f32[256,256]");
  assert.equal(byFn("matmul").measure, "flops");
  assert.equal(gpuTimingRule(false).copyElements, 64 << 20);
  assert.ok(gpuTimingRule(true).copyElements < gpuTimingRule(false).copyElements);
  for (const w of GPU_WORKLOADS) {
    assert.equal(typeof PEER_FNS[w.fn], "function", `${w.fn} has a @jax-js/jax version`);
    const p = prepare({ file: WORKLOADS_FILE, source: WORKLOADS_PY, fn: w.fn, args: w.args(true), run: false });
    assert.ok(p.compiled.launches >= 1, `${w.fn} compiles`);
  }
});

test("the WebGPU section has its own markers and leaves the CPU section alone", () => {
  const doc = `# B\n\n${BEGIN_MARK}\ncpu numbers\n${END_MARK}\n\n## On the lent GPU machine\n\nrecipe\n`;
  const once = replaceGenerated(doc, "gpu numbers", WEBGPU_MARKS);
  assert.ok(once.includes(`${BEGIN_MARK}\ncpu numbers\n${END_MARK}`));
  assert.ok(once.endsWith(`${WEBGPU_MARKS.begin}\ngpu numbers\n${WEBGPU_MARKS.end}\n`));
  const twice = replaceGenerated(once, "new gpu numbers", WEBGPU_MARKS);
  assert.ok(twice.includes("new gpu numbers") && !twice.includes("\ngpu numbers\n") && twice.includes("cpu numbers"));
  assert.equal(replaceGenerated(twice, "new cpu", undefined).includes("new gpu numbers"), true, "a CPU run keeps the GPU section");
});

function gpuResults(swiftshader: boolean): GpuBenchResults {
  const t = (m: number) => ({ median_ms: m, min_ms: m, max_ms: m, runs: 5 });
  const workloads = GPU_WORKLOADS.map((w) => ({
    fn: w.fn, label: w.title, predicted: w.predicted, why: w.why, elementwise: !!w.elementwise, measure: w.measure, target: w.target,
    minimumBytes: 8e9, flops: w.measure === "flops" ? 1.4e11 : undefined, gpuMs: 10, kernels: { eager: 7, compiled: 1 },
    ours: { compiled: t(11) }, peer: { jit: t(22), maxDiff: 1e-7 }, peerDispatches: w.fn === "softmax" ? 4 : 1, peerSubmits: 1,
  }));
  return {
    date: "2026-01-01T00:00:00Z", quick: false, backend: "webgpu",
    host: { cpu: "Test CPU", cores: 16, node: "20", platform: "linux", loadavg: [0, 0, 0], peerVersion: "0.1.25" },
    gpu: { name: swiftshader ? "WebGPU: google swiftshader" : "WebGPU: nvidia hopper", swiftshader, timestamps: true, subgroups: true },
    rule: gpuTimingRule(false),
    copy: [{ workgroups: 4096, bytes: 1 << 28, timer: "timestamps", best_ms: 0.9, median_ms: 1, wall_median_ms: 1.1, gbps: 1000 }],
    workloads, examples: [
      { file: "e.py", fn: "f", args: "x=f32[4]", timings: { backend: "webgpu", device: "d", eager: { median_ms: 2, min_ms: 2, max_ms: 2, runs: 5 }, compiled: { median_ms: 1, min_ms: 1, max_ms: 1, runs: 5 }, speedup: 2, first_call_ms: 1, kernels: { eager: 3, compiled: 1 }, bytes: { minimum: 32, eager: 96, compiled: 32 }, max_rel_diff: 0 }, gpuMs: 0.5 },
      { file: "t.py", fn: "loop", args: "x=f32[4]", fallback: "WebGPU backend not used: it uses lax.scan" },
    ],
    peer: { device: "nvidia hopper" }, realJax: { dir: "test/fixtures/compare/real", rows: [] }, totalSeconds: 60,
  };
}

test("the GPU report: SwiftShader is labelled on every heading, shares and TFLOP/s come from GPU time", () => {
  const ss = renderGpuResults(gpuResults(true));
  const headings = ss.split("\n").filter((l) => l.startsWith("### ") && !/How measured|Real JAX/.test(l));
  assert.ok(headings.length >= 6);
  for (const h of headings) assert.ok(h.includes(SWIFTSHADER_LABEL), h);
  assert.match(ss, /\*\*SwiftShader \(CPU emulation\): not GPU performance\.\*\*/);
  const gpu = renderGpuResults(gpuResults(false));
  assert.ok(!gpu.includes(SWIFTSHADER_LABEL));
  // 8e9 bytes in 10 ms = 800 GB/s = 80% of a 1000 GB/s copy; 1.4e11 flops in 10 ms = 14 TFLOP/s.
  assert.equal(bandwidthShare(gpuResults(false).workloads[0], gpuResults(false).copy[0]), 0.8);
  assert.match(gpu, /\| y = a·x \+ b chain \(fused elementwise\) \| 7 → 1 \| .* \| 800 \| 80% \| ≥ 70% \| yes \|/);
  assert.match(gpu, /\| row softmax \| .* \| 80% \| ≥ 50% \| yes \|/);
  assert.match(gpu, /\| float32 matmul \| 1 \| 140 G \| 10 ms \(GPU\) \| 14\.0 \|/);
  assert.match(gpu, /the peer's jit dispatched 4 kernels per call .*: not one kernel/);
  assert.match(gpu, /`t\.py` `loop`: falls back to the CPU — WebGPU backend not used: it uses lax\.scan/);
  assert.match(gpu, /Not measured yet: run scripts\/compare-examples\.mjs on a machine with JAX/);
  const none = renderGpuResults({ ...gpuResults(false), gpu: { swiftshader: false, timestamps: false, subgroups: false, error: "no WebGPU adapter" } });
  assert.match(none, /No WebGPU adapter: no WebGPU adapter\. Nothing was measured\./);
});

test("real-JAX fixtures: absent folder gives no rows; reports become rows with kernels and jaxpr differences", () => {
  assert.deepEqual(loadRealJax(root, "test/fixtures/compare/does-not-exist").rows, []);
  const t = (m: number) => ({ median_ms: m, min_ms: m, max_ms: m, runs: 5 });
  const report = {
    timings: { backend: "webgpu", device: "WebGPU: nvidia hopper", eager: t(2), compiled: t(1), speedup: 2, first_call_ms: 1, kernels: { eager: 7, compiled: 1 }, bytes: { minimum: 1, eager: 1, compiled: 1 }, max_rel_diff: 0 },
    compare: {
      version: 1, python: { path: "python3", source: "PATH" }, versions: { jax: "0.11.2", numpy: "2.5.2", python: "3.12.3" },
      jax: { backend: "gpu", device: "NVIDIA H100 80GB HBM3 (cuda:0)", devices: 1 }, missing: [], warnings: [], seed: 0, inputs: [], inputsMatch: true,
      runs: { jax_jit: { timing: t(0.5) }, jax_eager: { timing: t(3) } },
      xla: { fusions: 2, byKind: {}, customCalls: 0, otherOps: 0, otherByOp: {}, kernels: 2 },
      jaxprDiff: { same: false, samePrimitives: false, sameTypes: true, sameParams: false, counts: { ours: 5, jax: 6, matched: 5 }, pairs: [], notes: [],
        mismatches: [{ kind: "only_jax", message: "stop_gradient: only in JAX" }] },
      elapsed_ms: 1,
    },
  } as unknown as Report;
  const rj = summarizeRealJax("dir", [{ name: "reductions__softmax", report }, { name: "synthetic__x", report: { compare: { synthetic: "hand-made" } } as unknown as Report }]);
  assert.equal(rj.rows.length, 1, "synthetic samples are left out");
  assert.match(rj.env!, /JAX 0\.11\.2 on gpu: NVIDIA H100/);
  const md = renderGpuResults({ ...gpuResults(false), realJax: rj });
  assert.match(md, /\| reductions\.py:softmax \| webgpu \| 1\.0 ms \| 2\.0 ms \| 0\.50 ms \| 3\.0 ms \| 2\.00× \| 1 \/ 2 \(2\) \| 1 differences \|/);
  assert.match(md, /- reductions\.py:softmax: stop_gradient: only in JAX/);
});
