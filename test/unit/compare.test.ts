// Ground truth against the user's own NumPy and JAX (compiler-core/src/compare.ts and the helper
// extension/python/jitlens_compare.py). This machine has python3 with NumPy but no JAX: the
// helper runs for real on NumPy; its JAX path runs against a test double (fixtures/compare/
// fake_jax, canned texts); the jaxpr diff and XLA's kernel count run on hand-written texts in
// JAX's formats (fixtures/compare/jax_texts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeInputs, npyLoader, prepare } from "../../compiler-core/src/api";
import { buildCallPlan, compareWithPython, findPython, planInputs, sha256Of, type CompareOptions } from "../../compiler-core/src/compare";
import { countXlaKernels, diffJaxprs, parseJaxpr } from "../../compiler-core/src/compare_diff";
import { writeNpy } from "../../compiler-core/src/npy";
import { irText, type CompareResult, type Report } from "../../compiler-core/src/report";
import { fillRandom } from "../../compiler-core/src/runtime/random";

const root = path.resolve(__dirname, "../..");
const fx = path.join(root, "test", "fixtures", "compare");
const fixture = path.join(fx, "numpy_ok.py");
const texts = (name: string) => readFileSync(path.join(fx, "jax_texts", name), "utf8");
const hasPython = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
const needsPython = { skip: hasPython ? false : "python3 with numpy is not available" } as const;
const fast = { minRuns: 2, minTimeMs: 5 };

/** Our side (trace, inputs, compiled outputs) and the comparison, as the CLI does it. */
async function compareFn(file: string, fn: string, extra: Partial<CompareOptions> = {}): Promise<{ report?: Report; c: CompareResult }> {
  const source = readFileSync(file, "utf8");
  let report: Report | undefined, ours: CompareOptions["ours"];
  try {
    const p = prepare({ file, source, fn, args: extra.args });
    const inputs = makeInputs(p.trace, extra.seed ?? 0);
    report = p.report;
    ours = { jaxpr: irText(p.report.jaxpr!), inputs, outputs: p.compiled.run(inputs) };
  } catch {
    // our tracer cannot do it (e.g. `raise ValueError`): Python still runs it
  }
  const c = await compareWithPython({ file, source, fn, timing: fast, loadNpy: npyLoader(file), ours, ...extra });
  return { report, c };
}

const lineOf = (file: string, needle: string) => readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes(needle)) + 1;

// ---------------------------------------------------------------------------------------------
// Inputs: the call plan makes exactly our inputs

test("the call plan's leaves and inputs are the tracer's, bit for bit (pytrees, dicts, dtypes, seeds)", () => {
  const cases: [string, string, string | undefined][] = [
    [fixture, "mlp", undefined], [fixture, "mixed_dtypes", undefined], [fixture, "power_static", undefined],
    [path.join(root, "examples", "networks.py"), "mlp_forward", undefined],
    [path.join(root, "examples", "networks.py"), "nll", undefined],
    [fixture, "gelu", "f32[3,5]"], // positional spec
  ];
  for (const [file, fn, args] of cases) {
    const source = readFileSync(file, "utf8");
    const p = prepare({ file, source, fn, args });
    const plan = buildCallPlan({ file, source, fn, args });
    assert.deepEqual(plan.leaves.map((l) => [l.path, l.aval.dtype, l.aval.shape]), p.trace.inputs.map((l) => [l.path, l.aval.dtype, l.aval.shape]), `${fn}: leaves`);
    for (const seed of [0, 7]) {
      const ours = makeInputs(p.trace, seed), plans = planInputs(plan, seed);
      assert.deepEqual(plans.map(sha256Of), ours.map(sha256Of), `${fn}: inputs for seed ${seed}`);
    }
  }
});

