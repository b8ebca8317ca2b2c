// Lowering: jaxpr -> HLO module. What the jaxpr leaves implicit becomes explicit here:
// broadcasts of rank-0 and size-1-dim operands, dtype converts, reductions with an init
// constant and a named reducer, dot dimension numbers. Each instruction keeps the spans
// of the equation it came from. Sub-jaxpr primitives (cond/while/scan/jit) lower to one
// opaque `custom-call` naming the sub-computation; its results are read with
// get-tuple-element.
import type { Span } from "../report";
import type { Atom, DType, Eqn, Jaxpr, Var } from "../ir/types";
import { isBinary, isCompare, isUnary, type Params } from "../ir/primitives";
import { arrayShape, type AttrValue, type HloInstr, type HloModule, type HloShape } from "./hlo";

const UNARY_OP: Record<string, string> = {
  neg: "negate", exp: "exponential", log: "log", tanh: "tanh", sin: "sine", cos: "cosine", tan: "tan",
  sqrt: "sqrt", rsqrt: "rsqrt", cbrt: "cbrt", abs: "abs", sign: "sign", floor: "floor", ceil: "ceil",
  round: "round-nearest-even", log1p: "log-plus-one", expm1: "exponential-minus-one", logistic: "logistic",
  not: "not", is_finite: "is-finite", erf: "erf",
};
const BINARY_OP: Record<string, string> = {
  add: "add", sub: "subtract", mul: "multiply", div: "divide", rem: "remainder", pow: "power",
  max: "maximum", min: "minimum", and: "and", or: "or", xor: "xor", atan2: "atan2",
};
const DIRECTION: Record<string, string> = { eq: "EQ", ne: "NE", lt: "LT", le: "LE", gt: "GT", ge: "GE" };

/** Reducer and init value of each reduction primitive. */
const REDUCER: Record<string, { region: string; init: (d: DType) => number }> = {
  reduce_sum: { region: "add", init: () => 0 },
  reduce_prod: { region: "multiply", init: () => 1 },
  reduce_max: { region: "maximum", init: (d) => (d === "i32" ? -2147483648 : d === "bool" ? 0 : -Infinity) },
  reduce_min: { region: "minimum", init: (d) => (d === "i32" ? 2147483647 : d === "bool" ? 1 : Infinity) },
  reduce_and: { region: "and", init: () => 1 },
  reduce_or: { region: "or", init: () => 0 },
};

/** Names of the sub-computations a higher-order primitive calls, in JAX's param order. */
const SUBCOMPUTATIONS: Record<string, (p: Record<string, unknown>) => string[]> = {
  cond: (p) => (p.branches as unknown[]).map((_, k) => `branch_${k}`),
  while: () => ["while_body", "while_cond"],
  scan: () => ["scan_body"],
  jit: (p) => [String(p.name)],
};

class Lowerer {
  eqnIndex = 0;
  instrs: HloInstr[] = [];
  nextId = 0;
  env = new Map<number, number>(); // jaxpr var id -> instruction id
  spans: Span[] = [];

  emit(opcode: string, shape: HloShape | HloShape[], operands: number[], attrs: Record<string, AttrValue> = {}, literal?: number[]): number {
    const id = this.nextId++;
    this.instrs.push({ id, opcode, shape, operands, attrs, literal, spans: this.spans });
    return id;
  }

  shapeOf(id: number): HloShape {
    return arrayShape(this.instrs.find((i) => i.id === id)!.shape);
  }

  atom(a: Atom): number {
    if (a.kind === "lit") return this.emit("constant", { dtype: a.aval.dtype, dims: [] }, [], {}, [Number(a.value)]);
    const id = this.env.get(a.id);
    if (id === undefined) throw new Error(`lowering: variable ${a.id} used before definition`);
    return id;
  }

  convert(id: number, dtype: DType): number {
    const s = this.shapeOf(id);
    return s.dtype === dtype ? id : this.emit("convert", { dtype, dims: s.dims }, [id]);
  }

  /** Makes an elementwise operand explicit: convert to `dtype`, then broadcast to `dims`. */
  expand(id: number, dtype: DType, dims: number[]): number {
    let x = this.convert(id, dtype);
    const s = this.shapeOf(x);
    if (s.dims.length === dims.length && s.dims.every((d, i) => d === dims[i])) return x;
    // Rank-0 broadcasts with no dimensions; a same-rank operand with size-1 dims drops them first.
    let kept: number[] = [];
    if (s.dims.length === dims.length) {
      kept = s.dims.map((d, i) => (d === dims[i] ? i : -1)).filter((i) => i >= 0);
      if (kept.length !== s.dims.length) x = this.emit("reshape", { dtype, dims: kept.map((i) => dims[i]) }, [x]);
    } else if (s.dims.length !== 0) {
      throw new Error(`lowering: cannot broadcast ${s.dims} to ${dims}`);
    }
    return this.emit("broadcast", { dtype, dims }, [x], { dimensions: kept });
  }

