// The jaxpr builder: `bind` applies a primitive to traced values, checks it by abstract
// evaluation and records one equation with the source span of the expression being evaluated.
import { JitError } from "../frontend/source";
import type { Params, Prim } from "../ir/primitives";
import type { ArrayValue, Atom, Aval, Eqn, Jaxpr, Literal, Var } from "../ir/types";
import type { Span } from "../report";
import { abstractEval } from "./abstract";
import { Tracer, type Origin } from "./values";

export const MAX_EQNS = 200_000;

export class JaxprBuilder {
  readonly eqns: Eqn[] = [];
  readonly invars: Var[] = [];
  private nextId = 0;
  /** The span of the expression being evaluated and the call sites above it (innermost first). */
  span!: Span;
  callStack: Span[] = [];

  newVar(aval: Aval): Var {
    return { kind: "var", id: this.nextId++, aval: { ...aval, shape: [...aval.shape] } };
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
    const atoms: Atom[] = inputs.map((x) => (x instanceof Tracer ? x.atom : x));
    let avals: Aval[];
    try {
      avals = abstractEval(prim, atoms.map((a) => a.aval), params);
    } catch (e) {
      if (e instanceof JitError && !e.span) e.span = this.span;
      throw e;
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
