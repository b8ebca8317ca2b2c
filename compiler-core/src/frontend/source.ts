// A source file with fast offset -> line/column mapping, and the error type for
// everything wrong in the user's code or input.
import type { ErrorInfo, Span } from "../report";

export class SourceFile {
  private readonly lineStarts: number[] = [0];
  constructor(readonly file: string, readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }
  /** 1-based line and column of a 0-based offset. */
  position(offset: number): { line: number; col: number } {
    let lo = 0, hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.lineStarts[lo] + 1 };
  }
  span(from: number, to: number): Span {
    // Clamped to the text: an error at the end of the file (a parse error there, say) must
    // still point at a column that exists (`line length + 1` at most).
    const n = this.text.length;
    from = Math.min(Math.max(0, from), n);
    to = Math.min(Math.max(from, to), n);
    const a = this.position(from), b = this.position(to);
    return { file: this.file, line: a.line, col: a.col, endLine: b.line, endCol: b.col };
  }
  /** The span of a whole (1-based) line, without its newline. */
  lineSpan(line: number): Span {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    return this.span(start, start + this.lineText(line).length);
  }
  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const end = line < this.lineStarts.length ? this.lineStarts[line] - 1 : this.text.length;
    return this.text.slice(start, end);
  }
}

/** An error in the user's code or input: always carries a kind and, when known, a span. */
export class JitError extends Error {
  constructor(
    readonly kind: string,
    message: string,
    public span?: Span,
    readonly related: { message: string; span: Span }[] = [],
  ) {
    super(message);
  }
  info(): ErrorInfo {
    const e: ErrorInfo = { kind: this.kind, message: this.message };
    if (this.span) e.span = this.span;
    if (this.related.length) e.related = this.related;
    return e;
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** The closest candidate to `name`, if it is close enough to be a plausible typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}
