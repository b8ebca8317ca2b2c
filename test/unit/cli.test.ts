// The `jitlens` command line, run as a user runs it: exit codes, error format, .npy in and out,
// and numeric agreement with NumPy float64 references in both modes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readNpy } from "../../compiler-core/src/npy";

const root = path.resolve(__dirname, "../..");
const bin = path.join(root, "bin", "jitlens.cjs");
const fixtures = path.join(root, "test", "fixtures", "numeric");
const example = path.join(root, "examples", "elementwise.py");

function jitlens(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function npy(file: string) {
  const b = readFileSync(file);
  return readNpy(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), file);
}

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .*\(.*:\d+:\d+\)/, "no JavaScript stack trace");

for (const name of readdirSync(fixtures)) {
  const dir = path.join(fixtures, name);
  const meta: { file: string; fn: string; args: string[]; tolerance: number } = JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8"));
  for (const mode of ["eager", "compiled"]) {
    test(`run --mode ${mode} of ${meta.file}:${meta.fn} matches NumPy's float64 result (rel. error < ${meta.tolerance})`, () => {
      const out = mkdtempSync(path.join(os.tmpdir(), "jitlens-run-"));
      const args = meta.args.flatMap((a) => ["--arg", a.replaceAll("{dir}", dir)]);
      const r = jitlens(["run", path.join(root, "examples", meta.file), "--fn", meta.fn, ...args, "--mode", mode, "--out-dir", out]);
      assert.equal(r.code, 0, r.stderr);
      const got = npy(path.join(out, "0.npy"));
      const want = npy(path.join(dir, "expected.npy"));
      assert.deepEqual(got.aval.shape, want.aval.shape);
      assert.equal(got.aval.dtype, "f32");
      // Relative error of the output array: max |got - want| over max |want| (float32 rounding
      // of ill-conditioned elements, e.g. 2/(1+e^-x) - 1 near 0, is judged against the array's scale).
      let err = 0;
      let scale = 0;
      for (let i = 0; i < want.data.length; i++) {
        scale = Math.max(scale, Math.abs(want.data[i]));
        err = Math.max(err, Math.abs(got.data[i] - want.data[i]));
      }
      assert.ok(err / scale < meta.tolerance, `relative error ${err / scale}`);
    });
  }
}

test("trace prints the jaxpr; --format json prints the Report", () => {
  const t = jitlens(["trace", example, "--fn", "softsign"]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^\{ lambda ; a:f32\[512\]\. let\n/);
  const j = jitlens(["trace", example, "--fn", "softsign", "--format", "json"]);
  const report = JSON.parse(j.stdout);
  assert.equal(report.version, 1);
  assert.equal(report.fn, "softsign");
  assert.equal(report.kernels.length, 1);
  assert.equal(report.eqnCount, 3);
  assert.ok(report.jaxpr[1].spans[0].line > 0);
});

test("bench --format json has the fields DESIGN.md promises", () => {
  const r = jitlens(["bench", example, "--fn", "softsign", "--format", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(r.stdout);
  for (const k of ["backend", "device", "eager", "compiled", "speedup", "first_call_ms", "kernels", "bytes"]) assert.ok(k in b, `missing ${k}`);
  for (const k of ["median_ms", "min_ms", "runs"]) assert.ok(b.eager[k] > 0 && b.compiled[k] > 0, k);
  assert.deepEqual(b.kernels, { eager: 3, compiled: 1 });
  assert.equal(b.bytes.minimum, 2 * 512 * 4);
  assert.equal(b.bytes.compiled, b.bytes.minimum);
  assert.ok(b.bytes.eager > b.bytes.compiled);
  assert.ok(b.speedup > 0);
});

test("an unknown jnp function: FILE:LINE:COL: Kind: message, exit 1, no stack trace", () => {
  const r = jitlens(["trace", path.join(root, "examples", "errors.py"), "--fn", "typo"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /errors\.py:18:16: AttributeError: module 'jax.numpy' has no attribute 'tanhh'. Did you mean 'tanh'\?/);
  noStack(r.stderr);
});

test("a syntax error: FILE:LINE:COL: SyntaxError, exit 1", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "jitlens-syn-"));
  const f = path.join(dir, "bad.py");
  writeFileSync(f, "import jax.numpy as jnp\n\n# jitlens: x=f32[4]\ndef f(x):\n    return jnp.exp(x +)\n");
  const r = jitlens(["run", f, "--fn", "f"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.py:5:\d+: SyntaxError: /);
  noStack(r.stderr);
});

test("usage errors exit 2; a missing file exits 1 naming it", () => {
  assert.equal(jitlens(["trace", example]).code, 2);
  assert.equal(jitlens(["frobnicate"]).code, 2);
  assert.equal(jitlens(["run", example, "--fn", "gelu", "--mode", "fast"]).code, 2);
  const m = jitlens(["trace", "nope.py", "--fn", "f"]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /^nope\.py:1:1: FileError: no such file/);
  const h = jitlens(["--help"]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /jitlens trace FILE --fn NAME/);
});

test("a bad load() names the file", () => {
  const r = jitlens(["run", example, "--fn", "softsign", "--arg", 'x=load("missing.npy")']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /SpecError: load\("missing.npy"\): no such file/);
});
