// Shape rules shared by the tracer and the runtime.
import { JitError } from "../frontend/source";

export function shapeStr(s: readonly number[]): string {
  return s.length === 1 ? `(${s[0]},)` : `(${s.join(", ")})`;
}

/** NumPy broadcasting of several shapes (trailing dims aligned; 1 stretches). */
export function broadcastShapes(shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) { out[o] = d; continue; }
      throw new JitError("ShapeError", `Incompatible shapes for broadcasting: shapes=[${shapes.map(shapeStr).join(", ")}]`);
    }
  }
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
