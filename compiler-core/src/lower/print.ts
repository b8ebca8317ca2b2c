// HLO text in XLA's style: reducer regions first, then `ENTRY %main`, one instruction a
// line with typed operands, default layouts (`{1,0}`), `ROOT` on the result. Names are
// `%opcode.N`, numbered in print order, so the text is deterministic across passes.
import type { IRLine } from "../report";
import type { AttrValue, HloModule, HloShape } from "./hlo";

/** XLA's element type names (`pred`, `s32`), so the text reads like XLA's own dumps. */
const XLA_TYPE: Record<string, string> = { f32: "f32", f64: "f64", i32: "s32", bool: "pred" };

function shapeText(s: HloShape | HloShape[]): string {
  if (Array.isArray(s)) return `(${s.map(shapeText).join(", ")})`;
  const layout = s.dims.length ? `{${s.dims.map((_, i) => s.dims.length - 1 - i).join(",")}}` : "";
  return `${XLA_TYPE[s.dtype]}[${s.dims.join(",")}]${layout}`;
}

function attrText(k: string, v: AttrValue): string {
  if (k === "slice" && Array.isArray(v)) return `slice={${(v as number[][]).map((r) => `[${r[0]}:${r[1]}${r[2] !== 1 ? `:${r[2]}` : ""}]`).join(", ")}}`;
  if (Array.isArray(v)) return `${k}={${(v as number[]).join(",")}}`;
  return `${k}=${v}`;
}

/** The shortest decimal that reads back as the same f32 (XLA prints `1e-06`, not 9.99e-7). */
function f32Text(x: number): string {
  for (let p = 1; p < 17; p++) {
    const t = Number(x.toPrecision(p));
    if (Math.fround(t) === Math.fround(x)) return String(t);
  }
  return String(x);
}

function literalText(vals: number[], s: HloShape): string {
  const num = (x: number) => (s.dtype === "f32" ? f32Text(x) : String(x));
  const fmt = (x: number) => (s.dtype === "bool" ? (x ? "true" : "false") : Number.isNaN(x) ? "nan" : x === Infinity ? "inf" : x === -Infinity ? "-inf" : num(x));
  if (s.dims.length === 0) return fmt(vals[0]);
  if (vals.length > 8) return `{${vals.slice(0, 8).map(fmt).join(", ")}, ...}`;
  return `{${vals.map(fmt).join(", ")}}`;
}

/** The regions (`to_apply`) the module refers to, printed as small computations. */
function regionLines(m: HloModule): IRLine[] {
  const names = new Set<string>();
  for (const i of m.instrs) if (typeof i.attrs.to_apply === "string") names.add(i.attrs.to_apply);
  const lines: IRLine[] = [];
  for (const n of [...names].sort()) {
    const [, op, dt] = /^%region_([a-z]+)\.(\w+)$/.exec(n) ?? [];
    if (!op) continue;
    const t = `${XLA_TYPE[dt] ?? dt}[]`;
    lines.push({ text: `${n} (Arg_0: ${t}, Arg_1: ${t}) -> ${t} {`, spans: [] });
    lines.push({ text: `  %Arg_0 = ${t} parameter(0)`, spans: [] });
    lines.push({ text: `  %Arg_1 = ${t} parameter(1)`, spans: [] });
    lines.push({ text: op === "replace" ? `  ROOT %copy = ${t} copy(${t} %Arg_1)` : `  ROOT %${op} = ${t} ${op}(${t} %Arg_0, ${t} %Arg_1)`, spans: [] });
    lines.push({ text: "}", spans: [] });
    lines.push({ text: "", spans: [] });
  }
  return lines;
}

export function printHlo(m: HloModule): IRLine[] {
  const names = new Map<number, string>();
  const shapes = new Map<number, HloShape | HloShape[]>();
  m.instrs.forEach((i, n) => {
    names.set(i.id, i.opcode === "parameter" ? `%Arg_${i.attrs.index}.${n}` : `%${i.opcode}.${n}`);
    shapes.set(i.id, i.shape);
  });
  const params = m.instrs.filter((i) => i.opcode === "parameter");
  const outShape = m.outputs.length === 1 ? shapeText(shapes.get(m.outputs[0])!) : `(${m.outputs.map((o) => shapeText(shapes.get(o)!)).join(", ")})`;
  const lines: IRLine[] = [{ text: `HloModule ${m.name}`, spans: [] }, { text: "", spans: [] }, ...regionLines(m)];
  const sig = params.map((p) => `${names.get(p.id)!.slice(1)}: ${shapeText(p.shape)}`).join(", ");
  lines.push({ text: `ENTRY %main (${sig}) -> ${outShape} {`, spans: [] });
  const root = m.outputs.length === 1 ? m.outputs[0] : -1;
  for (const i of m.instrs) {
    const ops = i.operands.map((o) => `${shapeText(shapes.get(o)!)} ${names.get(o)}`);
    const inner = i.opcode === "parameter" ? String(i.attrs.index) : i.opcode === "constant" ? literalText(i.literal ?? [], i.shape as HloShape) : ops.join(", ");
    const attrs = Object.entries(i.attrs).filter(([k]) => i.opcode !== "parameter" || k !== "index").map(([k, v]) => attrText(k, v));
    const text = `  ${i.id === root ? "ROOT " : ""}${names.get(i.id)} = ${shapeText(i.shape)} ${i.opcode}(${inner})${attrs.length ? ", " + attrs.join(", ") : ""}`;
    lines.push({ text, spans: i.spans });
  }
  if (root < 0) {
    const ops = m.outputs.map((o) => `${shapeText(shapes.get(o)!)} ${names.get(o)}`);
    lines.push({ text: `  ROOT %tuple.${m.instrs.length} = ${outShape} tuple(${ops.join(", ")})`, spans: [] });
  }
  lines.push({ text: "}", spans: [] });
  return lines;
}
