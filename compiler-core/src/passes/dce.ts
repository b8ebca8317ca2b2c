// Dead-code elimination: keep what the outputs need, and every parameter (the signature).
import type { HloModule } from "../lower/hlo";

export function dce(m: HloModule): HloModule {
  const live = new Set<number>(m.outputs);
  for (let k = m.instrs.length - 1; k >= 0; k--) {
    const i = m.instrs[k];
    if (live.has(i.id)) for (const o of i.operands) live.add(o);
  }
  const instrs = m.instrs.filter((i) => live.has(i.id) || i.opcode === "parameter");
  return instrs.length === m.instrs.length ? m : { ...m, instrs };
}
