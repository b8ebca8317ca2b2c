// `npm run bench`'s pure half (scripts/bench-report.ts): options, the list of what is measured,
// and the markdown it writes. No timings are taken or asserted here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { prepare } from "../../compiler-core/src/api";
import { PEER_FNS } from "../../scripts/bench-peer";
import {
  BEGIN_MARK, BenchUsageError, DOC_SKELETON, END_MARK, WORKLOADS, WORKLOADS_FILE, WORKLOADS_PY,
  discoverExamples, examplesInSource, markdownTable, parseBenchArgs, predictedVsSeen, renderResults,
  replaceGenerated, timingRule, verdict, type BenchResults,
} from "../../scripts/bench-report";

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

test("options: --quick prints unless --out is given; a full run writes docs/BENCHMARKS.md; only the cpu backend for now", () => {
  assert.deepEqual(parseBenchArgs([]), { quick: false, backend: "cpu", out: "docs/BENCHMARKS.md" });
  assert.deepEqual(parseBenchArgs(["--quick"]), { quick: true, backend: "cpu" });
  assert.deepEqual(parseBenchArgs(["--quick", "--out=x.md", "--json", "r.json", "--backend", "cpu"]), { quick: true, backend: "cpu", out: "x.md", json: "r.json" });
  assert.throws(() => parseBenchArgs(["--backend", "webgpu"]), (e: Error) => e instanceof BenchUsageError && /issue 6/.test(e.message));
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
