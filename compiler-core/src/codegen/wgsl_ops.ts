// WGSL for the equations that are not elementwise loops: reductions (a workgroup tree per
// output element), argmax/argmin and cumulative ops (a thread per row), dot_general (16x16
// tiles through workgroup memory, batch dims on z), and data movement (transpose, slice, pad,
// concatenate, split, rev, iota, reshape copies, dynamic_slice, dynamic_update_slice, gather:
// one grid-stride thread per output element that computes where its value comes from), and
// scatter (a parallel copy of the operand, then the updates applied in index order by one
// invocation, so duplicate indices combine exactly as on the CPU). Every extent and stride is a
// constant in the text, so equal equations share one pipeline.
//
// Numerics: float reductions and dot products accumulate in float32 (the CPU backend uses
// float64 and rounds once; the difference is within float32 tolerance for these sizes).
// NaN propagates through max/min; argmax/argmin take the first NaN, else the first extreme.
import type { Params } from "../ir/primitives";
import type { Atom, DType, Eqn, Var } from "../ir/types";
import { size } from "../ir/types";
import { helperCode } from "./wgsl_math";
import { rowStrides } from "./js";
import type { WgslEpilogue } from "./wgsl_row";
import {
  bindings, constText, convertValue, gridSize, litText, storageType, wgslIdent, WgslUnsupported,
  type WgslKernel, type WgslOptions,
} from "./wgsl";

export interface WgslOpSpec {
  eqn: Eqn;
  /** The vars among eqn.inputs, each once, in binding order. */
  inputs: readonly Var[];
  /** The outputs written (a subset for split). */
  outputs: readonly Var[];
  name: (v: Var) => string;
  /** dot_general only: an elementwise epilogue applied to each output element before it is
   *  written (its buffer names are the kernel's; the dot's output is written only if it is among
   *  the epilogue's outputs). */
  epilogue?: WgslEpilogue;
}

const prod = (xs: readonly number[]): number => xs.reduce((p, d) => p * d, 1);
type Get<P extends keyof Params> = Params[P];

/** Expressions of the coordinates of flat index `i` over `shape` (row-major). */
function coords(shape: readonly number[], i: string): string[] {
  const st = rowStrides(shape);
  return shape.map((n, d) => {
    if (n === 1) return "0u";
    const q = st[d] === 1 ? i : `(${i} / ${st[d]}u)`;
    return d === 0 ? q : `(${q} % ${n}u)`;
  });
}

/** sum_d c[d] * strides[d] as WGSL u32 text. */
function linear(cs: readonly string[], strides: readonly number[], base = 0): string {
  const terms: string[] = [];
  if (base) terms.push(`${base}u`);
  cs.forEach((c, d) => {
    if (strides[d] === 0 || c === "0u") return;
    terms.push(strides[d] === 1 ? c : `${c} * ${strides[d]}u`);
  });
  return terms.join(" + ") || "0u";
}

interface Ctx {
  helpers: Set<string>;
  /** Buffer of operand k (a literal operand has no buffer). */
  buf: (k: number) => string;
  /** Value of scalar operand k. */
  scalar: (k: number) => string;
  out: (j?: number) => string | undefined;
  epilogue?: WgslEpilogue;
  opts: WgslOptions;
  wg: number;
}

/** A grid-stride kernel over `n` elements; `body` is the loop body (uses `i`). */
function gridKernel(c: Ctx, n: number, body: string[], entry = "main", prelude: string[] = []): { text: string; dispatch: WgslKernel["dispatches"][number] | null } {
  const text = [
    `@compute @workgroup_size(${c.wg})`,
    `fn ${entry}(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {`,
    ...prelude.map((l) => `  ${l}`),
    `  for (var i = gid.x; i < ${n}u; i = i + nwg.x * ${c.wg}u) {`,
    ...body.map((l) => `    ${l}`),
    "  }",
    "}",
  ].join("\n");
  return { text, dispatch: n === 0 ? null : { entry, workgroups: [gridSize(n, c.wg, c.opts), 1, 1] } };
}

