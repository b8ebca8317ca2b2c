// The jaxpr in JAX's text format. Variables are named a, b, ..., z, ba, bb, ... in order of
// appearance; params are sorted by name; every printed line records its source spans.
import type { IRLine, Span } from "../report";
import { floatRepr } from "../trace/values";
import { dtypeNames } from "./dtypes";
import type { Atom, Aval, Eqn, Jaxpr, Var } from "./types";

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

const MODES: Record<string, string> = { clip: "GatherScatterMode.CLIP", fill: "GatherScatterMode.FILL_OR_DROP", promise_in_bounds: "GatherScatterMode.PROMISE_IN_BOUNDS" };

function dimsRecord(name: string, v: Record<string, number[]>): string {
  return `${name}(${Object.entries(v).map(([k, x]) => `${k}=${pyTuple(x)}`).join(", ")})`;
}

/** Params as current JAX prints them (see docs/JAX_SEMANTICS.md): its pretty-printing rules
 *  hide some params (accuracy=None, sharding on converts and broadcasts) and add others we keep
 *  implicit (out_sharding=None on reduce_sum, sharding=None on reshape and iota). */
function printedParams(e: Eqn): [string, string][] {
  const p = e.params as Record<string, unknown>;
  let ps: [string, string][];
  switch (e.prim) {
    case "broadcast_in_dim": {
      const dims = p.broadcast_dimensions as number[];
      ps = dims.length ? [["broadcast_dimensions", pyTuple(dims)]] : [];
      break;
    }
    case "dot_general": {
      const [[ca, cb], [ba, bb]] = p.dimension_numbers as number[][][];
      const list = (x: number[]) => `[${x.join(", ")}]`;
      ps = [["dimension_numbers", `((${list(ca)}, ${list(cb)}), (${list(ba)}, ${list(bb)}))`]];
      if (p.preferred_element_type) ps.push(["preferred_element_type", paramValue(p.preferred_element_type)]);
      break;
    }
    case "gather":
      ps = [
        ["dimension_numbers", dimsRecord("GatherDimensionNumbers", p.dimension_numbers as Record<string, number[]>)],
        ["fill_value", paramValue(p.fill_value)], ["indices_are_sorted", paramValue(p.indices_are_sorted)],
        ["mode", MODES[p.mode as string]], ["slice_sizes", pyTuple(p.slice_sizes as number[])], ["unique_indices", paramValue(p.unique_indices)],
      ];
      break;
    case "scatter": case "scatter-add": case "scatter-mul":
      ps = [
        ["dimension_numbers", dimsRecord("ScatterDimensionNumbers", p.dimension_numbers as Record<string, number[]>)],
        ["indices_are_sorted", paramValue(p.indices_are_sorted)], ["mode", MODES[p.mode as string]],
        ["unique_indices", paramValue(p.unique_indices)], ["update_consts", "()"], ["update_jaxpr", "None"],
      ];
      break;
    default:
      ps = Object.entries(p).map(([k, v]) => [k, paramValue(v)]);
  }
  if (e.prim === "round") ps.push(["rounding_method", "1"]);
  if (e.prim === "reduce_sum") ps.push(["out_sharding", "None"]);
  if (e.prim === "reshape" || e.prim === "iota") ps.push(["sharding", "None"]);
  return ps.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function literalText(v: number | boolean, a: Aval): string {
  let s: string;
  if (typeof v === "boolean") s = v ? "True" : "False";
  else if (a.dtype === "f32") s = floatRepr(Math.fround(v)); // the float32 value, as JAX's literal holds it
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