test("static arguments stay Python values in the plan; dict keys and strings are Python literals", () => {
  const source = readFileSync(fixture, "utf8");
  const plan = buildCallPlan({ file: fixture, source, fn: "power_static" });
  assert.deepEqual(plan.args, [{ name: "x", value: { leaf: 0 } }, { name: "n", value: { py: "3" } }, { name: "mode", value: { py: '"square"' } }]);
  const mlp = buildCallPlan({ file: fixture, source, fn: "mlp" });
  assert.deepEqual(mlp.args[2], { name: "cfg", value: { dict: [['"scale"', { leaf: 6 }], ['"bias"', { leaf: 5 }]] } });
});

test("Python loads the very bytes we generate, for every dtype, and load(...) data", needsPython, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "jitlens-cmp-"));
  const loaded = fillRandom({ shape: [10], dtype: "f32", weak: false }, 99);
  writeFileSync(path.join(dir, "x.npy"), writeNpy(loaded));
  const { c } = await compareFn(fixture, "mixed_dtypes", { args: `i=i32[10], m=bool[10], x=load(${JSON.stringify(path.join(dir, "x.npy"))})`, seed: 3 });
  assert.equal(c.error, undefined, JSON.stringify(c.error));
  assert.deepEqual(c.inputs.map((x) => [x.path, x.type]), [["i", "i32[10]"], ["m", "bool[10]"], ["x", "f32[10]"]]);
  assert.equal(c.inputs[2].sha256, sha256Of(loaded));
  assert.ok(c.inputsMatch);
  assert.equal(c.runs.numpy?.max_rel_diff, 0, "where(m, x, float(i)) is exact");
});

// ---------------------------------------------------------------------------------------------
// The helper for real, on NumPy

test("NumPy-only environment: NumPy results, and what is missing (JAX)", needsPython, async () => {
  const { c } = await compareFn(fixture, "gelu");
  assert.equal(c.error, undefined, JSON.stringify(c.error));
  assert.match(c.versions.numpy ?? "", /^\d+\.\d+/);
  assert.match(c.versions.python ?? "", /^3\.\d+/);
  assert.equal(c.versions.jax, undefined);
  assert.equal(c.missing.length, 1);
  assert.match(c.missing[0], /^JAX is not installed in this Python environment \(ModuleNotFoundError: No module named 'jax'\)/);
  assert.ok(c.inputsMatch);
  const np = c.runs.numpy!;
  assert.deepEqual(np.outputs, ["f32[64,32]"]);
  assert.ok(np.timing && np.timing.runs >= 2 && np.timing.median_ms > 0 && np.timing.min_ms <= np.timing.median_ms);
  assert.ok(np.first_call_ms! > 0);
  // Elementwise relative difference: float32 tanh near gelu's zero crossings differs in the last bits.
  assert.ok(np.max_rel_diff! < 1e-4, `NumPy vs ours ${np.max_rel_diff}`);
  assert.equal(c.runs.jax_jit, undefined);
  assert.equal(c.runs.jax_eager, undefined);
  assert.equal(c.jaxpr, undefined);
  assert.equal(c.python.source, "PATH");
});

test("static arguments, pytrees of arguments and dict results run under NumPy and agree with ours", needsPython, async () => {
  const s = await compareFn(fixture, "power_static");
  assert.ok(s.c.runs.numpy!.max_rel_diff! < 1e-6, JSON.stringify(s.c.runs.numpy));
  const m = await compareFn(fixture, "mlp");
  assert.deepEqual(m.c.runs.numpy!.outputs, ["f32[3,2]", "f32[]"], "dict outputs by sorted key: out, sum");
  assert.ok(m.c.runs.numpy!.max_rel_diff! < 1e-5);
  const j = await compareFn(fixture, "jitted");
  assert.ok(j.c.runs.numpy!.max_rel_diff! < 1e-5, "a @jax.jit function runs under NumPy (jit is the identity)");
});

test("the function's prints and the module's top level do not break the result; __main__ does not run", needsPython, async () => {
  const { c } = await compareFn(fixture, "talks");
  assert.equal(c.error, undefined);
  assert.ok(c.runs.numpy?.timing);
});

