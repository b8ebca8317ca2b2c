// Deterministic random inputs: xoshiro128** seeded through splitmix32. Floats are
// standard normal (Box-Muller), ints uniform in [-10, 10), bools true with p = 0.5.
import type { ArrayValue, Aval } from "../ir/types";
import { newBuffer, size } from "../ir/types";

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A seeded generator of uint32 values. */
export function rng(seed: number): () => number {
  const init = splitmix32(seed);
  let a = init(), b = init(), c = init(), d = init();
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** An array of the given type filled with seeded random values. */
export function fillRandom(aval: Aval, seed: number): ArrayValue {
  const n = size(aval.shape);
  const data = newBuffer(aval.dtype, n);
  const next = rng(seed);
  // uniform in (0, 1), never 0, so log() is finite
  const uniform = () => (next() + 0.5) / 4294967296;
  switch (aval.dtype) {
    case "f32":
    case "f64":
      for (let i = 0; i < n; i += 2) {
        const r = Math.sqrt(-2 * Math.log(uniform()));
        const th = 2 * Math.PI * uniform();
        data[i] = r * Math.cos(th);
        if (i + 1 < n) data[i + 1] = r * Math.sin(th);
      }
      break;
    case "i32":
      for (let i = 0; i < n; i++) data[i] = Math.floor(uniform() * 20) - 10;
      break;
    case "bool":
      for (let i = 0; i < n; i++) data[i] = next() >>> 31;
      break;
  }
  return { aval: { shape: [...aval.shape], dtype: aval.dtype, weak: false }, data };
}
