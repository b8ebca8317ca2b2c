// The HLO verifier, run after lowering and after every pass: ids unique, every operand
// defined before use, outputs defined, and types consistent for the ops whose typing
// rule is simple. A failure is our bug, reported naming the pass that broke the module.
import { arrayShape, isElementwiseOp, numel, type HloModule, type HloShape } from "../lower/hlo";

export class VerifyError extends Error {}

export function verify(m: HloModule, after = "lowering"): void {
  const fail = (msg: string): never => {
    throw new VerifyError(`HLO verifier failed after ${after}: ${msg}`);
  };
  const defined = new Map<number, HloShape | HloShape[]>();
  for (const i of m.instrs) {
    if (defined.has(i.id)) fail(`id ${i.id} defined twice`);
    if (i.id >= m.nextId) fail(`id ${i.id} is not below nextId ${m.nextId}`);
    for (const o of i.operands) if (!defined.has(o)) fail(`${i.opcode} (id ${i.id}) uses id ${o} before it is defined`);
    const ops = i.operands.map((o) => defined.get(o)!);
    const arr = (s: HloShape | HloShape[]) => (Array.isArray(s) ? fail(`${i.opcode} (id ${i.id}) has a tuple operand`) : s);
    const dims = (s: HloShape) => `${s.dtype}[${s.dims.join(",")}]`;
    if (isElementwiseOp(i.opcode)) {
      const out = arrayShape(i.shape);
      for (const [k, s] of ops.map((s, k) => [k, arr(s)] as const)) {
        if (s.dims.length !== out.dims.length || s.dims.some((d, j) => d !== out.dims[j])) fail(`${i.opcode} (id ${i.id}) operand ${k} is ${dims(s)}, result is ${dims(out)}`);
        const wantType = i.opcode === "convert" || i.opcode === "compare" || (i.opcode === "select" && k === 0) ? null : out.dtype;
        if (wantType && s.dtype !== wantType) fail(`${i.opcode} (id ${i.id}) operand ${k} has dtype ${s.dtype}, expected ${wantType}`);
      }
      if (i.opcode === "compare" && out.dtype !== "bool") fail(`compare (id ${i.id}) must produce bool`);
    }
    switch (i.opcode) {
      case "constant":
        if (!i.literal || i.literal.length !== numel(arrayShape(i.shape).dims)) fail(`constant (id ${i.id}) has ${i.literal?.length ?? 0} values for ${dims(arrayShape(i.shape))}`);
        break;
      case "reshape":
        if (numel(arr(ops[0]).dims) !== numel(arrayShape(i.shape).dims)) fail(`reshape (id ${i.id}) changes the element count`);
        break;
      case "broadcast": {
        const bd = i.attrs.dimensions as number[];
        const out = arrayShape(i.shape).dims;
        const src = arr(ops[0]).dims;
        if (bd.length !== src.length || bd.some((d, j) => out[d] !== src[j])) fail(`broadcast (id ${i.id}) dimensions {${bd}} do not map [${src}] into [${out}]`);
        break;
      }
      case "transpose": {
        const perm = i.attrs.dimensions as number[];
        const src = arr(ops[0]).dims;
        const out = arrayShape(i.shape).dims;
        if (perm.length !== src.length || perm.some((p, k) => src[p] !== out[k])) fail(`transpose (id ${i.id}) permutation {${perm}} does not map [${src}] to [${out}]`);
        break;
      }
    }
    defined.set(i.id, i.shape);
  }
  if (m.outputs.length === 0) fail("the module has no outputs");
  for (const o of m.outputs) if (!defined.has(o)) fail(`output id ${o} is not defined`);
}
