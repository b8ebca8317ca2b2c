// Finding functions in a Python file: cheap enough for a CodeLens provider (one parse).
import { parser } from "@lezer/python";
import type { SyntaxNode, Tree } from "@lezer/common";

export interface FunctionInfo {
  name: string;
  /** 0-based offsets of the whole statement (decorators included). */
  from: number;
  to: number;
  /** 0-based offset of the `def` keyword (after decorators). */
  defFrom: number;
  /** 1-based line of the first decorator, or of `def` when undecorated. */
  startLine: number;
  /** 1-based line of `def`. */
  defLine: number;
  /** 1-based line of the last line of the body. */
  endLine: number;
  /** The argument spec from a `# jitlens: ...` comment directly above (decorators too), if any. */
  specComment?: string;
  /** 1-based line of that comment. */
  specLine?: number;
}

export function parsePython(source: string): Tree {
  return parser.parse(source);
}

/** A node's children, tokens included, in order. */
export function kids(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

/** 1-based line number of a 0-based offset. */
export function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

const SPEC_RE = /^\s*#\s*jitlens\s*:\s*(.*?)\s*$/;

/** Top-level function definitions, in source order. */
export function listFunctions(source: string, tree: Tree = parsePython(source)): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  const lines = source.split("\n");
  for (let n: SyntaxNode | null = tree.topNode.firstChild; n; n = n.nextSibling) {
    let def: SyntaxNode | null = null;
    if (n.name === "FunctionDefinition") def = n;
    else if (n.name === "DecoratedStatement") def = n.getChild("FunctionDefinition");
    if (!def) continue;
    const nameNode = def.getChild("VariableName");
    if (!nameNode) continue;
    const startLine = lineOf(source, n.from);
    const info: FunctionInfo = {
      name: source.slice(nameNode.from, nameNode.to),
      from: n.from,
      to: n.to,
      defFrom: def.from,
      startLine,
      defLine: lineOf(source, def.from),
      endLine: lineOf(source, Math.max(n.from, n.to - 1)),
    };
    // Walk up over comment lines directly above the first decorator / def.
    for (let l = startLine - 1; l >= 1; l--) {
      const text = lines[l - 1];
      const m = SPEC_RE.exec(text);
      if (m) { info.specComment = m[1]; info.specLine = l; break; }
      if (!/^\s*#/.test(text)) break;
    }
    out.push(info);
  }
  return out;
}

/** The top-level function whose statement contains `offset` (0-based), else undefined. */
export function functionAt(fns: FunctionInfo[], source: string, offset: number): FunctionInfo | undefined {
  const line = lineOf(source, offset);
  return fns.find((f) => (offset >= f.from && offset <= f.to) || (line >= f.startLine && line <= f.endLine)) ??
    // A cursor on the `# jitlens:` comment belongs to the function below it.
    fns.find((f) => f.specLine !== undefined && line >= f.specLine && line < f.startLine);
}

/** Whether a Python file uses JAX (imports jax in any form). */
export function usesJax(source: string): boolean {
  return /^\s*(import\s+jax\b|from\s+jax\b)/m.test(source);
}