/** Generate the kernel of one non-elementwise equation. Throws WgslUnsupported when it cannot. */
export function generateWgslOp(spec: WgslOpSpec, opts: WgslOptions = {}): WgslKernel {
  const e = spec.eqn;
  const helpers = new Set<string>();
  const used = new Set<string>();
  const unique = (stem: string): string => {
    let n = stem;
    for (let k = 1; used.has(n); k++) n = `${stem}_${k}`;
    used.add(n);
    return n;
  };
  const inName = new Map<number, string>();
  const outName = new Map<number, string>();
  const ep = spec.epilogue;
  if (ep) {
    if (e.prim !== "dot_general") throw new Error(`${e.prim}: only dot_general takes an epilogue`);
    for (const v of spec.inputs) { const n = ep.inBuf.get(v.id); if (!n) throw new Error("epilogue: an input without a buffer name"); inName.set(v.id, n); used.add(n); }
    for (const v of spec.outputs) { const n = ep.outBuf.get(v.id); if (!n) throw new Error("epilogue: an output without a buffer name"); outName.set(v.id, n); used.add(n); }
    for (const h of ep.helpers) helpers.add(h);
  } else {
    for (const v of spec.inputs) inName.set(v.id, unique(`in_${wgslIdent(spec.name(v))}`));
    for (const v of spec.outputs) outName.set(v.id, unique(`out_${wgslIdent(spec.name(v))}`));
  }
  for (const a of [...e.inputs, ...e.outputs]) {
    if (a.aval.dtype === "f64") throw new WgslUnsupported("float64 has no WGSL type");
  }
  const ctx: Ctx = {
    helpers,
    buf: (k) => {
      const a = e.inputs[k];
      if (a.kind !== "var") throw new WgslUnsupported(`${e.prim}: a literal operand ${k} where an array is needed`);
      const n = inName.get(a.id);
      if (!n) throw new Error(`${e.prim}: operand ${k} is not among the kernel's inputs`);
      return n;
    },
    scalar: (k) => {
      const a = e.inputs[k];
      return a.kind === "lit" ? litText(a, helpers) : `${ctx.buf(k)}[0]`;
    },
    out: (j = 0) => outName.get(e.outputs[j].id),
    epilogue: ep,
    opts,
    wg: Math.min(opts.workgroupSize ?? 256, 256),
  };
  const g = genOp(e, ctx);
  const code = [
    helperCode([...helpers, ...(ep?.helpers ?? [])]),
    bindings(
      spec.inputs.map((v) => ({ name: inName.get(v.id)!, dtype: v.aval.dtype })),
      spec.outputs.map((v) => ({ name: outName.get(v.id)!, dtype: v.aval.dtype })),
      (g.scratch ?? []).map((s) => ({ name: s.name, type: s.type })),
    ),
    ...(g.decls ?? []),
    g.text,
  ].filter(Boolean).join("\n\n") + "\n";
  return {
    code,
    inputs: [...spec.inputs],
    outputs: [...spec.outputs],
    scratch: (g.scratch ?? []).map((s) => s.bytes),
    dispatches: g.dispatches,
  };
}

interface Gen {
  text: string;
  decls?: string[];
  dispatches: WgslKernel["dispatches"];
  scratch?: { name: string; type: string; bytes: number }[];
}

function single(k: { text: string; dispatch: WgslKernel["dispatches"][number] | null }): Gen {
  return { text: k.text, dispatches: k.dispatch ? [k.dispatch] : [] };
}