test("examples under NumPy: those that run agree with ours; the rest say why not", needsPython, async () => {
  const ex = (f: string) => path.join(root, "examples", f);
  // Tolerance on max |NumPy - ours| / max |ours|: float32 results of different libm's and
  // summation orders differ in the last bits; index and one-hot results must be exact.
  const runs: [string, string, string | undefined, number][] = [
    ["elementwise.py", "gelu", "x=f32[4096]", 1e-5],
    ["elementwise.py", "elu", undefined, 1e-5],
    ["elementwise.py", "smooth_max", undefined, 1e-5],
    ["reductions.py", "softmax", "x=f32[64,64]", 1e-5],
    ["reductions.py", "layernorm", undefined, 1e-5],
    ["reductions.py", "argmax_onehot", undefined, 0],
    ["networks.py", "mlp_forward", undefined, 1e-5],
    ["indexing.py", "embedding_lookup", undefined, 0],
  ];
  for (const [file, fn, args, tol] of runs) {
    const { c } = await compareFn(ex(file), fn, { args });
    assert.equal(c.error, undefined, `${fn}: ${JSON.stringify(c.error)}`);
    assert.ok(c.inputsMatch, fn);
    const r = c.runs.numpy!;
    assert.equal(r.error, undefined, `${fn}: ${JSON.stringify(r.error)}`);
    assert.ok(r.max_rel_diff! <= tol, `${fn}: NumPy vs ours ${r.max_rel_diff}`);
  }
  const fails: [string, string, RegExp][] = [
    ["indexing.py", "scatter_add_first", /^does not run under NumPy: 'numpy\.ndarray' object has no attribute 'at'/],
    ["transforms.py", "linreg_grad", /^does not run under NumPy: jax\.grad has no NumPy equivalent/],
    ["transforms.py", "fixed_point", /^does not run under NumPy: jax\.lax\.fori_loop has no NumPy equivalent/],
  ];
  for (const [file, fn, re] of fails) {
    const { c } = await compareFn(ex(file), fn);
    assert.equal(c.error, undefined, fn);
    const e = c.runs.numpy!.error!;
    assert.match(e.message, re, fn);
    assert.equal(e.span?.file, ex(file), `${fn}: the span names the user's file`);
    assert.ok(e.span!.line > 1);
  }
});

// ---------------------------------------------------------------------------------------------
// Failures are clean data

test("a function that raises: the error names the exception and the user's last line", needsPython, async () => {
  const { c } = await compareFn(fixture, "raises");
  assert.equal(c.error, undefined);
  const e = c.runs.numpy!.error!;
  assert.equal(e.kind, "ValueError");
  assert.equal(e.message, "does not run under NumPy: x is not what I expected");
  assert.equal(e.span?.file, fixture);
  assert.equal(e.span?.line, lineOf(fixture, 'raise ValueError("x is not what I expected")'));
  assert.doesNotMatch(JSON.stringify(c), /Traceback/);
});

test("a timeout stops the helper and says what it was doing", needsPython, async () => {
  const t0 = Date.now();
  const c = await compareWithPython({ file: fixture, source: readFileSync(fixture, "utf8"), fn: "loops_forever", timeoutMs: 2500, timing: fast });
  assert.ok(Date.now() - t0 < 10_000);
  assert.equal(c.error?.kind, "TimeoutError");
  assert.match(c.error!.message, /did not finish within 2\.5 s while running the NumPy run; it was stopped/);
  assert.ok(c.inputsMatch, "what was measured before the timeout is kept");
});

