// The jaxpr builder: `bind` applies a primitive to traced values, checks it by abstract
// evaluation and records one equation with the source span of the expression being evaluated.
import { JitError } from "../frontend/source";
import type { Params, Prim } from "../ir/primitives";
import type { Atom, Aval, Eqn, Jaxpr, Literal, Var } from "../ir/types";
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
    const atoms: Atom[] = inputs.map((x) => (x instanceof Tracer ? x.atom : x));
    let aval: Aval;
    try {
      aval = abstractEval(prim, atoms.map((a) => a.aval), params);
    } catch (e) {
      if (e instanceof JitError && !e.span) e.span = this.span;
      throw e;
    }
    if (this.eqns.length >= MAX_EQNS) {
      throw new JitError("ResourceError", `the traced function grew past ${MAX_EQNS} equations; is a Python loop unrolling more than intended?`, this.span);
    }
    const out = this.newVar(aval);
    const eqn: Eqn<P> = { prim, params, inputs: atoms, outputs: [out], span: this.span };
    if (this.callStack.length) eqn.callStack = [...this.callStack];
    this.eqns.push(eqn as unknown as Eqn);
    return new Tracer(out, mergeOrigin(inputs, this.span));
  }

  finish(outvars: Atom[]): Jaxpr {
    return { constvars: [], consts: [], invars: this.invars, eqns: this.eqns, outvars };
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
