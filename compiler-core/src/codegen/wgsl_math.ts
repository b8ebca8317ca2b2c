// WGSL helper functions for the WebGPU backend's numerics.
//
// WGSL's built-in transcendentals are only as accurate as the driver makes them (Vulkan allows
// several ulp, and SwiftShader's sin/cos are off by ~1e-4), its float max/min/comparisons say
// nothing about NaN (SwiftShader's `!=` is ordered: NaN != NaN is false), and round/ceil may
// lose the sign of zero. So the kernels call these instead: single-precision ports of Cephes'
// float routines (exp, log, sin, cos, tan, atan, asin, tanh, sinh, ...; ~1-2 ulp), a pow that
// carries log(x) in two floats, an exact fmod, and NaN tests on the bits. Every helper works on
// f32 (bools are u32 0/1 in the kernels) and names its dependencies.

export interface Helper {
  deps: string[];
  code: string;
}

const H: Record<string, Helper> = {
  jl_consts: {
    deps: [],
    // Private vars, not consts: a NaN or infinite const-expression is a WGSL compile error.
    code: `var<private> JL_NAN_BITS: u32 = 0x7fc00000u;
var<private> JL_INF_BITS: u32 = 0x7f800000u;
fn jl_nan() -> f32 { return bitcast<f32>(JL_NAN_BITS); }
fn jl_inf() -> f32 { return bitcast<f32>(JL_INF_BITS); }`,
  },
  jl_isnan: { deps: [], code: `fn jl_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }` },
  jl_isinf: { deps: [], code: `fn jl_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }` },
  jl_copysign: { deps: [], code: `fn jl_copysign(x: f32, s: f32) -> f32 { return bitcast<f32>((bitcast<u32>(x) & 0x7fffffffu) | (bitcast<u32>(s) & 0x80000000u)); }` },
  jl_signbit: { deps: [], code: `fn jl_signbit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }` },
  jl_keepsign: {
    deps: [],
    // floor/ceil/round/trunc keep the sign of their argument (-0.5 rounds to -0).
    code: `fn jl_keepsign(r: f32, x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(r) | (bitcast<u32>(x) & 0x80000000u)); }`,
  },
  jl_max: {
    deps: ["jl_isnan"],
    // NaN propagates (XLA); max(-0, +0) is +0 in either order.
    code: `fn jl_max(a: f32, b: f32) -> f32 {
  if (jl_isnan(a)) { return a; }
  if (jl_isnan(b)) { return b; }
  if (a > b) { return a; }
  if (b > a) { return b; }
  return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b));
}`,
  },
  jl_min: {
    deps: ["jl_isnan"],
    code: `fn jl_min(a: f32, b: f32) -> f32 {
  if (jl_isnan(a)) { return a; }
  if (jl_isnan(b)) { return b; }
  if (a < b) { return a; }
  if (b < a) { return b; }
  return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b));
}`,
  },
  jl_exp: {
    deps: ["jl_consts", "jl_isnan"],
    // Cephes expf: x = n ln2 + r (ln2 in two parts, the first exact in n * C1), then a degree-6
    // polynomial; the scaling by 2^n is split in two so that results near the subnormal range work.
    code: `fn jl_exp(x0: f32) -> f32 {
  if (jl_isnan(x0)) { return x0; }
  if (x0 > 88.72283935546875) { return jl_inf(); }
  if (x0 < -103.97208) { return 0.0; }
  let n = floor(1.44269504088896341 * x0 + 0.5);
  var x = x0 - n * 0.693359375;
  x = x - n * (-2.12194440e-4);
  let z = x * x;
  let p = ((((((1.9875691500e-4 * x + 1.3981999507e-3) * x + 8.3334519073e-3) * x + 4.1665795894e-2) * x + 1.6666665459e-1) * x + 5.0000001201e-1) * z + x) + 1.0;
  let k = i32(n);
  let h = k / 2;
  return ldexp(ldexp(p, h), k - h);
}`,
  },
  jl_exp2: {
    deps: ["jl_exp", "jl_consts", "jl_isnan"],
    code: `fn jl_exp2(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  if (x >= 128.0) { return jl_inf(); }
  if (x < -151.0) { return 0.0; }
  let n = round(x);
  let f = x - n;
  let k = i32(n);
  let h = k / 2;
  return ldexp(ldexp(jl_exp(f * 0.693147180559945309), h), k - h);
}`,
  },
  jl_log: {
    deps: ["jl_consts", "jl_isnan"],
    // Cephes logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a polynomial in m - 1.
    code: `fn jl_log(x0: f32) -> f32 {
  if (jl_isnan(x0)) { return x0; }
  if (x0 < 0.0) { return jl_nan(); }
  if (x0 == 0.0) { return -jl_inf(); }
  if (x0 == jl_inf()) { return x0; }
  let fr = frexp(x0);
  var e = f32(fr.exp);
  var x = fr.fract;
  if (x < 0.707106781186547524) { e = e - 1.0; x = x + x - 1.0; } else { x = x - 1.0; }
  let z = x * x;
  var y = ((((((((7.0376836292e-2 * x - 1.1514610310e-1) * x + 1.1676998740e-1) * x - 1.2420140846e-1) * x + 1.4249322787e-1) * x - 1.6668057665e-1) * x + 2.0000714765e-1) * x - 2.4999993993e-1) * x + 3.3333331174e-1) * x * z;
  y = y + (-2.12194440e-4) * e;
  y = y - 0.5 * z;
  var r = x + y;
  r = r + 0.693359375 * e;
  return r;
}`,
  },
  jl_log1p: {
    deps: ["jl_log", "jl_consts", "jl_isnan"],
    // Near 0 (1 + x in [sqrt(1/2), sqrt(2)]): 2 atanh(s) with s = x / (2 + x), as a series (no
    // cancellation to protect: the shader compiler folds (1 + x) - 1 into x). Elsewhere log(1 + x).
    code: `fn jl_log1p(x: f32) -> f32 {
  if (jl_isnan(x) || x == jl_inf()) { return x; }
  if (x < -0.2928932188134524 || x > 0.41421356237309503) { return jl_log(1.0 + x); }
  if (x == 0.0) { return x; }
  let s = x / (2.0 + x);
  let z = s * s;
  let p = ((((((z / 15.0 + 1.0 / 13.0) * z + 1.0 / 11.0) * z + 1.0 / 9.0) * z + 1.0 / 7.0) * z + 0.2) * z + 1.0 / 3.0) * z;
  return 2.0 * s + 2.0 * s * p;
}`,
  },
  jl_expm1: {
    deps: ["jl_exp", "jl_log", "jl_consts", "jl_isnan"],
    // Kahan's expm1: (u - 1) * x / log(u) with u = exp(x).
    code: `fn jl_expm1(x: f32) -> f32 {
  if (jl_isnan(x) || x == jl_inf()) { return x; }
  if (x < -20.0) { return -1.0; }
  if (abs(x) < 1e-5) { return x + 0.5 * x * x; }
  let u = jl_exp(x);
  if (u == jl_inf()) { return u; }
  let um1 = u - 1.0;
  if (um1 == 0.0) { return x; }
  return um1 * (x / jl_log(u));
}`,
  },
  jl_sincos_reduce: {
    deps: [],
    // Cephes sinf/cosf argument reduction: j = octant, r = x - j pi/4 in three parts.
    code: `struct JlReduced { r: f32, j: u32 }
fn jl_reduce(ax: f32) -> JlReduced {
  var j = u32(1.27323954473516 * ax);
  var y = f32(j);
  if ((j & 1u) != 0u) { j = j + 1u; y = y + 1.0; }
  let r = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  return JlReduced(r, j & 7u);
}
fn jl_sinpoly(x: f32, z: f32) -> f32 { return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * x + x; }
fn jl_cospoly(z: f32) -> f32 { return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0; }`,
  },
  jl_sin: {
    deps: ["jl_sincos_reduce", "jl_consts", "jl_isnan", "jl_isinf"],
    code: `fn jl_sin(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  if (jl_isinf(x)) { return jl_nan(); }
  if (x == 0.0) { return x; }
  var sgn = select(1.0, -1.0, x < 0.0);
  let red = jl_reduce(abs(x));
  var j = red.j;
  if (j > 3u) { sgn = -sgn; j = j - 4u; }
  let z = red.r * red.r;
  var y: f32;
  if (j == 1u || j == 2u) { y = jl_cospoly(z); } else { y = jl_sinpoly(red.r, z); }
  return sgn * y;
}`,
  },
  jl_cos: {
    deps: ["jl_sincos_reduce", "jl_consts", "jl_isnan", "jl_isinf"],
    code: `fn jl_cos(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  if (jl_isinf(x)) { return jl_nan(); }
  var sgn = 1.0;
  let red = jl_reduce(abs(x));
  var j = red.j;
  if (j > 3u) { j = j - 4u; sgn = -sgn; }
  if (j > 1u) { sgn = -sgn; }
  let z = red.r * red.r;
  var y: f32;
  if (j == 1u || j == 2u) { y = jl_sinpoly(red.r, z); } else { y = jl_cospoly(z); }
  return sgn * y;
}`,
  },
  jl_tan: {
    deps: ["jl_sincos_reduce", "jl_consts", "jl_isnan", "jl_isinf"],
    code: `fn jl_tan(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  if (jl_isinf(x)) { return jl_nan(); }
  if (x == 0.0) { return x; }
  let red = jl_reduce(abs(x));
  let r = red.r;
  let z = r * r;
  var y = r;
  if (abs(r) > 1e-4) {
    y = (((((9.38540185543e-3 * z + 3.11992232697e-3) * z + 2.44301354525e-2) * z + 5.34112807005e-2) * z + 1.33387994085e-1) * z + 3.33331568548e-1) * z * r + r;
  }
  if ((red.j & 2u) != 0u) { y = -1.0 / y; }
  return select(y, -y, x < 0.0);
}`,
  },
  jl_tanh: {
    deps: ["jl_exp", "jl_isnan"],
    code: `fn jl_tanh(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  let z = abs(x);
  if (z > 44.0) { return select(1.0, -1.0, x < 0.0); }
  if (z >= 0.625) {
    let e = jl_exp(z + z);
    let t = 1.0 - 2.0 / (e + 1.0);
    return select(t, -t, x < 0.0);
  }
  if (x == 0.0) { return x; }
  let s = x * x;
  return ((((-5.70498872745e-3 * s + 2.06390887954e-2) * s - 5.37397155531e-2) * s + 1.33314422036e-1) * s - 3.33332819422e-1) * s * x + x;
}`,
  },
  jl_atan: {
    deps: ["jl_isnan"],
    code: `fn jl_atan(x0: f32) -> f32 {
  if (jl_isnan(x0)) { return x0; }
  if (x0 == 0.0) { return x0; }
  var x = abs(x0);
  var y = 0.0;
  if (x > 2.414213562373095) { y = 1.5707963267948966; x = -1.0 / x; }
  else if (x > 0.4142135623730950) { y = 0.7853981633974483; x = (x - 1.0) / (x + 1.0); }
  let z = x * x;
  y = y + ((((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * x + x);
  return select(y, -y, x0 < 0.0);
}`,
  },
  jl_atan2: {
    deps: ["jl_atan", "jl_isnan", "jl_isinf", "jl_copysign", "jl_signbit", "jl_consts"],
    // C atan2's special cases, then atan(y/x) moved to the right quadrant.
    code: `fn jl_atan2(y: f32, x: f32) -> f32 {
  if (jl_isnan(x) || jl_isnan(y)) { return jl_nan(); }
  let PI = 3.14159265358979323846;
  if (y == 0.0) {
    if (x > 0.0 || (x == 0.0 && !jl_signbit(x))) { return y; }
    return jl_copysign(PI, y);
  }
  if (x == 0.0) { return jl_copysign(1.5707963267948966, y); }
  if (jl_isinf(x)) {
    if (jl_isinf(y)) { return jl_copysign(select(2.356194490192345, 0.7853981633974483, x > 0.0), y); }
    return jl_copysign(select(PI, 0.0, x > 0.0), y);
  }
  if (jl_isinf(y)) { return jl_copysign(1.5707963267948966, y); }
  let z = jl_atan(y / x);
  if (x > 0.0) { return z; }
  return z + jl_copysign(PI, y);
}`,
  },
  jl_asin: {
    deps: ["jl_consts", "jl_isnan"],
    code: `fn jl_asin(x0: f32) -> f32 {
  if (jl_isnan(x0)) { return x0; }
  let a = abs(x0);
  if (a > 1.0) { return jl_nan(); }
  var x: f32;
  var z: f32;
  let flag = a > 0.5;
  if (flag) { z = 0.5 * (1.0 - a); x = sqrt(z); } else { x = a; z = x * x; }
  var r: f32;
  if (a < 1e-4) { r = a; }
  else { r = ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z + 1.6666752422e-1) * z * x + x; }
  if (flag) { r = r + r; r = 1.5707963267948966 - r; }
  return select(r, -r, x0 < 0.0);
}`,
  },
  jl_acos: {
    deps: ["jl_asin", "jl_consts", "jl_isnan"],
    code: `fn jl_acos(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  if (x < -1.0 || x > 1.0) { return jl_nan(); }
  if (x < -0.5) { return 3.14159265358979323846 - 2.0 * jl_asin(sqrt(0.5 * (1.0 + x))); }
  if (x > 0.5) { return 2.0 * jl_asin(sqrt(0.5 * (1.0 - x))); }
  return 1.5707963267948966 - jl_asin(x);
}`,
  },
  jl_sinh: {
    deps: ["jl_exp", "jl_isnan", "jl_consts"],
    code: `fn jl_sinh(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  let a = abs(x);
  var z: f32;
  if (a > 89.5) { z = jl_inf(); }
  else if (a > 88.0) { let h = jl_exp(0.5 * a); z = (0.5 * h) * h; }
  else if (a > 1.0) { let e = jl_exp(a); z = 0.5 * e - 0.5 / e; }
  else {
    if (x == 0.0) { return x; }
    let s = a * a;
    z = ((2.03721912945e-4 * s + 8.33028376239e-3) * s + 1.66667160211e-1) * s * a + a;
  }
  return select(z, -z, x < 0.0);
}`,
  },
  jl_cosh: {
    deps: ["jl_exp", "jl_isnan", "jl_consts"],
    code: `fn jl_cosh(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  let a = abs(x);
  if (a > 89.5) { return jl_inf(); }
  if (a > 88.0) { let h = jl_exp(0.5 * a); return (0.5 * h) * h; }
  let e = jl_exp(a);
  return 0.5 * e + 0.5 / e;
}`,
  },
  jl_asinh: {
    deps: ["jl_log", "jl_isnan", "jl_isinf"],
    code: `fn jl_asinh(x0: f32) -> f32 {
  if (jl_isnan(x0) || jl_isinf(x0) || x0 == 0.0) { return x0; }
  let x = abs(x0);
  var z: f32;
  if (x > 1500.0) { z = jl_log(x) + 0.693147180559945309; }
  else if (x < 0.5) {
    let s = x * x;
    z = (((2.0122003309e-2 * s - 4.2699340972e-2) * s + 7.4847586088e-2) * s - 1.6666288134e-1) * s * x + x;
  } else { z = jl_log(x + sqrt(x * x + 1.0)); }
  return select(z, -z, x0 < 0.0);
}`,
  },
  jl_acosh: {
    deps: ["jl_log", "jl_isnan", "jl_consts"],
    code: `fn jl_acosh(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  if (x < 1.0) { return jl_nan(); }
  if (x == jl_inf()) { return x; }
  if (x > 1500.0) { return jl_log(x) + 0.693147180559945309; }
  let z = x - 1.0;
  if (z < 0.5) {
    return ((((1.7596881071e-3 * z - 7.5272886713e-3) * z + 2.6454905019e-2) * z - 1.1784741703e-1) * z + 1.4142135263) * sqrt(z);
  }
  return jl_log(x + sqrt(z * (x + 1.0)));
}`,
  },
  jl_atanh: {
    deps: ["jl_log", "jl_isnan", "jl_consts"],
    code: `fn jl_atanh(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  let a = abs(x);
  if (a >= 1.0) {
    if (x == 1.0) { return jl_inf(); }
    if (x == -1.0) { return -jl_inf(); }
    return jl_nan();
  }
  if (a < 1e-4) { return x; }
  if (a < 0.5) {
    let z = x * x;
    return ((((1.81740078349e-1 * z + 8.24370301058e-2) * z + 1.46691431730e-1) * z + 1.99782164500e-1) * z + 3.33337300303e-1) * z * x + x;
  }
  return 0.5 * jl_log((1.0 + x) / (1.0 - x));
}`,
  },
  jl_cbrt: {
    deps: ["jl_isnan", "jl_isinf"],
    // A bit-trick guess, then Newton steps in float32.
    code: `fn jl_cbrt(x: f32) -> f32 {
  if (jl_isnan(x) || jl_isinf(x) || x == 0.0) { return x; }
  var a = abs(x);
  var scale = 1.0;
  if (a < 1e-30) { a = a * 9.223372036854775808e18; scale = 4.76837158203125e-7; }
  var y = bitcast<f32>(bitcast<u32>(a) / 3u + 0x2a5137a0u);
  for (var k = 0; k < 4; k = k + 1) { y = y - (y - a / (y * y)) / 3.0; }
  // One last correction toward the nearest float.
  let r = y * y * y - a;
  y = y - r / (3.0 * y * y);
  y = y * scale;
  return select(y, -y, x < 0.0);
}`,
  },
  jl_erf: {
    deps: ["jl_exp", "jl_isnan", "jl_twoprod"],
    // The CPU backend's erf (codegen/js.ts) in float32: x P(x^2) below 1, 1 - exp(-x^2) G(|x|) above.
    code: `fn jl_erf(x: f32) -> f32 {
  if (jl_isnan(x)) { return x; }
  let a = abs(x);
  if (a < 1.0) {
    let t = x * x;
    var p = -2.7835162072109212e-14;
    p = p * t + 4.4632242632864775e-13;
    p = p * t + -6.7113668551641105e-12;
    p = p * t + 9.422759064650411e-11;
    p = p * t + -1.2290555301717926e-09;
    p = p * t + 1.4807192815879218e-08;
    p = p * t + -1.6365844691234924e-07;
    p = p * t + 1.6462114365889246e-06;
    p = p * t + -1.492565035840625e-05;
    p = p * t + 0.00012055332981789664;
    p = p * t + -0.0008548327023450852;
    p = p * t + 0.005223977625442188;
    p = p * t + -0.026866170645131252;
    p = p * t + 0.11283791670955126;
    p = p * t + -0.37612638903183754;
    // x (c0 + t Q(t)) with x c0 carried exactly (c0 = 2/sqrt(pi) = C0H + C0L): about half
    // an ulp better than plain Horner, which matters at a 1-ulp tolerance.
    let hp = jl_twoprod(x, 1.128379225730896);
    return hp.x + (hp.y + x * (p * t + (-5.863538343753305e-8)));
  }
  if (a >= 6.0) { return select(1.0, -1.0, x < 0.0); }
  let u = (2.0 * a - 7.0) / 5.0;
  let u2 = 2.0 * u;
  var b1 = 0.0;
  var b2 = 0.0;
  var t = 0.0;
  let c = array<f32, 24>(1.0673875667297907e-14, -5.157662980200358e-14, 2.2819088044015793e-13, -9.92125567611623e-13,
    4.253441247820174e-12, -1.799022575586622e-11, 7.504494414638078e-11, -3.0858860877793983e-10, 1.2501872825819174e-09,
    -4.987110208958252e-09, 1.9575863544795672e-08, -7.555861084845159e-08, 2.8655025726866616e-07, -1.066839233720272e-06,
    3.895514595290994e-06, -1.3935932859859244e-05, 4.878565911500901e-05, -0.0001668947305252349, 0.0005570714353927709,
    -0.0018109803028143496, 0.005721802417478181, -0.01752570996486758, 0.05188222158351387, -0.14788483553398707);
  for (var k = 0; k < 24; k = k + 1) { t = b1; b1 = u2 * b1 - b2 + c[k]; b2 = t; }
  let g = u * b1 - b2 + 0.20196598791223078;
  // exp(-a^2) with a^2 carried in two floats (a^2 rounded loses up to 36 ulp of the exponent).
  let ah = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  let al = a - ah;
  let sh = ah * ah;
  let sl = (a + ah) * al;
  let r = 1.0 - jl_exp(-sh) * jl_exp(-sl) * g;
  return select(r, -r, x < 0.0);
}`,
  },
  jl_fmod: {
    deps: ["jl_isnan", "jl_isinf", "jl_consts"],
    // C fmod, exactly: subtract the largest |y| 2^k that fits, each step exact (Sterbenz).
    code: `fn jl_fmod(x: f32, y: f32) -> f32 {
  if (jl_isnan(x) || jl_isnan(y) || jl_isinf(x) || y == 0.0) { return jl_nan(); }
  let ay = abs(y);
  var r = abs(x);
  if (jl_isinf(y) || r < ay) { return x; }
  let ey = frexp(ay).exp;
  for (var n = 0; n < 300 && r >= ay; n = n + 1) {
    let k = frexp(r).exp - ey;
    var t = ldexp(ay, k);
    if (t > r) { t = ldexp(ay, k - 1); }
    r = r - t;
  }
  return select(r, -r, x < 0.0 || (x == 0.0 && bitcast<u32>(x) != 0u));
}`,
  },
  jl_twoprod: {
    deps: [],
    // Dekker's exact product a * b = p + e (Veltkamp splits; every partial product is exact,
    // so contracting any of them into an fma does not change the result).
    code: `fn jl_split(a: f32) -> vec2<f32> { let c = 4097.0 * a; let h = c - (c - a); return vec2<f32>(h, a - h); }
fn jl_twosum(a: f32, b: f32) -> vec2<f32> { let s = a + b; let bb = s - a; return vec2<f32>(s, (a - (s - bb)) + (b - bb)); }
fn jl_twoprod(a: f32, b: f32) -> vec2<f32> {
  let p = a * b;
  let sa = jl_split(a);
  let sb = jl_split(b);
  let e = ((sa.x * sb.x - p) + sa.x * sb.y + sa.y * sb.x) + sa.y * sb.y;
  return vec2<f32>(p, e);
}`,
  },
  jl_pow: {
    deps: ["jl_exp", "jl_twoprod", "jl_isnan", "jl_isinf", "jl_consts"],
    // C pow's special cases; then exp(y log|x|) with log|x| in two floats
    // (e ln2 split exactly, log(m) = f - f^2/2 + f^3 P(f) with f^2 exact), so that a large
    // y log|x| does not multiply the rounding of log|x|.
    code: `fn jl_log_hilo(x: f32) -> vec2<f32> {
  let fr = frexp(x);
  var e = f32(fr.exp);
  var m = fr.fract;
  if (m < 0.707106781186547524) { e = e - 1.0; m = m + m; }
  let f = m - 1.0;
  let sq = jl_twoprod(f, f);
  let z = sq.x;
  let r = ((((((((7.0376836292e-2 * f - 1.1514610310e-1) * f + 1.1676998740e-1) * f - 1.2420140846e-1) * f + 1.4249322787e-1) * f - 1.6668057665e-1) * f + 2.0000714765e-1) * f - 2.4999993993e-1) * f + 3.3333331174e-1) * f * z;
  // e ln2: 0.693145751953125 has 16 significant bits, so e * it is exact.
  let a = e * 0.693145751953125;
  let b = f - 0.5 * z;
  let hi = a + b;
  let lo = ((a - hi) + b) + (f - b - 0.5 * z) + (-0.5 * sq.y + r + e * 1.42860682030941723212e-6);
  let s = hi + lo;
  return vec2<f32>(s, lo - (s - hi));
}
fn jl_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (jl_isnan(x) || jl_isnan(y)) { return jl_nan(); }
  let ax = abs(x);
  if (jl_isinf(y)) {
    if (ax == 1.0) { return 1.0; }
    if ((ax < 1.0) == (y > 0.0)) { return 0.0; }
    return jl_inf();
  }
  let yint = floor(y) == y;
  let yodd = yint && abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1;
  if (x < 0.0 && !yint) { return jl_nan(); }
  let neg = x < 0.0 || (x == 0.0 && bitcast<u32>(x) != 0u);
  var r: f32;
  if (ax == 0.0) { r = select(jl_inf(), 0.0, y > 0.0); }
  else if (jl_isinf(ax)) { r = select(0.0, jl_inf(), y > 0.0); }
  else {
    let l = jl_log_hilo(ax);
    let t = jl_twoprod(y, l.x);
    let th = t.x;
    let tl = t.y + y * l.y;
    if (th > 89.0) { r = jl_inf(); }
    else if (th < -104.0) { r = 0.0; }
    else { let e = jl_exp(th); r = e + e * tl; }
  }
  if (neg && yodd) { return -r; }
  return r;
}`,
  },
  jl_nextafter: {
    deps: ["jl_isnan", "jl_consts"],
    code: `fn jl_nextafter(x: f32, y: f32) -> f32 {
  if (jl_isnan(x) || jl_isnan(y)) { return jl_nan(); }
  if (x == y) { return y; }
  if (x == 0.0) { return select(bitcast<f32>(0x80000001u), bitcast<f32>(1u), y > 0.0); }
  var b = bitcast<u32>(x);
  if ((y > x) == (x > 0.0)) { b = b + 1u; } else { b = b - 1u; }
  return bitcast<f32>(b);
}`,
  },
  jl_ipow: {
    deps: [],
    code: `fn jl_ipow(a0: i32, b0: i32) -> i32 {
  if (b0 < 0) { return select(0, 1, a0 == 1); }
  var acc = 1;
  var a = a0;
  var b = b0;
  for (var i = 0; i < 6; i = i + 1) {
    if ((b & 1) != 0) { acc = acc * a; }
    a = a * a;
    b = b >> 1u;
  }
  return acc;
}`,
  },
  jl_f2i: {
    deps: ["jl_isnan"],
    code: `fn jl_f2i(x: f32) -> i32 {
  if (jl_isnan(x)) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x <= -2147483648.0) { return i32(-2147483647) - 1; }
  return i32(x);
}`,
  },
};

/** The WGSL text of the named helpers and everything they need, each once, dependencies first. */
export function helperCode(names: Iterable<string>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    const h = H[n];
    if (!h) throw new Error(`no WGSL helper ${n}`);
    for (const d of h.deps) visit(d);
    out.push(h.code);
  };
  for (const n of [...names].sort()) visit(n);
  return out.join("\n");
}
