// The pass pipeline: each rewrite fires where its algebra holds and not elsewhere, the
// verifier catches broken modules, the pipeline is a fixed point of itself, and random
// programs compute the same values (float64 reference interpreter) before and after it.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { AttrValue, HloModule, HloShape } from "../../compiler-core/src/lower/hlo";
import { printHlo } from "../../compiler-core/src/lower/print";
import { algsimp } from "../../compiler-core/src/passes/algsimp";
import { constantFolding } from "../../compiler-core/src/passes/constant_folding";
import { cse } from "../../compiler-core/src/passes/cse";
import { dce } from "../../compiler-core/src/passes/dce";
import { evalModule, type Tensor } from "../../compiler-core/src/passes/eval";
import { PIPELINE, runPipeline } from "../../compiler-core/src/passes/pipeline";
import { verify, VerifyError } from "../../compiler-core/src/passes/verify";
import { irText } from "../../compiler-core/src/report";

/** A small module builder: each call appends one instruction and returns its id. */
class B {
  m: HloModule = { name: "t", instrs: [], outputs: [], nextId: 0 };
  nparams = 0;
  add(opcode: string, dims: number[], operands: number[] = [], attrs: Record<string, AttrValue> = {}, literal?: number[], dtype: HloShape["dtype"] = "f32"): number {
    const id = this.m.nextId++;
    this.m.instrs.push({ id, opcode, shape: { dtype, dims }, operands, attrs, literal, spans: [] });
    return id;
  }
  param(dims: number[]): number { return this.add("parameter", dims, [], { index: this.nparams++ }); }
  c(v: number, dims: number[] = []): number { return this.add("constant", dims, [], {}, new Array(dims.reduce((a, b) => a * b, 1)).fill(v)); }
  splat(v: number, dims: number[]): number { return this.add("broadcast", dims, [this.c(v)], { dimensions: [] }); }
  done(...outs: number[]): HloModule { this.m.outputs = outs; verify(this.m); return this.m; }
}

const ops = (m: HloModule) => m.instrs.map((i) => i.opcode);
const txt = (m: HloModule) => irText(printHlo(m));

test("x*1 = x and 1*x = x, but x*2 stays", () => {
  for (const left of [false, true]) {
    const b = new B();
    const x = b.param([4]);
    const one = b.splat(1, [4]);
    const m = b.done(b.add("multiply", [4], left ? [one, x] : [x, one]));
    assert.deepEqual(ops(algsimp(m)), ["parameter"]);
  }
  const b = new B();
  const x = b.param([4]);
  const m = b.done(b.add("multiply", [4], [x, b.splat(2, [4])]));
  assert.equal(algsimp(m), m);
});

test("x+0 = x, x-0 = x, x/1 = x; 0-x and 1/x stay", () => {
  for (const [op, v] of [["add", 0], ["subtract", 0], ["divide", 1]] as const) {
    const b = new B();
    const x = b.param([3]);
    const m = b.done(b.add(op, [3], [x, b.splat(v, [3])]));
    assert.deepEqual(ops(algsimp(m)), ["parameter"], op);
  }
  for (const [op, v] of [["subtract", 0], ["divide", 1]] as const) {
    const b = new B();
    const x = b.param([3]);
    const m = b.done(b.add(op, [3], [b.splat(v, [3]), x]));
    assert.equal(algsimp(m), m, op);
  }
});

test("neg(neg(x)) = x, but a single negate stays", () => {
  const b = new B();
  const x = b.param([2]);
  const n1 = b.add("negate", [2], [x]);
  const m = b.done(b.add("negate", [2], [n1]), n1);
  const out = algsimp(m);
  assert.equal(out.outputs[0], x);
  assert.deepEqual(ops(out), ["parameter", "negate"]);
});

test("transpose(transpose(x)) = transpose(composed), identity permutations vanish", () => {
  const b = new B();
  const x = b.param([2, 3, 4]);
  const t1 = b.add("transpose", [3, 4, 2], [x], { dimensions: [1, 2, 0] });
  const m = b.done(b.add("transpose", [4, 2, 3], [t1], { dimensions: [1, 2, 0] }));
  const out = algsimp(m);
  assert.deepEqual(ops(out), ["parameter", "transpose"]);
  assert.deepEqual(out.instrs[1].attrs.dimensions, [2, 0, 1]);
  const b2 = new B();
  const y = b2.param([2, 3]);
  const u = b2.add("transpose", [3, 2], [y], { dimensions: [1, 0] });
  const back = algsimp(b2.done(b2.add("transpose", [2, 3], [u], { dimensions: [1, 0] })));
  assert.deepEqual(ops(runPipeline(back).module), ["parameter"]);
});

