// Common-subexpression elimination: two instructions with the same opcode, type, operands,
// attributes and literal compute the same value; later ones use the first.
import { replaceUses, type HloModule } from "../lower/hlo";
import { dce } from "./dce";

export function cse(m: HloModule): HloModule {
  const seen = new Map<string, number>();
  const repl = new Map<number, number>();
  for (const i of m.instrs) {
    if (i.opcode === "parameter" || i.opcode === "custom-call") continue;
    const ops = i.operands.map((o) => repl.get(o) ?? o);
    const key = JSON.stringify([i.opcode, i.shape, ops, i.attrs, i.literal ?? null]);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i.id);
    else repl.set(i.id, first);
  }
  return repl.size ? dce(replaceUses(m, repl)) : m;
}