function genOp(e: Eqn, c: Ctx): Gen {
  const x = e.inputs[0] as Atom | undefined;
  const xs = x ? x.aval.shape : [];
  const o = e.outputs[0];
  const os = o.aval.shape;
  const dt = o.aval.dtype;
  const n = size(os);
  const out0 = (): string => {
    const name = c.out(0);
    if (!name) throw new Error(`${e.prim}: output not written`);
    return name;
  };
  switch (e.prim) {
    case "reshape": case "squeeze":
      return single(gridKernel(c, n, [`${out0()}[i] = ${c.buf(0)}[i];`]));
    case "transpose": {
      const { permutation } = e.params as Get<"transpose">;
      const is = rowStrides(xs);
      const cs = coords(os, "i");
      return single(gridKernel(c, n, [`${out0()}[i] = ${c.buf(0)}[${linear(cs, permutation.map((d) => is[d]))}];`]));
    }
    case "slice": {
      const p = e.params as Get<"slice">;
      const is = rowStrides(xs);
      const st = p.strides ?? xs.map(() => 1);
      const base = p.start_indices.reduce((t, s, d) => t + s * is[d], 0);
      const cs = coords(os, "i");
      return single(gridKernel(c, n, [`${out0()}[i] = ${c.buf(0)}[${linear(cs, is.map((s, d) => s * st[d]), base)}];`]));
    }
    case "rev": {
      const { dimensions } = e.params as Get<"rev">;
      const cs = coords(os, "i").map((cc, d) => (dimensions.includes(d) && xs[d] > 1 ? `(${xs[d] - 1}u - ${cc})` : cc));
      return single(gridKernel(c, n, [`${out0()}[i] = ${c.buf(0)}[${linear(cs, rowStrides(xs))}];`]));
    }
    case "concatenate": {
      const { dimension } = e.params as Get<"concatenate">;
      const cs = coords(os, "i");
      const body: string[] = [`let cd = ${cs[dimension]};`];
      let at = 0;
      const parts: string[] = [];
      e.inputs.forEach((a, k) => {
        const sh = a.aval.shape;
        const idx = linear(cs.map((cc, d) => (d === dimension ? `(cd - ${at}u)` : cc)), rowStrides(sh));
        const val = a.kind === "lit" ? litText(a, c.helpers) : `${c.buf(k)}[${idx}]`;
        if (sh[dimension] > 0) parts.push(`${parts.length ? "} else " : ""}if (cd < ${at + sh[dimension]}u) { ${out0()}[i] = ${val}; `);
        at += sh[dimension];
      });
      body.push(parts.join("") + "}");
      return single(gridKernel(c, n, body));
    }
    case "split": {
      const { sizes, axis } = e.params as Get<"split">;
      const cs = coords(xs, "i");
      const body: string[] = [`let ca = ${cs[axis]};`];
      let at = 0;
      const parts: string[] = [];
      sizes.forEach((m, j) => {
        const dst = c.out(j);
        const sh = e.outputs[j].aval.shape;
        if (dst && m > 0) {
          const idx = linear(cs.map((cc, d) => (d === axis ? `(ca - ${at}u)` : cc)), rowStrides(sh));
          parts.push(`if (ca >= ${at}u && ca < ${at + m}u) { ${dst}[${idx}] = ${c.buf(0)}[i]; }`);
        }
        at += m;
      });
      body.push(...parts);
      return single(gridKernel(c, size(xs), body));
    }
    case "pad": {
      const { padding_config } = e.params as Get<"pad">;
      const cs = coords(os, "i");
      const is = rowStrides(xs);
      const body: string[] = ["var ok = true;", "var src = 0u;"];
      xs.forEach((m, d) => {
        const [lo, , interior] = padding_config[d];
        const step = interior + 1;
        body.push(`{ let t = i32(${cs[d]}) - (${lo}); let q = t / ${step}; if (t < 0 || t % ${step} != 0 || q >= ${m}) { ok = false; } else { src = src + u32(q) * ${is[d]}u; } }`);
      });
      const pv = c.scalar(1);
      body.push(`if (ok) { ${out0()}[i] = ${c.buf(0)}[src]; } else { ${out0()}[i] = ${pv}; }`);
      return single(gridKernel(c, n, body));
    }
    case "iota": {
      const p = e.params as Get<"iota">;
      const cs = coords(p.shape, "i");
      const m = cs[p.dimension];
      const v = dt === "bool" ? `select(0u, 1u, ${m} != 0u)` : dt === "i32" ? `i32(${m})` : `f32(${m})`;
      return single(gridKernel(c, n, [`${out0()}[i] = ${v};`]));
    }
    case "dynamic_slice": {
      const { slice_sizes } = e.params as Get<"dynamic_slice">;
      const is = rowStrides(xs);
      const prelude = xs.map((m, d) => `let s${d} = u32(clamp(${c.scalar(1 + d)}, 0, ${Math.max(0, m - slice_sizes[d])}));`);
      const cs = coords(os, "i").map((cc, d) => `(${cc} + s${d})`);
      return single(gridKernel(c, n, [`${out0()}[i] = ${c.buf(0)}[${linear(cs, is)}];`], "main", prelude));
    }
    case "dynamic_update_slice": {
      const us = e.inputs[1].aval.shape;
      const prelude = xs.map((m, d) => `let s${d} = u32(clamp(${c.scalar(2 + d)}, 0, ${Math.max(0, m - us[d])}));`);
      const cs = coords(os, "i");
      const inside = xs.map((_, d) => `${cs[d]} >= s${d} && ${cs[d]} < s${d} + ${us[d]}u`).join(" && ") || "true";
      const uidx = linear(cs.map((cc, d) => `(${cc} - s${d})`), rowStrides(us));
      const upd = e.inputs[1].kind === "lit" ? litText(e.inputs[1], c.helpers) : `${c.buf(1)}[${uidx}]`;
      return single(gridKernel(c, n, [`if (${inside}) { ${out0()}[i] = ${upd}; } else { ${out0()}[i] = ${c.buf(0)}[i]; }`], "main", prelude));
    }
    case "reduce_sum": case "reduce_max": case "reduce_min": case "reduce_prod": case "reduce_and": case "reduce_or":
      return genReduce(e, c, out0());
    case "argmax": case "argmin":
      return genArg(e, c, out0());
    case "cumsum": case "cumprod": case "cummax": case "cummin":
      return genCum(e, c, out0());
    case "dot_general":
      return genDot(e, c, c.epilogue ? "" : out0());
    case "gather":
      return genGather(e, c, out0());
    case "scatter": case "scatter-add": case "scatter-mul":
      return genScatter(e, c, out0());
  }
  throw new WgslUnsupported(`the WebGPU backend has no kernel for ${e.prim}`);
}

