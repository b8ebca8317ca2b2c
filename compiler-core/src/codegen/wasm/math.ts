// Vectorised float32 exp, log and tanh for the WASM kernels. Each f32x4 is widened to two
// f64x2 halves (exact), the function is evaluated in float64 and rounded once to float32:
// - exp: n = nearest(x log2 e) (by adding and subtracting 1.5*2^52), r = x - n ln2 in two
//   parts (fdlibm's ln2_hi/ln2_lo, n ln2_hi exact), e^r by its Taylor polynomial to degree 11
//   (truncation < 2e-16 for |r| <= ln2/2), times 2^n built in the exponent bits; x is
//   clamped to [-104, 89] (beyond, the float32 result is 0 or inf anyway).
// - tanh: em = expm1(2|x|) as 2^n (e^r - 1) + (2^n - 1) with e^r - 1 = r P(r) (no
//   cancellation at small |x|), tanh = em / (em + 2), the sign of x put back; 2|x| is
//   clamped to 40 (tanh = 1 in float32 long before).
// - log: x = m 2^e with m in [sqrt(1/2), sqrt(2)) (bits, in float32; subnormals scaled by
//   2^23 first), then in float64 f = m - 1, s = f / (2 + f), log(m) = 2s + 2s z P(z),
//   z = s², P to z^8 (fdlibm's series; truncation ~1e-15), plus e ln 2; 0 -> -inf,
//   +inf -> inf, negative or NaN -> NaN.
// The float64 error is ~1e-15 relative, so the float32 result is the correctly rounded one
// except within ~1e-7 of a rounding tie (test/unit/wasm.test.ts sweeps 2e5 points per
// function against Math.*, and prints the worst error in float32 ulps). mathjs.ts has the
// scalar JS twins (the same float64 operations in the same order), so JS and WASM kernels
// agree bit for bit. No FMA anywhere (neither JS nor SIMD128 has one).
import type { Func } from "./module";

/** Code that pushes one v128. */
export type V = (f: Func) => void;

export const get = (i: number): V => (f) => { f.get(i); };
export const cf = (x: number): V => (f) => { f.f32x4(x); };
export const ci = (x: number): V => (f) => { f.i32x4(x); };
export const cd = (x: number): V => (f) => { f.f64x2(x); };
export const op1 = (op: string, a: V): V => (f) => { a(f); f.op(op); };
export const op2 = (op: string, a: V, b: V): V => (f) => { a(f); b(f); f.op(op); };
export const add = (a: V, b: V) => op2("f32x4.add", a, b);
export const sub = (a: V, b: V) => op2("f32x4.sub", a, b);
export const mul = (a: V, b: V) => op2("f32x4.mul", a, b);
export const div = (a: V, b: V) => op2("f32x4.div", a, b);
const addD = (a: V, b: V) => op2("f64x2.add", a, b);
const subD = (a: V, b: V) => op2("f64x2.sub", a, b);
const mulD = (a: V, b: V) => op2("f64x2.mul", a, b);
const divD = (a: V, b: V) => op2("f64x2.div", a, b);
/** bitselect: lanes of `t` where `mask` is set, else of `e`. */
export const sel = (mask: V, t: V, e: V): V => (f) => { t(f); e(f); mask(f); f.op("v128.bitselect"); };

/** Evaluates `v` into a new v128 local and returns a reader of it. */
export function bind(f: Func, v: V, name: string): V {
  const i = f.local("v128", name);
  v(f);
  f.set(i);
  return get(i);
}

// Shared with mathjs.ts (the JS twins must use the very same constants).
export const MAGIC = 6755399441055744; // 1.5 * 2^52
export const LOG2E = 1.4426950408889634;
export const LN2_HI = 6.93147180369123816490e-01;
export const LN2_LO = 1.90821492927058770002e-10;
export const LN2 = 0.6931471805599453;
/** 1/k! for k = 11 down to 0 (exp) — Horner from the highest degree. */
export const EXP_C = Array.from({ length: 12 }, (_, i) => 11 - i).map((k) => 1 / factorial(k));
/** 1/k! for k = 12 down to 1 (expm1 = r * P(r)). */
export const EXPM1_C = Array.from({ length: 12 }, (_, i) => 12 - i).map((k) => 1 / factorial(k));
/** 1/(2k+1) for k = 8 down to 1 (log's series in z = s²). */
export const LOG_C = Array.from({ length: 8 }, (_, i) => 8 - i).map((k) => 1 / (2 * k + 1));
function factorial(k: number): number { let p = 1; for (let i = 2; i <= k; i++) p *= i; return p; }

function hornerD(x: V, cs: number[]): V {
  let p: V = cd(cs[0]);
  for (const c of cs.slice(1)) p = addD(mulD(p, x), cd(c));
  return p;
}

