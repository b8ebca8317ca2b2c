// Algebraic simplification: local rewrites, each stated as its algebra. A rewrite only
// replaces uses; the operand it forwards already has the result's type (checked).
import { byId, numel, replaceUses, sameShape, type HloInstr, type HloModule } from "../lower/hlo";
import { dce } from "./dce";

/** The value every element of `i` has, when `i` is a constant or a broadcast of one. */
function splat(i: HloInstr | undefined, ids: Map<number, HloInstr>): number | undefined {
  if (!i) return undefined;
  if (i.opcode === "broadcast") return splat(ids.get(i.operands[0]), ids);
  if (i.opcode !== "constant" || !i.literal?.length) return undefined;
  const v = i.literal[0];
  return i.literal.every((x) => x === v) ? v : undefined;
}

/** A broadcast that only inserts size-1 dims, keeping the operand's dims in order. */
function isUnitBroadcast(b: HloInstr, ids: Map<number, HloInstr>): boolean {
  const src = ids.get(b.operands[0])!.shape;
  const dims = b.attrs.dimensions as number[];
  return !Array.isArray(src) && !Array.isArray(b.shape) && numel(src.dims) === numel(b.shape.dims) && dims.every((d, k) => k === 0 || d > dims[k - 1]);
}

export function algsimp(m: HloModule): HloModule {
  const ids = byId(m);
  const repl = new Map<number, number>();
  let nextId = m.nextId;
  const instrs: HloInstr[] = [];
  // Forward `to` in place of `i` when it has exactly i's type.
  const forward = (i: HloInstr, to: number): boolean => {
    const t = ids.get(to)!;
    if (Array.isArray(t.shape) || Array.isArray(i.shape) || !sameShape(t.shape, i.shape)) return false;
    repl.set(i.id, to);
    return true;
  };
  const resolve = (id: number): number => (repl.has(id) ? resolve(repl.get(id)!) : id);
  for (const orig of m.instrs) {
    // Operands already rewritten in this pass are seen in their new form, so chains
    // (transpose of transpose of transpose) collapse in one pass.
    const i = orig.operands.some((o) => repl.has(o)) ? { ...orig, operands: orig.operands.map(resolve) } : orig;
    const op = (k: number) => ids.get(i.operands[k])!;
    const c = (k: number) => splat(op(k), ids);
    let replaced: HloInstr | undefined;
    switch (i.opcode) {
      case "multiply":
        // x*1 = x ; 1*x = x
        if (c(1) === 1 && forward(i, i.operands[0])) break;
        if (c(0) === 1) forward(i, i.operands[1]);
        break;
      case "add":
        // x+0 = x ; 0+x = x
        if (c(1) === 0 && forward(i, i.operands[0])) break;
        if (c(0) === 0) forward(i, i.operands[1]);
        break;
      case "subtract":
        // x-0 = x
        if (c(1) === 0) forward(i, i.operands[0]);
        break;
      case "divide":
        // x/1 = x
        if (c(1) === 1) forward(i, i.operands[0]);
        break;
      case "negate":
        // neg(neg(x)) = x
        if (op(0).opcode === "negate") forward(i, op(0).operands[0]);
        break;
      case "convert":
        // convert(x) to its own type = x
        forward(i, i.operands[0]);
        break;
      case "reshape": {
        // reshape(x) to x's own shape = x ; reshape(reshape(x)) = reshape(x)
        if (forward(i, i.operands[0])) break;
        // reshape(broadcast(x)) = x when the broadcast only inserted size-1 dims and the reshape removes them
        if (op(0).opcode === "broadcast" && isUnitBroadcast(op(0), ids) && forward(i, op(0).operands[0])) break;
        if (op(0).opcode === "reshape") replaced = { ...i, operands: [op(0).operands[0]] };
        break;
      }
      case "transpose": {
        const perm = i.attrs.dimensions as number[];
        // transpose(x, identity) = x
        if (perm.every((p, k) => p === k) && forward(i, i.operands[0])) break;
        // transpose(transpose(x, p), q) = transpose(x, p∘q): output dim k reads input dim p[q[k]]
        if (op(0).opcode === "transpose") {
          const inner = op(0).attrs.dimensions as number[];
          replaced = { ...i, operands: [op(0).operands[0]], attrs: { dimensions: perm.map((q) => inner[q]) } };
        }
        break;
      }
      case "broadcast": {
        // broadcast(x) to x's own shape with identity dims = x
        const dims = i.attrs.dimensions as number[];
        if (dims.every((d, k) => d === k) && forward(i, i.operands[0])) break;
        // broadcast(broadcast(x, d1), d2) = broadcast(x, d2∘d1): a scalar constant stays one broadcast
        if (op(0).opcode === "broadcast") {
          const inner = op(0).attrs.dimensions as number[];
          replaced = { ...i, operands: [op(0).operands[0]], attrs: { dimensions: inner.map((d) => dims[d]) } };
        }
        break;
      }
    }
    if (replaced) {
      // Rebuilt with a fresh id so snapshots never show two versions under one id.
      const fresh = { ...replaced, id: nextId++ };
      repl.set(i.id, fresh.id);
      instrs.push(fresh);
      ids.set(fresh.id, fresh);
    } else {
      instrs.push(orig);
    }
  }
  if (repl.size === 0) return m;
  return dce(replaceUses({ ...m, instrs, nextId }, repl));
}
