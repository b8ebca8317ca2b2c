// Python's builtins that numerical code uses at trace time.
import { JitError } from "../frontend/source";
import type { Interpreter } from "./interp";
import { rangeLen } from "./interp";
import {
  False, None, PyBool, PyBuiltin, PyDict, PyFloat, PyInt, PyList, PyRange, PySlice, PyStr, PyTuple, True,
  isNumber, keyOf, pyRepr, pyTypeName, type Kwargs, type PyValue,
} from "./values";

/** The Python type names `isinstance` accepts, and what each includes. */
const TYPE_NAMES: Record<string, string[]> = {
  int: ["int", "bool"], float: ["float"], bool: ["bool"], str: ["str"], tuple: ["tuple"], list: ["list"],
  dict: ["dict"], range: ["range"], slice: ["slice"], object: [],
};

/** Required positional arguments of the builtins that have some. */
const MIN_ARGS: Record<string, number> = {
  range: 1, len: 1, enumerate: 1, reversed: 1, abs: 1, min: 1, max: 1, sum: 1, any: 1, all: 1, round: 1, pow: 2, divmod: 2,
  sorted: 1, map: 2, isinstance: 2, callable: 1, repr: 1, hasattr: 2, getattr: 2,
};

export function buildBuiltins(it: Interpreter): Map<string, PyValue> {
  const m = new Map<string, PyValue>();
  const at = () => it.builder.span;
  const err = (kind: string, msg: string) => new JitError(kind, msg, at());
  const def = (name: string, f: (args: PyValue[], kwargs: Kwargs) => PyValue) => m.set(name, new PyBuiltin(name, (args, kwargs) => {
    // Python's arity checks (the bodies below read their arguments without checking them).
    const min = MIN_ARGS[name] ?? 0;
    if (args.length < min) throw err("TypeError", `${name}() takes at least ${min} positional argument${min === 1 ? "" : "s"} (${args.length} given)`);
    if ((name === "getattr" || name === "hasattr") && args[1].k !== "str") throw err("TypeError", `${name}(): attribute name must be string, not '${pyTypeName(args[1])}'`);
    return f(args, kwargs);
  }));
  const kw = (kwargs: Kwargs, name: string) => kwargs.find(([k]) => k === name)?.[1];
  // The call expression being evaluated: errors inside a builtin point at it.
  const node = () => it.currentNode;
  const iter = (v: PyValue) => it.iterate(v, node());
  const num = (v: PyValue, fn: string, to: "int" | "float"): number => {
    if (isNumber(v)) return Number(v.v);
    if (v.k === "tracer") {
      throw new JitError(
        "ConcretizationTypeError",
        `${fn}() of a traced array with type ${v.aval.dtype}[${v.aval.shape.join(",")}]${v.origin ? ` derived from the argument '${v.origin.arg}'` : ""}: a traced value has no concrete ${to} while tracing. Keep the value an array (e.g. x.astype(jnp.${to === "int" ? "int32" : "float32"})), or mark the argument static with static_argnums.`,
        at(),
      );
    }
    if (v.k === "str" && !Number.isNaN(Number(v.v))) return Number(v.v);
    throw err("TypeError", `${fn}() argument must be a number, not '${pyTypeName(v)}'`);
  };

  def("range", (args) => {
    const ns = args.map((a) => {
      if (a.k === "tracer") throw it.concretizationError(a, node(), "range()", "index");
      if (a.k !== "int" && a.k !== "bool") throw err("TypeError", `'${pyTypeName(a)}' object cannot be interpreted as an integer`);
      return Number(a.v);
    });
    if (ns.length === 1) return new PyRange(0, ns[0], 1);
    if (ns[2] === 0) throw err("ValueError", "range() arg 3 must not be zero");
    return new PyRange(ns[0], ns[1], ns[2] ?? 1);
  });
  def("len", ([v]) => {
    switch (v.k) {
      case "list": case "tuple": return new PyInt(v.items.length);
      case "str": return new PyInt(v.v.length);
      case "dict": return new PyInt(v.entries.size);
      case "range": return new PyInt(rangeLen(v));
      case "tracer":
        if (!v.aval.shape.length) throw err("TypeError", "len() of unsized object (a 0-d array)");
        return new PyInt(v.aval.shape[0]);
      default: throw err("TypeError", `object of type '${pyTypeName(v)}' has no len()`);
    }
  });
  def("enumerate", ([v, start], kwargs) => {
    const s = start ?? kw(kwargs, "start");
    const s0 = s ? num(s, "enumerate", "int") : 0;
    return new PyList(iter(v).map((x, i) => new PyTuple([new PyInt(i + s0), x])));
  });
  def("zip", (args) => {
    const lists = args.map(iter);
    const n = Math.min(...lists.map((l) => l.length));
    return new PyList(Array.from({ length: lists.length ? n : 0 }, (_, i) => new PyTuple(lists.map((l) => l[i]))));
  });
  def("reversed", ([v]) => new PyList(iter(v).reverse()));
  def("list", ([v]) => new PyList(v ? iter(v) : []));
  def("tuple", ([v]) => new PyTuple(v ? iter(v) : []));
  def("dict", (args, kwargs) => {
    const d = new PyDict();
    if (args[0]?.k === "dict") for (const [k, e] of args[0].entries) d.entries.set(k, e);
    else if (args[0]) for (const [i, pair] of iter(args[0]).entries()) {
      const kv = iter(pair);
      if (kv.length !== 2) throw err("ValueError", `dictionary update sequence element #${i} has length ${kv.length}; 2 is required`);
      const [k, v] = kv;
      d.entries.set(keyOf(k) ?? "", [k, v]);
    }
    for (const [k, v] of kwargs) d.entries.set(`s:${k}`, [new PyStr(k), v]);
    return d;
  });
  def("int", ([v]) => (v ? new PyInt(Math.trunc(num(v, "int", "int"))) : new PyInt(0)));
  def("float", ([v]) => {
    if (v?.k === "str" && /^[+-]?(inf|infinity|nan)$/i.test(v.v.trim())) return new PyFloat(/nan/i.test(v.v) ? NaN : v.v.trim().startsWith("-") ? -Infinity : Infinity);
    return new PyFloat(v ? num(v, "float", "float") : 0);
  });
  def("bool", ([v]) => (v ? new PyBool(it.truthy(v, node(), "bool()")) : False));
  def("str", ([v]) => new PyStr(v ? it.str(v) : ""));
  def("abs", ([v]) => {
    if (v.k === "tracer") return it.np.call("abs", [v]);
    if (v.k === "float") return new PyFloat(Math.abs(v.v));
    return new PyInt(Math.abs(num(v, "abs", "int")));
  });
  const minmax = (name: "min" | "max") => (args: PyValue[], kwargs: Kwargs): PyValue => {
    const items = args.length === 1 ? iter(args[0]) : args;
    if (!items.length) {
      const d = kw(kwargs, "default");
      if (d) return d;
      throw err("ValueError", `${name}() arg is an empty sequence`);
    }
    const key = kw(kwargs, "key");
    let best = items[0];
    let bestKey = key ? it.call(key, [best], [], at()) : best;
    for (const x of items.slice(1)) {
      const k = key ? it.call(key, [x], [], at()) : x;
      const better = it.compare(name === "min" ? "<" : ">", k, bestKey, node());
      if (it.truthy(better, node(), `${name}() of traced values (use jnp.${name === "min" ? "minimum" : "maximum"})`)) { best = x; bestKey = k; }
    }
    return best;
  };
  def("min", minmax("min"));
  def("max", minmax("max"));
  def("sum", ([v, start]) => {
    let acc: PyValue = start ?? new PyInt(0);
    for (const x of iter(v)) acc = it.binop("+", acc, x, node());
    return acc;
  });
  def("any", ([v]) => (iter(v).some((x) => it.truthy(x, node(), "any()")) ? True : False));
  def("all", ([v]) => (iter(v).every((x) => it.truthy(x, node(), "all()")) ? True : False));
  def("round", ([v, nd]) => {
    if (v.k === "tracer") return it.np.call("round", nd ? [v, nd] : [v]);
    const x = num(v, "round", "float");
    if (nd && nd.k !== "none") { const p = 10 ** num(nd, "round", "int"); return new PyFloat(roundHalfEven(x * p) / p); }
    return new PyInt(roundHalfEven(x));
  });
  def("pow", ([a, b]) => it.binop("**", a, b, node()));
  def("divmod", ([a, b]) => new PyTuple([it.binop("//", a, b, node()), it.binop("%", a, b, node())]));
  def("sorted", ([v], kwargs) => {
    const items = iter(v);
    const key = kw(kwargs, "key");
    const keys = items.map((x) => (key ? it.call(key, [x], [], at()) : x));
    const order = items.map((_, i) => i).sort((i, j) => (it.truthy(it.compare("<", keys[i], keys[j], node()), node(), "sorted()") ? -1 : it.truthy(it.compare("<", keys[j], keys[i], node()), node(), "sorted()") ? 1 : 0));
    const out = order.map((i) => items[i]);
    if (kw(kwargs, "reverse") && it.truthy(kw(kwargs, "reverse")!, node(), "sorted()")) out.reverse();
    return new PyList(out);
  });
  def("map", ([f, ...vs]) => {
    const lists = vs.map(iter);
    const n = Math.min(...lists.map((l) => l.length));
    return new PyList(Array.from({ length: n }, (_, i) => it.call(f, lists.map((l) => l[i]), [], at())));
  });
  def("isinstance", ([v, t]) => {
    const types = t.k === "tuple" ? t.items : [t];
    const name = pyTypeName(v);
    return new PyBool(types.some((ty) => {
      if (ty.k === "builtin" && TYPE_NAMES[ty.name]) return ty.name === "object" || TYPE_NAMES[ty.name].includes(name);
      if (ty.k === "builtin" && (ty.name === "Array" || ty.name === "ndarray")) return v.k === "tracer";
      return false;
    }));
  });
  def("callable", ([v]) => new PyBool(v.k === "function" || v.k === "builtin" || v.k === "dtype"));
  def("print", () => None);
  def("slice", (args) => {
    const [a, b, c] = args.length === 1 ? [None, args[0], None] : [args[0], args[1], args[2] ?? None];
    return new PySlice(a, b, c);
  });
  def("repr", ([v]) => new PyStr(pyRepr(v)));
  def("hasattr", ([o, n]) => {
    try {
      it.getattr(o, (n as PyStr).v, node());
      return True;
    } catch {
      return False;
    }
  });
  def("getattr", ([o, n, d]) => {
    try {
      return it.getattr(o, (n as PyStr).v, node());
    } catch (e) {
      if (d) return d;
      throw e;
    }
  });
  for (const name of Object.keys(TYPE_NAMES)) if (!m.has(name)) def(name, () => { throw err("UnsupportedError", `${name}() is not supported while tracing`); });
  return m;
}

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