/** The two float64 halves of an f32x4. */
function widen(f: Func, x: V, name: string): [V, V] {
  const v = bind(f, x, name);
  const lo = bind(f, op1("f64x2.promote_low_f32x4", v), `${name}_lo`);
  const hi = bind(f, (g) => { v(g); v(g); g.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]); g.op("f64x2.promote_low_f32x4"); }, `${name}_hi`);
  return [lo, hi];
}
/** Two f64x2 rounded to float32 and joined into one f32x4. */
const narrow = (lo: V, hi: V): V => (g) => {
  lo(g); g.op("f32x4.demote_f64x2_zero"); hi(g); g.op("f32x4.demote_f64x2_zero");
  g.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
};
/** 2^n from k = n + MAGIC (its low bits hold n). */
const pow2 = (k: V): V => (g) => { k(g); g.i32x4(1023, 0, 1023, 0); g.op("i64x2.add"); g.i32(52); g.op("i64x2.shl"); };
/** k = x log2e + MAGIC, n = k - MAGIC, r = x - n ln2 (two parts). */
function reduce(f: Func, x: V, name: string): { k: V; r: V } {
  const k = bind(f, addD(mulD(x, cd(LOG2E)), cd(MAGIC)), `${name}_k`);
  const n = bind(f, subD(k, cd(MAGIC)), `${name}_n`);
  const r = bind(f, subD(subD(x, mulD(n, cd(LN2_HI))), mulD(n, cd(LN2_LO))), `${name}_r`);
  return { k, r };
}

function expD(f: Func, x0: V, name: string): V {
  const x = bind(f, op2("f64x2.max", op2("f64x2.min", x0, cd(89)), cd(-104)), `${name}_x`);
  const { k, r } = reduce(f, x, name);
  return mulD(hornerD(r, EXP_C), pow2(k));
}

export function expV(f: Func, x: V): V {
  f.comment("exp (float64 lanes, rounded once)");
  const [lo, hi] = widen(f, x, "ex");
  const a = bind(f, expD(f, lo, "ex0"), "ex_a");
  const b = bind(f, expD(f, hi, "ex1"), "ex_b");
  return narrow(a, b);
}

function tanhD(f: Func, x: V, name: string): V {
  const a = bind(f, op1("f64x2.abs", x), `${name}_a`);
  const u = bind(f, op2("f64x2.min", addD(a, a), cd(40)), `${name}_u`);
  const { k, r } = reduce(f, u, name);
  const s = bind(f, pow2(k), `${name}_s`);
  const em = bind(f, addD(mulD(s, mulD(hornerD(r, EXPM1_C), r)), subD(s, cd(1))), `${name}_em`);
  return divD(em, addD(em, cd(2)));
}

export function tanhV(f: Func, x: V): V {
  f.comment("tanh (float64 lanes, rounded once)");
  const xv = bind(f, x, "th_x");
  const [lo, hi] = widen(f, xv, "th");
  const a = bind(f, tanhD(f, lo, "th0"), "th_a");
  const b = bind(f, tanhD(f, hi, "th1"), "th_b");
  // |tanh| with the sign of x (tanh(-0) = -0)
  return op2("v128.or", narrow(a, b), op2("v128.and", xv, ci(-0x80000000)));
}

export function logV(f: Func, x0: V): V {
  f.comment("log (float64 lanes, rounded once)");
  const xin = bind(f, x0, "lg_in");
  const small = bind(f, op2("f32x4.lt", xin, cf(1.17549435e-38)), "lg_small");
  const x = bind(f, sel(small, mul(xin, cf(8388608)), xin), "lg_x");
  // m0 in [0.5, 1), e0 the exponent (less 23 for a scaled subnormal); m in [sqrt(1/2), sqrt(2))
  const m0 = bind(f, op2("v128.or", op2("v128.and", x, ci(0x007fffff)), ci(0x3f000000)), "lg_m0");
  const lo = bind(f, op2("f32x4.lt", m0, cf(0.707106781186547524)), "lg_lo");
  const m = bind(f, sel(lo, add(m0, m0), m0), "lg_m");
  const e = bind(f, (g) => {
    x(g); g.i32(23); g.op("i32x4.shr_u"); ci(126)(g); g.op("i32x4.sub");
    op2("v128.and", small, ci(23))(g); g.op("i32x4.sub"); lo(g); g.op("i32x4.add");
  }, "lg_e");
  const [mlo, mhi] = widen(f, m, "lg_mw");
  const elo = bind(f, op1("f64x2.convert_low_i32x4_s", e), "lg_e_lo");
  const ehi = bind(f, (g) => { e(g); e(g); g.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]); g.op("f64x2.convert_low_i32x4_s"); }, "lg_e_hi");
  const half = (mv: V, ev: V, name: string): V => {
    const fm = bind(f, subD(mv, cd(1)), `${name}_f`);
    const s = bind(f, divD(fm, addD(cd(2), fm)), `${name}_s`);
    const z = bind(f, mulD(s, s), `${name}_z`);
    const ts = bind(f, addD(s, s), `${name}_ts`);
    const lf = addD(ts, mulD(ts, mulD(z, hornerD(z, LOG_C))));
    return bind(f, addD(mulD(ev, cd(LN2)), lf), `${name}_r`);
  };
  const r = bind(f, narrow(half(mlo, elo, "lg0"), half(mhi, ehi, "lg1")), "lg_r");
  const r1 = sel(op2("f32x4.eq", xin, cf(Infinity)), cf(Infinity), r);
  const r2 = sel(op2("f32x4.eq", xin, cf(0)), cf(-Infinity), r1);
  return sel(op2("f32x4.ge", xin, cf(0)), r2, cf(NaN));
}