export interface Monoid { init: string; op: (a: string, b: string) => string }

export function monoid(prim: string, dt: DType, helpers: Set<string>): Monoid {
  const or: Monoid = { init: "0u", op: (a, b) => `(${a} | ${b})` };
  const and: Monoid = { init: dt === "i32" ? "-1" : "1u", op: (a, b) => `(${a} & ${b})` };
  const f = dt === "f32";
  const fn = (name: string): Monoid["op"] => (a, b) => { helpers.add(name); return `${name}(${a}, ${b})`; };
  switch (prim) {
    case "reduce_sum": case "cumsum":
      if (dt === "bool") return or;
      return { init: f ? "0.0" : "0", op: (a, b) => `(${a} + ${b})` };
    case "reduce_prod": case "cumprod":
      if (dt === "bool") return and;
      return { init: f ? "1.0" : "1", op: (a, b) => `(${a} * ${b})` };
    case "reduce_max": case "cummax":
      if (dt === "bool") return or;
      if (f) { helpers.add("jl_consts"); return { init: "(-jl_inf())", op: fn("jl_max") }; }
      return { init: "(i32(-2147483647) - 1)", op: (a, b) => `max(${a}, ${b})` };
    case "reduce_min": case "cummin":
      if (dt === "bool") return and;
      if (f) { helpers.add("jl_consts"); return { init: "jl_inf()", op: fn("jl_min") }; }
      return { init: "2147483647", op: (a, b) => `min(${a}, ${b})` };
    case "reduce_and": if (!f) return and; break;
    case "reduce_or": if (!f) return or; break;
  }
  throw new WgslUnsupported(`the WebGPU backend has no ${prim} for ${dt}`);
}

