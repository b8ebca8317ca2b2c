// The structured part of jax.numpy and jax.nn: reductions, matmul and einsum, shape
// operations, creation functions, indexing and index updates. Each follows JAX's own
// decomposition into primitives (jax/_src/numpy/*.py, jax/_src/nn/functions.py).
import type { SyntaxNode } from "@lezer/common";
import { JitError } from "../frontend/source";
import { promoteAll, toInexact } from "../ir/dtypes";
import type { GatherDims, ScatterDims } from "../ir/primitives";
import { broadcastShapes, shapeStr } from "../ir/shapes";
import { newBuffer, size, type DType, type Literal } from "../ir/types";
import { literal } from "./builder";
import { bindSig, type Numpy } from "./jnp";
import {
  None, PyBuiltin, PyDType, PyFloat, PyInt, PyList, PyModule, PySlice, PyTuple, Tracer, pyRepr, pyTypeName,
  type Kwargs, type PyValue,
} from "./values";

type Fn = (args: PyValue[], kwargs: Kwargs) => PyValue;
type Arr = Tracer | Literal;

const isFloat = (d: DType) => d === "f32" || d === "f64";
const given = (v: PyValue | undefined): v is PyValue => v !== undefined && v.k !== "none";

export class LaxNumpy {
  constructor(private readonly np: Numpy) {}

  private get b() {
    return this.np.b;
  }

  private arr(v: PyValue, fname: string): Tracer {
    return this.np.toArray(v, fname);
  }

  private int(v: PyValue | undefined, what: string): number {
    if (v && (v.k === "int" || v.k === "bool")) return Number(v.v);
    if (v?.k === "tracer") throw this.np.it.concretizationError(v, this.np.it.currentNode, what, "index");
    throw new JitError("TypeError", `${what} must be an integer, got ${v ? pyTypeName(v) : "nothing"}`);
  }

  private ints(v: PyValue, what: string): number[] {
    if (v.k === "tuple" || v.k === "list") return v.items.map((x) => this.int(x, what));
    return [this.int(v, what)];
  }

  /** A normalised axis (negative counts from the end), with NumPy's AxisError message. */
  axis(a: number, rank: number): number {
    const r = a < 0 ? a + rank : a;
    if (r < 0 || r >= rank) throw new JitError("AxisError", `axis ${a} is out of bounds for array of dimension ${rank}`);
    return r;
  }

  /** `axis=None | int | tuple` to sorted, normalised axes (None = all). */
  private axes(v: PyValue | undefined, rank: number): number[] {
    if (!given(v)) return Array.from({ length: rank }, (_, i) => i);
    const axes = this.ints(v, "axis").map((a) => this.axis(a, rank));
    if (new Set(axes).size !== axes.length) throw new JitError("ValueError", `repeated axis in ${pyRepr(v)}`);
    return axes.sort((a, b) => a - b);
  }

  // ---------------------------------------------------------------- primitives with JAX's shortcuts

  reshape(x: Arr, shape: readonly number[]): Tracer {
    const t = x instanceof Tracer ? x : new Tracer(x);
    if (t.aval.shape.length === shape.length && t.aval.shape.every((d, i) => d === shape[i])) return t;
    return this.b.bind("reshape", [x], { new_sizes: [...shape], dimensions: null });
  }