test("a syntax error: ours (in the file) and Python's (in a module it imports), with file:line", needsPython, async () => {
  const bad = path.join(fx, "syntax_error.py");
  const a = await compareWithPython({ file: bad, source: readFileSync(bad, "utf8"), fn: "f" });
  assert.equal(a.error?.kind, "SyntaxError");
  assert.equal(a.error?.span?.line, 6);
  const imp = path.join(fx, "imports_broken.py");
  const b = await compareWithPython({ file: imp, source: readFileSync(imp, "utf8"), fn: "f", timing: fast });
  assert.equal(b.error?.kind, "SyntaxError");
  assert.equal(b.error?.span?.file, path.join(fx, "broken_module.py"));
  assert.equal(b.error?.span?.line, 5);
  assert.equal(b.runs.numpy, undefined);
});

test("interpreter: explicit > setting > python3 on PATH; a missing one is a clean PythonNotFound", () => {
  const py = findPython({});
  assert.equal(py.source, "PATH");
  assert.deepEqual(findPython({ explicit: py.path, setting: "/nonexistent/python" }), { path: py.path, source: "explicit" });
  assert.deepEqual(findPython({ setting: py.path }), { path: py.path, source: "setting" });
  assert.throws(() => findPython({ explicit: "/nonexistent/python3" }), /--python names \/nonexistent\/python3, which does not exist/);
  assert.throws(() => findPython({}, { PATH: "" }), /no Python interpreter: python3 is not on PATH/);
});

test("compareWithPython never throws for the environment: no interpreter, or a bad spec, is `error`", async () => {
  const source = readFileSync(fixture, "utf8");
  const a = await compareWithPython({ file: fixture, source, fn: "gelu", python: "/nonexistent/python3" });
  assert.equal(a.error?.kind, "PythonNotFound");
  const b = await compareWithPython({ file: fixture, source, fn: "gelu", args: "y=f32[3]" });
  assert.equal(b.error?.kind, "SpecError");
  assert.match(b.error!.message, /names 'y', but gelu\(\) has no such parameter/);
});

// ---------------------------------------------------------------------------------------------
// The JAX path, against a test double

test("JAX path (test double): versions, device, texts, eager and jit runs, jaxpr diff and XLA kernels", needsPython, async () => {
  const env = { ...process.env, PYTHONPATH: path.join(fx, "fake_jax") };
  const { c } = await compareFn(fixture, "jitted", { env });
  assert.equal(c.error, undefined, JSON.stringify(c.error));
  assert.deepEqual(c.missing, []);
  assert.equal(c.versions.jax, "0.0.0+fake");
  assert.deepEqual(c.jax, { backend: "cpu", device: "Fake CPU (test double) (fake_cpu:0)", devices: 1 });
  for (const k of ["jax_eager", "jax_jit"] as const) assert.ok(c.runs[k]?.timing && c.runs[k]!.first_call_ms! >= 0, k);
  assert.ok(c.runs.jax_jit!.max_rel_diff! < 1e-5);
  assert.match(c.stablehlo ?? "", /stablehlo\.exponential/);
  assert.deepEqual(c.jaxprDiff && { same: c.jaxprDiff.same, counts: c.jaxprDiff.counts }, { same: true, counts: { ours: 2, jax: 2, matched: 2 } });
  assert.equal(c.xla?.fusions, 1);
  assert.equal(c.xla?.kernels, 1);
});

// ---------------------------------------------------------------------------------------------
// The CLI