function genReduce(e: Eqn, c: Ctx, dst: string): Gen {
  const { axes } = e.params as Get<"reduce_sum">;
  const xs = e.inputs[0].aval.shape;
  const os = e.outputs[0].aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const m = monoid(e.prim, dt, c.helpers);
  const T = storageType(dt);
  const nOut = size(os);
  const is = rowStrides(xs);
  const kept = xs.map((_, d) => d).filter((d) => !axes.includes(d));
  const red = axes.filter((d) => xs[d] !== 1);
  const R = prod(red.map((d) => xs[d]));
  const src = c.buf(0);
  const baseOf = (o: string) => linear(coords(kept.map((d) => xs[d]), o), kept.map((d) => is[d]));
  const redOf = (r: string) => linear(coords(red.map((d) => xs[d]), r), red.map((d) => is[d]));
  if (nOut === 0) return { text: "@compute @workgroup_size(1) fn main() {}", dispatches: [] };
  if (R <= 64) {
    // Short rows: one thread per output element.
    const body = [`let base = ${baseOf("i")};`, `var acc: ${T} = ${m.init};`];
    if (R > 0) body.push(`for (var r = 0u; r < ${R}u; r = r + 1u) { acc = ${m.op("acc", `${src}[base + ${redOf("r")}]`)}; }`);
    body.push(`${dst}[i] = acc;`);
    return single(gridKernel(c, nOut, body));
  }
  const wg = c.wg;
  if (R >= 65536 && nOut <= 64) {
    // Few, very long rows: two passes. Pass 1 gives each of P workgroups per output a chunk of
    // the row (strided partials, then a tree) into scratch; pass 2 reduces the P partials.
    const P = Math.min(256, Math.ceil(R / 16384));
    const chunk = Math.ceil(R / P);
    const tree = (arr: string) => [
      `  part[t] = acc;`,
      `  workgroupBarrier();`,
      `  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
      `    if (t < s) { part[t] = ${m.op("part[t]", "part[t + s]")}; }`,
      `    workgroupBarrier();`,
      `  }`,
      `  if (t == 0u) { ${arr} = part[0]; }`,
    ];
    const text = [
      `var<workgroup> part: array<${T}, ${wg}>;`,
      `@compute @workgroup_size(${wg})`,
      `fn partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {`,
      `  let o = wid.y;`,
      `  let base = ${baseOf("o")};`,
      `  let lo = wid.x * ${chunk}u;`,
      `  let hi = min(lo + ${chunk}u, ${R}u);`,
      `  var acc: ${T} = ${m.init};`,
      `  for (var r = lo + t; r < hi; r = r + ${wg}u) { acc = ${m.op("acc", `${src}[base + ${redOf("r")}]`)}; }`,
      ...tree(`scratch[o * ${P}u + wid.x]`),
      `}`,
      "",
      `@compute @workgroup_size(${wg})`,
      `fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {`,
      `  let o = wid.x;`,
      `  var acc: ${T} = ${m.init};`,
      `  for (var p = t; p < ${P}u; p = p + ${wg}u) { acc = ${m.op("acc", `scratch[o * ${P}u + p]`)}; }`,
      ...tree(`${dst}[o]`),
      `}`,
    ].join("\n");
    return {
      text,
      scratch: [{ name: "scratch", type: T, bytes: nOut * P * 4 }],
      dispatches: [{ entry: "partials", workgroups: [P, nOut, 1] }, { entry: "combine", workgroups: [nOut, 1, 1] }],
    };
  }
  // Long rows: one workgroup per output element, a strided partial per thread, then a tree.
  const maxDim = c.opts.maxPerDimension ?? 65535;
  const gx = Math.min(nOut, maxDim);
  const gy = Math.ceil(nOut / gx);
  if (gy > maxDim) throw new WgslUnsupported(`reduction with ${nOut} outputs exceeds the workgroup grid`);
  const text = [
    `var<workgroup> part: array<${T}, ${wg}>;`,
    `@compute @workgroup_size(${wg})`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {`,
    `  let o = wid.x + wid.y * ${gx}u;`,
    `  if (o >= ${nOut}u) { return; }`,
    `  let base = ${baseOf("o")};`,
    `  var acc: ${T} = ${m.init};`,
    `  for (var r = t; r < ${R}u; r = r + ${wg}u) { acc = ${m.op("acc", `${src}[base + ${redOf("r")}]`)}; }`,
    `  part[t] = acc;`,
    `  workgroupBarrier();`,
    `  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
    `    if (t < s) { part[t] = ${m.op("part[t]", "part[t + s]")}; }`,
    `    workgroupBarrier();`,
    `  }`,
    `  if (t == 0u) { ${dst}[o] = part[0]; }`,
    `}`,
  ].join("\n");
  return { text, dispatches: [{ entry: "main", workgroups: [gx, gy, 1] }] };
}

function genArg(e: Eqn, c: Ctx, dst: string): Gen {
  const { axes } = e.params as Get<"argmax">;
  const xs = e.inputs[0].aval.shape;
  const ax = axes[0];
  const A = prod(xs.slice(0, ax)), N = xs[ax], B = prod(xs.slice(ax + 1));
  const src = c.buf(0);
  const cmp = e.prim === "argmax" ? ">" : "<";
  const fl = e.inputs[0].aval.dtype === "f32";
  if (fl) c.helpers.add("jl_isnan");
  const better = fl ? `((v ${cmp} best) && !jl_isnan(best)) || (jl_isnan(v) && !jl_isnan(best))` : `v ${cmp} best`;
  const odt = e.outputs[0].aval.dtype;
  const body = [
    `let q = i / ${B}u;`,
    `let b = i % ${B}u;`,
    `let base = q * ${N * B}u + b;`,
    `var best = ${src}[base];`,
    `var at = 0u;`,
    `for (var k = 1u; k < ${N}u; k = k + 1u) { let v = ${src}[base + k * ${B}u]; if (${better}) { best = v; at = k; } }`,
    `${dst}[i] = ${odt === "i32" ? "i32(at)" : odt === "f32" ? "f32(at)" : "select(0u, 1u, at != 0u)"};`,
  ];
  if (N === 0) throw new WgslUnsupported(`${e.prim} over an empty axis`);
  return single(gridKernel(c, A * B, body));
}

function genCum(e: Eqn, c: Ctx, dst: string): Gen {
  const { axis, reverse } = e.params as Get<"cumsum">;
  const xs = e.inputs[0].aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const m = monoid(e.prim, dt, c.helpers);
  const A = prod(xs.slice(0, axis)), N = xs[axis], B = prod(xs.slice(axis + 1));
  const src = c.buf(0);
  const body = [
    `let base = (i / ${B}u) * ${N * B}u + i % ${B}u;`,
    `var acc: ${storageType(dt)} = ${m.init};`,
    `for (var k = 0u; k < ${N}u; k = k + 1u) {`,
    `  let p = base + ${reverse ? `(${N - 1}u - k)` : "k"} * ${B}u;`,
    `  acc = ${m.op("acc", `${src}[p]`)};`,
    `  ${dst}[p] = acc;`,
    `}`,
  ];
  return single(gridKernel(c, N === 0 ? 0 : A * B, body));
}

function genDot(e: Eqn, c: Ctx, dst: string): Gen {
  const { dimension_numbers } = e.params as Get<"dot_general">;
  const [[ca, cb], [ba, bb]] = dimension_numbers;
  const [lhs, rhs] = e.inputs;
  const as = lhs.aval.shape, bs = rhs.aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const T = storageType(dt);
  const freeA = as.map((_, i) => i).filter((i) => !ca.includes(i) && !ba.includes(i));
  const freeB = bs.map((_, i) => i).filter((i) => !cb.includes(i) && !bb.includes(i));
  const Bt = prod(ba.map((d) => as[d]));
  const M = prod(freeA.map((d) => as[d]));
  const K = prod(ca.map((d) => as[d]));
  const N = prod(freeB.map((d) => bs[d]));
  const ast = rowStrides(as), bst = rowStrides(bs);
  // Offsets of (batch, row, k) in lhs and (batch, k, col) in rhs, through the dims they combine.
  const off = (dims: number[], shape: readonly number[], st: number[], v: string) => linear(coords(dims.map((d) => shape[d]), v), dims.map((d) => st[d]));
  const zero = dt === "f32" ? "0.0" : dt === "i32" ? "0" : "0u";
  const conv = (v: string, from: DType) => convertValue(v, from, dt, c.helpers);
  const A = c.buf(0), Bb = c.buf(1);
  // float32: Dot2 (Ogita, Rump, Oishi) by default: exact products and sums carried in a second
  // float, so the result is as if accumulated in twice the precision and rounded once (the CPU
  // backend accumulates in float64); precision "fast" accumulates in plain float32.
  const compensated = dt === "f32" && c.opts.precision !== "fast";
  if (compensated) c.helpers.add("jl_twoprod");
  const mac = dt === "bool" ? "acc = acc | (ta[ty * 16u + kk] & tb[kk * 16u + tx]);"
    : compensated ? "let pe = jl_twoprod(ta[ty * 16u + kk], tb[kk * 16u + tx]); let se = jl_twosum(acc, pe.x); acc = se.x; comp = comp + (pe.y + se.y);"
    : "acc = acc + ta[ty * 16u + kk] * tb[kk * 16u + tx];";
  const maxDim = c.opts.maxPerDimension ?? 65535;
  const grid: [number, number, number] = [Math.ceil(N / 16), Math.ceil(M / 16), Bt];
  if (grid.some((g) => g > maxDim)) throw new WgslUnsupported(`dot_general of ${Bt}x${M}x${N} exceeds the workgroup grid (${maxDim} per dimension)`);
  const text = [
    `var<workgroup> ta: array<${T}, 256>;`,
    `var<workgroup> tb: array<${T}, 256>;`,
    `fn lhs_at(b: u32, m: u32, k: u32) -> u32 { return ${[off(ba, as, ast, "b"), off(freeA, as, ast, "m"), off(ca, as, ast, "k")].join(" + ")}; }`,
    `fn rhs_at(b: u32, k: u32, n: u32) -> u32 { return ${[off(bb, bs, bst, "b"), off(cb, bs, bst, "k"), off(freeB, bs, bst, "n")].join(" + ")}; }`,
    `@compute @workgroup_size(16, 16)`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {`,
    `  let tx = lid.x;`,
    `  let ty = lid.y;`,
    `  let b = wid.z;`,
    `  let row = wid.y * 16u + ty;`,
    `  let col = wid.x * 16u + tx;`,
    `  var acc: ${T} = ${zero};`,
    ...(compensated ? ["  var comp = 0.0;"] : []),
    `  for (var k0 = 0u; k0 < ${K}u; k0 = k0 + 16u) {`,
    `    let ka = k0 + tx;`,
    `    let kb = k0 + ty;`,
    `    var va: ${T} = ${zero};`,
    `    var vb: ${T} = ${zero};`,
    `    if (row < ${M}u && ka < ${K}u) { va = ${conv(`${A}[lhs_at(b, row, ka)]`, lhs.aval.dtype)}; }`,
    `    if (col < ${N}u && kb < ${K}u) { vb = ${conv(`${Bb}[rhs_at(b, kb, col)]`, rhs.aval.dtype)}; }`,
    `    ta[ty * 16u + tx] = va;`,
    `    tb[ty * 16u + tx] = vb;`,
    `    workgroupBarrier();`,
    `    let kn = min(16u, ${K}u - k0);`,
    `    for (var kk = 0u; kk < kn; kk = kk + 1u) { ${mac} }`,
    `    workgroupBarrier();`,
    `  }`,
    ...(c.epilogue
      ? [`  if (row < ${M}u && col < ${N}u) {`, ...c.epilogue.store(compensated ? "acc + comp" : "acc", `b * ${M}u + row`, "col").map((l) => `    ${l}`), "  }"]
      : [`  if (row < ${M}u && col < ${N}u) { ${dst}[(b * ${M}u + row) * ${N}u + col] = ${compensated ? "acc + comp" : "acc"}; }`]),
    `}`,
  ].join("\n");
  if (Bt * M * N === 0) return { text, dispatches: [] };
  return { text, dispatches: [{ entry: "main", workgroups: grid }] };
}

