// Shared by the kernel tests (kernels.test.ts on the CPU, webgpu.test.ts on the GPU): building
// jaxprs by hand, with output avals from the tracer's own shape rules, and reading the NumPy
// fixtures (fixtures/prims.json, fixtures/kernels.json).
import assert from "node:assert/strict";
import type { ArrayValue, Atom, Aval, DType, Eqn, Jaxpr, Var } from "../../../compiler-core/src/ir/types";
import type { Prim } from "../../../compiler-core/src/ir/primitives";
import { newBuffer, size } from "../../../compiler-core/src/ir/types";
import { abstractEval } from "../../../compiler-core/src/trace/abstract";

/** Appends one equation per call; each equation's span is line N (its position) of `file`. */
export class JaxprBuilder {
  private nextId = 0;
  eqns: Eqn[] = [];
  invars: Var[] = [];

  constructor(private readonly file: string) {}

  v(aval: Aval): Var {
    return { kind: "var", id: this.nextId++, aval: { ...aval, shape: [...aval.shape] } };
  }
  input(shape: number[], dtype: DType = "f32"): Var {
    const x = this.v({ shape, dtype, weak: false });
    this.invars.push(x);
    return x;
  }
  /** `out` gives the output avals instead of the tracer's rules (a fixture's declared output dtype). */
  ops(prim: Prim, inputs: Atom[], params: Record<string, unknown> = {}, out?: Aval[]): Var[] {
    const avals = out ?? abstractEval(prim, inputs.map((a) => a.aval), params as never);
    const outs = avals.map((a) => this.v(a));
    const line = this.eqns.length + 1;
    this.eqns.push({ prim, params: params as never, inputs, outputs: outs, span: { file: this.file, line, col: 5, endLine: line, endCol: 9 } });
    return outs;
  }
  op(prim: Prim, inputs: Atom[], params: Record<string, unknown> = {}): Var {
    return this.ops(prim, inputs, params)[0];
  }
  build(outvars: Atom[]): Jaxpr {
    return { constvars: [], consts: [], invars: this.invars, eqns: this.eqns, outvars };
  }
}

/** An array of `dtype` holding `values` (asserts there is one value per element). */
export function array(dtype: DType, shape: number[], values: ArrayLike<number>): ArrayValue {
  const data = newBuffer(dtype, size(shape));
  assert.equal(values.length, data.length, "test data length");
  for (let i = 0; i < data.length; i++) data[i] = values[i];
  return { aval: { shape, dtype, weak: false }, data };
}

export const list = (a: ArrayValue): number[] => Array.from(a.data);

/** A fixture value: a number, or "nan", "inf", "-inf", "-0" (JSON has none of them). */
export const decode = (v: number | string): number =>
  typeof v === "number" ? v : v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "-0" ? -0 : Number(v);

/** Equal, or within `tol` relative (tol 0: identical, and -0 differs from 0). */
export function close(got: number, want: number, tol: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (tol === 0) return Object.is(got, want);
  if (got === want) return true;
  if (!Number.isFinite(want) || !Number.isFinite(got)) return false;
  return Math.abs(got - want) <= tol * Math.max(Math.abs(want), 1e-30);
}
