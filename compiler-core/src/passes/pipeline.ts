// The optimization pipeline: one flat list of named passes (tinygrad style). Each pass is
// a pure function HloModule -> HloModule; the verifier runs after each, and a snapshot of
// each pass's output is kept for the IR viewer. The list runs again until nothing changes
// (at most MAX_ROUNDS times), so the result is a fixed point: the pipeline is idempotent.
import type { HloModule } from "../lower/hlo";
import { algsimp } from "./algsimp";
import { constantFolding } from "./constant_folding";
import { cse } from "./cse";
import { dce } from "./dce";
import { verify } from "./verify";

export interface Pass {
  name: string;
  run: (m: HloModule) => HloModule;
}

export const PIPELINE: readonly Pass[] = [
  { name: "algebraic-simplification", run: algsimp },
  { name: "constant-folding", run: constantFolding },
  { name: "cse", run: cse },
  { name: "dce", run: dce },
];

export const MAX_ROUNDS = 4;

export interface Snapshot {
  /** The pass name; `name#2` for its run in the second round. */
  name: string;
  changed: boolean;
  module: HloModule;
}

export function runPipeline(m: HloModule, passes: readonly Pass[] = PIPELINE): { module: HloModule; snapshots: Snapshot[] } {
  verify(m, "lowering");
  const snapshots: Snapshot[] = [];
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    let any = false;
    for (const p of passes) {
      const next = p.run(m);
      verify(next, `pass ${p.name}`);
      const changed = next !== m;
      any ||= changed;
      // Later rounds only record passes that did something.
      if (round === 1 || changed) snapshots.push({ name: round === 1 ? p.name : `${p.name}#${round}`, changed, module: next });
      m = next;
    }
    if (!any) break;
  }
  return { module: m, snapshots };
}