test("jitlens compare: text and JSON, exit 0 without JAX; exit 1 with FILE:LINE for errors, no traceback", needsPython, () => {
  const bin = path.join(root, "bin", "jitlens.cjs");
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, JITLENS_PYTHON: "" } });
  const t = run(["compare", fixture, "--fn", "power_static", "--backend", "cpu"]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^power_static\(x=f32\[16\], n=3, mode='square'\) — JIT Lens vs Python 3\.\d+\.\d+ .* · NumPy \d[^ ]* · no JAX/);
  assert.match(t.stdout, /\nNumPy +\S+/);
  assert.match(t.stdout, /inputs: 1 array \(seed 0\), bit-for-bit identical on both sides/);
  assert.match(t.stdout, /missing: JAX is not installed/);
  const j = run(["compare", fixture, "--fn", "gelu", "--arg", "x=f32[8]", "--format", "json", "--backend", "cpu", "--seed", "5"]);
  assert.equal(j.status, 0, j.stderr);
  const report: Report = JSON.parse(j.stdout);
  assert.equal(report.fn, "gelu");
  assert.ok(report.timings && report.jaxpr);
  assert.equal(report.compare?.seed, 5);
  assert.ok(report.compare?.inputsMatch);
  const e = run(["compare", path.join(fx, "imports_broken.py"), "--fn", "f", "--backend", "cpu"]);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /broken_module\.py:5:\d+: SyntaxError: invalid syntax/);
  assert.doesNotMatch(e.stderr + e.stdout, /Traceback|\n\s+at .*:\d+:\d+\)/);
  const py = run(["compare", fixture, "--fn", "gelu", "--python", "/nonexistent/python3", "--backend", "cpu"]);
  assert.equal(py.status, 1);
  assert.match(py.stderr, /PythonNotFound: --python names \/nonexistent\/python3, which does not exist/);
  const u = run(["compare", fixture, "--fn", "gelu", "--timeout", "0"]);
  assert.equal(u.status, 2);
});

// ---------------------------------------------------------------------------------------------
// The jaxpr diff and XLA's kernel count, on texts in JAX's formats

test("parseJaxpr reads JAX's layout: multi-line params, sub-jaxprs, hoisted lets, dropped results", () => {
  const j = parseJaxpr(texts("linear_relu.jaxpr.txt"));
  assert.deepEqual(j.invars, ["a:f32[64,512]", "b:f32[512,256]", "c:f32[256]"]);
  assert.deepEqual(j.eqns.map((e) => [e.prim, e.outs, e.line]), [
    ["dot_general", ["f32[64,256]"], 1], ["broadcast_in_dim", ["f32[1,256]"], 5], ["add", ["f32[64,256]"], 9], ["custom_jvp_call", ["f32[64,256]"], 10],
  ]);
  assert.deepEqual(j.eqns[0].params, ["dimension_numbers=(([1], [0]), ([], []))", "preferred_element_type=float32"]);
  assert.equal(j.eqns[3].subs[0].eqns[0].prim, "pjit");
  assert.equal(j.eqns[3].subs[0].eqns[0].subs[0].eqns[0].prim, "max");
  const h = parseJaxpr(texts("hoisted.jaxpr.txt"));
  assert.deepEqual(h.eqns.map((e) => [e.prim, e.outs]), [["pjit", ["f32[8]"]], ["pjit", ["f32[8]"]], ["foo_pair", ["f32[]", "f32[8]"]]]);
  assert.equal(h.eqns[0].subs[0].eqns[0].prim, "max");
  assert.deepEqual(parseJaxpr("{ lambda ; a:f32[]. let  in (a,) }"), { invars: ["a:f32[]"], outs: ["a"], eqns: [] });
  assert.throws(() => parseJaxpr("not a jaxpr"));
});

test("diffJaxprs: ours vs JAX's linear_relu (custom_jvp/pjit bodies compared; JAX's extra shape param)", () => {
  const source = readFileSync(path.join(root, "examples", "networks.py"), "utf8");
  const ours = irText(prepare({ file: "networks.py", source, fn: "linear_relu" }).report.jaxpr!);
  const d = diffJaxprs(ours, texts("linear_relu.jaxpr.txt"));
  assert.equal(d.same, true);
  assert.equal(d.sameParams, false);
  assert.deepEqual(d.counts, { ours: 4, jax: 4, matched: 4 });
  assert.deepEqual(d.mismatches.map((m) => [m.kind, m.message]), [["params", "broadcast_in_dim: params differ: ours [] vs JAX [shape=(1, 256)]"]]);
  assert.deepEqual(d.pairs.map((p) => [p.oursLine, p.jaxLine]), [[1, 1], [2, 5], [3, 9], [4, 10]]);
  assert.equal(d.notes.length, 2);
});