test("reshape(reshape(x)) = reshape(x); reshape to its own shape = x", () => {
  const b = new B();
  const x = b.param([2, 6]);
  const r1 = b.add("reshape", [3, 4], [x]);
  const m = b.done(b.add("reshape", [12], [r1]));
  const out = algsimp(m);
  assert.deepEqual(ops(out), ["parameter", "reshape"]);
  assert.equal(out.instrs[1].operands[0], x);
  const b2 = new B();
  const y = b2.param([2, 6]);
  const back = runPipeline(b2.done(b2.add("reshape", [2, 6], [b2.add("reshape", [12], [y])]))).module;
  assert.deepEqual(back.outputs, [y]);
});

test("convert(x) to its own type = x; a real convert stays", () => {
  const b = new B();
  const x = b.param([3]);
  assert.deepEqual(ops(algsimp(b.done(b.add("convert", [3], [x])))), ["parameter"]);
  const b2 = new B();
  const y = b2.param([3]);
  const m = b2.done(b2.add("convert", [3], [y], {}, undefined, "i32"));
  assert.equal(algsimp(m), m);
});

test("a broadcast of a broadcast of a scalar constant is kept as one broadcast", () => {
  const b = new B();
  const inner = b.add("broadcast", [4], [b.c(2)], { dimensions: [] });
  const m = b.done(b.add("broadcast", [3, 4], [inner], { dimensions: [1] }));
  const out = runPipeline(m).module;
  assert.deepEqual(ops(out), ["constant", "broadcast"]);
  assert.deepEqual(out.instrs[1].attrs.dimensions, []);
});

test("constant folding folds small constant expressions but not iota or big broadcasts", () => {
  const b = new B();
  const s = b.add("add", [], [b.c(2), b.c(3)]);
  const m = b.done(b.add("multiply", [], [s, b.c(4)]));
  const out = dce(constantFolding(m));
  assert.deepEqual(ops(out), ["constant"]);
  assert.deepEqual(out.instrs[0].literal, [20]);
  const b2 = new B();
  const i = b2.add("iota", [4], [], { iota_dimension: 0 });
  const m2 = b2.done(i, b2.splat(1, [1000]));
  assert.equal(constantFolding(m2), m2);
  const b3 = new B();
  const big = b3.done(b3.add("exponential", [100], [b3.c(1, [100])]));
  assert.equal(constantFolding(big), big);
});

test("an elementwise op of broadcast scalar constants folds to one broadcast of the folded scalar", () => {
  const b = new B();
  const m = b.done(b.add("multiply", [512, 1024], [b.splat(2, [512, 1024]), b.splat(3, [512, 1024])]));
  const out = runPipeline(m).module;
  assert.deepEqual(ops(out), ["constant", "broadcast"]);
  assert.deepEqual(out.instrs[0].literal, [6]);
});

test("cse merges identical instructions and keeps different ones", () => {
  const b = new B();
  const x = b.param([4]);
  const e1 = b.add("exponential", [4], [x]);
  const e2 = b.add("exponential", [4], [x]);
  const t = b.add("tanh", [4], [x]);
  const m = b.done(b.add("add", [4], [e1, e2]), t);
  const out = cse(m);
  assert.deepEqual(ops(out), ["parameter", "exponential", "tanh", "add"]);
  assert.deepEqual(out.instrs[3].operands, [e1, e1]);
});

test("dce removes what no output needs but keeps every parameter", () => {
  const b = new B();
  const x = b.param([4]);
  b.param([2]);
  b.add("exponential", [4], [x]);
  const m = b.done(b.add("tanh", [4], [x]));
  assert.deepEqual(ops(dce(m)), ["parameter", "parameter", "tanh"]);
});

test("the verifier catches use before definition, bad types and a missing root", () => {
  const bad = (f: (m: HloModule) => void, re: RegExp) => {
    const b = new B();
    const x = b.param([4]);
    const m = b.done(b.add("negate", [4], [x]));
    f(m);
    assert.throws(() => verify(m, "pass broken"), (e: unknown) => e instanceof VerifyError && re.test(e.message) && e.message.includes("after pass broken"));
  };
  bad((m) => m.instrs.reverse(), /before it is defined/);
  bad((m) => ((m.instrs[1].shape as HloShape).dims = [5]), /operand 0 is f32\[4\], result is f32\[5\]/);
  bad((m) => (m.outputs = [99]), /output id 99 is not defined/);
  bad((m) => ((m.instrs[1].shape as HloShape).dtype = "i32"), /dtype f32, expected i32/);
});