function gatherFill(fill: number | null, dt: DType, helpers: Set<string>): string {
  if (fill !== null) return constText(fill, dt, helpers);
  if (dt === "f32") { helpers.add("jl_consts"); return "jl_nan()"; }
  return dt === "i32" ? "(i32(-2147483647) - 1)" : "1u";
}

function genGather(e: Eqn, c: Ctx, dst: string): Gen {
  const p = e.params as Get<"gather">;
  const dn = p.dimension_numbers;
  const [xa, ia] = e.inputs;
  const xs = xa.aval.shape, is = ia.aval.shape;
  const os = e.outputs[0].aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const xst = rowStrides(xs);
  const nv = is[is.length - 1];
  const batchShape = is.slice(0, -1);
  const batchPos = os.map((_, d) => d).filter((d) => !dn.offset_dims.includes(d));
  const windowDims = xs.map((_, d) => d).filter((d) => !dn.collapsed_slice_dims.includes(d) && !dn.operand_batching_dims.includes(d));
  const X = c.buf(0), I = c.buf(1);
  const cs = coords(os, "i");
  const body: string[] = [];
  // The index vector of this output element's batch position.
  const bcs = batchPos.map((d) => cs[d]);
  body.push(`let iv = (${linear(bcs, rowStrides(batchShape))}) * ${nv}u;`);
  const fill = p.mode === "fill";
  const start: string[] = xs.map(() => "0");
  const checks: string[] = [];
  dn.start_index_map.forEach((d, k) => {
    const max = xs[d] - p.slice_sizes[d];
    body.push(`let s${d} = ${I}[iv + ${k}u];`);
    if (fill) { checks.push(`s${d} < 0 || s${d} > ${max}`); start[d] = `u32(s${d})`; }
    else start[d] = `u32(clamp(s${d}, 0, ${Math.max(0, max)}))`;
  });
  dn.operand_batching_dims.forEach((d, k) => { start[d] = bcs[dn.start_indices_batching_dims[k]]; });
  const src = xs.map((_, d) => {
    const w = windowDims.indexOf(d);
    const s = start[d] === "0" ? "" : start[d];
    const off = w >= 0 ? cs[dn.offset_dims[w]] : "";
    return [s, off].filter((t) => t && t !== "0u").join(" + ") || "0u";
  });
  const read = `${X}[${linear(src.map((t) => `(${t})`), xst)}]`;
  if (checks.length) body.push(`if (${checks.join(" || ")}) { ${dst}[i] = ${gatherFill(p.fill_value, dt, c.helpers)}; } else { ${dst}[i] = ${read}; }`);
  else body.push(`${dst}[i] = ${read};`);
  return single(gridKernel(c, size(os), body));
}

