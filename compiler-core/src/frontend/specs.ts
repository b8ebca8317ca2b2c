// Argument specs found in the source when there is no `# jitlens:` comment: jaxtyping-style
// annotations (`x: Float[Array, "512 1024"]`) and a call of the function in the same file with
// literal shapes (`f(jnp.ones((512, 1024)), 3)`). Pure syntax: nothing is evaluated.
import type { SyntaxNode, Tree } from "@lezer/common";
import { kids, type FunctionInfo } from "./functions";

export interface InferredSpec {
  spec: string;
  /** Where it came from, for messages: "annotations" or "the call on line N". */
  origin: string;
}

const JAXTYPING: Record<string, string> = {
  Float: "f32", Float32: "f32", Float64: "f64", Int: "i32", Int32: "i32", Integer: "i32", Bool: "bool", Shaped: "f32", Real: "f32", Num: "f32",
};


interface Param { name: string; annotation?: SyntaxNode; hasDefault: boolean; kind: "normal" | "star" }

function params(src: string, def: SyntaxNode): Param[] {
  const pl = def.getChild("ParamList");
  if (!pl) return [];
  const out: Param[] = [];
  const cs = kids(pl);
  let star = false;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c.name === "*" || c.name === "**") { star = cs[i + 1]?.name === "VariableName"; continue; }
    if (c.name !== "VariableName") continue;
    const p: Param = { name: "", hasDefault: false, kind: star ? "star" : "normal" };
    star = false;
    p.name = src.slice(c.from, c.to);
    if (cs[i + 1]?.name === "TypeDef") p.annotation = cs[i + 1];
    p.hasDefault = cs.slice(i + 1, i + 3).some((x) => x.name === "AssignOp");
    out.push(p);
  }
  return out;
}

