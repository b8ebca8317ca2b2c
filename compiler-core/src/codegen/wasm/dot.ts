// WASM SIMD dot_general for float32, two micro-kernels chosen by K alone (so eager and
// compiled, which see the same shapes, always take the same one):
//
// K >= F32_MIN_K (64): emitDotF32 — operands staged as float32 (lhs [batch*M (+MR pad rows), K];
// rhs packed in column panels [batch, Np/NC, K, NC]), a 4x8 tile of f32x4 accumulators (8
// accumulators: every larger tile tried, 4x12, 3x16, 5x8, 6x8, 3x12, spilled in V8 and ran at
// half the speed; unrolling k by 2 or 4 was slower too). Products and sums in float32 within
// blocks of KB32 = 64 consecutive k, each block's sums promoted and added in float64, rounded
// once: error within (KB+1)·2^-24·Σ|a·b| per element (the property tests' bound is K·2^-24·Σ|a·b|).
// Measured (docs/NOTES.md, "JS vs WASM"): 1.8x the float64 kernel at 256^3 and 512^3 (~40
// GFlop/s), the f64 block sums cost nothing measurable.
//
// K < 64: the float64 kernel below — lhs staged as float64 [batch*M (+MR), K], rhs as float64
// panels [batch, Np/NC, K, NC] (NC = 2 NV); MR rows x NV f64x2 vectors, per k one splat of
// lhs[i+r, k] per row and NV loads of rhs; sums in float64 (products of float32 values are
// exact there), k ascending, rounded once. Kept for short sums because float32 products alone
// miss the NumPy fixtures' and the JS-agreement tests' 1e-6 tolerances there (rounding each
// product of magnitude ~8 costs ~3e-7, and a 9x6x10 case that cancels was off by 2e-6).
//
// Both: column panels are the outer loop within groups of rows (a K x NC strip of rhs stays in
// L1 while the group's row blocks pass over it; the group's lhs rows, ~192 KiB, stay in L2
// while every panel passes). Every row and column goes through the same code (the pads take
// the ragged edges), so an element's value does not depend on where it falls — eager and
// compiled agree bit for bit. Row blocks past a batch's last row compute garbage into the next
// batch's rows (rewritten when that batch runs) or into the pad rows.
import type { Eqn, Var } from "../../ir/types";
import { size } from "../../ir/types";
import { rowStrides } from "../js";
import type { Func } from "./module";
import { WasmUnsupported, type CopyIn, type Staging } from "./loop";

const tune = (typeof process !== "undefined" ? process.env?.JITLENS_WASM_DOT : undefined)?.split("x").map(Number);
export const MR = tune?.[0] ?? 4;
const tune32 = (typeof process !== "undefined" ? process.env?.JITLENS_WASM_DOT32 : undefined)?.split("x").map(Number);
/** f64x2 vectors per row of the tile (even: two of them make one f32x4 of C). */
export const NV = tune?.[1] ?? 2;
/** k per block (off by default: blocks of 256 were 1.6x slower at 512^3, measured; JITLENS_WASM_DOT=4x2xGxKC tunes). */
const KBLOCK = Number(tune?.[3] ?? 1e9);
/** lhs bytes per row group (float64 rows), sized for L2. */
const GROUP_BYTES = Number(tune?.[2] ?? 196608);


/**
 * A copy of `src` (seen through `perm`, row-major over the permuted shape) into staging at
 * element `dst`, rows of `rowLen` elements placed `rowStride` apart.
 */