  expandDims(x: Arr, dims: number[]): Tracer {
    const rank = x.aval.shape.length + dims.length;
    const ds = dims.map((d) => this.axis(d, rank)).sort((a, b) => a - b);
    const shape: number[] = [];
    const bdims: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) {
      if (ds.includes(i)) shape.push(1);
      else { shape.push(x.aval.shape[k++]); bdims.push(i); }
    }
    return this.b.bind("broadcast_in_dim", [x], { shape, broadcast_dimensions: bdims });
  }

  transpose(x: Arr, perm: number[]): Tracer {
    const t = x instanceof Tracer ? x : new Tracer(x);
    if (perm.every((p, i) => p === i)) return t;
    return this.b.bind("transpose", [x], { permutation: perm });
  }

  private squeezeDims(x: Arr, dims: number[]): Tracer {
    const t = x instanceof Tracer ? x : new Tracer(x);
    if (!dims.length) return t;
    return this.b.bind("squeeze", [x], { dimensions: [...dims].sort((a, b) => a - b) });
  }

  private iota(dtype: DType, shape: number[], dimension: number): Tracer {
    return this.b.bind("iota", [], { dtype, shape, dimension });
  }

  private sliceAxis(x: Arr, axis: number, start: number, stop: number): Tracer {
    const s = x.aval.shape;
    return this.b.bind("slice", [x], { start_indices: s.map((_, i) => (i === axis ? start : 0)), limit_indices: s.map((d, i) => (i === axis ? stop : d)), strides: null });
  }

  /** A concrete array from nested Python lists of numbers: a constant of the jaxpr. */
  constantArray(v: PyValue, dtype?: DType): Tracer {
    const shape: number[] = [];
    const flat: (number | boolean)[] = [];
    let kind = 0; // 0 bool, 1 int, 2 float
    const walk = (x: PyValue, depth: number): void => {
      if (x.k === "list" || x.k === "tuple") {
        if (shape.length === depth) shape.push(x.items.length);
        else if (shape[depth] !== x.items.length) throw new JitError("ValueError", "jnp.array: setting an array element with a sequence; the nested lists have inhomogeneous lengths");
        x.items.forEach((y) => walk(y, depth + 1));
        return;
      }
      if (x.k === "tracer") throw new JitError("UnsupportedError", "jnp.array of a list that contains traced arrays: use jnp.stack(...) instead");
      if (x.k !== "int" && x.k !== "float" && x.k !== "bool") throw new JitError("TypeError", `jnp.array: cannot make an array of ${pyTypeName(x)}`);
      if (depth !== shape.length) throw new JitError("ValueError", "jnp.array: the nested lists have inhomogeneous depths");
      kind = Math.max(kind, x.k === "bool" ? 0 : x.k === "int" ? 1 : 2);
      flat.push(x.v);
    };
    walk(v, 0);
    const dt: DType = dtype ?? (kind === 2 ? "f32" : kind === 1 ? "i32" : "bool");
    const data = newBuffer(dt, flat.length);
    flat.forEach((x, i) => (data[i] = typeof x === "boolean" ? (x ? 1 : 0) : dt === "i32" ? Math.trunc(x) : x));
    return this.b.constant({ aval: { shape, dtype: dt, weak: false }, data });
  }

  // ---------------------------------------------------------------- reductions

  reduction(fname: string, prim: "reduce_sum" | "reduce_max" | "reduce_min" | "reduce_prod", xv: PyValue, axisV: PyValue | undefined, keepdims: boolean, dtypeV?: PyValue, initial?: PyValue): Tracer {
    let x = this.arr(xv, `jnp.${fname}`);
    const rank = x.aval.shape.length;
    const axes = this.axes(axisV, rank);
    if ((prim === "reduce_sum" || prim === "reduce_prod") && (x.aval.dtype === "bool")) x = this.np.astype(x, "i32") as Tracer;
    if (given(dtypeV)) x = this.np.astype(x, this.np.dtypeArg(dtypeV, `jnp.${fname}`)) as Tracer;
    if ((prim === "reduce_max" || prim === "reduce_min") && axes.some((a) => x.aval.shape[a] === 0) && !given(initial)) {
      throw new JitError("ValueError", `zero-size array to reduction operation ${fname} which has no identity`);
    }
    let r = this.b.bind(prim, [x], { axes });
    if (given(initial)) r = this.np.ufunc(fname, prim === "reduce_max" ? "max" : prim === "reduce_min" ? "min" : prim === "reduce_sum" ? "add" : "mul", [r, initial]);
    return keepdims ? this.expandDims(r, axes) : r;
  }

  private boolReduction(fname: string, prim: "reduce_and" | "reduce_or", xv: PyValue, axisV: PyValue | undefined, keepdims: boolean): Tracer {
    let x = this.arr(xv, `jnp.${fname}`);
    if (x.aval.dtype !== "bool") x = this.np.astype(x, "bool") as Tracer;
    const axes = this.axes(axisV, x.aval.shape.length);
    const r = this.b.bind(prim, [x], { axes });
    return keepdims ? this.expandDims(r, axes) : r;
  }

  mean(xv: PyValue, axisV: PyValue | undefined, keepdims: boolean, dtypeV?: PyValue): Tracer {
    const x = this.arr(xv, "jnp.mean");
    const axes = this.axes(axisV, x.aval.shape.length);
    const n = axes.reduce((p, a) => p * x.aval.shape[a], 1);
    const ct = toInexact({ dtype: x.aval.dtype, weak: false }).dtype;
    const s = this.reduction("mean", "reduce_sum", x, axisV, keepdims, given(dtypeV) ? dtypeV : ct !== x.aval.dtype ? dtypeObj(ct) : undefined);
    return this.np.ufunc("mean", "div", [s, new PyFloat(n)]);
  }

  variance(xv: PyValue, axisV: PyValue | undefined, keepdims: boolean, ddof: number, sqrt: boolean): Tracer {
    let x = this.arr(xv, sqrt ? "jnp.std" : "jnp.var");
    if (!isFloat(x.aval.dtype)) x = this.np.astype(x, "f32") as Tracer;
    const axes = this.axes(axisV, x.aval.shape.length);
    const n = axes.reduce((p, a) => p * x.aval.shape[a], 1);
    const mu = this.mean(x, axisV, true);
    const centered = this.np.ufunc("var", "sub", [x, mu]);
    const sq = this.np.ufunc("var", "square", [centered]);
    const s = this.reduction("var", "reduce_sum", sq, axisV, keepdims);
    const v = this.np.ufunc("var", "div", [s, new PyFloat(Math.max(0, n - ddof))]);
    return sqrt ? this.np.ufunc("std", "sqrt", [v]) : v;
  }

  argReduce(prim: "argmax" | "argmin", xv: PyValue, axisV: PyValue | undefined, keepdims: boolean): Tracer {
    let x = this.arr(xv, `jnp.${prim}`);
    let axis: number;
    if (!given(axisV)) {
      x = this.reshape(x, [size(x.aval.shape)]);
      axis = 0;
    } else axis = this.axis(this.int(axisV, "axis"), x.aval.shape.length);
    if (x.aval.shape[axis] === 0) throw new JitError("ValueError", `attempt to get ${prim} of an empty sequence`);
    const r = this.b.bind(prim, [x], { axes: [axis], index_dtype: "i32" });
    if (!keepdims) return r;
    return given(axisV) ? this.expandDims(r, [axis]) : this.reshape(r, (xv as Tracer).aval.shape.map(() => 1));
  }

  // ---------------------------------------------------------------- matmul

  private dotGeneral(a: Arr, b: Arr, contract: [number[], number[]], batch: [number[], number[]]): Tracer {
    const t = promoteAll([{ dtype: a.aval.dtype, weak: a.aval.weak }, { dtype: b.aval.dtype, weak: b.aval.weak }]);
    const ca = this.np.cast(a instanceof Tracer ? a : { k: "scalar", value: a.value, t: { dtype: a.aval.dtype, weak: a.aval.weak } }, t);
    const cb = this.np.cast(b instanceof Tracer ? b : { k: "scalar", value: b.value, t: { dtype: b.aval.dtype, weak: b.aval.weak } }, t);
    return this.b.bind("dot_general", [ca, cb], { dimension_numbers: [contract, batch], preferred_element_type: t.dtype });
  }

  matmul(av: PyValue, bv: PyValue, fname = "matmul"): Tracer {
    const a = this.arr(av, `jnp.${fname}`), b = this.arr(bv, `jnp.${fname}`);
    const ra = a.aval.shape.length, rb = b.aval.shape.length;
    if (ra === 0 || rb === 0) throw new JitError("ValueError", `${fname}: inputs must be at least 1-dimensional, got shapes ${shapeStr(a.aval.shape)} and ${shapeStr(b.aval.shape)}`);
    const kA = a.aval.shape[ra - 1];
    const kB = rb === 1 ? b.aval.shape[0] : b.aval.shape[rb - 2];
    if (kA !== kB) {
      throw new JitError("ShapeError", `${fname}: the contracting dimensions do not match: a has shape ${shapeStr(a.aval.shape)} and b has shape ${shapeStr(b.aval.shape)} (${kA} != ${kB}); a's last axis must equal b's ${rb === 1 ? "only" : "second-to-last"} axis${rb === 2 && ra === 2 && a.aval.shape[0] === kB ? " — did you mean to transpose a (a.T @ b) or b (a @ b.T)?" : ""}`);
    }
    // Batch dims: equal sizes become dot_general batch dims; a side without them leaves them free.
    const aBatch = ra > 2 ? a.aval.shape.slice(0, -2) : [];
    const bBatch = rb > 2 ? b.aval.shape.slice(0, -2) : [];
    if (bBatch.length === 0) return this.dotGeneral(a, b, [[ra - 1], [rb === 1 ? 0 : rb - 2]], [[], []]);
    if (aBatch.length === bBatch.length && aBatch.every((d, i) => d === bBatch[i]) && ra >= 2) {
      const nb = aBatch.length;
      const batch = Array.from({ length: nb }, (_, i) => i);
      return this.dotGeneral(a, b, [[ra - 1], [rb - 2]], [batch, batch]);
    }
    // Broadcast both to the common batch shape, then batch over every leading dim.
    const common = broadcastShapes([aBatch, bBatch]);
    const a2 = ra >= 2 ? this.np.broadcastTo(a, [...common, ...a.aval.shape.slice(-2)]) : a;
    const b2 = this.np.broadcastTo(b, [...common, ...b.aval.shape.slice(-2)]);
    const batch = common.map((_, i) => i);
    if (ra === 1) return this.dotGeneral(a, b2, [[0], [common.length]], [[], []]);
    return this.dotGeneral(a2, b2, [[common.length + 1], [common.length]], [batch, batch]);
  }

  dot(av: PyValue, bv: PyValue): Tracer {
    const a = this.arr(av, "jnp.dot"), b = this.arr(bv, "jnp.dot");
    const ra = a.aval.shape.length, rb = b.aval.shape.length;
    if (ra === 0 || rb === 0) return this.np.ufunc("dot", "mul", [a, b]);
    const ka = a.aval.shape[ra - 1], kb = b.aval.shape[rb === 1 ? 0 : rb - 2];
    if (ka !== kb) throw new JitError("ShapeError", `dot: shapes ${shapeStr(a.aval.shape)} and ${shapeStr(b.aval.shape)} are not aligned: ${ka} (dim ${ra - 1}) != ${kb} (dim ${rb === 1 ? 0 : rb - 2})`);
    return this.dotGeneral(a, b, [[ra - 1], [rb === 1 ? 0 : rb - 2]], [[], []]);
  }

  einsum(args: PyValue[]): Tracer {
    const [specV, ...ops] = args;
    if (specV?.k !== "str") throw new JitError("UnsupportedError", "jnp.einsum needs a subscripts string first (the interleaved form is not supported)");
    const spec = specV.v.replace(/\s+/g, "");
    const [lhs, outSpec] = spec.includes("->") ? spec.split("->") : [spec, undefined];
    const ins = lhs.split(",");
    if (ins.length !== ops.length) throw new JitError("ValueError", `einsum: the subscripts '${spec}' name ${ins.length} operands but ${ops.length} were given`);
    if (spec.includes(".")) throw new JitError("UnsupportedError", "jnp.einsum with '...' is not supported by JIT Lens yet");
    const arrays = ops.map((o) => this.arr(o, "jnp.einsum"));
    const counts = new Map<string, number>();
    ins.forEach((s) => [...s].forEach((c) => counts.set(c, (counts.get(c) ?? 0) + 1)));
    const out = outSpec ?? [...counts.keys()].filter((c) => counts.get(c) === 1).sort().join("");
    arrays.forEach((a, i) => {
      if (a.aval.shape.length !== ins[i].length) throw new JitError("ShapeError", `einsum: operand ${i} has shape ${shapeStr(a.aval.shape)} but subscripts '${ins[i]}' name ${ins[i].length} axes`);
      if (new Set(ins[i]).size !== ins[i].length) throw new JitError("UnsupportedError", "jnp.einsum with a repeated index in one operand (a trace/diagonal) is not supported by JIT Lens yet");
    });
    const sizes = new Map<string, number>();
    arrays.forEach((a, i) => [...ins[i]].forEach((c, j) => {
      const d = a.aval.shape[j];
      if (sizes.has(c) && sizes.get(c) !== d && d !== 1 && sizes.get(c) !== 1) throw new JitError("ShapeError", `einsum: index '${c}' has sizes ${sizes.get(c)} and ${d}`);
      sizes.set(c, Math.max(sizes.get(c) ?? 1, d));
    }));
    // Sum out indices that appear in one operand only and not in the output.
    let cur: Tracer = arrays[0];
    let curSpec = ins[0];
    const sumOut = (t: Tracer, s: string, keep: Set<string>): [Tracer, string] => {
      const drop = [...s].map((c, i) => (keep.has(c) ? -1 : i)).filter((i) => i >= 0);
      if (!drop.length) return [t, s];
      return [this.b.bind("reduce_sum", [t], { axes: drop }), [...s].filter((c) => keep.has(c)).join("")];
    };
    const needed = (others: string[]) => new Set([...out, ...others.join("")]);
    [cur, curSpec] = sumOut(cur, curSpec, needed(ins.slice(1)));
    for (let k = 1; k < arrays.length; k++) {
      const [rhs, rSpec] = sumOut(arrays[k], ins[k], needed([curSpec, ...ins.slice(k + 1)]));
      const later = new Set([...out, ...ins.slice(k + 1).join("")]);
      const shared = [...curSpec].filter((c) => rSpec.includes(c));
      const batch = shared.filter((c) => later.has(c));
      const contract = shared.filter((c) => !later.has(c));
      const res = this.dotGeneral(cur, rhs, [contract.map((c) => curSpec.indexOf(c)), contract.map((c) => rSpec.indexOf(c))], [batch.map((c) => curSpec.indexOf(c)), batch.map((c) => rSpec.indexOf(c))]);
      curSpec = [...batch, ...[...curSpec].filter((c) => !shared.includes(c)), ...[...rSpec].filter((c) => !shared.includes(c))].join("");
      cur = res;
    }
    [cur, curSpec] = sumOut(cur, curSpec, new Set(out));
    for (const c of out) if (!curSpec.includes(c)) throw new JitError("ValueError", `einsum: output index '${c}' does not appear in the inputs`);
    return this.transpose(cur, [...out].map((c) => curSpec.indexOf(c)));
  }

  // ---------------------------------------------------------------- shape operations

  private shapeWithMinusOne(x: Tracer, dims: number[]): number[] {
    const n = size(x.aval.shape);
    const unknown = dims.filter((d) => d === -1).length;
    if (unknown > 1) throw new JitError("ValueError", "can only specify one unknown dimension (-1) in reshape");
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (dims.some((d) => d < -1)) throw new JitError("ValueError", `negative dimension in reshape: ${shapeStr(dims)}`);
    const out = dims.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d));
    if (size(out) !== n || out.some((d) => !Number.isInteger(d))) {
      throw new JitError("ShapeError", `cannot reshape array of shape ${shapeStr(x.aval.shape)} (size ${n}) into shape ${shapeStr(dims)}`);
    }
    return out;
  }

  reshapeUser(xv: PyValue, shapeArgs: PyValue[], fname: string): Tracer {
    const x = this.arr(xv, fname);
    const dims = shapeArgs.length === 1 && (shapeArgs[0].k === "tuple" || shapeArgs[0].k === "list") ? this.ints(shapeArgs[0], "shape") : shapeArgs.map((d) => this.int(d, "shape"));
    return this.reshape(x, this.shapeWithMinusOne(x, dims));
  }

  transposeUser(xv: PyValue, axesV: PyValue[]): Tracer {
    const x = this.arr(xv, "jnp.transpose");
    const rank = x.aval.shape.length;
    let perm: number[];
    if (!axesV.length || (axesV.length === 1 && !given(axesV[0]))) perm = Array.from({ length: rank }, (_, i) => rank - 1 - i);
    else perm = (axesV.length === 1 && (axesV[0].k === "tuple" || axesV[0].k === "list") ? this.ints(axesV[0], "axes") : axesV.map((a) => this.int(a, "axes"))).map((a) => this.axis(a, rank));
    if (perm.length !== rank || new Set(perm).size !== rank) throw new JitError("ValueError", `axes ${shapeStr(perm)} don't match an array of shape ${shapeStr(x.aval.shape)}`);
    return this.transpose(x, perm);
  }

  squeeze(xv: PyValue, axisV?: PyValue): Tracer {
    const x = this.arr(xv, "jnp.squeeze");
    const dims = given(axisV) ? this.axes(axisV, x.aval.shape.length) : x.aval.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    for (const d of dims) if (x.aval.shape[d] !== 1) throw new JitError("ShapeError", `cannot select an axis to squeeze out which has size not equal to one: axis ${d} of an array of shape ${shapeStr(x.aval.shape)}`);
    return this.squeezeDims(x, dims);
  }

  concatenate(arraysV: PyValue, axisV: PyValue | undefined, fname = "concatenate"): Tracer {
    const items = this.np.it.iterate(arraysV, this.np.it.currentNode);
    if (!items.length) throw new JitError("ValueError", "need at least one array to concatenate");
    const ops = items.map((v) => this.np.operand(v, `jnp.${fname}`));
    const t = promoteAll(ops.map((o) => this.np.dtw(o)));
    const arrs = ops.map((o) => this.np.cast(o, t));
    if (arrs.some((a) => a.aval.shape.length === 0)) throw new JitError("ValueError", "zero-dimensional arrays cannot be concatenated");
    if (!given(axisV)) {
      const flat = arrs.map((a) => this.reshape(a, [size(a.aval.shape)]));
      return flat.length === 1 ? flat[0] : this.b.bind("concatenate", flat, { dimension: 0 });
    }
    const axis = this.axis(this.int(axisV, "axis"), arrs[0].aval.shape.length);
    if (arrs.length === 1) return arrs[0] instanceof Tracer ? arrs[0] : new Tracer(arrs[0]);
    return this.b.bind("concatenate", arrs, { dimension: axis });
  }

  stack(arraysV: PyValue, axisV: PyValue | undefined): Tracer {
    const items = this.np.it.iterate(arraysV, this.np.it.currentNode);
    if (!items.length) throw new JitError("ValueError", "need at least one array to stack");
    const arrs = items.map((v) => this.arr(v, "jnp.stack"));
    const shape0 = arrs[0].aval.shape;
    for (const a of arrs) if (a.aval.shape.length !== shape0.length || a.aval.shape.some((d, i) => d !== shape0[i])) throw new JitError("ShapeError", `all input arrays must have the same shape, got ${arrs.map((x) => shapeStr(x.aval.shape)).join(", ")}`);
    const axis = this.axis(given(axisV) ? this.int(axisV, "axis") : 0, shape0.length + 1);
    const ex = arrs.map((a) => this.expandDims(a, [axis]));
    return this.concatenate(new PyTuple(ex), new PyInt(axis), "stack");
  }

  split(xv: PyValue, sectionsV: PyValue, axisV: PyValue | undefined): PyValue {
    const x = this.arr(xv, "jnp.split");
    const axis = this.axis(given(axisV) ? this.int(axisV, "axis") : 0, x.aval.shape.length);
    const n = x.aval.shape[axis];
    let sizes: number[];
    if (sectionsV.k === "int") {
      const k = sectionsV.v;
      if (k <= 0) throw new JitError("ValueError", "number of sections must be larger than 0");
      if (n % k !== 0) throw new JitError("ShapeError", `array split does not result in an equal division: an array of shape ${shapeStr(x.aval.shape)} has ${n} elements along axis ${axis}, which cannot be split into ${k} equal sections`);
      sizes = new Array(k).fill(n / k);
    } else {
      const cuts = this.ints(sectionsV, "indices").map((c) => Math.min(Math.max(c < 0 ? c + n : c, 0), n));
      const bounds = [0, ...cuts, n];
      sizes = bounds.slice(1).map((b, i) => Math.max(0, b - Math.max(bounds[i], 0)));
    }
    return new PyList(this.b.bindMulti("split", [x], { sizes, axis }));
  }

  flip(xv: PyValue, axisV?: PyValue): Tracer {
    const x = this.arr(xv, "jnp.flip");
    const dims = this.axes(axisV, x.aval.shape.length);
    return dims.length ? this.b.bind("rev", [x], { dimensions: dims }) : x;
  }

  roll(xv: PyValue, shiftV: PyValue, axisV?: PyValue): Tracer {
    let x = this.arr(xv, "jnp.roll");
    const shape0 = x.aval.shape;
    if (!given(axisV)) {
      x = this.reshape(x, [size(shape0)]);
      return this.reshape(this.roll(x, shiftV, new PyInt(0)), shape0);
    }
    const shifts = this.ints(shiftV, "shift");
    const axes = this.ints(axisV, "axis").map((a) => this.axis(a, x.aval.shape.length));
    const pairs = shifts.length === 1 ? axes.map((a) => [a, shifts[0]]) : axes.map((a, i) => [a, shifts[i]]);
    for (const [a, sh] of pairs) {
      const n = x.aval.shape[a];
      if (n === 0) continue;
      const s = ((sh % n) + n) % n;
      if (s === 0) continue;
      x = this.b.bind("concatenate", [this.sliceAxis(x, a, n - s, n), this.sliceAxis(x, a, 0, n - s)], { dimension: a });
    }
    return x;
  }

  cumulative(prim: "cumsum" | "cumprod", xv: PyValue, axisV: PyValue | undefined): Tracer {
    let x = this.arr(xv, `jnp.${prim}`);
    if (!given(axisV)) x = this.reshape(x, [size(x.aval.shape)]);
    if (x.aval.dtype === "bool") x = this.np.astype(x, "i32") as Tracer;
    const axis = given(axisV) ? this.axis(this.int(axisV, "axis"), x.aval.shape.length) : 0;
    return this.b.bind(prim, [x], { axis, reverse: false });
  }

  /** tril / triu via an iota comparison mask and select_n. */
  triangle(xv: PyValue, kV: PyValue | undefined, upper: boolean): Tracer {
    const x = this.arr(xv, upper ? "jnp.triu" : "jnp.tril");
    const r = x.aval.shape.length;
    if (r < 2) throw new JitError("ValueError", `${upper ? "triu" : "tril"} needs an array of at least 2 dimensions, got shape ${shapeStr(x.aval.shape)}`);
    const k = given(kV) ? this.int(kV, "k") : 0;
    const [n, m] = x.aval.shape.slice(-2);
    // tri(n, m, k)[i, j] = i + k >= j; tril keeps it, triu keeps the complement of tri(k - 1).
    const rows = this.iota("i32", [n, m], 0);
    const kk = upper ? k - 1 : k;
    const shifted = kk === 0 ? rows : this.np.ufunc("tri", "add", [rows, new PyInt(kk)]);
    const mask = this.np.ufunc("tri", "ge", [shifted, this.iota("i32", [n, m], 1)]);
    const full = r > 2 ? this.np.broadcastTo(mask, x.aval.shape) : mask;
    const zeros = this.np.full([...x.aval.shape], new PyInt(0), dtypeObj(x.aval.dtype), false);
    return upper ? this.b.bind("select_n", [full, x, zeros], {}) : this.b.bind("select_n", [full, zeros, x], {});
  }

  tile(xv: PyValue, repsV: PyValue): Tracer {
    const x = this.arr(xv, "jnp.tile");
    let reps = this.ints(repsV, "reps");
    const shape = [...new Array(Math.max(0, reps.length - x.aval.shape.length)).fill(1), ...x.aval.shape];
    reps = [...new Array(Math.max(0, shape.length - reps.length)).fill(1), ...reps];
    const a = this.reshape(x, shape.flatMap((d) => [1, d]));
    const b = this.np.broadcastTo(a, shape.flatMap((d, i) => [reps[i], d])) as Tracer;
    return this.reshape(b, shape.map((d, i) => d * reps[i]));
  }

  repeat(xv: PyValue, repeatsV: PyValue, axisV: PyValue | undefined): Tracer {
    let x = this.arr(xv, "jnp.repeat");
    if (repeatsV.k !== "int") throw new JitError("UnsupportedError", "jnp.repeat with an array of repeats is not supported by JIT Lens yet");
    const rep = repeatsV.v;
    if (!given(axisV)) x = this.reshape(x, [size(x.aval.shape)]);
    const axis = given(axisV) ? this.axis(this.int(axisV, "axis"), x.aval.shape.length) : 0;
    const s = x.aval.shape;
    const expanded = this.expandDims(x, [axis + 1]);
    const target = [...s.slice(0, axis + 1), rep, ...s.slice(axis + 1)];
    const b = this.np.broadcastTo(expanded, target) as Tracer;
    return this.reshape(b, s.map((d, i) => (i === axis ? d * rep : d)));
  }

  // ---------------------------------------------------------------- creation

  arange(args: PyValue[], kwargs: Kwargs): Tracer {
    const a = bindSig("jnp.arange", ["start", "stop=None", "step=None", "dtype=None"], args, kwargs);
    const nums = [a.start, a.stop, a.step].map((v) => {
      if (!given(v)) return undefined;
      if (v.k === "tracer") throw this.np.it.concretizationError(v, this.np.it.currentNode, "jnp.arange (its length must be static)", "index");
      if (v.k !== "int" && v.k !== "float" && v.k !== "bool") throw new JitError("TypeError", `jnp.arange needs numbers, got ${pyTypeName(v)}`);
      return v;
    });
    let [start, stop, step] = nums;
    if (!stop) { stop = start; start = new PyInt(0); }
    const allInt = [start, stop, step].every((v) => !v || v.k !== "float");
    const dtype: DType = given(a.dtype) ? this.np.dtypeArg(a.dtype, "jnp.arange") : allInt ? "i32" : "f32";
    const s0 = Number(start!.v), s1 = Number(stop!.v), st = step ? Number(step.v) : 1;
    if (st === 0) throw new JitError("ValueError", "jnp.arange: step must not be zero");
    const n = Math.max(0, Math.ceil((s1 - s0) / st));
    let r = this.iota(dtype, [n], 0);
    if (st !== 1) r = this.np.ufunc("arange", "mul", [r, dtype === "i32" ? new PyInt(st) : new PyFloat(st)]);
    if (s0 !== 0) r = this.np.ufunc("arange", "add", [r, dtype === "i32" ? new PyInt(s0) : new PyFloat(s0)]);
    return r;
  }

  linspace(args: PyValue[], kwargs: Kwargs): Tracer {
    const a = bindSig("jnp.linspace", ["start", "stop", "num=50", "endpoint=True", "retstep=False", "dtype=None", "axis=0"], args, kwargs);
    const num = given(a.num) ? this.int(a.num, "num") : 50;
    const endpoint = !a.endpoint || this.np.it.truthy(a.endpoint, this.np.it.currentNode, "endpoint");
    const lo = Number((a.start as PyFloat).v), hi = Number((a.stop as PyFloat).v);
    if (a.start?.k === "tracer" || a.stop?.k === "tracer") throw new JitError("UnsupportedError", "jnp.linspace with traced start/stop is not supported by JIT Lens yet");
    const div = endpoint ? num - 1 : num;
    const step = div > 0 ? (hi - lo) / div : 0;
    const r = this.np.ufunc("linspace", "add", [this.np.ufunc("linspace", "mul", [this.iota("f32", [num], 0), new PyFloat(step)]), new PyFloat(lo)]);
    return given(a.dtype) ? (this.np.astype(r, this.np.dtypeArg(a.dtype, "jnp.linspace")) as Tracer) : r;
  }

  eye(args: PyValue[], kwargs: Kwargs): Tracer {
    const a = bindSig("jnp.eye", ["N", "M=None", "k=0", "dtype=None"], args, kwargs);
    const n = this.int(a.N, "N"), m = given(a.M) ? this.int(a.M, "M") : n, k = given(a.k) ? this.int(a.k, "k") : 0;
    const rows = this.iota("i32", [n, m], 0);
    const shifted = k === 0 ? rows : this.np.ufunc("eye", "add", [rows, new PyInt(k)]);
    const mask = this.np.ufunc("eye", "eq", [shifted, this.iota("i32", [n, m], 1)]);
    return this.np.astype(mask, given(a.dtype) ? this.np.dtypeArg(a.dtype, "jnp.eye") : "f32") as Tracer;
  }

  // ---------------------------------------------------------------- indexing

  /** x[idx]: static ints/slices/None/... become slice, rev, squeeze and broadcast_in_dim; one integer array becomes a gather. */
  getitem(x: Tracer, idx: PyValue, at: SyntaxNode): Tracer {
    const items = this.normalizeIndex(x, idx);
    const arrayAt = items.findIndex((it) => it.k === "tracer" || it.k === "list");
    if (arrayAt >= 0) return this.gatherIndex(x, items, at);
    const shape = x.aval.shape;
    let dim = 0;
    const starts: number[] = [], limits: number[] = [], strides: number[] = [], revs: number[] = [], squeezes: number[] = [], newAxes: number[] = [];
    let outDim = 0;
    for (const it of items) {
      if (it.k === "none") { newAxes.push(outDim++); continue; }
      const n = shape[dim];
      if (it.k === "int" || it.k === "bool") {
        let i = Number(it.v);
        if (i < -n || i >= n) throw new JitError("IndexError", `index ${i} is out of bounds for axis ${dim} with size ${n}`, this.np.it.span(at));
        if (i < 0) i += n;
        starts.push(i); limits.push(i + 1); strides.push(1); squeezes.push(dim);
      } else if (it.k === "slice") {
        const sl = sliceBounds(it, n, (m) => { throw new JitError("TypeError", m, this.np.it.span(at)); });
        if (sl.step > 0) { starts.push(sl.start); limits.push(Math.max(sl.start, sl.stop)); strides.push(sl.step); }
        else {
          // A negative step reads the reversed axis forwards: element i of rev is n-1-i.
          revs.push(dim);
          const start = n - 1 - sl.start, stop = n - 1 - sl.stop;
          starts.push(start); limits.push(Math.max(start, stop)); strides.push(-sl.step);
        }
        outDim++;
      } else {
        throw new JitError("IndexError", `only integers, slices (\`:\`), ellipsis (\`...\`), None and integer arrays are valid indices, got ${pyTypeName(it)}`, this.np.it.span(at));
      }
      dim++;
    }
    for (; dim < shape.length; dim++) { starts.push(0); limits.push(shape[dim]); strides.push(1); outDim++; }
    let r: Tracer = x;
    if (revs.length) r = this.b.bind("rev", [r], { dimensions: revs });
    const full = starts.every((s, i) => s === 0 && limits[i] === shape[i] && strides[i] === 1);
    if (!full) r = this.b.bind("slice", [r], { start_indices: starts, limit_indices: limits, strides: strides.every((s) => s === 1) ? null : strides });
    r = this.squeezeDims(r, squeezes);
    if (newAxes.length) r = this.expandDims(r, newAxes);
    return r;
  }

  /** The index as a list of per-axis items with `...` expanded (None does not consume an axis). */
  private normalizeIndex(x: Tracer, idx: PyValue): PyValue[] {
    let items = idx.k === "tuple" ? [...idx.items] : [idx];
    const consumes = (v: PyValue) => v.k !== "none" && v.k !== "ellipsis";
    const nEll = items.filter((v) => v.k === "ellipsis").length;
    if (nEll > 1) throw new JitError("IndexError", "an index can only have a single ellipsis ('...')");
    const used = items.filter(consumes).length;
    if (used > x.aval.shape.length) throw new JitError("IndexError", `too many indices for array: array is ${x.aval.shape.length}-dimensional, but ${used} were indexed`);
    const fill = x.aval.shape.length - used;
    items = items.flatMap((v) => (v.k === "ellipsis" ? new Array(fill).fill(new PySlice(None, None, None)) : [v]));
    for (const v of items) {
      if (v.k === "tracer" && v.aval.dtype === "bool") throw new JitError("NonConcreteBooleanIndexError", "boolean mask indexing has a data-dependent shape and cannot be traced; use jnp.where(mask, x, 0) instead");
      if (v.k === "tracer" && isFloat(v.aval.dtype)) throw new JitError("IndexError", "arrays used as indices must be of integer type");
    }
    return items;
  }

  private gatherIndex(x: Tracer, items: PyValue[], at: SyntaxNode): Tracer {
    const arrays = items.filter((it) => it.k === "tracer" || it.k === "list");
    const a = items.findIndex((it) => it.k === "tracer" || it.k === "list");
    const others = items.filter((it, i) => i !== a && !(it.k === "slice" && it.start.k === "none" && it.stop.k === "none" && it.step.k === "none"));
    if (arrays.length > 1 || others.length) {
      throw new JitError("UnsupportedError", "JIT Lens supports one integer-array index with `:` on the other axes (e.g. x[ids] or x[:, ids]); index the other axes first", this.np.it.span(at));
    }
    let idx = items[a].k === "list" ? this.constantArray(items[a], "i32") : (items[a] as Tracer);
    return this.take(x, idx, a);
  }

  /** JAX's gather for `x[..., ids, ...]` along `axis`: normalise negative indices, add the index-vector dim, gather. */
  take(x: Tracer, idxIn: Tracer, axis: number, mode: "promise_in_bounds" | "fill" | "clip" = "promise_in_bounds"): Tracer {
    let idx = idxIn.aval.dtype === "i32" ? idxIn : (this.np.astype(idxIn, "i32") as Tracer);
    const n = x.aval.shape[axis];
    const neg = this.np.ufunc("take", "lt", [idx, new PyInt(0)]);
    const wrapped = this.np.ufunc("take", "add", [idx, new PyInt(n)]);
    idx = this.b.bind("select_n", [neg, idx, wrapped], {});
    const iv = this.expandDims(idx, [idx.aval.shape.length]);
    const r = x.aval.shape.length;
    const ib = idx.aval.shape.length;
    const offset = [...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: r - axis - 1 }, (_, i) => axis + ib + i)];
    const dn: GatherDims = { offset_dims: offset, collapsed_slice_dims: [axis], start_index_map: [axis], operand_batching_dims: [], start_indices_batching_dims: [] };
    return this.b.bind("gather", [x, iv], {
      dimension_numbers: dn, slice_sizes: x.aval.shape.map((d, i) => (i === axis ? 1 : d)), mode, fill_value: null, indices_are_sorted: false, unique_indices: false,
    });
  }

  takeUser(args: PyValue[], kwargs: Kwargs): Tracer {
    const a = bindSig("jnp.take", ["a", "indices", "axis=None", "out=None", "mode=None", "unique_indices=False", "indices_are_sorted=False", "fill_value=None"], args, kwargs);
    let x = this.arr(a.a!, "jnp.take");
    if (!given(a.axis)) x = this.reshape(x, [size(x.aval.shape)]);
    const axis = given(a.axis) ? this.axis(this.int(a.axis, "axis"), x.aval.shape.length) : 0;
    const idx = a.indices!.k === "list" || a.indices!.k === "tuple" ? this.constantArray(a.indices!, "i32") : this.arr(a.indices!, "jnp.take");
    const mode = a.mode?.k === "str" ? (a.mode.v === "clip" ? "clip" : a.mode.v === "fill" ? "fill" : "promise_in_bounds") : "fill";
    return this.take(x, idx, axis, mode);
  }

  takeAlongAxis(args: PyValue[], kwargs: Kwargs): Tracer {
    const a = bindSig("jnp.take_along_axis", ["arr", "indices", "axis", "mode=None", "fill_value=None"], args, kwargs);
    const x = this.arr(a.arr!, "jnp.take_along_axis");
    let idx = this.arr(a.indices!, "jnp.take_along_axis");
    const r = x.aval.shape.length;
    if (idx.aval.shape.length !== r) throw new JitError("ShapeError", `take_along_axis: indices of shape ${shapeStr(idx.aval.shape)} must have the same number of dimensions as the array of shape ${shapeStr(x.aval.shape)}`);
    const axis = this.axis(this.int(a.axis, "axis"), r);
    if (idx.aval.dtype !== "i32") idx = this.np.astype(idx, "i32") as Tracer;
    // Non-axis dims broadcast against each other.
    const target = x.aval.shape.map((d, i) => (i === axis ? idx.aval.shape[i] : Math.max(d, idx.aval.shape[i])));
    for (let i = 0; i < r; i++) {
      if (i === axis) continue;
      const [d, e] = [x.aval.shape[i], idx.aval.shape[i]];
      if (d !== e && d !== 1 && e !== 1) throw new JitError("ShapeError", `take_along_axis: shapes ${shapeStr(x.aval.shape)} and ${shapeStr(idx.aval.shape)} do not broadcast on axis ${i}`);
    }
    const xb = this.np.broadcastTo(x, x.aval.shape.map((d, i) => (i === axis ? d : target[i]))) as Tracer;
    idx = this.np.broadcastTo(idx, target) as Tracer;
    const n = x.aval.shape[axis];
    const neg = this.np.ufunc("take_along_axis", "lt", [idx, new PyInt(0)]);
    idx = this.b.bind("select_n", [neg, idx, this.np.ufunc("take_along_axis", "add", [idx, new PyInt(n)])], {});
    const iv = this.expandDims(idx, [r]);
    const batch = Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis);
    const dn: GatherDims = { offset_dims: [], collapsed_slice_dims: [axis], start_index_map: [axis], operand_batching_dims: batch, start_indices_batching_dims: batch };
    return this.b.bind("gather", [xb, iv], { dimension_numbers: dn, slice_sizes: xb.aval.shape.map(() => 1), mode: "fill", fill_value: null, indices_are_sorted: false, unique_indices: false });
  }

  atRef(x: Tracer, idx: PyValue, at: SyntaxNode): PyModule {
    const method = (name: string, f: (v: PyValue) => PyValue) => () => new PyBuiltin(`at[].${name}`, (args) => f(args[0]));
    return new PyModule("_IndexUpdateRef", new Map([
      ["set", method("set", (v) => this.scatter("scatter", x, idx, v, at))],
      ["add", method("add", (v) => this.scatter("scatter-add", x, idx, v, at))],
      ["mul", method("mul", (v) => this.scatter("scatter-mul", x, idx, v, at))],
      ["get", method("get", () => this.getitem(x, idx, at))],
    ]));
  }

  private scatter(prim: "scatter" | "scatter-add" | "scatter-mul", x: Tracer, idxV: PyValue, vals: PyValue, at: SyntaxNode): Tracer {
    const items = this.normalizeIndex(x, idxV);
    const a = items.findIndex((it) => it.k !== "slice" || it.start.k !== "none" || it.stop.k !== "none" || it.step.k !== "none");
    const rest = items.filter((it, i) => i !== a && !(it.k === "slice" && it.start.k === "none" && it.stop.k === "none" && it.step.k === "none"));
    const it = items[a];
    if (a < 0 || rest.length || !(it.k === "int" || it.k === "tracer" || it.k === "list")) {
      throw new JitError("UnsupportedError", "JIT Lens supports x.at[i] updates with one integer or integer-array index (e.g. x.at[0].add(v), x.at[:, ids].set(v))", this.np.it.span(at));
    }
    const n = x.aval.shape[a];
    let idx: Arr;
    if (it.k === "int") {
      let i = it.v;
      if (i < -n || i >= n) throw new JitError("IndexError", `index ${i} is out of bounds for axis ${a} with size ${n}`, this.np.it.span(at));
      if (i < 0) i += n;
      idx = literal(i, { shape: [], dtype: "i32", weak: false });
    } else {
      idx = it.k === "list" ? this.constantArray(it, "i32") : it;
      const neg = this.np.ufunc("scatter", "lt", [idx, new PyInt(0)]);
      idx = this.b.bind("select_n", [neg, idx, this.np.ufunc("scatter", "add", [idx, new PyInt(n)])], {});
    }
    const ib = idx.aval.shape.length;
    const iv = this.expandDims(idx, [ib]);
    const r = x.aval.shape.length;
    const updShape = [...x.aval.shape.slice(0, a), ...idx.aval.shape, ...x.aval.shape.slice(a + 1)];
    const o = this.np.operand(vals, `.at[].${prim}`);
    const cast = this.np.cast(o, { dtype: x.aval.dtype, weak: x.aval.weak });
    const upd = this.np.broadcastTo(cast, updShape);
    const dn: ScatterDims = {
      update_window_dims: [...Array.from({ length: a }, (_, i) => i), ...Array.from({ length: r - a - 1 }, (_, i) => a + ib + i)],
      inserted_window_dims: [a], scatter_dims_to_operand_dims: [a], operand_batching_dims: [], scatter_indices_batching_dims: [],
    };
    return this.b.bind(prim, [x, iv, upd], { dimension_numbers: dn, mode: "fill", indices_are_sorted: it.k === "int", unique_indices: it.k === "int" });
  }

  // ---------------------------------------------------------------- jax.nn

  softmax(xv: PyValue, axisV: PyValue | undefined, log: boolean): Tracer {
    const x = this.arr(xv, log ? "jax.nn.log_softmax" : "jax.nn.softmax");
    const axis = given(axisV) ? axisV : new PyInt(-1);
    const xf = isFloat(x.aval.dtype) ? x : (this.np.astype(x, "f32") as Tracer);
    const m = this.reduction("max", "reduce_max", xf, axis, true, undefined, new PyFloat(-Infinity));
    if (log) {
      const shifted = this.np.ufunc("log_softmax", "sub", [xf, this.b.bind("stop_gradient", [m], {})]);
      const lse = this.np.ufunc("log_softmax", "log", [this.reduction("sum", "reduce_sum", this.np.ufunc("log_softmax", "exp", [shifted]), axis, true)]);
      return this.np.ufunc("log_softmax", "sub", [shifted, lse]);
    }
    const e = this.np.ufunc("softmax", "exp", [this.np.ufunc("softmax", "sub", [xf, m])]);
    return this.np.ufunc("softmax", "div", [e, this.reduction("sum", "reduce_sum", e, axis, true)]);
  }

  logsumexp(xv: PyValue, axisV: PyValue | undefined, keepdims: boolean): Tracer {
    const x = this.arr(xv, "jax.nn.logsumexp");
    const axes = this.axes(axisV, x.aval.shape.length);
    const amax = this.b.bind("reduce_max", [x], { axes });
    const finite = this.np.ufunc("logsumexp", "is_finite", [amax]);
    const safe = this.b.bind("stop_gradient", [this.b.bind("select_n", [finite, this.np.full([...amax.aval.shape], new PyFloat(0), dtypeObj(amax.aval.dtype), false), amax], {})], {});
    const dimsKept = this.expandDims(safe, axes);
    const e = this.np.ufunc("logsumexp", "exp", [this.np.ufunc("logsumexp", "sub", [x, dimsKept])]);
    const s = this.b.bind("reduce_sum", [e], { axes });
    const out = this.np.ufunc("logsumexp", "add", [this.np.ufunc("logsumexp", "log", [s]), safe]);
    return keepdims ? this.expandDims(out, axes) : out;
  }

  oneHot(xv: PyValue, numV: PyValue, dtypeV: PyValue | undefined, axisV: PyValue | undefined): Tracer {
    const x = this.arr(xv, "jax.nn.one_hot");
    const num = this.int(numV, "num_classes");
    const axis = this.axis(given(axisV) ? this.int(axisV, "axis") : -1, x.aval.shape.length + 1);
    const lhs = this.expandDims(x, [axis]);
    const rhsShape = [...x.aval.shape.map(() => 1)];
    rhsShape.splice(axis, 0, num);
    const rhs = this.iota(x.aval.dtype === "bool" ? "i32" : x.aval.dtype, rhsShape, axis);
    const eq = this.np.ufunc("one_hot", "eq", [lhs, rhs]);
    return this.np.astype(eq, given(dtypeV) ? this.np.dtypeArg(dtypeV, "jax.nn.one_hot") : "f32") as Tracer;
  }

  standardize(xv: PyValue, axisV: PyValue | undefined, eps: number): Tracer {
    const x = this.arr(xv, "jax.nn.standardize");
    const axis = given(axisV) ? axisV : new PyInt(-1);
    const mean = this.mean(x, axis, true);
    const variance = this.np.ufunc("standardize", "sub", [this.mean(this.np.ufunc("standardize", "square", [x]), axis, true), this.np.ufunc("standardize", "square", [mean])]);
    return this.np.ufunc("standardize", "mul", [this.np.ufunc("standardize", "sub", [x, mean]), this.np.ufunc("standardize", "rsqrt", [this.np.ufunc("standardize", "add", [variance, new PyFloat(eps)])])]);
  }

  logaddexp(a: PyValue, b: PyValue): Tracer {
    const ops = [this.np.operand(a, "jnp.logaddexp"), this.np.operand(b, "jnp.logaddexp")];
    const t = toInexact(promoteAll(ops.map((o) => this.np.dtw(o))));
    const [x1, x2] = this.np.promoteRanks(ops.map((o) => this.np.cast(o, t)));
    const amax = this.b.bind("max", [x1, x2], {});
    const delta = this.b.bind("sub", [x1, x2], {});
    const isnan = this.b.bind("ne", [delta, delta], {});
    const sum = this.b.bind("add", [x1, x2], {});
    const soft = this.np.ufunc("logaddexp", "add", [amax, this.np.ufunc("logaddexp", "log1p", [this.np.ufunc("logaddexp", "exp", [this.np.ufunc("logaddexp", "neg", [this.np.ufunc("logaddexp", "abs", [delta])])])])]);
    return this.b.bind("select_n", [isnan, soft, sum], {});
  }

  /** Python `%` and jnp.remainder: the sign of the divisor, as NumPy. */
  remainder(a: PyValue, b: PyValue): Tracer {
    const ops = [this.np.operand(a, "jnp.remainder"), this.np.operand(b, "jnp.remainder")];
    const t = promoteAll(ops.map((o) => this.np.dtw(o)));
    const [x1, x2] = this.np.promoteRanks(ops.map((o) => this.np.cast(o, t)));
    const zero = literal(0, { shape: [], dtype: t.dtype, weak: t.weak });
    const trunc = this.b.bind("rem", [x1, x2], {});
    const nonzero = this.b.bind("ne", [trunc, zero], {});
    const doPlus = this.b.bind("and", [this.b.bind("ne", [this.b.bind("lt", [trunc, zero], {}), this.b.bind("lt", [x2, zero], {})], {}), nonzero], {});
    return this.b.bind("select_n", [doPlus, trunc, this.b.bind("add", [trunc, x2], {})], {});
  }

  /** Python `//` and jnp.floor_divide. */
  floorDivide(a: PyValue, b: PyValue): Tracer {
    const ops = [this.np.operand(a, "jnp.floor_divide"), this.np.operand(b, "jnp.floor_divide")];
    const t = promoteAll(ops.map((o) => this.np.dtw(o)));
    const [x1, x2] = this.np.promoteRanks(ops.map((o) => this.np.cast(o, t)));
    const zero = literal(0, { shape: [], dtype: t.dtype, weak: t.weak });
    if (t.dtype === "i32" || t.dtype === "bool") {
      const q = this.b.bind("div", [x1, x2], {});
      const signDiffers = this.b.bind("ne", [this.b.bind("sign", [x1], {}), this.b.bind("sign", [x2], {})], {});
      const inexactDiv = this.b.bind("ne", [this.b.bind("rem", [x1, x2], {}), zero], {});
      const sel = this.b.bind("and", [signDiffers, inexactDiv], {});
      return this.b.bind("select_n", [sel, q, this.b.bind("sub", [q, literal(1, { shape: [], dtype: t.dtype, weak: t.weak })], {})], {});
    }
    const mod = this.b.bind("rem", [x1, x2], {});
    const div = this.b.bind("div", [this.b.bind("sub", [x1, mod], {}), x2], {});
    const ind = this.b.bind("and", [this.b.bind("ne", [mod, zero], {}), this.b.bind("ne", [this.b.bind("sign", [x2], {}), this.b.bind("sign", [mod], {})], {})], {});
    const d = this.b.bind("select_n", [ind, div, this.b.bind("sub", [div, literal(1, { shape: [], dtype: t.dtype, weak: t.weak })], {})], {});
    return this.b.bind("round", [d], {});
  }

  /** Registers the structured jnp functions. */
  register(t: Map<string, Fn>): void {
    const red = (name: string, prim: "reduce_sum" | "reduce_max" | "reduce_min" | "reduce_prod", extra: string[] = []) =>
      t.set(name, (args, kwargs) => {
        const a = bindSig(`jnp.${name}`, ["a", "axis=None", ...extra, "out=None", "keepdims=False", "initial=None", "where=None"], args, kwargs);
        if (given(a.where)) throw new JitError("UnsupportedError", `jnp.${name}(where=...) is not supported by JIT Lens yet`);
        return this.reduction(name, prim, a.a!, a.axis, this.flag(a.keepdims), a.dtype, a.initial);
      });
    red("sum", "reduce_sum", ["dtype=None"]);
    red("prod", "reduce_prod", ["dtype=None"]);
    red("max", "reduce_max");
    red("min", "reduce_min");
    t.set("amax", t.get("max")!);
    t.set("amin", t.get("min")!);
    t.set("mean", (args, kwargs) => {
      const a = bindSig("jnp.mean", ["a", "axis=None", "dtype=None", "out=None", "keepdims=False", "where=None"], args, kwargs);
      return this.mean(a.a!, a.axis, this.flag(a.keepdims), a.dtype);
    });
    for (const [name, sqrt] of [["var", false], ["std", true]] as const) {
      t.set(name, (args, kwargs) => {
        const a = bindSig(`jnp.${name}`, ["a", "axis=None", "dtype=None", "out=None", "ddof=0", "keepdims=False", "where=None", "correction=None"], args, kwargs);
        const ddof = given(a.correction) ? this.int(a.correction, "correction") : given(a.ddof) ? this.int(a.ddof, "ddof") : 0;
        return this.variance(a.a!, a.axis, this.flag(a.keepdims), ddof, sqrt);
      });
    }
    for (const prim of ["argmax", "argmin"] as const) {
      t.set(prim, (args, kwargs) => {
        const a = bindSig(`jnp.${prim}`, ["a", "axis=None", "out=None", "keepdims=None"], args, kwargs);
        return this.argReduce(prim, a.a!, a.axis, this.flag(a.keepdims));
      });
    }
    for (const [name, prim] of [["all", "reduce_and"], ["any", "reduce_or"]] as const) {
      t.set(name, (args, kwargs) => {
        const a = bindSig(`jnp.${name}`, ["a", "axis=None", "out=None", "keepdims=False", "where=None"], args, kwargs);
        return this.boolReduction(name, prim, a.a!, a.axis, this.flag(a.keepdims));
      });
    }
    t.set("matmul", (args) => this.matmul(args[0], args[1]));
    t.set("dot", (args) => this.dot(args[0], args[1]));
    t.set("vdot", (args) => this.dot(this.reshapeUser(args[0], [new PyInt(-1)], "jnp.vdot"), this.reshapeUser(args[1], [new PyInt(-1)], "jnp.vdot")));
    t.set("inner", (args) => {
      const b = this.arr(args[1], "jnp.inner");
      return this.dotGeneral(this.arr(args[0], "jnp.inner"), b, [[this.arr(args[0], "jnp.inner").aval.shape.length - 1], [b.aval.shape.length - 1]], [[], []]);
    });
    t.set("outer", (args) => {
      const a = this.reshapeUser(args[0], [new PyInt(-1)], "jnp.outer"), b = this.reshapeUser(args[1], [new PyInt(-1)], "jnp.outer");
      return this.np.ufunc("outer", "mul", [this.expandDims(a, [1]), this.expandDims(b, [0])]);
    });
    t.set("einsum", (args) => this.einsum(args));
    t.set("reshape", (args, kwargs) => {
      const a = bindSig("jnp.reshape", ["a", "shape=None", "order='C'", "newshape=None"], args, kwargs);
      return this.reshapeUser(a.a!, [given(a.shape) ? a.shape : a.newshape!], "jnp.reshape");
    });
    t.set("ravel", (args) => this.reshapeUser(args[0], [new PyInt(-1)], "jnp.ravel"));
    t.set("transpose", (args, kwargs) => {
      const a = bindSig("jnp.transpose", ["a", "axes=None"], args, kwargs);
      return this.transposeUser(a.a!, given(a.axes) ? [a.axes] : []);
    });
    t.set("permute_dims", t.get("transpose")!);
    t.set("matrix_transpose", (args) => {
      const x = this.arr(args[0], "jnp.matrix_transpose");
      const r = x.aval.shape.length;
      return this.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
    });
    t.set("swapaxes", (args, kwargs) => {
      const a = bindSig("jnp.swapaxes", ["a", "axis1", "axis2"], args, kwargs);
      const x = this.arr(a.a!, "jnp.swapaxes");
      const r = x.aval.shape.length;
      const [i, j] = [this.axis(this.int(a.axis1, "axis1"), r), this.axis(this.int(a.axis2, "axis2"), r)];
      const perm = Array.from({ length: r }, (_, k) => (k === i ? j : k === j ? i : k));
      return this.transpose(x, perm);
    });
    t.set("moveaxis", (args, kwargs) => {
      const a = bindSig("jnp.moveaxis", ["a", "source", "destination"], args, kwargs);
      const x = this.arr(a.a!, "jnp.moveaxis");
      const r = x.aval.shape.length;
      const src = this.ints(a.source!, "source").map((s) => this.axis(s, r));
      const dst = this.ints(a.destination!, "destination").map((s) => this.axis(s, r));
      const perm = Array.from({ length: r }, (_, i) => i).filter((i) => !src.includes(i));
      dst.map((d, k) => [d, src[k]]).sort((p, q) => p[0] - q[0]).forEach(([d, s]) => perm.splice(d, 0, s));
      return this.transpose(x, perm);
    });
    t.set("expand_dims", (args, kwargs) => {
      const a = bindSig("jnp.expand_dims", ["a", "axis"], args, kwargs);
      return this.expandDims(this.arr(a.a!, "jnp.expand_dims"), this.ints(a.axis!, "axis"));
    });
    t.set("squeeze", (args, kwargs) => {
      const a = bindSig("jnp.squeeze", ["a", "axis=None"], args, kwargs);
      return this.squeeze(a.a!, a.axis);
    });
    t.set("broadcast_to", (args, kwargs) => {
      const a = bindSig("jnp.broadcast_to", ["array", "shape"], args, kwargs);
      const x = this.arr(a.array!, "jnp.broadcast_to");
      return this.np.broadcastTo(x, this.np.shapeArg(a.shape!, "jnp.broadcast_to")) as Tracer;
    });
    t.set("concatenate", (args, kwargs) => {
      const a = bindSig("jnp.concatenate", ["arrays", "axis=0", "dtype=None"], args, kwargs);
      return this.concatenate(a.arrays!, a.axis ?? new PyInt(0));
    });
    t.set("concat", t.get("concatenate")!);
    t.set("stack", (args, kwargs) => {
      const a = bindSig("jnp.stack", ["arrays", "axis=0", "out=None", "dtype=None"], args, kwargs);
      return this.stack(a.arrays!, a.axis);
    });
    t.set("hstack", (args) => {
      const items = this.np.it.iterate(args[0], this.np.it.currentNode).map((v) => this.arr(v, "jnp.hstack"));
      return this.concatenate(new PyTuple(items), new PyInt(items[0]?.aval.shape.length === 1 ? 0 : 1));
    });
    t.set("vstack", (args) => {
      const items = this.np.it.iterate(args[0], this.np.it.currentNode).map((v) => this.arr(v, "jnp.vstack"));
      return this.concatenate(new PyTuple(items.map((x) => (x.aval.shape.length === 1 ? this.expandDims(x, [0]) : x))), new PyInt(0));
    });
    t.set("split", (args, kwargs) => {
      const a = bindSig("jnp.split", ["ary", "indices_or_sections", "axis=0"], args, kwargs);
      return this.split(a.ary!, a.indices_or_sections!, a.axis);
    });
    t.set("flip", (args, kwargs) => {
      const a = bindSig("jnp.flip", ["m", "axis=None"], args, kwargs);
      return this.flip(a.m!, a.axis);
    });
    t.set("fliplr", (args) => this.flip(args[0], new PyInt(1)));
    t.set("flipud", (args) => this.flip(args[0], new PyInt(0)));
    t.set("roll", (args, kwargs) => {
      const a = bindSig("jnp.roll", ["a", "shift", "axis=None"], args, kwargs);
      return this.roll(a.a!, a.shift!, a.axis);
    });
    t.set("cumsum", (args, kwargs) => {
      const a = bindSig("jnp.cumsum", ["a", "axis=None", "dtype=None", "out=None"], args, kwargs);
      return this.cumulative("cumsum", a.a!, a.axis);
    });
    t.set("cumprod", (args, kwargs) => {
      const a = bindSig("jnp.cumprod", ["a", "axis=None", "dtype=None", "out=None"], args, kwargs);
      return this.cumulative("cumprod", a.a!, a.axis);
    });
    t.set("tril", (args, kwargs) => { const a = bindSig("jnp.tril", ["m", "k=0"], args, kwargs); return this.triangle(a.m!, a.k, false); });
    t.set("triu", (args, kwargs) => { const a = bindSig("jnp.triu", ["m", "k=0"], args, kwargs); return this.triangle(a.m!, a.k, true); });
    t.set("tile", (args, kwargs) => { const a = bindSig("jnp.tile", ["A", "reps"], args, kwargs); return this.tile(a.A!, a.reps!); });
    t.set("repeat", (args, kwargs) => {
      const a = bindSig("jnp.repeat", ["a", "repeats", "axis=None", "total_repeat_length=None"], args, kwargs);
      return this.repeat(a.a!, a.repeats!, a.axis);
    });
    t.set("arange", (args, kwargs) => this.arange(args, kwargs));
    t.set("linspace", (args, kwargs) => this.linspace(args, kwargs));
    t.set("eye", (args, kwargs) => this.eye(args, kwargs));
    t.set("identity", (args, kwargs) => this.eye([args[0]], kwargs));
    t.set("take", (args, kwargs) => this.takeUser(args, kwargs));
    t.set("take_along_axis", (args, kwargs) => this.takeAlongAxis(args, kwargs));
    t.set("logaddexp", (args) => this.logaddexp(args[0], args[1]));
    t.set("remainder", (args) => this.remainder(args[0], args[1]));
    t.set("mod", t.get("remainder")!);
    t.set("floor_divide", (args) => this.floorDivide(args[0], args[1]));
    t.set("size", (args) => new PyInt(size(this.arr(args[0], "jnp.size").aval.shape)));
    t.set("shape", (args) => new PyTuple(this.arr(args[0], "jnp.shape").aval.shape.map((d) => new PyInt(d))));
    t.set("ndim", (args) => new PyInt(this.arr(args[0], "jnp.ndim").aval.shape.length));
  }

  flag(v: PyValue | undefined): boolean {
    return given(v) && this.np.it.truthy(v, this.np.it.currentNode, "a keyword flag");
  }
}

function dtypeObj(d: DType): PyValue {
  return new PyDType(d);
}

/** Python slice bounds for an axis of length n, as start, stop, step (stop exclusive). */
export function sliceBounds(s: PySlice, n: number, fail: (m: string) => never): { start: number; stop: number; step: number } {
  const num = (v: PyValue): number | undefined => {
    if (v.k === "none") return undefined;
    if (v.k === "int" || v.k === "bool") return Number(v.v);
    return fail(`slice indices must be integers or None, got ${pyTypeName(v)} (a traced value cannot be a static slice bound; use lax.dynamic_slice)`);
  };
  const step = num(s.step) ?? 1;
  if (step === 0) fail("slice step cannot be zero");
  const norm = (x: number | undefined, dflt: number, lo: number, hi: number) => {
    if (x === undefined) return dflt;
    if (x < 0) x += n;
    return Math.min(Math.max(x, lo), hi);
  };
  if (step > 0) return { start: norm(num(s.start), 0, 0, n), stop: norm(num(s.stop), n, 0, n), step };
  return { start: norm(num(s.start), n - 1, -1, n - 1), stop: norm(num(s.stop), -1, -1, n - 1), step };
}