/** `Float[Array, "512 1024"]` -> `f32[512,1024]`; undefined for symbolic dims or other types. */
function fromAnnotation(src: string, ann: SyntaxNode): string | undefined {
  const text = src.slice(ann.from, ann.to).replace(/^:\s*/, "");
  const m = /^(?:jaxtyping\.|jt\.)?(\w+)\[\s*[\w.]+\s*,\s*(["'])([^"']*)\2\s*\]$/.exec(text.trim());
  if (!m || !JAXTYPING[m[1]]) return undefined;
  const dims = m[3].trim() === "" ? [] : m[3].trim().split(/\s+/);
  if (!dims.every((d) => /^\d+$/.test(d))) return undefined;
  return `${JAXTYPING[m[1]]}[${dims.join(",")}]`;
}

/** A spec for one argument expression at a call site, or undefined if it is not literal enough. */
function fromCallArg(src: string, n: SyntaxNode): string | undefined {
  const text = (x: SyntaxNode) => src.slice(x.from, x.to);
  switch (n.name) {
    case "Number": case "String": case "Boolean": case "None": return text(n);
    case "UnaryExpression": return /^-\s*[\d.]+$/.test(text(n)) ? text(n).replace(/\s+/g, "") : undefined;
    case "CallExpression": break;
    default: return undefined;
  }
  const [callee, argList] = kids(n);
  const name = text(callee).split(".").pop() ?? "";
  const args = kids(argList).filter((c) => !["(", ")", ","].includes(c.name));
  const positional = args.filter((_, i) => args[i - 1]?.name !== "AssignOp" && args[i + 1]?.name !== "AssignOp");
  const kw = (k: string) => { const i = args.findIndex((c) => c.name === "VariableName" && text(c) === k && args[i + 1]?.name === "AssignOp"); return i >= 0 ? args[i + 2] : undefined; };
  const dtypeOf = (): string => {
    const d = kw("dtype");
    if (!d) return "f32";
    const t = text(d).split(".").pop()!.replace(/["']/g, "");
    return { float32: "f32", float64: "f64", int32: "i32", int64: "i32", bool: "bool", bool_: "bool" }[t] ?? "f32";
  };
  const shapeOf = (x: SyntaxNode | undefined): number[] | undefined => {
    if (!x) return undefined;
    if (x.name === "Number" && /^\d+$/.test(text(x))) return [Number(text(x))];
    if (x.name === "TupleExpression" || x.name === "ArrayExpression" || x.name === "ParenthesizedExpression") {
      const items = kids(x).filter((c) => !["(", ")", "[", "]", ","].includes(c.name));
      if (!items.every((c) => c.name === "Number" && /^\d+$/.test(text(c)))) return undefined;
      return items.map((c) => Number(text(c)));
    }
    return undefined;
  };
  let shape: number[] | undefined;
  let dtype = dtypeOf();
  if (["ones", "zeros", "empty", "full"].includes(name)) shape = shapeOf(kw("shape") ?? positional[0]);
  else if (["normal", "uniform", "randint", "bernoulli"].includes(name) && /random/.test(text(callee))) {
    shape = shapeOf(kw("shape") ?? positional[1]);
    if (name === "randint") dtype = "i32";
    if (name === "bernoulli") dtype = "bool";
  } else if (["randn", "rand"].includes(name)) {
    if (positional.every((c) => c.name === "Number")) shape = positional.map((c) => Number(text(c)));
  } else if (name === "arange" && positional.length === 1 && /^\d+$/.test(text(positional[0]))) {
    shape = [Number(text(positional[0]))];
    if (!kw("dtype")) dtype = "i32";
  }
  return shape ? `${dtype}[${shape.join(",")}]` : undefined;
}

/** Finds a spec for `fn` from annotations, else from a call in the file; undefined if neither covers every argument. */
export function inferSpec(src: string, tree: Tree, fn: FunctionInfo): InferredSpec | undefined {
  const defNode = tree.resolveInner(fn.defFrom, 1);
  const def = defNode.name === "FunctionDefinition" ? defNode : defNode.parent;
  if (!def || def.name !== "FunctionDefinition") return undefined;
  const ps = params(src, def).filter((p) => p.kind === "normal");

  const annotated = ps.map((p) => (p.annotation ? fromAnnotation(src, p.annotation) : undefined));
  if (ps.length && ps.every((p, i) => annotated[i] !== undefined || p.hasDefault)) {
    const spec = ps.map((p, i) => (annotated[i] ? `${p.name}=${annotated[i]}` : "")).filter(Boolean).join(", ");
    if (spec) return { spec, origin: "its jaxtyping annotations" };
  }

  // The first call `fn(...)` in the file whose arguments all have literal shapes or values.
  let found: InferredSpec | undefined;
  tree.iterate({
    enter: (n) => {
      if (found) return false;
      if (n.name !== "CallExpression") return undefined;
      const [callee, argList] = kids(n.node);
      if (!callee || callee.name !== "VariableName" || src.slice(callee.from, callee.to) !== fn.name || !argList) return undefined;
      const cs = kids(argList).filter((c) => !["(", ")", ","].includes(c.name));
      const parts: string[] = [];
      let pos = 0;
      for (let i = 0; i < cs.length; i++) {
        let name: string | undefined;
        let value: SyntaxNode;
        if (cs[i].name === "VariableName" && cs[i + 1]?.name === "AssignOp") { name = src.slice(cs[i].from, cs[i].to); value = cs[i + 2]; i += 2; }
        else { name = ps[pos++]?.name; value = cs[i]; }
        const v = value && fromCallArg(src, value);
        if (!name || !v) return undefined;
        parts.push(`${name}=${v}`);
      }
      const covered = new Set(parts.map((p) => p.split("=")[0]));
      if (ps.every((p) => covered.has(p.name) || p.hasDefault)) {
        const line = src.slice(0, n.from).split("\n").length;
        found = { spec: parts.join(", "), origin: `the call on line ${line}` };
      }
      return undefined;
    },
  });
  return found;
}
