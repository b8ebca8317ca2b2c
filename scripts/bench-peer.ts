// The bench workloads written for the peer, @jax-js/jax, one function per name in WORKLOADS_PY
// (scripts/bench-report.ts), computing the same thing. jax-js arrays are reference-counted: a
// function consumes each argument once; every further use takes `.ref` (see its README).
import { nn, numpy as np } from "@jax-js/jax";

type A = np.Array;

export const PEER_FNS: Record<string, (...xs: A[]) => A> = {
  axpb_chain: (x) => x.mul(1.5).add(0.5).mul(0.75).sub(0.25).mul(2).add(1),

  gelu: (x) => {
    const inner = x.ref.add(x.ref.mul(x.ref).mul(x.ref).mul(0.044715)).mul(0.7978845608);
    return x.mul(0.5).mul(np.tanh(inner).add(1));
  },

  softmax: (x) => {
    const m = x.ref.max(1, { keepdims: true });
    const e = np.exp(x.sub(m));
    return e.ref.div(e.sum(1, { keepdims: true }));
  },

  layernorm: (x, scale, shift) => {
    const mu = x.ref.mean(-1, { keepdims: true });
    const xc = x.sub(mu);
    const var_ = np.square(xc.ref).mean(-1, { keepdims: true });
    return xc.mul(np.reciprocal(np.sqrt(var_.add(1e-6)))).mul(scale).add(shift);
  },

  matmul: (a, b) => np.matmul(a, b),

  mlp: (x, w1, b1, w2, b2, w3, b3) => {
    let h = nn.gelu(np.matmul(x, w1).add(b1));
    h = nn.gelu(np.matmul(h, w2).add(b2));
    return np.matmul(h, w3).add(b3);
  },

  sum_of_squares: (x) => x.ref.mul(x).sum(),
};

/**
 * Float64 references for some workloads, to say which side is off when ours and the peer
 * disagree (a float32 sum of 16M terms loses digits in the accumulator, for one).
 */
export const REFERENCES: Record<string, (xs: { data: ArrayLike<number>; shape: readonly number[] }[]) => Float64Array> = {
  axpb_chain: ([x]) => Float64Array.from(x.data, (v) => ((v * 1.5 + 0.5) * 0.75 - 0.25) * 2 + 1),
  gelu: ([x]) => Float64Array.from(x.data, (v) => 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v ** 3)))),
  sum_of_squares: ([x]) => {
    let s = 0;
    for (let i = 0; i < x.data.length; i++) s += x.data[i] * x.data[i];
    return Float64Array.of(s);
  },
  matmul: ([a, b]) => {
    const [m, k] = a.shape;
    const n = b.shape[1];
    const c = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        const av = a.data[i * k + p];
        for (let j = 0; j < n; j++) c[i * n + j] += av * b.data[p * n + j];
      }
    }
    return c;
  },
};