function permutedCopy(shape: readonly number[], perm: number[], rowLen: number, rowStride: number, dst: number, f32 = false): (src: Float32Array, heap: Float32Array, heap64: Float64Array) => void {
  const identity = perm.every((d, i) => d === i);
  const total = size([...shape]);
  const pick = f32 ? (h32: Float32Array, _: Float64Array) => h32 : (_: Float32Array, h64: Float64Array) => h64;
  if (identity && rowLen === rowStride) return (src, h32, h64) => pick(h32, h64).set(src, dst);
  if (identity) {
    return (src, h32, h64) => {
      const heap = pick(h32, h64);
      for (let r = 0, s = 0, d = dst; s < total; r++, s += rowLen, d += rowStride) heap.set(src.subarray(s, s + rowLen), d);
    };
  }
  const ps = perm.map((d) => shape[d]);
  const ss = rowStrides(shape);
  const st = perm.map((d) => ss[d]);
  const R = ps.length;
  return (src, h32, h64) => {
    const heap = pick(h32, h64);
    const idx = new Array<number>(R).fill(0);
    let s = 0;
    for (let c = 0; c < total; c++) {
      heap[dst + Math.floor(c / rowLen) * rowStride + (c % rowLen)] = src[s];
      for (let d = R - 1; d >= 0; d--) {
        s += st[d];
        if (++idx[d] < ps[d]) break;
        s -= st[d] * ps[d];
        idx[d] = 0;
      }
    }
  };
}

/**
 * rhs (seen through `perm` as canonical [Bt, K, N]) into staging as float64 column panels:
 * element (t, k, n) at ((t*NP + n/NC)*K + k)*NC + n%NC, NP = Np/NC — each panel's K x NC strip
 * contiguous, so the micro-kernel walks it with a 16*NV-byte stride (a 4 KiB stride at N=512
 * touched a new page on every k).
 */
function packedRhsCopy(shape: readonly number[], perm: number[], Bt: number, K: number, N: number, NC: number, Np: number, dst: number, f32 = false): (src: Float32Array, heap: Float32Array, heap64: Float64Array) => void {
  const pick = f32 ? (h32: Float32Array, _: Float64Array) => h32 : (_: Float32Array, h64: Float64Array) => h64;
  const NP = Np / NC;
  const ps = perm.map((d) => shape[d]);
  const ss = rowStrides(shape);
  const st = perm.map((d) => ss[d]);
  const R = ps.length;
  const identity = perm.every((d, i) => d === i);
  const pstride = K * NC;
  if (identity) {
    return (src, h32, h64) => {
      const heap = pick(h32, h64);
      let s = 0;
      for (let t = 0; t < Bt; t++) {
        for (let k = 0; k < K; k++) {
          let d = dst + (t * NP * K + k) * NC;
          for (let n0 = 0; n0 < N; n0 += NC, d += pstride) {
            const e = Math.min(NC, N - n0);
            for (let q = 0; q < e; q++) heap[d + q] = src[s++];
          }
        }
      }
    };
  }
  return (src, h32, h64) => {
    const heap = pick(h32, h64);
    const idx = new Array<number>(R).fill(0);
    let s = 0;
    for (let t = 0; t < Bt; t++) {
      for (let k = 0; k < K; k++) {
        const base = dst + (t * NP * K + k) * NC;
        for (let n = 0; n < N; n++) {
          heap[base + Math.floor(n / NC) * pstride + (n % NC)] = src[s];
          for (let d = R - 1; d >= 0; d--) {
            s += st[d];
            if (++idx[d] < ps[d]) break;
            s -= st[d] * ps[d];
            idx[d] = 0;
          }
        }
      }
    }
  };
}

/** Matmuls with K at least this use the float32 micro-kernel (float32 sums within k blocks). */
export const F32_MIN_K = Number(tune32?.[3] ?? 64);
/** Float32 tile: MR32 rows x NV32 f32x4 vectors; k blocks of KB32 summed in float32, the blocks in float64. */
export const MR32 = tune32?.[0] ?? 4;
export const NV32 = tune32?.[1] ?? 2;
export const KB32 = tune32?.[2] ?? 64;

export interface DotLayout { ins: CopyIn[]; c: number; Np: number; rows: number; Bt: number; M: number; K: number; N: number }

