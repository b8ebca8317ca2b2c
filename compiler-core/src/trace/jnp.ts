// jax.numpy, jax.nn and jax.lax as the tracer sees them: each function promotes and broadcasts
// its operands the way JAX does and binds JAX's primitives.
import type { SyntaxNode } from "@lezer/common";
import { JitError } from "../frontend/source";
import { dtypeNames, promoteAll, toInexact, type DTypeW } from "../ir/dtypes";
import type { BinaryPrim, ComparePrim, Params, Prim, UnaryPrim } from "../ir/primitives";
import { broadcastShapes, sameShape, shapeStr } from "../ir/shapes";
import type { DType, Literal } from "../ir/types";
import { makeGrad } from "./ad";
import { literal } from "./builder";
import { vmap } from "./batching";
import type { Interpreter } from "./interp";
import { JAX_NAMES } from "./names";
import { LaxNumpy } from "./lax_numpy";
import { ControlFlow } from "./control";
import {
  None, PyBool, PyBuiltin, PyDType, PySpec, pyRepr, PyFloat, PyFunction, PyInt, PyModule, PyStr, PyTuple, Tracer,
  dtypeName, isNumber, pyTypeName, type Kwargs, type PyValue,
} from "./values";

/** An array operand: a traced value, or a Python scalar that becomes a literal. */
export type Operand = Tracer | { k: "scalar"; value: number | boolean; t: DTypeW };

export const DTYPES: Record<string, DType> = {
  float32: "f32", float64: "f64", int32: "i32", bool: "bool", bool_: "bool", int64: "i32", float16: "f32",
};

/** Binds a call's arguments to a jnp-style signature: `["x", "y=None"]`. Returns values by name. */
export function bindSig(fname: string, sig: string[], args: PyValue[], kwargs: Kwargs): Record<string, PyValue | undefined> {
  const out: Record<string, PyValue | undefined> = {};
  const names = sig.map((s) => s.split("=")[0]);
  if (args.length > names.length) throw new JitError("TypeError", `${fname}() takes at most ${names.length} positional arguments (${args.length} given)`);
  args.forEach((a, i) => (out[names[i]] = a));
  for (const [k, v] of kwargs) {
    if (!names.includes(k)) throw new JitError("TypeError", `${fname}() got an unexpected keyword argument '${k}'`);
    if (out[k] !== undefined) throw new JitError("TypeError", `${fname}() got multiple values for argument '${k}'`);
    out[k] = v;
  }
  sig.forEach((s, i) => {
    if (out[names[i]] === undefined && !s.includes("=")) throw new JitError("TypeError", `${fname}() missing required argument: '${names[i]}'`);
  });
  return out;
}

/** `x.at`: indexing it gives the update reference with set/add/mul/get. */
export class AtIndexer extends PyBuiltin {
  constructor(readonly target: Tracer) {
    super("Array.at", () => { throw new JitError("TypeError", "x.at must be indexed, as in x.at[i].set(v)"); });
  }
}

export class Numpy {
  private readonly modules = new Map<string, PyModule>();
  readonly lax: LaxNumpy;

  /** lax control flow and nested jit calls (trace/control.ts). */
  readonly control: ControlFlow;

  constructor(readonly it: Interpreter) {
    this.lax = new LaxNumpy(this);
    this.control = new ControlFlow(it);
  }

  get b() {
    return this.it.builder;
  }

  // ---------------------------------------------------------------- operands

  operand(v: PyValue, fname: string): Operand {
    switch (v.k) {
      case "tracer": return v;
      case "bool": return { k: "scalar", value: v.v, t: { dtype: "bool", weak: false } };
      case "int": return { k: "scalar", value: v.v, t: { dtype: "i32", weak: true } };
      case "float": return { k: "scalar", value: v.v, t: { dtype: "f32", weak: true } };
      default:
        throw new JitError("TypeError", `${fname} requires ndarray or scalar arguments, got ${pyTypeName(v)}${v.k === "list" || v.k === "tuple" ? " (wrap it in jnp.array(...))" : ""}`);
    }
  }

  dtw(o: Operand): DTypeW {
    return o.k === "scalar" ? o.t : { dtype: o.aval.dtype, weak: o.aval.weak };
  }

  /** Converts an operand to dtype `t`: a literal for a scalar, convert_element_type for a tracer. */
  cast(o: Operand, t: DTypeW): Tracer | Literal {
    if (o.k === "scalar") {
      let v: number | boolean = o.value;
      if (t.dtype === "bool") v = Boolean(v);
      else if (typeof v === "boolean") v = v ? 1 : 0;
      else if (t.dtype === "i32") v = Math.trunc(v) | 0;
      else if (t.dtype === "f32") v = Math.fround(v);
      return literal(v, { shape: [], dtype: t.dtype, weak: t.weak });
    }
    if (o.aval.dtype === t.dtype && o.aval.weak === t.weak) return o;
    if (o.aval.dtype === t.dtype && !t.weak) return o;
    return this.b.bind("convert_element_type", [o], { new_dtype: t.dtype, weak_type: t.weak });
  }

