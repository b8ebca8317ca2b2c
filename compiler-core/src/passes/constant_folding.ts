// Constant folding: an instruction whose operands are all constants becomes a constant
// when its result is small (at most FOLD_LIMIT elements). Iota is not folded (it is cheaper
// than its values), and a broadcast of a scalar constant stays one broadcast: an
// elementwise op of such broadcasts folds its scalars and broadcasts the result.
import { arrayShape, isElementwiseOp, numel, type HloInstr, type HloModule } from "../lower/hlo";
import { dce } from "./dce";
import { evalInstr, type Tensor } from "./eval";

export const FOLD_LIMIT = 16;
const NEVER = new Set(["parameter", "constant", "iota", "broadcast", "custom-call", "get-tuple-element", "rng"]);

export function constantFolding(m: HloModule): HloModule {
  const consts = new Map<number, Tensor>();
  const instrs: HloInstr[] = [];
  let folded = false;
  // Ids of scalar constants and of broadcasts of them (`dimensions={}`): their one value.
  const splats = new Map<number, number>();
  let nextId = m.nextId;
  for (const i of m.instrs) {
    if (i.opcode === "constant") {
      consts.set(i.id, { dims: arrayShape(i.shape).dims, data: i.literal! });
      if (i.literal!.length === 1) splats.set(i.id, i.literal![0]);
    }
    if (i.opcode === "broadcast" && splats.has(i.operands[0]) && consts.has(i.operands[0])) splats.set(i.id, splats.get(i.operands[0])!);
    // op(broadcast(a), broadcast(b)) = broadcast(op(a, b)) for scalar constants a, b: one
    // scalar constant and one broadcast, however big the result.
    if (isElementwiseOp(i.opcode) && !Array.isArray(i.shape) && i.shape.dims.length > 0 && i.operands.length > 0 && i.operands.every((o) => splats.has(o)) && !i.operands.every((o) => consts.has(o))) {
      let v: Tensor;
      try {
        v = evalInstr({ ...i, shape: { ...i.shape, dims: [] } }, i.operands.map((o) => ({ dims: [], data: [splats.get(o)!] })));
      } catch {
        instrs.push(i);
        continue;
      }
      const cid = nextId++;
      const value = i.shape.dtype === "f32" ? Math.fround(v.data[0]) : v.data[0];
      instrs.push({ id: cid, opcode: "constant", shape: { dtype: i.shape.dtype, dims: [] }, operands: [], attrs: {}, literal: [value], spans: i.spans });
      instrs.push({ id: i.id, opcode: "broadcast", shape: i.shape, operands: [cid], attrs: { dimensions: [] }, spans: i.spans });
      consts.set(cid, { dims: [], data: [value] });
      splats.set(cid, value);
      splats.set(i.id, value);
      folded = true;
      continue;
    }
    if (NEVER.has(i.opcode) || Array.isArray(i.shape) || numel(i.shape.dims) > FOLD_LIMIT || !i.operands.every((o) => consts.has(o))) {
      instrs.push(i);
      continue;
    }
    let v: Tensor;
    try {
      v = evalInstr(i, i.operands.map((o) => consts.get(o)!));
    } catch {
      instrs.push(i); // an op the interpreter does not know stays as it is
      continue;
    }
    const c: HloInstr = { id: i.id, opcode: "constant", shape: i.shape, operands: [], attrs: {}, literal: arrayShape(i.shape).dtype === "f32" ? v.data.map(Math.fround) : v.data, spans: i.spans };
    consts.set(i.id, v);
    instrs.push(c);
    folded = true;
  }
  return folded ? dce({ ...m, instrs, nextId }) : m;
}