test("diffJaxprs: type mismatches, equations on one side only, and signature differences", () => {
  const ours = `{ lambda ; a:f32[8,4]. let
    b:f32[8] = reduce_sum[axes=(1,) out_sharding=None] a
    c:f32[8] = exp b
    d:f32[8] = mul c 2.0:f32[]
  in (d,) }`;
  const jax = `{ lambda ; a:f32[8,4]. let
    b:f32[8,1] = reduce_sum[axes=(1,) out_sharding=None] a
    c:f32[8,1] = exp b
    e:f32[8,1] = neg c
    d:f32[8,1] = mul e 2.0:f32[]
  in (d, c) }`;
  const d = diffJaxprs(ours, jax);
  assert.equal(d.same, false);
  assert.equal(d.samePrimitives, false);
  assert.equal(d.sameTypes, false);
  assert.deepEqual(d.mismatches.map((m) => m.kind), ["type", "type", "only_jax", "type", "outputs"]);
  assert.equal(d.mismatches[0].message, "reduce_sum: ours gives f32[8], JAX gives f32[8,1]");
  assert.deepEqual(d.mismatches[2].jax && [d.mismatches[2].jax.prim, d.mismatches[2].jax.line, d.mismatches[2].jax.text], ["neg", 3, "e:f32[8,1] = neg c"]);
  const sig = diffJaxprs("{ lambda ; a:f32[3]. let  in (a,) }", "{ lambda ; a:f32[4]. let  in (a,) }");
  assert.deepEqual(sig.mismatches.map((m) => m.kind), ["inputs"]);
});

test("countXlaKernels: fusions by kind, cuBLAS custom calls, bodies of reduces and fusions not counted", () => {
  assert.deepEqual(countXlaKernels(texts("softmax.gpu.hlo.txt")), { fusions: 3, byKind: { kInput: 2, kLoop: 1 }, customCalls: 0, otherOps: 0, otherByOp: {}, kernels: 3 });
  assert.deepEqual(countXlaKernels(texts("linear_relu.gpu.hlo.txt")), { fusions: 1, byKind: { kLoop: 1 }, customCalls: 1, otherOps: 0, otherByOp: {}, kernels: 2 });
  const unfused = `HloModule m

ENTRY %main (a: f32[4]) -> f32[4] {
  %a = f32[4]{0} parameter(0)
  %copy.1 = f32[4]{0} copy(f32[4]{0} %a)
  ROOT %sort.2 = f32[4]{0} sort(f32[4]{0} %copy.1), dimensions={0}, to_apply=%cmp
}`;
  assert.deepEqual(countXlaKernels(unfused), { fusions: 0, byKind: {}, customCalls: 0, otherOps: 2, otherByOp: { copy: 1, sort: 1 }, kernels: 2 });
});

// ---------------------------------------------------------------------------------------------
// Fixtures for the viewer

test("viewer fixtures: the synthetic GPU sample is labelled and self-consistent; the NumPy-only one is a real run", () => {
  const s: Report = JSON.parse(readFileSync(path.join(fx, "sample_linear_relu_SYNTHETIC.json"), "utf8"));
  const c = s.compare!;
  assert.match(c.synthetic ?? "", /SYNTHETIC/);
  assert.deepEqual(c.jaxprDiff, diffJaxprs(irText(s.jaxpr!), c.jaxpr!));
  assert.deepEqual(c.xla, countXlaKernels(c.hlo!));
  for (const k of ["numpy", "jax_eager", "jax_jit"] as const) assert.ok(c.runs[k]?.timing, k);
  const n: Report = JSON.parse(readFileSync(path.join(fx, "sample_gelu_numpy_only.json"), "utf8"));
  assert.equal(n.compare?.synthetic, undefined);
  assert.match(n.compare!.missing[0], /JAX is not installed/);
  assert.ok(n.compare!.runs.numpy?.timing && n.timings);
});