/** Emits the matmul into `f`; returns where C lies. Throws WasmUnsupported. */
export function emitDot(f: Func, st: Staging, e: Eqn, argOf: (v: Var) => number): DotLayout {
  const { dimension_numbers } = e.params as { dimension_numbers: [[number[], number[]], [number[], number[]]] };
  const [[ca, cb], [ba, bb]] = dimension_numbers;
  const [lhs, rhs] = e.inputs;
  if (lhs.kind !== "var" || rhs.kind !== "var") throw new WasmUnsupported("a literal matmul operand");
  if (lhs.aval.dtype !== "f32" || rhs.aval.dtype !== "f32" || e.outputs[0].aval.dtype !== "f32") throw new WasmUnsupported("a matmul not in float32");
  const as = lhs.aval.shape, bs = rhs.aval.shape;
  const freeA = as.map((_, i) => i).filter((i) => !ca.includes(i) && !ba.includes(i));
  const freeB = bs.map((_, i) => i).filter((i) => !cb.includes(i) && !bb.includes(i));
  const Bt = size(ba.map((d) => as[d]));
  const M = size(freeA.map((d) => as[d]));
  const K = size(ca.map((d) => as[d]));
  const N = size(freeB.map((d) => bs[d]));
  if (Bt * M * N === 0 || K === 0) throw new WasmUnsupported("an empty matmul");
  const pa = [...ba, ...freeA, ...ca], pb = [...bb, ...cb, ...freeB];
  if (K >= F32_MIN_K) return emitDotF32(f, st, { Bt, M, K, N, as, bs, pa, pb, lhsArg: argOf(lhs), rhsArg: argOf(rhs) });
  const NC = 2 * NV;
  const Np = Math.ceil(N / NC) * NC;
  const rows = Bt * M + MR;
  const aOff = st.alloc(rows * K * 8);
  const bOff = st.alloc(Bt * K * Np * 8);
  const cOff = st.alloc(rows * Np * 4);
  const ins: CopyIn[] = [
    { arg: argOf(lhs), offset: aOff, count: size(as), copy: permutedCopy(as, pa, K, K, aOff / 8), note: `lhs as float64 [${Bt * M},${K}], dims (${pa})` },
    { arg: argOf(rhs), offset: bOff, count: size(bs), copy: packedRhsCopy(bs, pb, Bt, K, N, NC, Np, bOff / 8), note: `rhs as float64 panels [${Bt},${Np / NC},${K},${NC}], dims (${pb})` },
  ];

  f.comment(`matmul: ${Bt > 1 ? `${Bt} x ` : ""}[${M},${K}] x [${K},${N}] (columns padded to ${Np}), ${MR}x${NC} register tile of f64x2, float64 accumulation`);
  const t = f.local("i32", "t"), jp = f.local("i32", "jp"), i = f.local("i32", "i");
  const ap = f.local("i32", "ap"), bp = f.local("i32", "bp"), aEnd = f.local("i32", "a_end"), cp = f.local("i32", "cp");
  const acc: number[][] = [];
  for (let r = 0; r < MR; r++) acc.push(Array.from({ length: NV }, (_, v) => f.local("v128", `acc${r}_${v}`)));
  const bv = Array.from({ length: NV }, (_, v) => f.local("v128", `b${v}`));
  const av = f.local("v128", "a");
  // Row groups of G rows: their lhs rows (G*K float64) stay in L2 while every panel passes.
  const G = Math.max(MR, Math.floor(Math.min(M, Math.max(MR, GROUP_BYTES / (K * 8))) / MR) * MR);
  const g = f.local("i32", "g"), gEnd = f.local("i32", "g_end");
  // K blocks of KC: a KC x 2NV strip of rhs and MR x KC of lhs stay in L1 together; partial
  // sums of a block wait in a float64 copy of C (stored and reloaded exactly, so the sum of
  // each element is still one float64 sum in k order).
  const KC = Math.min(K, KBLOCK);
  const blocked = KC < K;
  const accOff = blocked ? st.alloc(rows * Np * 8) : 0;
  const kb = f.local("i32", "kb"), pp = f.local("i32", "pp");
  f.i32(0).set(t);
  f.loop("batch");
  f.i32(0).set(g);
  f.loop("group");
  f.get(g).i32(G).op("i32.add").tee(gEnd).i32(M).op("i32.gt_u");
  f.if_("clip").i32(M).set(gEnd).end();
  f.i32(0).set(jp);
  f.loop("panel");
  f.i32(0).set(kb);
  f.loop("kblock");
  f.get(g).set(i);
  f.loop("rows");
  if (blocked) {
    // pp: byte address of the float64 partial C[t*M + i, jp]
    f.get(t).i32(M).op("i32.mul").get(i).op("i32.add").i32(Np * 8).op("i32.mul").get(jp).i32(8).op("i32.mul").op("i32.add").set(pp);
    f.get(kb).op("i32.eqz");
    f.if_("first");
    for (const row of acc) for (const a of row) f.i32x4(0).set(a);
    f.else_();
    for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) f.get(pp).mem("v128.load", accOff + (r * Np + 2 * v) * 8).set(acc[r][v]);
    f.end();
  } else for (const row of acc) for (const a of row) f.i32x4(0).set(a);
  // ap: byte address of lhs[t*M + i, kb]; bp: of rhs panel jp/NC of batch t, row kb
  f.get(t).i32(M).op("i32.mul").get(i).op("i32.add").i32(K * 8).op("i32.mul").get(kb).i32(8).op("i32.mul").op("i32.add").tee(ap);
  // + min(KC, K - kb) * 8
  f.i32(KC * 8).i32(K).get(kb).op("i32.sub").i32(8).op("i32.mul").get(kb).i32(KC).op("i32.add").i32(K).op("i32.le_u").op("select");
  f.op("i32.add").set(aEnd);
  f.get(t).i32(K * Np * 8).op("i32.mul").get(kb).i32(NC * 8).op("i32.mul").op("i32.add").get(jp).i32(K * 8).op("i32.mul").op("i32.add").set(bp);
  f.loop("k");
  for (let v = 0; v < NV; v++) f.get(bp).mem("v128.load", bOff + 16 * v).set(bv[v]);
  for (let r = 0; r < MR; r++) {
    f.get(ap).mem("v128.load64_splat", aOff + r * K * 8).set(av);
    for (let v = 0; v < NV; v++) f.get(acc[r][v]).get(av).get(bv[v]).op("f64x2.mul").op("f64x2.add").set(acc[r][v]);
  }
  f.get(bp).i32(NC * 8).op("i32.add").set(bp);
  f.get(ap).i32(8).op("i32.add").tee(ap).get(aEnd).op("i32.lt_u").brIf("k");
  f.end();
  const storeC = () => {
    // C[t*M + i + r, jp + 2v], rounded to float32 two vectors at a time
    f.get(t).i32(M).op("i32.mul").get(i).op("i32.add").i32(Np * 4).op("i32.mul").get(jp).i32(4).op("i32.mul").op("i32.add").set(cp);
    for (let r = 0; r < MR; r++) {
      for (let v = 0; v < NV; v += 2) {
        f.get(cp).get(acc[r][v]).op("f32x4.demote_f64x2_zero").get(acc[r][v + 1]).op("f32x4.demote_f64x2_zero");
        f.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).mem("v128.store", cOff + (r * Np + 2 * v) * 4);
      }
    }
  };
  if (blocked) {
    f.get(kb).i32(KC).op("i32.add").i32(K).op("i32.ge_u");
    f.if_("done");
    storeC();
    f.else_();
    for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) f.get(pp).get(acc[r][v]).mem("v128.store", accOff + (r * Np + 2 * v) * 8);
    f.end();
  } else storeC();
  f.get(i).i32(MR).op("i32.add").tee(i).get(gEnd).op("i32.lt_u").brIf("rows");
  f.end();
  f.get(kb).i32(KC).op("i32.add").tee(kb).i32(K).op("i32.lt_u").brIf("kblock");
  f.end();
  f.get(jp).i32(NC).op("i32.add").tee(jp).i32(Np).op("i32.lt_u").brIf("panel");
  f.end();
  f.get(gEnd).tee(g).i32(M).op("i32.lt_u").brIf("group");
  f.end();
  f.get(t).i32(1).op("i32.add").tee(t).i32(Bt).op("i32.lt_u").brIf("batch");
  f.end();
  return { ins, c: cOff, Np, rows, Bt, M, K, N };
}