  constant(dtype: DType, value: number): number {
    return this.emit("constant", { dtype, dims: [] }, [], {}, [value]);
  }

  eqn(e: Eqn): number[] {
    const out = e.outputs[0]?.aval;
    const outShape = (v: Var): HloShape => ({ dtype: v.aval.dtype, dims: [...v.aval.shape] });
    const res = out ? outShape(e.outputs[0]) : { dtype: "f32" as DType, dims: [] };
    const ins = () => e.inputs.map((a) => this.atom(a));
    const p = e.params as Record<string, unknown>;
    const prim = e.prim;
    if (isUnary(prim) && prim !== "square") {
      const [x] = ins();
      return [this.emit(UNARY_OP[prim] ?? prim, res, [this.expand(x, res.dtype, res.dims)])];
    }
    if (prim === "square") {
      const x = this.expand(ins()[0], res.dtype, res.dims);
      return [this.emit("multiply", res, [x, x])];
    }
    if (isBinary(prim)) {
      const xs = ins().map((x) => this.expand(x, res.dtype, res.dims));
      return [this.emit(BINARY_OP[prim] ?? prim, res, xs)];
    }
    if (isCompare(prim)) {
      // Operands share one dtype: the first non-weak one's (literals follow it).
      const src = e.inputs.find((a) => a.kind === "var" && !a.aval.weak) ?? e.inputs[0];
      const xs = ins().map((x) => this.expand(x, src.aval.dtype, res.dims));
      return [this.emit("compare", res, xs, { direction: DIRECTION[prim] })];
    }
    switch (prim) {
      case "integer_pow": {
        const y = (e.params as Params["integer_pow"]).y;
        const x = this.expand(ins()[0], res.dtype, res.dims);
        if (y === 2) return [this.emit("multiply", res, [x, x])];
        const c = this.expand(this.constant(res.dtype, y), res.dtype, res.dims);
        return [this.emit("power", res, [x, c])];
      }
      case "convert_element_type": {
        const [x] = ins();
        return [this.convert(x, res.dtype)];
      }
      case "stop_gradient": return [ins()[0]];
      case "broadcast_in_dim": {
        const q = e.params as Params["broadcast_in_dim"];
        return [this.emit("broadcast", res, [ins()[0]], { dimensions: q.broadcast_dimensions })];
      }
      case "select_n": {
        const xs = ins();
        if (xs.length === 3 && this.shapeOf(xs[0]).dtype === "bool") {
          const [pred, f, t] = [this.expand(xs[0], "bool", res.dims), this.expand(xs[1], res.dtype, res.dims), this.expand(xs[2], res.dtype, res.dims)];
          return [this.emit("select", res, [pred, t, f])];
        }
        return [this.emit("custom-call", res, xs, { custom_call_target: "select_n" })];
      }
      case "clamp": {
        const [lo, x, hi] = ins().map((v) => this.expand(v, res.dtype, res.dims));
        return [this.emit("clamp", res, [lo, x, hi])];
      }
      case "reduce_sum": case "reduce_prod": case "reduce_max": case "reduce_min": case "reduce_and": case "reduce_or": {
        const r = REDUCER[prim];
        const x = this.convert(ins()[0], res.dtype);
        const init = this.constant(res.dtype, r.init(res.dtype));
        return [this.emit("reduce", res, [x, init], { dimensions: (p.axes as number[]), to_apply: `%region_${r.region}.${res.dtype}` })];
      }
      case "dot_general": {
        const q = e.params as Params["dot_general"];
        const [[lc, rc], [lb, rb]] = q.dimension_numbers;
        const [a, b] = ins().map((x) => this.convert(x, res.dtype));
        const attrs: Record<string, AttrValue> = {};
        if (lb.length) { attrs.lhs_batch_dims = lb; attrs.rhs_batch_dims = rb; }
        attrs.lhs_contracting_dims = lc;
        attrs.rhs_contracting_dims = rc;
        return [this.emit("dot", res, [a, b], attrs)];
      }
      case "reshape": case "squeeze": return [this.emit("reshape", res, [ins()[0]])];
      case "transpose": return [this.emit("transpose", res, [ins()[0]], { dimensions: (p.permutation as number[]) })];
      case "rev": return [this.emit("reverse", res, [ins()[0]], { dimensions: (p.dimensions as number[]) })];
      case "concatenate": return [this.emit("concatenate", res, ins(), { dimensions: [p.dimension as number] })];
      case "slice": {
        const q = e.params as Params["slice"];
        const ranges = q.start_indices.map((s, i) => [s, q.limit_indices[i], q.strides?.[i] ?? 1]);
        return [this.emit("slice", res, [ins()[0]], { slice: ranges })];
      }
      case "split": {
        const q = e.params as Params["split"];
        const [x] = ins();
        const dims = this.shapeOf(x).dims;
        let start = 0;
        return e.outputs.map((o, k) => {
          const ranges = dims.map((d, i) => (i === q.axis ? [start, start + q.sizes[k], 1] : [0, d, 1]));
          start += q.sizes[k];
          return this.emit("slice", outShape(o), [x], { slice: ranges });
        });
      }
      case "pad": {
        const q = e.params as Params["pad"];
        return [this.emit("pad", res, ins(), { padding: q.padding_config.map((c) => c.join("_")).join("x") })];
      }
      case "iota": {
        const q = e.params as Params["iota"];
        return [this.emit("iota", res, [], { iota_dimension: q.dimension })];
      }
      case "dynamic_slice": return [this.emit("dynamic-slice", res, ins(), { dynamic_slice_sizes: (p.slice_sizes as number[]) })];
      case "dynamic_update_slice": return [this.emit("dynamic-update-slice", res, ins())];
      case "gather": {
        const q = e.params as Params["gather"];
        const d = q.dimension_numbers;
        return [this.emit("gather", res, ins(), {
          offset_dims: d.offset_dims, collapsed_slice_dims: d.collapsed_slice_dims, start_index_map: d.start_index_map,
          index_vector_dim: e.inputs[1].aval.shape.length - 1, slice_sizes: q.slice_sizes, mode: q.mode,
        })];
      }
      case "scatter": case "scatter-add": case "scatter-mul": {
        const q = e.params as Params["scatter"];
        const d = q.dimension_numbers;
        const attrs: Record<string, AttrValue> = {
          update_window_dims: d.update_window_dims, inserted_window_dims: d.inserted_window_dims,
          scatter_dims_to_operand_dims: d.scatter_dims_to_operand_dims, index_vector_dim: e.inputs[1].aval.shape.length - 1,
        };
        attrs.to_apply = prim === "scatter" ? `%region_replace.${res.dtype}` : `%region_${prim === "scatter-add" ? "add" : "multiply"}.${res.dtype}`;
        return [this.emit("scatter", res, ins(), attrs)];
      }
      default: {
        // argmax/argmin, cumulative ops and sub-jaxpr primitives: one opaque call.
        const xs = ins();
        const target = prim === "jit" ? `jit_${p.name as string}` : prim;
        const attrs: Record<string, AttrValue> = { custom_call_target: target };
        const subs = SUBCOMPUTATIONS[prim]?.(p);
        if (subs) attrs.called_computations = `{${subs.map((n) => `%${n}.${this.eqnIndex}`).join(", ")}}`;
        for (const [k, v] of Object.entries(p).sort(([a], [b]) => a.localeCompare(b))) {
          if (typeof v === "number" || typeof v === "boolean") attrs[k] = v;
          else if (Array.isArray(v) && v.every((x) => typeof x === "number")) attrs[k] = v as number[];
        }
        if (e.outputs.length === 1) return [this.emit("custom-call", res, xs, attrs)];
        const call = this.emit("custom-call", e.outputs.map(outShape), xs, attrs);
        return e.outputs.map((o, k) => this.emit("get-tuple-element", outShape(o), [call], { index: k }));
      }
    }
  }
}

/** Lowers a closed jaxpr to an HLO module named `name` (e.g. `jit_gelu`). */
export function lower(j: Jaxpr, name: string): HloModule {
  const L = new Lowerer();
  j.invars.forEach((v, i) => L.env.set(v.id, L.emit("parameter", { dtype: v.aval.dtype, dims: [...v.aval.shape] }, [], { index: i })));
  j.constvars.forEach((v, i) => {
    const c = j.consts[i];
    L.env.set(v.id, L.emit("constant", { dtype: v.aval.dtype, dims: [...v.aval.shape] }, [], {}, Array.from(c.data, Number)));
  });
  for (const [k, e] of j.eqns.entries()) {
    L.eqnIndex = k;
    L.spans = [e.span, ...(e.callStack ?? [])];
    const outs = L.eqn(e);
    e.outputs.forEach((v, k) => L.env.set(v.id, outs[k]));
  }
  L.spans = [];
  const outputs = j.outvars.map((a) => L.atom(a));
  return { name, instrs: L.instrs, outputs, nextId: L.nextId };
}