  /** NumPy rank promotion: prepend size-1 dims with broadcast_in_dim (scalars stay rank 0). */
  promoteRanks(xs: (Tracer | Literal)[]): (Tracer | Literal)[] {
    const shapes = xs.map((x) => x.aval.shape);
    broadcastShapes(shapes); // throws a ShapeError naming every shape
    const ranks = new Set(shapes.filter((s) => s.length > 0).map((s) => s.length));
    if (ranks.size < 2) return xs;
    const rank = Math.max(...ranks);
    return xs.map((x) => {
      const s = x.aval.shape;
      if (s.length === 0 || s.length === rank) return x;
      const lead = rank - s.length;
      return this.b.bind("broadcast_in_dim", [x], { shape: [...new Array(lead).fill(1), ...s], broadcast_dimensions: s.map((_, i) => i + lead) });
    });
  }

  /** Broadcasts to exactly `shape` (jnp.broadcast_to semantics). */
  broadcastTo(x: Tracer | Literal, shape: readonly number[]): Tracer | Literal {
    const s = x.aval.shape;
    if (sameShape(s, shape)) return x;
    const lead = shape.length - s.length;
    if (lead < 0 || s.some((d, i) => d !== 1 && d !== shape[i + lead])) {
      throw new JitError("ShapeError", `cannot broadcast an array of shape ${shapeStr(s)} to shape ${shapeStr(shape)}`);
    }
    return this.b.bind("broadcast_in_dim", [x], { shape: [...shape], broadcast_dimensions: s.map((_, i) => i + lead) });
  }

  /** A jnp elementwise function: promote dtypes (to inexact if asked), promote ranks, bind. */
  ufunc<P extends Prim>(fname: string, prim: P, vals: PyValue[], opts: { inexact?: boolean; params?: Params[P]; dtype?: DTypeW } = {}): Tracer {
    const ops = vals.map((v) => this.operand(v, `jnp.${fname}`));
    let t = opts.dtype ?? promoteAll(ops.map((o) => this.dtw(o)));
    if (opts.inexact) t = toInexact(t);
    const cast = this.promoteRanks(ops.map((o) => this.cast(o, t)));
    return this.b.bind(prim, cast, (opts.params ?? {}) as Params[P]);
  }

  toArray(v: PyValue, fname: string): Tracer {
    const o = this.operand(v, fname);
    if (o.k === "scalar") return new Tracer(this.cast(o, o.t) as Literal);
    return o;
  }

  // ---------------------------------------------------------------- Python operators on arrays