test("a pass that breaks the module is reported naming the pass", () => {
  const b = new B();
  const x = b.param([4]);
  const m = b.done(b.add("negate", [4], [x]));
  const broken = { name: "oops", run: (n: HloModule) => ({ ...n, outputs: [1234] }) };
  assert.throws(() => runPipeline(m, [broken]), /verifier failed after pass oops/);
});

test("each pass has a snapshot saying whether it changed the module", () => {
  const b = new B();
  const x = b.param([4]);
  const m = b.done(b.add("multiply", [4], [x, b.splat(1, [4])]));
  const { snapshots } = runPipeline(m);
  assert.deepEqual(snapshots.slice(0, PIPELINE.length).map((s) => s.name), PIPELINE.map((p) => p.name));
  assert.equal(snapshots[0].changed, true);
  assert.ok(snapshots.some((s) => !s.changed));
});

// ---- random programs ----------------------------------------------------------------

/** Random programs over one parameter of shape [2,3]: elementwise ops with constants
 *  (including identities the rewrites target), broadcasts, reshapes, transposes, reductions. */
const arbStep: fc.Arbitrary<(b: B, v: { id: number; dims: number[] }) => { id: number; dims: number[] }> = fc.oneof(
  fc.constantFrom("add", "multiply", "subtract", "divide", "maximum").chain((op) =>
    fc.constantFrom(0, 1, 2, -0.5).map((c) => (b: B, v: { id: number; dims: number[] }) => ({ id: b.add(op, v.dims, [v.id, b.splat(c, v.dims)]), dims: v.dims }))),
  fc.constantFrom("negate", "tanh", "exponential-minus-one", "abs").map((op) => (b: B, v: { id: number; dims: number[] }) => {
    const y = b.add(op, v.dims, [v.id]);
    return { id: op === "negate" ? b.add("negate", v.dims, [y]) : y, dims: v.dims };
  }),
  fc.constant((b: B, v: { id: number; dims: number[] }) => {
    const perm = v.dims.map((_, k) => v.dims.length - 1 - k);
    const dims = perm.map((p) => v.dims[p]);
    return { id: b.add("transpose", dims, [v.id], { dimensions: perm }), dims };
  }),
  fc.constant((b: B, v: { id: number; dims: number[] }) => {
    const n = v.dims.reduce((a, c) => a * c, 1);
    const r = b.add("reshape", [n], [v.id]);
    const dims = v.dims.length === 1 ? [n] : [...v.dims].reverse();
    return { id: b.add("reshape", dims, [r]), dims };
  }),
  fc.constant((b: B, v: { id: number; dims: number[] }) => {
    const dims = [2, ...v.dims];
    return { id: b.add("broadcast", dims, [v.id], { dimensions: v.dims.map((_, k) => k + 1) }), dims };
  }),
  fc.constant((b: B, v: { id: number; dims: number[] }) => {
    if (v.dims.length < 2) return v;
    const dims = v.dims.slice(1);
    return { id: b.add("reduce", dims, [v.id, b.c(0)], { dimensions: [0], to_apply: "%region_add.f32" }), dims };
  }),
  fc.constant((b: B, v: { id: number; dims: number[] }) => {
    // The same subexpression twice, for CSE.
    const e1 = b.add("sine", v.dims, [v.id]);
    const e2 = b.add("sine", v.dims, [v.id]);
    return { id: b.add("add", v.dims, [e1, e2]), dims: v.dims };
  }),
);

test("property: random programs compute the same values before and after the pipeline", () => {
  const r = fc.check(
    fc.property(fc.array(arbStep, { minLength: 1, maxLength: 8 }), fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 6, maxLength: 6 }), (steps, data) => {
      const b = new B();
      let v = { id: b.param([2, 3]), dims: [2, 3] };
      for (const s of steps) v = s(b, v);
      const m = b.done(v.id);
      const input: Tensor = { dims: [2, 3], data };
      const before = evalModule(m, [input])[0];
      const { module } = runPipeline(m);
      const after = evalModule(module, [input])[0];
      assert.deepEqual(after.dims, before.dims);
      const close = (x: number, y: number) => Object.is(x, y) || x === y || Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x)) || (Number.isNaN(x) && Number.isNaN(y));
      before.data.forEach((x, k) => assert.ok(close(x, after.data[k]), `${x} vs ${after.data[k]}\n${txt(module)}`));
      // Idempotent: the pipeline's output is its own fixed point.
      const again = runPipeline(module);
      assert.equal(txt(again.module), txt(module));
      assert.ok(again.snapshots.every((s) => !s.changed));
    }),
    { numRuns: 200 },
  );
  // Report the property's own failure message, not only fast-check's summary.
  if (r.failed) assert.fail(`${fc.defaultReportMessage(r)}\n${(r.errorInstance as Error | undefined)?.message ?? ""}`);
});

