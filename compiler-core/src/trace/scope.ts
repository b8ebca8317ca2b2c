// Lexical scopes of the Python subset: a function's locals chained to its closure, then module globals, then builtins.
import type { PyValue } from "./values";

export class Scope {
  readonly vars = new Map<string, PyValue>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): PyValue | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  set(name: string, v: PyValue): void {
    this.vars.set(name, v);
  }
  /** Every name visible from here, for "did you mean" suggestions. */
  names(): Set<string> {
    const out = new Set<string>();
    for (let s: Scope | undefined = this; s; s = s.parent) for (const k of s.vars.keys()) out.add(k);
    return out;
  }
}