  operator(op: string, a: PyValue, b: PyValue): PyValue {
    const bin: Record<string, [string, BinaryPrim | ComparePrim, boolean?]> = {
      "+": ["add", "add"], "-": ["subtract", "sub"], "*": ["multiply", "mul"], "/": ["true_divide", "div", true],
      "<": ["less", "lt"], "<=": ["less_equal", "le"], ">": ["greater", "gt"], ">=": ["greater_equal", "ge"],
      "==": ["equal", "eq"], "!=": ["not_equal", "ne"],
    };
    if (bin[op]) return this.ufunc(bin[op][0], bin[op][1], [a, b], { inexact: bin[op][2] });
    switch (op) {
      case "**": return this.power(a, b);
      case "&": return this.logical("bitwise_and", "and", [a, b]);
      case "|": return this.logical("bitwise_or", "or", [a, b]);
      case "//": return this.lax.floorDivide(a, b);
      case "%": return this.lax.remainder(a, b);
      case "@": return this.lax.matmul(a, b);
    }
    throw new JitError("TypeError", `unsupported operand type(s) for ${op}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
  }

  unaryOperator(op: string, v: Tracer): PyValue {
    if (op === "-") return this.ufunc("negative", "neg", [v]);
    if (op === "+") return v;
    if (op === "~") {
      if (v.aval.dtype === "f32" || v.aval.dtype === "f64") throw new JitError("TypeError", "bad operand type for unary ~: floating-point array");
      return this.ufunc("invert", "not", [v]);
    }
    throw new JitError("TypeError", `bad operand type for unary ${op}: 'Array'`);
  }

  private logical(fname: string, prim: "and" | "or", vals: PyValue[]): Tracer {
    return this.ufunc(fname, prim, vals);
  }

  power(a: PyValue, b: PyValue): PyValue {
    // A Python int exponent is binary exponentiation: integer_pow, as jnp.power does.
    if (b.k === "int" && a.k === "tracer") return this.ufunc("power", "integer_pow", [a], { params: { y: b.v } });
    const t = promoteAll([this.operand(a, "jnp.power"), this.operand(b, "jnp.power")].map((o) => this.dtw(o)));
    if (t.dtype === "i32" || t.dtype === "bool") throw new JitError("UnsupportedError", "integer jnp.power with an array exponent is not supported by JIT Lens yet");
    return this.ufunc("power", "pow", [a, b]);
  }

  astype(v: PyValue, dtype: DType): PyValue {
    const o = this.operand(v, "astype");
    const x = this.cast(o, { dtype, weak: false });
    return x instanceof Tracer ? x : new Tracer(x);
  }

  // ---------------------------------------------------------------- array attributes and indexing

  arrayAttr(x: Tracer, name: string, at: SyntaxNode): PyValue {
    const method = (f: (args: PyValue[], kwargs: Kwargs) => PyValue) => new PyBuiltin(`Array.${name}`, f);
    switch (name) {
      case "shape": return new PyTuple(x.aval.shape.map((d) => new PyInt(d)));
      case "ndim": return new PyInt(x.aval.shape.length);
      case "size": return new PyInt(x.aval.shape.reduce((a, d) => a * d, 1));
      case "dtype": return new PyDType(x.aval.dtype);
      case "astype": return method(([d]) => this.astype(x, this.dtypeArg(d, "astype")));
      case "at": return new AtIndexer(x);
      case "T": return this.lax.transposeUser(x, []);
      case "mT": return this.call("matrix_transpose", [x]);
      case "reshape": return method((args, kwargs) => this.lax.reshapeUser(x, kwargs.length ? [kwargs[0][1]] : args, "Array.reshape"));
      case "transpose": return method((args) => this.lax.transposeUser(x, args));
      case "flatten": case "ravel": return method(() => this.lax.reshapeUser(x, [new PyInt(-1)], `Array.${name}`));
      case "item": case "tolist": case "__float__": case "__int__":
        return method(() => { throw this.it.concretizationError(x, at, `Array.${name}()`, "float"); });
      case "real": return x;
      case "conj": case "conjugate": return method(() => x);
    }
    const fn = this.jnpTable().get(name);
    if (fn && ARRAY_METHODS.has(name)) return method((args, kwargs) => fn([x, ...args], kwargs));
    if (ARRAY_ATTRS.has(name)) throw new JitError("UnsupportedError", `Array.${name} is part of JAX but not supported by JIT Lens yet`, this.it.span(at));
    throw new JitError("AttributeError", `'Array' object has no attribute '${name}'`, this.it.span(at));
  }

  getitem(x: Tracer, idx: PyValue, at: SyntaxNode): PyValue {
    return this.lax.getitem(x, idx, at);
  }

  getitemOther(obj: PyValue, idx: PyValue, at: SyntaxNode): PyValue {
    if (obj instanceof AtIndexer) return this.lax.atRef(obj.target, idx, at);
    if (obj.k === "dtype") {
      // An argument spec leaf: f32[512,1024], i32[8], f32[] (a scalar).
      const dims = idx.k === "tuple" ? idx.items : [idx];
      const shape = dims.map((d) => {
        if (d.k !== "int" || d.v < 0 || !Number.isSafeInteger(d.v)) throw new JitError("SpecError", `array dimensions must be non-negative integers, got ${pyRepr(d)}`, this.it.span(at));
        return d.v;
      });
      const aval = { shape, dtype: obj.dtype, weak: false };
      return new PySpec(aval, `${obj.dtype}[${shape.join(",")}]`);
    }
    throw new JitError("TypeError", `'${pyTypeName(obj)}' object is not subscriptable`, this.it.span(at));
  }

  dtypeAttr(d: PyDType, name: string, at: SyntaxNode): PyValue {
    if (name === "name") return new PyStr(dtypeName(d.dtype));
    if (name === "itemsize") return new PyInt({ f32: 4, f64: 8, i32: 4, bool: 1 }[d.dtype]);
    throw new JitError("AttributeError", `'dtype' object has no attribute '${name}'`, this.it.span(at));
  }

  dtypeArg(v: PyValue | undefined, fname: string): DType {
    if (!v) throw new JitError("TypeError", `${fname}() needs a dtype`);
    if (v.k === "dtype") return v.dtype;
    if (v.k === "str" && DTYPES[v.v]) return DTYPES[v.v];
    if (v.k === "builtin" && (v.name === "float" || v.name === "int" || v.name === "bool")) return ({ float: "f32", int: "i32", bool: "bool" } as const)[v.name];
    throw new JitError("TypeError", `${fname}(): data type ${v.k === "str" ? `'${v.v}'` : pyTypeName(v)} not understood (JIT Lens supports float32, int32 and bool)`);
  }

  // ---------------------------------------------------------------- functions

  /** Calls jnp.<name> directly (used by Python builtins such as abs and round). */
  call(name: string, args: PyValue[], kwargs: Kwargs = []): PyValue {
    return this.jnpTable().get(name)!(args, kwargs);
  }

  private jnpCache?: Map<string, (args: PyValue[], kwargs: Kwargs) => PyValue>;

  private jnpTable(): Map<string, (args: PyValue[], kwargs: Kwargs) => PyValue> {
    if (this.jnpCache) return this.jnpCache;
    const t = new Map<string, (args: PyValue[], kwargs: Kwargs) => PyValue>();
    const unary = (name: string, prim: UnaryPrim, inexact = false) =>
      t.set(name, (args, kwargs) => this.ufunc(name, prim, [bindSig(`jnp.${name}`, ["x"], args, kwargs).x!], { inexact }));
    const binary = (name: string, prim: BinaryPrim | ComparePrim, inexact = false) =>
      t.set(name, (args, kwargs) => {
        const a = bindSig(`jnp.${name}`, ["x", "y"], args, kwargs);
        return this.ufunc(name, prim, [a.x!, a.y!], { inexact });
      });
    for (const [n, p] of [["exp", "exp"], ["log", "log"], ["tanh", "tanh"], ["sin", "sin"], ["cos", "cos"], ["sqrt", "sqrt"], ["log1p", "log1p"], ["expm1", "expm1"]] as const) unary(n, p, true);
    unary("negative", "neg");
    unary("abs", "abs");
    unary("absolute", "abs");
    unary("sign", "sign");
    unary("logical_not", "not");
    for (const n of ["floor", "ceil"] as const) {
      t.set(n, (args, kwargs) => {
        const x = this.toArray(bindSig(`jnp.${n}`, ["x"], args, kwargs).x!, `jnp.${n}`);
        return x.aval.dtype === "f32" || x.aval.dtype === "f64" ? this.ufunc(n, n, [x]) : x;
      });
    }
    t.set("round", (args, kwargs) => {
      const a = bindSig("jnp.round", ["a", "decimals=0"], args, kwargs);
      if (a.decimals && !(a.decimals.k === "int" && a.decimals.v === 0)) throw new JitError("UnsupportedError", "jnp.round with decimals is not supported by JIT Lens yet");
      const x = this.toArray(a.a!, "jnp.round");
      return x.aval.dtype === "f32" || x.aval.dtype === "f64" ? this.ufunc("round", "round", [x]) : x;
    });
    t.set("around", t.get("round")!);
    t.set("isfinite", (args) => this.ufunc("isfinite", "is_finite", [args[0]], { inexact: true }));
    t.set("isnan", (args) => { const x = this.toArray(args[0], "jnp.isnan"); return this.ufunc("isnan", "ne", [x, x]); });
    t.set("square", (args) => this.ufunc("square", "square", [args[0]]));
    t.set("reciprocal", (args) => this.ufunc("reciprocal", "integer_pow", [args[0]], { inexact: true, params: { y: -1 } }));
    t.set("positive", (args) => this.toArray(args[0], "jnp.positive"));
    binary("add", "add");
    binary("subtract", "sub");
    binary("multiply", "mul");
    binary("divide", "div", true);
    binary("true_divide", "div", true);
    binary("maximum", "max");
    binary("minimum", "min");
    binary("arctan2", "atan2", true);
    binary("greater", "gt");
    binary("greater_equal", "ge");
    binary("less", "lt");
    binary("less_equal", "le");
    binary("equal", "eq");
    binary("not_equal", "ne");
    binary("logical_and", "and");
    binary("logical_or", "or");
    t.set("power", (args, kwargs) => { const a = bindSig("jnp.power", ["x1", "x2"], args, kwargs); return this.power(a.x1!, a.x2!); });
    t.set("pow", t.get("power")!);
    t.set("where", (args, kwargs) => {
      const a = bindSig("jnp.where", ["condition", "x=None", "y=None"], args, kwargs);
      if (!a.x || !a.y || a.x.k === "none") throw new JitError("UnsupportedError", "jnp.where(condition) with one argument (nonzero) has a data-dependent shape and cannot be traced; pass x and y");
      return this.where(a.condition!, a.x, a.y);
    });
    t.set("clip", (args, kwargs) => {
      const a = bindSig("jnp.clip", ["arr", "min=None", "max=None", "a_min=None", "a_max=None"], args, kwargs);
      let x: PyValue = this.toArray(a.arr!, "jnp.clip");
      const lo = a.min ?? a.a_min, hi = a.max ?? a.a_max;
      if (lo && lo.k !== "none") x = this.ufunc("clip", "max", [lo, x]);
      if (hi && hi.k !== "none") x = this.ufunc("clip", "min", [hi, x]);
      return x;
    });
    const fill = (name: string, value: number | undefined) =>
      t.set(name, (args, kwargs) => {
        const a = bindSig(`jnp.${name}`, value === undefined ? ["shape", "fill_value", "dtype=None"] : ["shape", "dtype=None"], args, kwargs);
        return this.full(this.shapeArg(a.shape!, `jnp.${name}`), value === undefined ? a.fill_value! : new PyFloat(value), a.dtype, value !== undefined);
      });
    fill("zeros", 0);
    fill("ones", 1);
    fill("full", undefined);
    const fillLike = (name: string, value: number | undefined) =>
      t.set(name, (args, kwargs) => {
        const a = bindSig(`jnp.${name}`, value === undefined ? ["a", "fill_value", "dtype=None", "shape=None"] : ["a", "dtype=None", "shape=None"], args, kwargs);
        const x = this.toArray(a.a!, `jnp.${name}`);
        const shape = a.shape && a.shape.k !== "none" ? this.shapeArg(a.shape, `jnp.${name}`) : [...x.aval.shape];
        const dt = a.dtype && a.dtype.k !== "none" ? a.dtype : new PyDType(x.aval.dtype);
        return this.full(shape, value === undefined ? a.fill_value! : new PyFloat(value), dt, true);
      });
    fillLike("zeros_like", 0);
    fillLike("ones_like", 1);
    fillLike("full_like", undefined);
    const asarray = (args: PyValue[], kwargs: Kwargs) => {
      const a = bindSig("jnp.asarray", ["a", "dtype=None", "copy=None"], args, kwargs);
      let x: PyValue = a.a!;
      if (x.k === "list" || x.k === "tuple") throw new JitError("UnsupportedError", "jnp.array of a Python list is not supported by JIT Lens yet");
      const o = this.operand(x, "jnp.asarray");
      x = o.k === "scalar" ? new Tracer(this.cast(o, { dtype: o.t.dtype, weak: false }) as Literal) : o;
      return a.dtype && a.dtype.k !== "none" ? this.astype(x, this.dtypeArg(a.dtype, "jnp.asarray")) : x;
    };
    t.set("asarray", asarray);
    t.set("array", asarray);
    for (const [name, d] of Object.entries(DTYPES)) t.set(name, (args) => this.astype(args[0], d));
    const baseAsarray = asarray;
    const arrayFn = (args: PyValue[], kwargs: Kwargs) => {
      const a = args[0];
      if (a && (a.k === "list" || a.k === "tuple")) {
        const dt = kwargs.find(([k]) => k === "dtype")?.[1] ?? args[1];
        return this.lax.constantArray(a, dt && dt.k !== "none" ? this.dtypeArg(dt, "jnp.array") : undefined);
      }
      return baseAsarray(args, kwargs);
    };
    t.set("asarray", arrayFn);
    t.set("array", arrayFn);
    this.lax.register(t);
    this.jnpCache = t;
    return t;
  }

  where(c: PyValue, x: PyValue, y: PyValue): Tracer {
    const ox = this.operand(x, "jnp.where"), oy = this.operand(y, "jnp.where");
    const t = promoteAll([this.dtw(ox), this.dtw(oy)]);
    let cond: Tracer | Literal = this.cast(this.operand(c, "jnp.where"), { dtype: "bool", weak: false });
    if (cond.aval.dtype !== "bool") cond = this.b.bind("ne", [cond, literal(0, { shape: [], dtype: cond.aval.dtype, weak: false })], {});
    const xs = [cond, this.cast(ox, t), this.cast(oy, t)];
    const shape = broadcastShapes(xs.map((v) => v.aval.shape));
    const [bc, bx, by] = xs.map((v) => this.broadcastTo(v, shape));
    return this.b.bind("select_n", [bc, by, bx], {});
  }

  full(shape: number[], value: PyValue, dtype: PyValue | undefined, defaultFloat: boolean): Tracer {
    const o = this.operand(value, "jnp.full");
    let t: DTypeW;
    if (dtype && dtype.k !== "none") t = { dtype: this.dtypeArg(dtype, "jnp.full"), weak: false };
    else if (defaultFloat) t = { dtype: "f32", weak: false };
    else t = { dtype: this.dtw(o).dtype, weak: false };
    const x = this.cast(o, t);
    const r = this.broadcastTo(x, shape);
    return r instanceof Tracer ? r : this.b.bind("broadcast_in_dim", [r], { shape: [], broadcast_dimensions: [] });
  }

  shapeArg(v: PyValue, fname: string): number[] {
    const dim = (d: PyValue): number => {
      if (d.k === "int") {
        if (d.v < 0) throw new JitError("ValueError", `${fname}: negative dimension ${d.v} in shape`);
        return d.v;
      }
      if (d.k === "tracer") throw this.it.concretizationError(d, this.it.currentNode, `the shape argument of ${fname}`, "index");
      throw new JitError("TypeError", `${fname}: shape must be an int or a tuple of ints, got ${pyTypeName(d)}`);
    };
    if (v.k === "tuple" || v.k === "list") return v.items.map(dim);
    return [dim(v)];
  }

  // ---------------------------------------------------------------- modules

  knownName(moduleName: string, name: string): boolean {
    return JAX_NAMES[moduleName]?.has(name) ?? false;
  }

  importModule(path: string): PyModule | undefined {
    const cached = this.modules.get(path);
    if (cached) return cached;
    const make = (name: string, attrs: Record<string, () => PyValue>) => {
      const m = new PyModule(name, new Map(Object.entries(attrs)));
      this.modules.set(name, m);
      return m;
    };
    const fn = (name: string, f: (args: PyValue[], kwargs: Kwargs) => PyValue) => () => new PyBuiltin(name, f);
    switch (path) {
      case "jax": return make("jax", {
        numpy: () => this.importModule("jax.numpy")!,
        nn: () => this.importModule("jax.nn")!,
        lax: () => this.importModule("jax.lax")!,
        jit: fn("jax.jit", (args, kwargs) => this.jit(args, kwargs)),
        grad: fn("jax.grad", (args, kwargs) => makeGrad(this.it, "grad", args, kwargs)),
        value_and_grad: fn("jax.value_and_grad", (args, kwargs) => makeGrad(this.it, "value_and_grad", args, kwargs)),
        vmap: fn("jax.vmap", (args, kwargs) => vmap(this.it, args, kwargs)),
        Array: fn("Array", () => { throw new JitError("TypeError", "jax.Array cannot be constructed directly"); }),
      });
      case "jax.numpy": {
        const attrs: Record<string, () => PyValue> = {};
        for (const [k, f] of this.jnpTable()) attrs[k] = () => (DTYPES[k] ? new PyDType(DTYPES[k]) : new PyBuiltin(`jnp.${k}`, f));
        attrs.pi = () => new PyFloat(Math.PI);
        attrs.e = () => new PyFloat(Math.E);
        attrs.inf = () => new PyFloat(Infinity);
        attrs.nan = () => new PyFloat(NaN);
        attrs.newaxis = () => None;
        attrs.linalg = () => this.importModule("jax.numpy.linalg")!;
        attrs.ndarray = fn("ndarray", () => { throw new JitError("TypeError", "jnp.ndarray cannot be constructed directly"); });
        return make("jax.numpy", attrs);
      }
      case "jax.numpy.linalg": return make("jax.numpy.linalg", {
        norm: fn("jnp.linalg.norm", (args, kwargs) => {
          const a = bindSig("jnp.linalg.norm", ["x", "ord=None", "axis=None", "keepdims=False"], args, kwargs);
          if (a.ord && a.ord.k !== "none") throw new JitError("UnsupportedError", "jnp.linalg.norm with ord= is not supported by JIT Lens yet (the default 2-norm is)");
          const x = this.toArray(a.x!, "jnp.linalg.norm");
          const s = this.lax.reduction("norm", "reduce_sum", this.ufunc("norm", "mul", [x, x]), a.axis, this.lax.flag(a.keepdims));
          return this.ufunc("norm", "sqrt", [s]);
        }),
      });
      case "jax.nn": return make("jax.nn", {
        softmax: fn("jax.nn.softmax", (args, kwargs) => { const a = bindSig("jax.nn.softmax", ["x", "axis=-1", "where=None"], args, kwargs); return this.lax.softmax(a.x!, a.axis, false); }),
        log_softmax: fn("jax.nn.log_softmax", (args, kwargs) => { const a = bindSig("jax.nn.log_softmax", ["x", "axis=-1", "where=None"], args, kwargs); return this.lax.softmax(a.x!, a.axis, true); }),
        logsumexp: fn("jax.nn.logsumexp", (args, kwargs) => { const a = bindSig("jax.nn.logsumexp", ["a", "axis=None", "b=None", "keepdims=False", "return_sign=False", "where=None"], args, kwargs); return this.lax.logsumexp(a.a!, a.axis, this.lax.flag(a.keepdims)); }),
        one_hot: fn("jax.nn.one_hot", (args, kwargs) => { const a = bindSig("jax.nn.one_hot", ["x", "num_classes", "dtype=None", "axis=-1"], args, kwargs); return this.lax.oneHot(a.x!, a.num_classes!, a.dtype, a.axis); }),
        standardize: fn("jax.nn.standardize", (args, kwargs) => {
          const a = bindSig("jax.nn.standardize", ["x", "axis=-1", "mean=None", "variance=None", "epsilon=1e-05", "where=None"], args, kwargs);
          return this.lax.standardize(a.x!, a.axis, a.epsilon && a.epsilon.k === "float" ? a.epsilon.v : 1e-5);
        }),
        relu6: fn("jax.nn.relu6", ([x]) => this.ufunc("relu6", "min", [this.ufunc("relu6", "max", [x, new PyFloat(0)]), new PyFloat(6)])),
        leaky_relu: fn("jax.nn.leaky_relu", (args, kwargs) => {
          const a = bindSig("jax.nn.leaky_relu", ["x", "negative_slope=0.01"], args, kwargs);
          return this.where(this.ufunc("leaky_relu", "ge", [a.x!, new PyFloat(0)]), a.x!, this.ufunc("leaky_relu", "mul", [a.negative_slope ?? new PyFloat(0.01), a.x!]));
        }),
        elu: fn("jax.nn.elu", (args, kwargs) => {
          const a = bindSig("jax.nn.elu", ["x", "alpha=1.0"], args, kwargs);
          return this.where(this.ufunc("elu", "gt", [a.x!, new PyFloat(0)]), a.x!, this.ufunc("elu", "mul", [a.alpha ?? new PyFloat(1), this.ufunc("elu", "expm1", [a.x!], { inexact: true })]));
        }),
        log_sigmoid: fn("jax.nn.log_sigmoid", ([x]) => this.ufunc("log_sigmoid", "neg", [this.softplus(this.ufunc("log_sigmoid", "neg", [x]))])),
        soft_sign: fn("jax.nn.soft_sign", ([x]) => this.ufunc("soft_sign", "div", [x, this.ufunc("soft_sign", "add", [this.ufunc("soft_sign", "abs", [x]), new PyFloat(1)])])),
        relu: fn("jax.nn.relu", ([x]) => this.ufunc("relu", "max", [x, new PyFloat(0)])),
        sigmoid: fn("jax.nn.sigmoid", ([x]) => this.ufunc("sigmoid", "logistic", [x], { inexact: true })),
        silu: fn("jax.nn.silu", ([x]) => this.ufunc("silu", "mul", [x, this.ufunc("sigmoid", "logistic", [x], { inexact: true })])),
        swish: fn("jax.nn.swish", ([x]) => this.ufunc("silu", "mul", [x, this.ufunc("sigmoid", "logistic", [x], { inexact: true })])),
        gelu: fn("jax.nn.gelu", (args, kwargs) => this.gelu(args, kwargs)),
        softplus: fn("jax.nn.softplus", ([x]) => this.softplus(x)),
      });
      case "jax.lax": return make("jax.lax", {
        cond: fn("lax.cond", (args, kwargs) => this.control.cond(args, kwargs)),
        switch: fn("lax.switch", (args, kwargs) => this.control.switch(args, kwargs)),
        while_loop: fn("lax.while_loop", (args, kwargs) => this.control.whileLoop(args, kwargs)),
        fori_loop: fn("lax.fori_loop", (args, kwargs) => this.control.foriLoop(args, kwargs)),
        scan: fn("lax.scan", (args, kwargs) => this.control.scan(args, kwargs)),
        map: fn("lax.map", (args, kwargs) => this.control.map(args, kwargs)),
        rsqrt: fn("lax.rsqrt", ([x]) => this.ufunc("rsqrt", "rsqrt", [x])),
        exp: fn("lax.exp", ([x]) => this.ufunc("exp", "exp", [x])),
        log: fn("lax.log", ([x]) => this.ufunc("log", "log", [x])),
        tanh: fn("lax.tanh", ([x]) => this.ufunc("tanh", "tanh", [x])),
        sin: fn("lax.sin", ([x]) => this.ufunc("sin", "sin", [x])),
        cos: fn("lax.cos", ([x]) => this.ufunc("cos", "cos", [x])),
        sqrt: fn("lax.sqrt", ([x]) => this.ufunc("sqrt", "sqrt", [x])),
        abs: fn("lax.abs", ([x]) => this.ufunc("abs", "abs", [x])),
        neg: fn("lax.neg", ([x]) => this.ufunc("neg", "neg", [x])),
        logistic: fn("lax.logistic", ([x]) => this.ufunc("logistic", "logistic", [x])),
        add: fn("lax.add", ([x, y]) => this.ufunc("add", "add", [x, y])),
        sub: fn("lax.sub", ([x, y]) => this.ufunc("sub", "sub", [x, y])),
        mul: fn("lax.mul", ([x, y]) => this.ufunc("mul", "mul", [x, y])),
        div: fn("lax.div", ([x, y]) => this.ufunc("div", "div", [x, y])),
        max: fn("lax.max", ([x, y]) => this.ufunc("max", "max", [x, y])),
        min: fn("lax.min", ([x, y]) => this.ufunc("min", "min", [x, y])),
        stop_gradient: fn("lax.stop_gradient", ([x]) => this.b.bind("stop_gradient", [this.toArray(x, "lax.stop_gradient")], {})),
        square: fn("lax.square", ([x]) => this.ufunc("square", "square", [x])),
        erf: fn("lax.erf", ([x]) => this.ufunc("erf", "erf", [x])),
        dot_general: fn("lax.dot_general", (args, kwargs) => {
          const a = bindSig("lax.dot_general", ["lhs", "rhs", "dimension_numbers", "precision=None", "preferred_element_type=None", "out_sharding=None"], args, kwargs);
          const dn = a.dimension_numbers!;
          const ints = (v: PyValue) => this.it.iterate(v, this.it.currentNode).map((x) => (x as PyInt).v);
          const [c, bt] = this.it.iterate(dn, this.it.currentNode);
          const [ca, cb] = this.it.iterate(c, this.it.currentNode).map(ints);
          const [ba, bb] = this.it.iterate(bt, this.it.currentNode).map(ints);
          const lhs = this.toArray(a.lhs!, "lax.dot_general"), rhs = this.toArray(a.rhs!, "lax.dot_general");
          return this.b.bind("dot_general", [lhs, rhs], { dimension_numbers: [[ca, cb], [ba, bb]], preferred_element_type: a.preferred_element_type && a.preferred_element_type.k !== "none" ? this.dtypeArg(a.preferred_element_type, "lax.dot_general") : lhs.aval.dtype });
        }),
        integer_pow: fn("lax.integer_pow", ([x, y]) => this.ufunc("integer_pow", "integer_pow", [x], { params: { y: (y as PyInt).v } })),
      });
      case "math": return make("math", {
        pi: () => new PyFloat(Math.PI), e: () => new PyFloat(Math.E), inf: () => new PyFloat(Infinity), nan: () => new PyFloat(NaN), tau: () => new PyFloat(2 * Math.PI),
        sqrt: fn("math.sqrt", ([x]) => new PyFloat(Math.sqrt(this.pyNum(x, "math.sqrt")))),
        exp: fn("math.exp", ([x]) => new PyFloat(Math.exp(this.pyNum(x, "math.exp")))),
        log: fn("math.log", ([x, base]) => new PyFloat(Math.log(this.pyNum(x, "math.log")) / (base ? Math.log(this.pyNum(base, "math.log")) : 1))),
        log2: fn("math.log2", ([x]) => new PyFloat(Math.log2(this.pyNum(x, "math.log2")))),
        log10: fn("math.log10", ([x]) => new PyFloat(Math.log10(this.pyNum(x, "math.log10")))),
        sin: fn("math.sin", ([x]) => new PyFloat(Math.sin(this.pyNum(x, "math.sin")))),
        cos: fn("math.cos", ([x]) => new PyFloat(Math.cos(this.pyNum(x, "math.cos")))),
        tan: fn("math.tan", ([x]) => new PyFloat(Math.tan(this.pyNum(x, "math.tan")))),
        tanh: fn("math.tanh", ([x]) => new PyFloat(Math.tanh(this.pyNum(x, "math.tanh")))),
        atan: fn("math.atan", ([x]) => new PyFloat(Math.atan(this.pyNum(x, "math.atan")))),
        pow: fn("math.pow", ([x, y]) => new PyFloat(this.pyNum(x, "math.pow") ** this.pyNum(y, "math.pow"))),
        floor: fn("math.floor", ([x]) => new PyInt(Math.floor(this.pyNum(x, "math.floor")))),
        ceil: fn("math.ceil", ([x]) => new PyInt(Math.ceil(this.pyNum(x, "math.ceil")))),
        fabs: fn("math.fabs", ([x]) => new PyFloat(Math.abs(this.pyNum(x, "math.fabs")))),
        prod: fn("math.prod", ([xs]) => this.it.iterate(xs, this.it.currentNode).reduce<PyValue>((acc, x) => this.it.binop("*", acc, x, this.it.currentNode), new PyInt(1))),
        isfinite: fn("math.isfinite", ([x]) => new PyBool(Number.isFinite(this.pyNum(x, "math.isfinite")))),
      });
      case "functools": return make("functools", {
        partial: fn("functools.partial", ([f, ...bound], boundKw) => {
          if (f.k === "builtin" && f.name === "jax.jit") return new PyBuiltin("jax.jit", (args, kwargs) => this.jit([...bound, ...args], [...boundKw, ...kwargs]));
          return new PyBuiltin(`partial(${f.k === "function" || f.k === "builtin" ? f.name : "?"})`, (args, kwargs) => this.it.call(f, [...bound, ...args], [...boundKw, ...kwargs], this.b.span));
        }),
      });
    }
    return undefined;
  }

  private pyNum(v: PyValue, fname: string): number {
    if (isNumber(v)) return Number(v.v);
    if (v.k === "tracer") throw new JitError("ConcretizationTypeError", `${fname}() needs a concrete Python number, but got a traced array${v.origin ? ` derived from the argument '${v.origin.arg}'` : ""}; use the jnp function instead (e.g. jnp.${fname.split(".")[1]})`);
    throw new JitError("TypeError", `${fname}() needs a number, got ${pyTypeName(v)}`);
  }

  /** jax.jit(f, static_argnums=..., static_argnames=...): marks f; tracing treats it as f. */
  private jit(args: PyValue[], kwargs: Kwargs): PyValue {
    const a = bindSig("jax.jit", ["fun=None", "static_argnums=None", "static_argnames=None", "donate_argnums=None", "donate_argnames=None", "inline=None", "keep_unused=None", "device=None", "backend=None"], args, kwargs);
    const ints = (v: PyValue | undefined): number[] => (!v || v.k === "none" ? [] : v.k === "int" ? [v.v] : this.it.iterate(v, this.it.currentNode).map((x) => (x as PyInt).v));
    const strs = (v: PyValue | undefined): string[] => (!v || v.k === "none" ? [] : v.k === "str" ? [v.v] : this.it.iterate(v, this.it.currentNode).map((x) => (x as PyStr).v));
    const info = { staticArgnums: ints(a.static_argnums), staticArgnames: strs(a.static_argnames), inline: a.inline?.k === "bool" && a.inline.v };
    const mark = (f: PyValue): PyValue => {
      if (f.k !== "function") return f;
      const g = new PyFunction(f.name, f.params, f.body, f.isLambda, f.closure, f.defSpan);
      g.jit = info;
      return g;
    };
    if (!a.fun || a.fun.k === "none") return new PyBuiltin("jax.jit", ([f]) => mark(f));
    return mark(a.fun);
  }

  private gelu(args: PyValue[], kwargs: Kwargs): Tracer {
    const a = bindSig("jax.nn.gelu", ["x", "approximate=True"], args, kwargs);
    const approximate = !a.approximate || (a.approximate.k === "bool" && a.approximate.v);
    if (!approximate) throw new JitError("UnsupportedError", "jax.nn.gelu(approximate=False) needs erf, which JIT Lens does not support yet");
    // JAX: cdf = 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))); return x * cdf
    const x = this.toArray(a.x!, "jax.nn.gelu");
    const xf = x.aval.dtype === "f32" || x.aval.dtype === "f64" ? x : (this.astype(x, "f32") as Tracer);
    const x3 = this.ufunc("gelu", "integer_pow", [xf], { params: { y: 3 } });
    const inner = this.ufunc("gelu", "add", [xf, this.ufunc("gelu", "mul", [new PyFloat(0.044715), x3])]);
    const th = this.ufunc("gelu", "tanh", [this.ufunc("gelu", "mul", [new PyFloat(Math.sqrt(2 / Math.PI)), inner])]);
    const cdf = this.ufunc("gelu", "mul", [new PyFloat(0.5), this.ufunc("gelu", "add", [new PyFloat(1), th])]);
    return this.ufunc("gelu", "mul", [xf, cdf]);
  }

  private softplus(x: PyValue): Tracer {
    return this.lax.logaddexp(x, new PyFloat(0)); // JAX: softplus(x) = jnp.logaddexp(x, 0)
  }
}

/** Array methods that forward to the jnp function of the same name. */
const ARRAY_METHODS = new Set(["round", "clip", "sum", "mean", "max", "min", "prod", "argmax", "argmin", "var", "std", "all", "any", "squeeze", "swapaxes", "cumsum", "cumprod", "dot", "take"]);
/** Array attributes JAX has (for "not supported yet" vs "no such attribute"). */
const ARRAY_ATTRS = new Set([
  "T", "sum", "mean", "max", "min", "prod", "argmax", "argmin", "var", "std", "all", "any", "reshape", "transpose",
  "squeeze", "flatten", "ravel", "swapaxes", "cumsum", "dot", "take", "item", "tolist", "conj", "real", "imag", "at",
]);

export { dtypeNames };
