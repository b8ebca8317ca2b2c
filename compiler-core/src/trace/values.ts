// Values of the Python subset at trace time. Python scalars, containers and functions are
// concrete; arrays are Tracers: an abstract value (shape + dtype) standing for a jaxpr atom.
import type { SyntaxNode } from "@lezer/common";
import type { Span } from "../report";
import type { Atom, Aval } from "../ir/types";
import type { Scope } from "./scope";

export class PyNone { readonly k = "none"; }
export const None = new PyNone();
export class PyEllipsis { readonly k = "ellipsis"; }
export const Ellipsis = new PyEllipsis();
export class PyBool { readonly k = "bool"; constructor(readonly v: boolean) {} }
export const True = new PyBool(true);
export const False = new PyBool(false);
export class PyInt { readonly k = "int"; constructor(readonly v: number) {} }
export class PyFloat { readonly k = "float"; constructor(readonly v: number) {} }
export class PyStr { readonly k = "str"; constructor(readonly v: string) {} }
export class PyTuple { readonly k = "tuple"; constructor(readonly items: PyValue[]) {} }
export class PyList { readonly k = "list"; constructor(public items: PyValue[]) {} }
export class PyDict {
  readonly k = "dict";
  /** Keys are hashed by `keyOf`; insertion order kept, as Python does. */
  constructor(readonly entries: Map<string, [PyValue, PyValue]> = new Map()) {}
}
export class PySlice { readonly k = "slice"; constructor(readonly start: PyValue, readonly stop: PyValue, readonly step: PyValue) {} }
export class PyRange { readonly k = "range"; constructor(readonly start: number, readonly stop: number, readonly step: number) {} }

/** Where a traced value came from: the argument, and the lines it flowed through. */
export interface Origin {
  arg: string;
  via: Span[];
}

export class Tracer {
  readonly k = "tracer";
  constructor(readonly atom: Atom, readonly origin?: Origin) {}
  get aval(): Aval { return this.atom.aval; }
}

export interface Param {
  name: string;
  /** Default value, evaluated at definition time. */
  default?: PyValue;
  kind: "normal" | "star" | "starstar";
  /** Declared after `*` or `*args`: can only be passed by keyword. */
  kwOnly?: boolean;
}

export interface JitInfo {
  staticArgnums: number[];
  staticArgnames: string[];
  /** jax.jit(..., inline=True): calls leave no `jit` equation, the body is traced in place. */
  inline?: boolean;
}

/** A user function (def or lambda) with its closure. */
export class PyFunction {
  readonly k = "function";
  jit?: JitInfo;
  constructor(
    readonly name: string,
    readonly params: Param[],
    /** The Body node of a def, or the expression of a lambda. */
    readonly body: SyntaxNode,
    readonly isLambda: boolean,
    readonly closure: Scope,
    readonly defSpan: Span,
  ) {}
}

export type Kwargs = [string, PyValue][];

/** A function implemented by JIT Lens (jnp.*, builtins, ...). */
export class PyBuiltin {
  readonly k = "builtin";
  constructor(
    readonly name: string,
    readonly call: (args: PyValue[], kwargs: Kwargs) => PyValue,
  ) {}
}

export class PyModule {
  readonly k = "module";
  constructor(readonly name: string, readonly attrs: Map<string, () => PyValue>) {}
}

/** A dtype object such as jnp.float32 (callable: converts its argument). */
export class PyDType {
  readonly k = "dtype";
  constructor(readonly dtype: import("../ir/types").DType) {}
}

/** A leaf of an argument spec: an abstract array (`f32[512,1024]`) or a NumPy file (`load("x.npy")`). */
export class PySpec {
  readonly k = "spec";
  constructor(readonly aval: import("../ir/types").Aval, readonly text: string, readonly load?: { path: string; value: import("../ir/types").ArrayValue }) {}
}

export type PyValue =
  | PySpec | PyNone | PyEllipsis | PyBool | PyInt | PyFloat | PyStr | PyTuple | PyList | PyDict | PySlice | PyRange
  | Tracer | PyFunction | PyBuiltin | PyModule | PyDType;

export function isNumber(v: PyValue): v is PyInt | PyFloat | PyBool {
  return v.k === "int" || v.k === "float" || v.k === "bool";
}

export function pyTypeName(v: PyValue): string {
  switch (v.k) {
    case "none": return "NoneType";
    case "ellipsis": return "ellipsis";
    case "tracer": return "Array";
    case "function": return "function";
    case "builtin": return "builtin_function_or_method";
    case "dtype": return "dtype";
    case "spec": return "ArraySpec";
    default: return v.k;
  }
}

/** Python's repr, for static values in messages and argument listings. */
export function pyRepr(v: PyValue): string {
  switch (v.k) {
    case "none": return "None";
    case "ellipsis": return "Ellipsis";
    case "bool": return v.v ? "True" : "False";
    case "int": return String(v.v);
    case "float": return floatRepr(v.v);
    case "str": return JSON.stringify(v.v).replace(/^"|"$/g, "'");
    case "tuple": return v.items.length === 1 ? `(${pyRepr(v.items[0])},)` : `(${v.items.map(pyRepr).join(", ")})`;
    case "list": return `[${v.items.map(pyRepr).join(", ")}]`;
    case "dict": return `{${[...v.entries.values()].map(([a, b]) => `${pyRepr(a)}: ${pyRepr(b)}`).join(", ")}}`;
    case "slice": return `slice(${pyRepr(v.start)}, ${pyRepr(v.stop)}, ${pyRepr(v.step)})`;
    case "range": return v.step === 1 ? `range(${v.start}, ${v.stop})` : `range(${v.start}, ${v.stop}, ${v.step})`;
    case "tracer": return `Traced<${v.aval.dtype}[${v.aval.shape.join(",")}]>`;
    case "function": return `<function ${v.name}>`;
    case "builtin": return `<function ${v.name}>`;
    case "module": return `<module '${v.name}'>`;
    case "dtype": return `dtype('${dtypeName(v.dtype)}')`;
    case "spec": return v.text;
  }
}

export function dtypeName(d: import("../ir/types").DType): string {
  return { f32: "float32", f64: "float64", i32: "int32", bool: "bool" }[d];
}

/** Python's repr of a float: shortest round-trip digits, always with a `.` or exponent. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Object.is(x, -0)) return "-0.0";
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    // Python: 1e-06, 1.5e+16
    const [m, e] = x.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const s = String(x);
  return s.includes(".") || s.includes("e") ? s : `${s}.0`;
}

/** The float32 value's shortest decimal repr, as NumPy prints a float32 scalar. */
export function float32Repr(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return floatRepr(f);
  for (let p = 1; p <= 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return floatRepr(s);
  }
  return floatRepr(f);
}

/** Hash key of a Python value usable as a dict key. */
export function keyOf(v: PyValue): string | undefined {
  switch (v.k) {
    case "str": return `s:${v.v}`;
    case "int": case "float": return `n:${v.v}`;
    case "bool": return `n:${v.v ? 1 : 0}`;
    case "none": return "none";
    case "tuple": {
      const parts = v.items.map(keyOf);
      return parts.every((p) => p !== undefined) ? `t:(${parts.join(",")})` : undefined;
    }
    default: return undefined;
  }
}
