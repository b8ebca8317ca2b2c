// NumPy .npy reading and writing, against files written by numpy (fixtures/make_fixtures.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { ArrayValue, DType } from "../../compiler-core/src/ir/types";
import { newBuffer, size } from "../../compiler-core/src/ir/types";
import { readNpy, writeNpy } from "../../compiler-core/src/npy";

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const load = (name: string): ArrayValue => readNpy(fixture(name), name);
const list = (a: ArrayValue): number[] => Array.from(a.data);

function array(dtype: DType, shape: number[], values: number[]): ArrayValue {
  const data = newBuffer(dtype, size(shape));
  values.forEach((v, i) => { data[i] = v; });
  return { aval: { shape, dtype, weak: false }, data };
}

test("reads numpy's float32 file", () => {
  const a = load("f32_2x3.npy");
  assert.deepEqual(a.aval, { shape: [2, 3], dtype: "f32", weak: false });
  assert.ok(a.data instanceof Float32Array);
  assert.deepEqual(list(a), [0, 1, 2, 3, 4, 5].map((i) => Math.fround(i * 0.1 - 0.2)));
});

test("reads float64, int32 and bool files", () => {
  const d = load("f64_4.npy");
  assert.equal(d.aval.dtype, "f64");
  assert.ok(d.data instanceof Float64Array);
  assert.deepEqual(list(d), [1 / 3, -2.5, 1e300, -0]);
  assert.ok(Object.is(d.data[3], -0));
  const i = load("i32_2x2x2.npy");
  assert.deepEqual(i.aval.shape, [2, 2, 2]);
  assert.ok(i.data instanceof Int32Array);
  assert.deepEqual(list(i), [0, 1, 2, 3, 4, 5, 6, 7].map((k) => k * 1000003 - 4));
  const b = load("bool_5.npy");
  assert.equal(b.aval.dtype, "bool");
  assert.ok(b.data instanceof Uint8Array);
  assert.deepEqual(list(b), [1, 0, 0, 1, 1]);
});

test("reads int64 as int32, and rejects values that do not fit", () => {
  const a = load("i64_3.npy");
  assert.equal(a.aval.dtype, "i32");
  assert.deepEqual(list(a), [-5, 0, 2147483647]);
  assert.throws(() => load("i64_overflow.npy"), /i64_overflow\.npy: int64 value 2147483648 at index 1 does not fit in int32/);
});

test("reads a scalar, an empty array and format versions 2.0 and 3.0", () => {
  const s = load("f32_scalar.npy");
  assert.deepEqual(s.aval.shape, []);
  assert.deepEqual(list(s), [3.5]);
  const e = load("f32_empty.npy");
  assert.deepEqual(e.aval.shape, [0, 3]);
  assert.equal(e.data.length, 0);
  assert.equal(fixture("f32_v2.npy")[6], 2);
  assert.equal(fixture("f32_v3.npy")[6], 3);
  assert.deepEqual(list(load("f32_v2.npy")), [0, 1, 2, 3]);
  assert.deepEqual(list(load("f32_v3.npy")), [0, 1, 2, 3]);
});

test("unsupported files get errors that name the file and say what is supported", () => {
  assert.throws(() => load("f32_bigendian.npy"),
    { message: "f32_bigendian.npy: unsupported dtype '>f4' (JIT Lens reads float32, float64, int32, int64 (as int32) and bool)" });
  assert.throws(() => load("f16.npy"), /f16\.npy: unsupported dtype '<f2'/);
  assert.throws(() => load("f32_fortran.npy"), /f32_fortran\.npy: Fortran-order arrays are not supported/);
  assert.throws(() => readNpy(new TextEncoder().encode("hello, world, not numpy"), "x.npy"), /x\.npy: not a NumPy \.npy file/);
  const truncated = fixture("f32_2x3.npy").slice(0, -4);
  assert.throws(() => readNpy(truncated, "t.npy"), /t\.npy: the file is truncated \(24 bytes of data expected, 20 found\)/);
});

test("writes exactly what numpy's np.save writes", () => {
  for (const name of ["f32_2x3.npy", "f64_4.npy", "i32_2x2x2.npy", "bool_5.npy", "f32_scalar.npy", "f32_empty.npy"]) {
    const original = fixture(name);
    assert.deepEqual(writeNpy(readNpy(original, name)), original, name);
  }
});

test("round trips every dtype, including from a subarray view", () => {
  const cases: ArrayValue[] = [
    array("f32", [2, 2], [1.5, -0, NaN, Infinity]),
    array("f64", [3], [Math.PI, -1e-300, 5]),
    array("i32", [1, 3], [-2147483648, 0, 2147483647]),
    array("bool", [4], [1, 0, 1, 1]),
    array("f32", [], [7]),
    array("i32", [0], []),
  ];
  for (const a of cases) {
    const b = readNpy(writeNpy(a), "rt.npy");
    assert.deepEqual(b.aval, a.aval);
    assert.equal(b.data.constructor, a.data.constructor);
    assert.deepEqual(list(b), list(a));
    assert.ok(list(b).every((v, i) => Object.is(v, a.data[i])), "bit-exact, -0 and NaN included");
  }
  // The data of a view starts at its byteOffset, not at its buffer's start.
  const big = new Float32Array([9, 9, 1, 2, 3]);
  const view: ArrayValue = { aval: { shape: [3], dtype: "f32", weak: false }, data: big.subarray(2) };
  assert.deepEqual(list(readNpy(writeNpy(view), "v.npy")), [1, 2, 3]);
  // Headers are padded so the data starts 64-byte aligned.
  const bytes = writeNpy(cases[0]);
  const headerLen = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + headerLen) % 64, 0);
  assert.equal(bytes[10 + headerLen - 1], 0x0a);
});

test("reads from an unaligned offset inside a larger buffer", () => {
  const file = fixture("f64_4.npy");
  const holder = new Uint8Array(file.length + 3);
  holder.set(file, 3);
  assert.deepEqual(list(readNpy(holder.subarray(3), "o.npy")), [1 / 3, -2.5, 1e300, -0]);
});
