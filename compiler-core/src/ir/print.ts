// The jaxpr in JAX's text format. Variables are named a, b, ..., z, ba, bb, ... in order of
// appearance; params are sorted by name; every printed line records its source spans.
import type { IRLine, Span } from "../report";
import { floatRepr, float32Repr } from "../trace/values";
import { dtypeNames } from "./dtypes";
import type { Atom, Aval, Eqn, Jaxpr, Var } from "./types";

/** Unary primitives that take JAX's `accuracy` parameter (printed as `accuracy=None`). */
const ACCURACY = new Set(["exp", "log", "log1p", "expm1", "tanh", "logistic", "sin", "cos", "sqrt", "rsqrt"]);

export function varName(n: number): string {
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s; // JAX's scheme: a..z, then ba, bb, ... (base 26 with a = 0)
}

function typeStr(a: Aval): string {
  return `${a.dtype}[${a.shape.join(",")}]`;
}

function pyTuple(xs: readonly number[]): string {
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`;
}

function paramValue(v: unknown): string {
  if (Array.isArray(v)) return pyTuple(v as number[]);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return dtypeNames[v as keyof typeof dtypeNames] ?? v;
  if (v === null || v === undefined) return "None";
  return String(v);
}

/** Params as JAX prints them, including those JAX has and we keep implicit. */
function printedParams(e: Eqn): [string, string][] {
  const ps: [string, string][] = Object.entries(e.params as Record<string, unknown>).map(([k, v]) => [k, paramValue(v)]);
  if (ACCURACY.has(e.prim)) ps.push(["accuracy", "None"]);
  if (e.prim === "round") ps.push(["rounding_method", "1"]);
  if (e.prim === "broadcast_in_dim" || e.prim === "convert_element_type") ps.push(["sharding", "None"]);
  return ps.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function literalText(v: number | boolean, a: Aval): string {
  let s: string;
  if (typeof v === "boolean") s = v ? "True" : "False";
  else if (a.dtype === "f32") s = float32Repr(v);
  else if (a.dtype === "f64") s = floatRepr(v);
  else if (a.dtype === "bool") s = v ? "True" : "False";
  else s = String(v);
  return `${s}:${typeStr(a)}`;
}

export function printJaxpr(j: Jaxpr): IRLine[] {
  const names = new Map<number, string>();
  const name = (v: Var) => {
    let n = names.get(v.id);
    if (!n) { n = varName(names.size); names.set(v.id, n); }
    return n;
  };
  const atom = (a: Atom) => (a.kind === "lit" ? literalText(a.value, a.aval) : name(a));
  const binder = (v: Var) => `${name(v)}:${typeStr(v.aval)}`;
  const lines: IRLine[] = [];
  const consts = j.constvars.map(binder).join(" ");
  const ins = j.invars.map(binder).join(" ");
  lines.push({ text: `{ lambda ${consts}; ${ins}. let`, spans: [] });
  for (const e of j.eqns) {
    const outs = e.outputs.map(binder).join(" ");
    const ps = printedParams(e);
    const head = ps.length ? `${e.prim}[${ps.map(([k, v]) => `${k}=${v}`).join(" ")}]` : e.prim;
    const args = e.inputs.map(atom).join(" ");
    const spans: Span[] = [e.span, ...(e.callStack ?? [])];
    lines.push({ text: `    ${outs} = ${head}${args ? " " + args : ""}`, spans });
  }
  const outs = j.outvars.map(atom);
  lines.push({ text: `  in (${outs.join(", ")}${outs.length === 1 ? "," : ""}) }`, spans: [] });
  return lines;
}
