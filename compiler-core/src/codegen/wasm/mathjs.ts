// Scalar JavaScript twins of the float32 exp, log and tanh in math.ts: the same float64
// operations in the same order (JS has no FMA contraction), rounded once with Math.fround,
// so a JS kernel (a row kernel, a matmul epilogue, a loop kernel the WASM path does not
// cover) computes bit for bit what a WASM kernel computes. With the WASM path on, the JS code
// generator uses these instead of Math.exp/log/tanh (codegen/js.ts), which keeps eager and
// compiled results identical whichever kind of kernel an op lands in. With JITLENS_WASM=0
// the JS kernels go back to Math.* rounded once. Imports only math.ts's constants (math.ts
// has no runtime imports, so codegen/js.ts can import this file without a cycle).
import { EXP_C, EXPM1_C, LN2, LN2_HI, LN2_LO, LOG2E, LOG_C, MAGIC } from "./math";

const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 25, 1, 23, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 83, 26, 11,
]);
let on: boolean | undefined;
/** Whether the WASM path (and with it these float32 functions) is on: SIMD runs, and JITLENS_WASM is not 0. */
export function f32MathOn(): boolean {
  if (on === undefined) {
    const env = typeof process !== "undefined" ? process.env?.JITLENS_WASM : undefined;
    const wa = (globalThis as unknown as { WebAssembly?: { validate(b: Uint8Array): boolean } }).WebAssembly;
    let simd = false;
    try { simd = wa !== undefined && wa.validate(SIMD_PROBE); } catch { simd = false; }
    on = simd && !(env === "0" || env === "false" || env === "off");
  }
  return on;
}

const n = (x: number): string => (x < 0 ? `(${x})` : String(x));
const horner = (v: string, cs: number[]): string =>
  [`let p = ${n(cs[0])};`, ...cs.slice(1).map((c) => `p = p * ${v} + ${n(c)};`)].join("\n  ");
const reduce = (x: string): string =>
  `const k = ${x} * ${LOG2E} + ${MAGIC}, n = k - ${MAGIC};\n  const r = (${x} - n * ${LN2_HI}) - n * ${LN2_LO};`;

export const F32_MATH_HELPERS: Record<string, string> = {
  jlP2: `const jlP2 = new Float64Array(300);
for (let i = 0; i < 300; i++) jlP2[i] = Math.pow(2, i - 150);`,
  jlExpF: `function jlExpF(x0) {
  // float32 exp: float64 lanes rounded once, op for op the WASM kernels' (codegen/wasm/math.ts)
  const x = x0 > 89 ? 89 : x0 < -104 ? -104 : x0; // NaN stays NaN, as f64x2.min/max
  ${reduce("x")}
  ${horner("r", EXP_C)}
  return Math.fround(p * jlP2[(n + 150) | 0]); // NaN: p is NaN already
}`,
  jlTanhF: `function jlTanhF(x) {
  // float32 tanh: expm1(2|x|) / (expm1(2|x|) + 2) in float64, op for op the WASM kernels'
  const a = Math.abs(x);
  const u = a + a > 40 ? 40 : a + a;
  ${reduce("u")}
  const s = jlP2[(n + 150) | 0];
  ${horner("r", EXPM1_C)}
  const em = s * (p * r) + (s - 1);
  const t = Math.fround(em / (em + 2));
  return x < 0 || 1 / x < 0 ? -t : t;
}`,
  jlLogF: `const jlLgF = new Float32Array(1), jlLgU = new Uint32Array(jlLgF.buffer);
function jlLogF(xin) {
  // float32 log: float64 series rounded once, op for op the WASM kernels' (codegen/wasm/math.ts)
  const small = xin < ${Math.fround(1.17549435e-38)};
  jlLgF[0] = small ? xin * 8388608 : xin;
  const bits = jlLgU[0];
  jlLgU[0] = (bits & 0x007fffff) | 0x3f000000;
  const m0 = jlLgF[0];
  const lo = m0 < ${Math.fround(0.707106781186547524)};
  const m = lo ? m0 + m0 : m0;
  const e = (bits >>> 23) - 126 - (small ? 23 : 0) - (lo ? 1 : 0);
  const f = m - 1, s = f / (2 + f), z = s * s, ts = s + s;
  ${horner("z", LOG_C)}
  const r = Math.fround(e * ${LN2} + (ts + ts * (z * p)));
  if (!(xin >= 0)) return NaN;
  if (xin === 0) return -Infinity;
  return xin === Infinity ? Infinity : r;
}`,
};

/** The helper functions (dependencies first) a JS kernel needs for float32 `prim`, or undefined. */
export function f32MathHelpers(prim: string): { fn: string; helpers: string[] } | undefined {
  switch (prim) {
    case "exp": return { fn: "jlExpF", helpers: ["jlP2", "jlExpF"] };
    case "log": return { fn: "jlLogF", helpers: ["jlLogF"] };
    case "tanh": return { fn: "jlTanhF", helpers: ["jlP2", "jlTanhF"] };
  }
  return undefined;
}
