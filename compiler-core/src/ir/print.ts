// The jaxpr in JAX's text format. Variables are named a, b, ..., z, ba, bb, ... in order of
// appearance; params are sorted by name; every printed line records its source spans.
//
// Sub-jaxprs (cond branches, loop bodies, nested jit calls) follow JAX's printer (core.py
// pp_eqn / pp_jaxpr): one naming context for the whole text, so inner variables continue the
// outer sequence; per equation, results are named first, then the sub-jaxprs in param order,
// then the operands; a result nobody uses prints as `_` and takes no name; a `jit` jaxpr's
// binders take the names of the call's operands and results (suggest_same_var_names); a
// jaxpr used more than once is hoisted above the main one as `let NAME = { ... } in`.
// Layout: JAX breaks a line that does not fit in 80 columns; JIT Lens prints one equation
// per line (each line links to its source). An equation holding sub-jaxprs is printed in JAX's
// broken layout (one param per line, `] operands` last), and the sub-jaxprs one equation per
// line too, so each inner equation has its own line and spans; JAX would print a short
// sub-jaxpr on one line.
import type { IRLine, Span } from "../report";
import { floatRepr } from "../trace/values";
import { dtypeNames } from "./dtypes";
import { subJaxprs } from "./primitives";
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

function pyTuple(xs: readonly (number | boolean)[]): string {
  const items = xs.map((x) => (typeof x === "boolean" ? (x ? "True" : "False") : String(x)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
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

/** A printed param value: text, one sub-jaxpr, or a tuple of sub-jaxprs. */
type PV = string | { jaxpr: Jaxpr } | { jaxprs: Jaxpr[] };

const byName = ([a]: [string, PV], [b]: [string, PV]): number => (a < b ? -1 : a > b ? 1 : 0);

/** Params as current JAX prints them (see docs/JAX_SEMANTICS.md): its pretty-printing rules
 *  hide some params (accuracy=None, sharding on converts and broadcasts) and add others we keep
 *  implicit (out_sharding=None on reduce_sum, sharding=None on reshape and iota). */
function printedParams(e: Eqn): [string, PV][] {
  const p = e.params as Record<string, unknown>;
  let ps: [string, PV][];
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
    case "cond":
      return [["branches", { jaxprs: p.branches as Jaxpr[] }]];
    case "jit":
      // JAX's jit rule: name first, then the rest sorted; trivial params (shardings, donation, ...) dropped.
      return [["name", String(p.name)], ["jaxpr", { jaxpr: p.jaxpr as Jaxpr }]];
    default:
      ps = Object.entries(p).map(([k, v]): [string, PV] => [k, isJaxpr(v) ? { jaxpr: v } : paramValue(v)]);
  }
  if (e.prim === "round") ps.push(["rounding_method", "1"]);
  if (e.prim === "reduce_sum") ps.push(["out_sharding", "None"]);
  if (e.prim === "reshape" || e.prim === "iota") ps.push(["sharding", "None"]);
  return ps.sort(byName);
}

function isJaxpr(v: unknown): v is Jaxpr {
  return typeof v === "object" && v !== null && "eqns" in v && "invars" in v && "outvars" in v;
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

/** JAX's printing context: one name per variable across the whole text, handed out in print order. */
class Printer {
  readonly names = new Map<number, string>();
  /** Results that no equation or output uses: printed `_`, never named. */
  private readonly dropped = new Set<number>();
  /** Hoisted (shared) jaxprs and their names. */
  readonly shared = new Map<Jaxpr, string>();
  private readonly sharedNames = new Set<string>();
  private counter = 0;
  readonly lines: IRLine[] = [];

  name(v: Var): string {
    if (this.dropped.has(v.id)) return "_";
    let n = this.names.get(v.id);
    if (n === undefined) {
      do n = varName(this.counter++); while (this.sharedNames.has(n));
      this.names.set(v.id, n);
    }
    return n;
  }

  atom(a: Atom): string {
    return a.kind === "lit" ? literalText(a.value, a.aval) : this.name(a);
  }

  binder(v: Var): string {
    return `${this.name(v)}:${typeStr(v.aval)}`;
  }

  /** suggest_same_var_names: `inner` vars take the names of `outer` vars not yet used for this. */
  suggest(inner: readonly Atom[], outer: readonly Atom[]): void {
    if (inner.length !== outer.length) return;
    const used = new Set<number>();
    inner.forEach((v, i) => {
      const like = outer[i];
      if (like.kind !== "var" || used.has(like.id) || v.kind !== "var" || this.names.has(v.id) || this.dropped.has(v.id)) return;
      used.add(like.id);
      this.names.set(v.id, this.name(like));
    });
  }

  markDropped(j: Jaxpr): void {
    const used = new Set<number>();
    for (const e of j.eqns) for (const x of e.inputs) if (x.kind === "var") used.add(x.id);
    for (const o of j.outvars) if (o.kind === "var") used.add(o.id);
    for (const e of j.eqns) for (const o of e.outputs) if (!used.has(o.id)) this.dropped.add(o.id);
  }

  /** Hoists the jaxprs that occur more than once, as JAX's pp_toplevel_jaxpr does. */
  hoist(top: Jaxpr): void {
    const counts = new Map<Jaxpr, number>();
    const label = new Map<Jaxpr, string>();
    const queue: Jaxpr[] = [top];
    while (queue.length) {
      const j = queue.shift()!;
      counts.set(j, (counts.get(j) ?? 0) + 1);
      for (const e of j.eqns) {
        const subs = subJaxprs(e.prim, e.params);
        const nm = (e.params as { name?: unknown }).name;
        for (const s of subs) {
          queue.push(s);
          if (typeof nm === "string" && !label.has(s)) label.set(s, nm.replace(/^<|>$/g, ""));
        }
      }
    }
    const nameCounts = new Map<string, number>();
    for (const [j, c] of counts) {
      if (c === 1) continue;
      let nm = label.get(j) ?? "jaxpr";
      const k = nameCounts.get(nm) ?? 0;
      nameCounts.set(nm, k + 1);
      if (k > 0) {
        nm += String(k);
        nameCounts.set(nm, (nameCounts.get(nm) ?? 0) + 1);
      }
      this.jaxpr(j, 0, `let ${nm} = `, [], " in");
      this.shared.set(j, nm);
      this.sharedNames.add(nm);
    }
  }

  /** Prints `j` starting at column `indent` after `prefix`; `suffix` ends its last line. */
  jaxpr(j: Jaxpr, indent: number, prefix: string, spans: Span[], suffix = ""): void {
    this.markDropped(j);
    const pad = " ".repeat(indent);
    const consts = j.constvars.map((v) => this.binder(v)).join(" ");
    const ins = j.invars.map((v) => this.binder(v)).join(" ");
    this.lines.push({ text: `${pad}${prefix}{ lambda ${consts}; ${ins}. let`, spans });
    for (const e of j.eqns) this.eqn(e, indent + 4);
    const outs = j.outvars.map((a) => this.atom(a));
    this.lines.push({ text: `${pad}  in (${outs.join(", ")}${outs.length === 1 ? "," : ""}) }${suffix}`, spans });
  }

  eqn(e: Eqn, indent: number): void {
    const pad = " ".repeat(indent);
    const spans: Span[] = [e.span, ...(e.callStack ?? [])];
    if (e.prim === "jit") {
      const inner = (e.params as { jaxpr: Jaxpr }).jaxpr;
      if (!this.shared.has(inner)) {
        this.suggest(inner.invars, e.inputs);
        this.suggest(inner.outvars, e.outputs);
      }
    }
    const outs = e.outputs.map((v) => this.binder(v)).join(" ");
    const lhs = outs ? `${outs} = ` : "";
    const ps = printedParams(e).map(([k, v]): [string, PV] => {
      if (typeof v === "string") return [k, v];
      if ("jaxpr" in v) { const nm = this.shared.get(v.jaxpr); return [k, nm ?? v]; }
      return [k, v];
    });
    const args = () => e.inputs.map((a) => this.atom(a)).join(" ");
    if (ps.every(([, v]) => typeof v === "string")) {
      const head = ps.length ? `${e.prim}[${ps.map(([k, v]) => `${k}=${v}`).join(" ")}]` : e.prim;
      const a = args();
      this.lines.push({ text: `${pad}${lhs}${head}${a ? " " + a : ""}`, spans });
      return;
    }
    // JAX's broken layout: one param per line, sub-jaxprs printed in place.
    this.lines.push({ text: `${pad}${lhs}${e.prim}[`, spans });
    const inner = " ".repeat(indent + 2);
    for (const [k, v] of ps) {
      if (typeof v === "string") this.lines.push({ text: `${inner}${k}=${v}`, spans });
      else if ("jaxpr" in v) this.jaxpr(v.jaxpr, indent + 2, `${k}=`, spans);
      else {
        this.lines.push({ text: `${inner}${k}=(`, spans });
        for (const j of v.jaxprs) {
          const nm = this.shared.get(j);
          if (nm) this.lines.push({ text: `${inner}  ${nm}`, spans });
          else this.jaxpr(j, indent + 4, "", spans);
        }
        this.lines.push({ text: `${inner})`, spans });
      }
    }
    const a = args();
    this.lines.push({ text: `${pad}]${a ? " " + a : ""}`, spans });
  }
}

function printed(j: Jaxpr): Printer {
  const p = new Printer();
  p.hoist(j);
  p.jaxpr(j, 0, "", []);
  return p;
}

export function printJaxpr(j: Jaxpr): IRLine[] {
  return printed(j).lines;
}

/** The names the printed jaxpr gives its variables (inner jaxprs included); unused results have none. */
export function printedNames(j: Jaxpr): Map<number, string> {
  return printed(j).names;
}