interface DotDims { Bt: number; M: number; K: number; N: number; as: readonly number[]; bs: readonly number[]; pa: number[]; pb: number[]; lhsArg: number; rhsArg: number }

/**
 * The float32 micro-kernel (K >= F32_MIN_K): operands staged as float32 (lhs [batch*M (+MR
 * pad rows), K], rhs in column panels [batch, Np/NC, K, NC]); an MR x NC tile of f32x4
 * accumulators, per k one splat of lhs[i+r, k] per row and NV loads of rhs. The products and
 * sums of each block of KB consecutive k are float32 (in k order); each block's sums are
 * promoted and added in float64 (a tile of float64 partials in staging), block after block,
 * and the total rounded once. So an element's value depends on K and KB only, not on the
 * tile, the row group or the batch — eager and compiled agree bit for bit.
 */
function emitDotF32(f: Func, st: Staging, d: DotDims): DotLayout {
  const { Bt, M, K, N, as, bs, pa, pb } = d;
  const MR = MR32, NV = NV32, NC = 4 * NV, KB = KB32;
  const Np = Math.ceil(N / NC) * NC;
  const rows = Bt * M + MR;
  const aOff = st.alloc(rows * K * 4);
  const bOff = st.alloc(Bt * K * Np * 4);
  const cOff = st.alloc(rows * Np * 4);
  const blocked = K > KB;
  const sOff = blocked ? st.alloc(MR * NC * 8) : 0;
  const ins: CopyIn[] = [
    { arg: d.lhsArg, offset: aOff, count: size(as), copy: permutedCopy(as, pa, K, K, aOff / 4, true), note: `lhs as float32 [${Bt * M},${K}], dims (${pa})` },
    { arg: d.rhsArg, offset: bOff, count: size(bs), copy: packedRhsCopy(bs, pb, Bt, K, N, NC, Np, bOff / 4, true), note: `rhs as float32 panels [${Bt},${Np / NC},${K},${NC}], dims (${pb})` },
  ];
  f.comment(`matmul: ${Bt > 1 ? `${Bt} x ` : ""}[${M},${K}] x [${K},${N}] (columns padded to ${Np}), ${MR}x${NC} register tile of f32x4, float32 sums over blocks of ${KB} k, blocks summed in float64`);
  const t = f.local("i32", "t"), jp = f.local("i32", "jp"), i = f.local("i32", "i");
  const ap = f.local("i32", "ap"), bp = f.local("i32", "bp"), aEnd = f.local("i32", "a_end"), kEnd = f.local("i32", "k_end"), cp = f.local("i32", "cp");
  const acc: number[][] = [];
  for (let r = 0; r < MR; r++) acc.push(Array.from({ length: NV }, (_, v) => f.local("v128", `acc${r}_${v}`)));
  const bv = Array.from({ length: NV }, (_, v) => f.local("v128", `b${v}`));
  const av = f.local("v128", "a");
  const G = Math.max(MR, Math.floor(Math.min(M, Math.max(MR, GROUP_BYTES / (K * 4))) / MR) * MR);
  const g = f.local("i32", "g"), gEnd = f.local("i32", "g_end");
  const HI = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  f.i32(0).set(t);
  f.loop("batch");
  f.i32(0).set(g);
  f.loop("group");
  f.get(g).i32(G).op("i32.add").tee(gEnd).i32(M).op("i32.gt_u");
  f.if_("clip").i32(M).set(gEnd).end();
  f.i32(0).set(jp);
  f.loop("panel");
  f.get(g).set(i);
  f.loop("rows");
  if (blocked) for (let q = 0; q < MR * NC / 2; q++) f.i32(0).i32x4(0).mem("v128.store", sOff + 16 * q);
  // ap: byte address of lhs[t*M + i, 0]; a_end: of its row's end; bp: of rhs panel jp/NC of batch t, row 0
  f.get(t).i32(M).op("i32.mul").get(i).op("i32.add").i32(K * 4).op("i32.mul").tee(ap).i32(K * 4).op("i32.add").set(aEnd);
  f.get(t).i32(K * Np * 4).op("i32.mul").get(jp).i32(K * 4).op("i32.mul").op("i32.add").set(bp);
  f.loop("kblock");
  for (const row of acc) for (const a of row) f.i32x4(0).set(a);
  if (blocked) {
    // k_end = min(ap + KB*4, a_end)
    f.get(ap).i32(KB * 4).op("i32.add").tee(kEnd).get(aEnd).get(kEnd).get(aEnd).op("i32.lt_u").op("select").set(kEnd);
  } else f.get(aEnd).set(kEnd);
  f.loop("k");
  for (let v = 0; v < NV; v++) f.get(bp).mem("v128.load", bOff + 16 * v).set(bv[v]);
  for (let r = 0; r < MR; r++) {
    f.get(ap).mem("v128.load32_splat", aOff + r * K * 4).set(av);
    for (let v = 0; v < NV; v++) f.get(acc[r][v]).get(av).get(bv[v]).op("f32x4.mul").op("f32x4.add").set(acc[r][v]);
  }
  f.get(bp).i32(NC * 4).op("i32.add").set(bp);
  f.get(ap).i32(4).op("i32.add").tee(ap).get(kEnd).op("i32.lt_u").brIf("k");
  f.end();
  if (blocked) {
    // the block's float32 sums, promoted, into the float64 partials
    for (let r = 0; r < MR; r++) {
      for (let v = 0; v < NV; v++) {
        const o = sOff + (r * NC + 4 * v) * 8;
        f.i32(0).i32(0).mem("v128.load", o).get(acc[r][v]).op("f64x2.promote_low_f32x4").op("f64x2.add").mem("v128.store", o);
        f.i32(0).i32(0).mem("v128.load", o + 16).get(acc[r][v]).get(acc[r][v]).shuffle(HI).op("f64x2.promote_low_f32x4").op("f64x2.add").mem("v128.store", o + 16);
      }
    }
    f.get(ap).get(aEnd).op("i32.lt_u").brIf("kblock");
  }
  f.end();
  // C[t*M + i + r, jp + 4v]
  f.get(t).i32(M).op("i32.mul").get(i).op("i32.add").i32(Np * 4).op("i32.mul").get(jp).i32(4).op("i32.mul").op("i32.add").set(cp);
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) {
      f.get(cp);
      if (blocked) {
        const o = sOff + (r * NC + 4 * v) * 8;
        f.i32(0).mem("v128.load", o).op("f32x4.demote_f64x2_zero").i32(0).mem("v128.load", o + 16).op("f32x4.demote_f64x2_zero");
        f.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
      } else f.get(acc[r][v]);
      f.mem("v128.store", cOff + (r * Np + 4 * v) * 4);
    }
  }
  f.get(i).i32(MR).op("i32.add").tee(i).get(gEnd).op("i32.lt_u").brIf("rows");
  f.end();
  f.get(jp).i32(NC).op("i32.add").tee(jp).i32(Np).op("i32.lt_u").brIf("panel");
  f.end();
  f.get(gEnd).tee(g).i32(M).op("i32.lt_u").brIf("group");
  f.end();
  f.get(t).i32(1).op("i32.add").tee(t).i32(Bt).op("i32.lt_u").brIf("batch");
  f.end();
  return { ins, c: cOff, Np, rows, Bt, M, K, N };
}
