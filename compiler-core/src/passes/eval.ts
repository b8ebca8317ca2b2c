// A tiny float64 reference interpreter for HLO modules: the oracle the passes are tested
// against, and the evaluator constant folding uses. Covers elementwise ops, compare,
// select, convert, broadcast, reshape, transpose, reduce, iota, slice, concatenate and dot;
// anything else throws.
import { arrayShape, numel, type HloInstr, type HloModule } from "../lower/hlo";

export interface Tensor {
  dims: number[];
  data: number[];
}

const UN: Record<string, (x: number) => number> = {
  negate: (x) => -x, exponential: Math.exp, log: Math.log, tanh: Math.tanh, sine: Math.sin, cosine: Math.cos,
  tan: Math.tan, sqrt: Math.sqrt, rsqrt: (x) => 1 / Math.sqrt(x), cbrt: Math.cbrt, abs: Math.abs, sign: Math.sign,
  floor: Math.floor, ceil: Math.ceil, "log-plus-one": Math.log1p, "exponential-minus-one": Math.expm1,
  logistic: (x) => 1 / (1 + Math.exp(-x)), copy: (x) => x, not: (x) => (x ? 0 : 1),
};
const BIN: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b, subtract: (a, b) => a - b, multiply: (a, b) => a * b, divide: (a, b) => a / b,
  remainder: (a, b) => a % b, power: Math.pow, maximum: Math.max, minimum: Math.min, atan2: Math.atan2,
  and: (a, b) => (a && b ? 1 : 0), or: (a, b) => (a || b ? 1 : 0),
};
const CMP: Record<string, (a: number, b: number) => boolean> = {
  EQ: (a, b) => a === b, NE: (a, b) => a !== b, LT: (a, b) => a < b, LE: (a, b) => a <= b, GT: (a, b) => a > b, GE: (a, b) => a >= b,
};

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Multi-index of flat position `k` in `dims`. */
function unravel(k: number, dims: number[]): number[] {
  const idx = new Array<number>(dims.length);
  for (let i = dims.length - 1; i >= 0; i--) { idx[i] = k % dims[i]; k = Math.floor(k / dims[i]); }
  return idx;
}

/** Evaluates one instruction on its operands' values. */
export function evalInstr(i: HloInstr, args: Tensor[]): Tensor {
  const dims = arrayShape(i.shape).dims;
  const n = numel(dims);
  const out = (f: (k: number) => number): Tensor => ({ dims, data: Array.from({ length: n }, (_, k) => f(k)) });
  const dt = arrayShape(i.shape).dtype;
  const round = (x: number) => (dt === "i32" ? Math.trunc(x) : dt === "bool" ? (x ? 1 : 0) : x);
  if (UN[i.opcode]) return out((k) => UN[i.opcode](args[0].data[k]));
  if (BIN[i.opcode]) return out((k) => round(BIN[i.opcode](args[0].data[k], args[1].data[k])));
  switch (i.opcode) {
    case "constant": return { dims, data: [...i.literal!] };
    case "compare": return out((k) => (CMP[i.attrs.direction as string](args[0].data[k], args[1].data[k]) ? 1 : 0));
    case "select": return out((k) => (args[0].data[k] ? args[1].data[k] : args[2].data[k]));
    case "clamp": return out((k) => Math.min(Math.max(args[1].data[k], args[0].data[k]), args[2].data[k]));
    case "convert": return out((k) => round(args[0].data[k]));
    case "reshape": return { dims, data: [...args[0].data] };
    case "iota": return out((k) => unravel(k, dims)[i.attrs.iota_dimension as number]);
    case "broadcast": {
      const bd = i.attrs.dimensions as number[];
      const st = strides(args[0].dims);
      return out((k) => { const idx = unravel(k, dims); return args[0].data[bd.reduce((s, d, j) => s + idx[d] * st[j], 0)]; });
    }
    case "transpose": {
      const perm = i.attrs.dimensions as number[];
      const st = strides(args[0].dims);
      return out((k) => { const idx = unravel(k, dims); return args[0].data[perm.reduce((s, p, j) => s + idx[j] * st[p], 0)]; });
    }
    case "slice": {
      const r = i.attrs.slice as number[][];
      const st = strides(args[0].dims);
      return out((k) => { const idx = unravel(k, dims); return args[0].data[idx.reduce((s, x, j) => s + (r[j][0] + x * r[j][2]) * st[j], 0)]; });
    }
    case "concatenate": {
      const ax = (i.attrs.dimensions as number[])[0];
      return out((k) => {
        const idx = unravel(k, dims);
        for (const a of args) {
          if (idx[ax] < a.dims[ax]) return a.data[idx.reduce((s, x, j) => s + x * strides(a.dims)[j], 0)];
          idx[ax] -= a.dims[ax];
        }
        throw new Error("concatenate: index out of range");
      });
    }
    case "reduce": {
      const op = BIN[/^%region_([a-z]+)/.exec(i.attrs.to_apply as string)![1]];
      const axes = i.attrs.dimensions as number[];
      const src = args[0];
      const keep = src.dims.map((_, d) => d).filter((d) => !axes.includes(d));
      const acc = new Array<number>(n).fill(args[1].data[0]);
      const ost = strides(dims);
      for (let k = 0; k < src.data.length; k++) {
        const idx = unravel(k, src.dims);
        const o = keep.reduce((s, d, j) => s + idx[d] * ost[j], 0);
        acc[o] = op(acc[o], src.data[k]);
      }
      return { dims, data: acc };
    }
    case "dot": {
      const [a, b] = args;
      const lc = i.attrs.lhs_contracting_dims as number[], rc = i.attrs.rhs_contracting_dims as number[];
      const lb = (i.attrs.lhs_batch_dims as number[]) ?? [], rb = (i.attrs.rhs_batch_dims as number[]) ?? [];
      const lf = a.dims.map((_, d) => d).filter((d) => !lc.includes(d) && !lb.includes(d));
      const rf = b.dims.map((_, d) => d).filter((d) => !rc.includes(d) && !rb.includes(d));
      const cdims = lc.map((d) => a.dims[d]);
      const sa = strides(a.dims), sb = strides(b.dims);
      return out((k) => {
        const idx = unravel(k, dims);
        let s = 0;
        for (let c = 0; c < numel(cdims); c++) {
          const ci = unravel(c, cdims);
          const ai = new Array<number>(a.dims.length), bi = new Array<number>(b.dims.length);
          lb.forEach((d, j) => { ai[d] = idx[j]; bi[rb[j]] = idx[j]; });
          lf.forEach((d, j) => (ai[d] = idx[lb.length + j]));
          rf.forEach((d, j) => (bi[d] = idx[lb.length + lf.length + j]));
          lc.forEach((d, j) => { ai[d] = ci[j]; bi[rc[j]] = ci[j]; });
          s += a.data[ai.reduce((t, x, j) => t + x * sa[j], 0)] * b.data[bi.reduce((t, x, j) => t + x * sb[j], 0)];
        }
        return s;
      });
    }
  }
  throw new Error(`eval: opcode ${i.opcode} is not supported by the reference interpreter`);
}

/** Runs a module on parameter values (in parameter-index order); returns its outputs. */
export function evalModule(m: HloModule, params: Tensor[]): Tensor[] {
  const vals = new Map<number, Tensor>();
  for (const i of m.instrs) {
    vals.set(i.id, i.opcode === "parameter" ? params[i.attrs.index as number] : evalInstr(i, i.operands.map((o) => vals.get(o)!)));
  }
  return m.outputs.map((o) => vals.get(o)!);
}