function genScatter(e: Eqn, c: Ctx, dst: string): Gen {
  const p = e.params as Get<"scatter">;
  const dn = p.dimension_numbers;
  const [xa, ia, ua] = e.inputs;
  const xs = xa.aval.shape, is = ia.aval.shape, us = ua.aval.shape;
  const dt = e.outputs[0].aval.dtype;
  const xst = rowStrides(xs), ust = rowStrides(us);
  const nv = is[is.length - 1];
  const batchShape = is.slice(0, -1);
  const scatterPos = us.map((_, d) => d).filter((d) => !dn.update_window_dims.includes(d));
  const windowDims = xs.map((_, d) => d).filter((d) => !dn.inserted_window_dims.includes(d) && !dn.operand_batching_dims.includes(d));
  const windowShape = dn.update_window_dims.map((d) => us[d]);
  const extent = xs.map(() => 1);
  windowDims.forEach((d, k) => { extent[d] = windowShape[k]; });
  const X = c.buf(0), I = c.buf(1), U = c.buf(2);
  const copy = gridKernel(c, size(xs), [`${dst}[i] = ${X}[i];`], "copy");
  const nb = prod(batchShape), nw = prod(windowShape);
  const combine = (d: string, s: string): string => {
    switch (e.prim) {
      case "scatter": return `${dst}[${d}] = ${U}[${s}];`;
      case "scatter-add": return dt === "bool" ? `${dst}[${d}] = ${dst}[${d}] | ${U}[${s}];` : `${dst}[${d}] = ${dst}[${d}] + ${U}[${s}];`;
      default: return dt === "bool" ? `${dst}[${d}] = ${dst}[${d}] & ${U}[${s}];` : `${dst}[${d}] = ${dst}[${d}] * ${U}[${s}];`;
    }
  };
  const gcs = coords(batchShape, "g");
  const wcs = coords(windowShape, "w");
  const lines: string[] = [
    "@compute @workgroup_size(1)",
    "fn updates() {",
    `  for (var g = 0u; g < ${nb}u; g = g + 1u) {`,
    `    let iv = g * ${nv}u;`,
    "    var ok = true;",
  ];
  const start: string[] = xs.map(() => "0u");
  dn.scatter_dims_to_operand_dims.forEach((d, k) => {
    const max = xs[d] - extent[d];
    lines.push(`    let r${d} = ${I}[iv + ${k}u];`);
    if (p.mode === "clip") lines.push(`    let s${d} = u32(clamp(r${d}, 0, ${Math.max(0, max)}));`);
    else lines.push(`    if (r${d} < 0 || r${d} > ${max}) { ok = false; }`, `    let s${d} = u32(max(r${d}, 0));`);
    start[d] = `s${d}`;
  });
  dn.operand_batching_dims.forEach((d, k) => { start[d] = gcs[dn.scatter_indices_batching_dims[k]]; });
  lines.push(`    if (!ok) { continue; }`);
  lines.push(`    for (var w = 0u; w < ${nw}u; w = w + 1u) {`);
  const dstIdx = xs.map((_, d) => {
    const k = windowDims.indexOf(d);
    return k >= 0 ? `(${start[d]} + ${wcs[k]})` : `(${start[d]})`;
  });
  const srcIdx = us.map(() => "0u");
  scatterPos.forEach((d, j) => { srcIdx[d] = gcs[j]; });
  dn.update_window_dims.forEach((d, k) => { srcIdx[d] = wcs[k]; });
  lines.push(`      ${combine(linear(dstIdx, xst), linear(srcIdx, ust))}`);
  lines.push("    }", "  }", "}");
  const dispatches = [...(copy.dispatch ? [copy.dispatch] : [])];
  if (nb * nw > 0 && size(xs) > 0) dispatches.push({ entry: "updates", workgroups: [1, 1, 1] });
  return { text: `${copy.text}\n\n${lines.join("\n")}`, dispatches };
}
