// The jaxpr builder: `bind` applies a primitive to traced values, checks it by abstract
// evaluation and records one equation with the source span of the expression being evaluated.
import { JitError } from "../frontend/source";
import type { Params, Prim } from "../ir/primitives";
import { size, type ArrayValue, type Atom, type Aval, type Eqn, type Jaxpr, type Literal, type Var } from "../ir/types";
import type { Span } from "../report";
import { abstractEval } from "./abstract";
import { Tracer, type Origin } from "./values";

export const MAX_EQNS = 200_000;

/** Variable ids are unique across every builder, so sub-jaxprs can refer to outer values. */
let nextVarId = 0;

export class JaxprBuilder {
  readonly eqns: Eqn[] = [];
  readonly invars: Var[] = [];
  /** Ids of the variables this builder made (inputs, constants, equation results). */
  private readonly owned = new Set<number>();
  /** Outer values used inside a sub-trace: outer var id -> the inner input standing for it. */
  private readonly captured = new Map<number, Var>();
  /** The outer atoms captured, in the order of their inner inputs. */
  readonly capturedOuter: Atom[] = [];
  readonly capturedVars: Var[] = [];

  /** A builder for a sub-jaxpr (a loop body, a branch, a function to differentiate). */
  child(): JaxprBuilder {
    const c = new JaxprBuilder();
    c.span = this.span;
    c.callStack = this.callStack;
    return c;
  }
  /** The span of the expression being evaluated and the call sites above it (innermost first). */
  span!: Span;
  callStack: Span[] = [];

  newVar(aval: Aval): Var {
    const v: Var = { kind: "var", id: nextVarId++, aval: { ...aval, shape: [...aval.shape] } };
    this.owned.add(v.id);
    return v;
  }

  /** A new traced input (a function argument leaf). */
  input(aval: Aval, arg: string): Tracer {
    const v = this.newVar(aval);
    this.invars.push(v);
    return new Tracer(v, { arg, via: [] });
  }

  bind<P extends Prim>(prim: P, inputs: (Tracer | Literal)[], params: Params[P]): Tracer {
    return this.bindMulti(prim, inputs, params)[0];
  }

  /** Binds a primitive with several results (e.g. split). */
  bindMulti<P extends Prim>(prim: P, inputs: (Tracer | Literal)[], params: Params[P]): Tracer[] {
    const atoms: Atom[] = inputs.map((x) => this.own(x instanceof Tracer ? x.atom : x));
    let avals: Aval[];
    try {
      avals = abstractEval(prim, atoms.map((a) => a.aval), params);
    } catch (e) {
      if (e instanceof JitError && !e.span) e.span = this.span;
      throw e;
    }
    for (const a of avals) {
      // Shapes come from user code (jnp.zeros((int(1e300),)), reshape, ...): keep them exact.
      if (!a.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || !Number.isSafeInteger(size(a.shape))) {
        throw new JitError("ValueError", `${prim} would make an array of shape (${a.shape.join(", ")}), which is too large (more than 2**53 elements) or not a valid shape`, this.span);
      }
    }
    if (this.eqns.length >= MAX_EQNS) {
      throw new JitError("ResourceError", `the traced function grew past ${MAX_EQNS} equations; is a Python loop unrolling more than intended?`, this.span);
    }
    const outs = avals.map((a) => this.newVar(a));
    const eqn: Eqn<P> = { prim, params, inputs: atoms, outputs: outs, span: this.span };
    if (this.callStack.length) eqn.callStack = [...this.callStack];
    this.eqns.push(eqn as unknown as Eqn);
    const origin = mergeOrigin(inputs, this.span);
    return outs.map((o) => new Tracer(o, origin));
  }

  /** An atom usable here: a variable of an enclosing trace becomes a captured input. */
  own(a: Atom): Atom {
    if (a.kind === "lit" || this.owned.has(a.id)) return a;
    let v = this.captured.get(a.id);
    if (!v) {
      v = this.newVar(a.aval);
      this.captured.set(a.id, v);
      this.capturedOuter.push(a);
      this.capturedVars.push(v);
    }
    return v;
  }

  /** The finished sub-jaxpr: its inputs are the captured outer values first, then `invars`. */
  finishSub(outvars: Atom[]): { jaxpr: Jaxpr; captured: Atom[] } {
    const outs = outvars.map((a) => this.own(a));
    return {
      jaxpr: { constvars: this.constvars, consts: this.consts, invars: [...this.capturedVars, ...this.invars], eqns: this.eqns, outvars: outs },
      captured: this.capturedOuter,
    };
  }

  readonly constvars: Var[] = [];
  readonly consts: ArrayValue[] = [];

  /** A concrete array captured by the jaxpr (printed as a constvar: `{ lambda a:i32[3]; ...`). */
  constant(value: ArrayValue): Tracer {
    const v = this.newVar(value.aval);
    this.constvars.push(v);
    this.consts.push(value);
    return new Tracer(v);
  }

  finish(outvars: Atom[]): Jaxpr {
    return { constvars: this.constvars, consts: this.consts, invars: this.invars, eqns: this.eqns, outvars };
  }

  /** Replays a jaxpr's equations here on `inputs` (one per invar); returns its outputs. */
  inline(j: Jaxpr, inputs: (Tracer | Literal)[]): (Tracer | Literal)[] {
    const env = new Map<number, Tracer | Literal>();
    j.constvars.forEach((v, i) => env.set(v.id, this.constant(j.consts[i])));
    j.invars.forEach((v, i) => env.set(v.id, inputs[i]));
    const read = (a: Atom): Tracer | Literal => (a.kind === "lit" ? a : env.get(a.id) ?? new Tracer(a));
    for (const e of j.eqns) {
      const outs = this.bindMulti(e.prim, e.inputs.map(read), e.params);
      e.outputs.forEach((o, i) => env.set(o.id, outs[i]));
    }
    return j.outvars.map(read);
  }
}

/** The origin of a result: the first traced input's argument, with this line appended. */
function mergeOrigin(inputs: (Tracer | Literal)[], span: Span): Origin | undefined {
  for (const x of inputs) {
    if (x instanceof Tracer && x.origin) {
      const via = x.origin.via;
      const last = via[via.length - 1];
      if (last && last.line === span.line && last.file === span.file) return x.origin;
      return { arg: x.origin.arg, via: [...via, span].slice(-6) };
    }
  }
  return undefined;
}

export function literal(value: number | boolean, aval: Aval): Literal {
  return { kind: "lit", value, aval };
}
