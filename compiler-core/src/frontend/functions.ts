// Finding functions in a Python file: cheap enough for a CodeLens provider (one parse).
import { parser } from "@lezer/python";
import type { SyntaxNode, Tree } from "@lezer/common";
import { JitError, SourceFile } from "./source";

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

/** How long one parse may take (ms). Lezer is linear on real code, but error recovery on
 *  pathological input (hundreds of thousands of characters of one expression) is not. */
export const PARSE_TIME_LIMIT_MS = 2000;

/** The parser ran out of time: `at` is the 0-based offset it had reached. */
export class ParseTimeoutError extends JitError {
  constructor(readonly at: number, limitMs: number) {
    super("TimeoutError", `parsing took longer than ${limitMs / 1000} s (stopped at character ${at.toLocaleString("en-US")}); is this file generated, with very long lines or expressions? Split them up`);
  }
}

/** Parses Python, bounded in time: throws ParseTimeoutError past `limitMs`. */
export function parsePython(source: string, limitMs = PARSE_TIME_LIMIT_MS): Tree {
  const parse = parser.startParse(source);
  const deadline = performance.now() + limitMs;
  for (let steps = 1; ; steps++) {
    const tree = parse.advance();
    if (tree) return tree;
    if ((steps & 7) === 0 && performance.now() > deadline) throw new ParseTimeoutError(parse.parsedPos, limitMs);
  }
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
  // One index of line starts for the whole file (lineOf per function was quadratic: 5 s for 10,000 lines).
  const file = new SourceFile("", source);
  const lineAt = (offset: number) => file.position(Math.min(offset, source.length)).line;
  for (let n: SyntaxNode | null = tree.topNode.firstChild; n; n = n.nextSibling) {
    let def: SyntaxNode | null = null;
    if (n.name === "FunctionDefinition") def = n;
    else if (n.name === "DecoratedStatement") def = n.getChild("FunctionDefinition");
    if (!def) continue;
    const nameNode = def.getChild("VariableName");
    if (!nameNode) continue;
    const startLine = lineAt(n.from);
    const info: FunctionInfo = {
      name: source.slice(nameNode.from, nameNode.to),
      from: n.from,
      to: n.to,
      defFrom: def.from,
      startLine,
      defLine: lineAt(def.from),
      endLine: lineAt(Math.max(n.from, n.to - 1)),
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
