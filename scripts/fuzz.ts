// Fuzzing the frontend and tracer: random mutations of the example files (truncated lines,
// swapped tokens, deleted colons, wrong indentation, huge literals, deep nesting, long lines,
// random unicode) and random argument specs (huge shapes, negative dims, bad dtypes), fed
// through the engine's own entry (api.ts `analyze`, `run: false` for most, `run: true` on small
// shapes for a few). Each case must end in a Report: no exception, no InternalError, every error
// with a kind, a message and a span valid for its input (FILE:LINE:COL), and within its budget.
//
//   node --import tsx scripts/fuzz.ts [--cases 20000] [--seed 1] [--budget-ms 5000] [--verbose]
//
// test/unit/fuzz.test.ts runs a short fixed-seed version of the same cases in CI.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { analyze } from "../compiler-core/src/api";
import { listFunctions } from "../compiler-core/src/frontend/functions";
import { formatError, type Report } from "../compiler-core/src/report";

const root = path.resolve(__dirname, "..");

/** A small seeded PRNG (mulberry32): the same seed gives the same cases everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

export interface Corpus {
  files: { name: string; text: string; fns: string[] }[];
}

/** The example files (examples/*.py and the e2e fixtures) with their top-level functions. */
export function loadCorpus(): Corpus {
  const dirs = [path.join(root, "examples"), path.join(root, "test", "e2e", "fixtures")];
  const files: Corpus["files"] = [];
  for (const d of dirs) {
    let names: string[] = [];
    try { names = readdirSync(d).filter((f) => f.endsWith(".py")).sort(); } catch { continue; }
    for (const f of names) {
      const text = readFileSync(path.join(d, f), "utf8");
      files.push({ name: f, text, fns: listFunctions(text).map((x) => x.name) });
    }
  }
  return { files };
}

export interface FuzzCase {
  id: number;
  kind: string;
  file: string;
  source: string;
  fn?: string;
  offset?: number;
  args?: string;
  run: boolean;
}

const TOKENS = ["(", ")", "[", "]", ":", ",", "=", "==", "+", "-", "*", "**", "/", "//", "@", ".", "lambda", "def", "return", "if", "else", "for", "in", "while", "not", "and", "None", "True", "x", "jnp", "jax", "0", "1", "-1", "1e308", "\"s\"", "'", "\"\"\"", "\\", "#", "\t", "    ", "yield", "async", "await", "global", "nonlocal", "*args", "**kw", "del", "try:", "except", "class", "...", ";"];
const UNICODE = ["é", "λ", "π", "∑", "😀", "\u200b", "\u0000", "\ufeff", "\u202e", "𝑥", "中", "\r", "\r\n", "\u2028", "\ud800", "ß", "Ω"];
const DTYPES = ["f32", "f64", "i32", "bool", "f16", "bf16", "int8", "u32", "float32", "complex64", "x", "", "f32f32", "None", "3"];
const DIMS = ["0", "1", "3", "4", "8", "-1", "-8", "1.5", "1e9", "100000", "2**31", "2**40", "99999999999999999999999", "1e400", "x", "None", "()", "\"4\"", "True", "0x10", "1_000", ""];

function lines(s: string): string[] {
  return s.split("\n");
}

/** One random mutation of a Python source. */
function mutate(r: Rand, src: string): { src: string; what: string } {
  const ls = lines(src);
  const li = int(r, ls.length);
  const op = int(r, 17);
  switch (op) {
    case 0: { // truncate a line
      ls[li] = ls[li].slice(0, int(r, ls[li].length + 1));
      return { src: ls.join("\n"), what: "truncated line" };
    }
    case 1: { // truncate the file
      return { src: src.slice(0, int(r, src.length + 1)), what: "truncated file" };
    }
    case 2: { // swap two tokens on a line
      const toks = ls[li].split(/(\s+|[()[\]{}:,=+\-*/@.])/).filter((t) => t !== "");
      if (toks.length > 1) {
        const a = int(r, toks.length), b = int(r, toks.length);
        [toks[a], toks[b]] = [toks[b], toks[a]];
        ls[li] = toks.join("");
      }
      return { src: ls.join("\n"), what: "swapped tokens" };
    }
    case 3: { // delete colons
      const idx = ls.findIndex((l, i) => i >= li && /:\s*$/.test(l));
      if (idx >= 0) ls[idx] = ls[idx].replace(/:\s*$/, "");
      return { src: ls.join("\n"), what: "deleted colon" };
    }
    case 4: { // wrong indentation
      const d = pick(r, ["", " ", "  ", "\t", "        ", "     "]);
      ls[li] = d + ls[li].trimStart();
      return { src: ls.join("\n"), what: "indentation" };
    }
    case 5: { // huge literal
      const lit = pick(r, ["9".repeat(400), "1e400", "1e-400", "0." + "1".repeat(500), "10**10**8", "2**100000", "1" + "0".repeat(5000), "-" + "9".repeat(40), "float('inf')", "0x" + "f".repeat(100)]);
      ls[li] = ls[li].replace(/\b\d+(\.\d+)?\b/, lit);
      return { src: ls.join("\n"), what: "huge literal" };
    }
    case 6: { // deep nesting
      const depth = pick(r, [50, 199, 200, 201, 1000, 3000, 10_000]);
      const [o, c] = pick(r, [["(", ")"], ["[", "]"], ["{", "}"], ["-(", ")"], ["jnp.sin(", ")"], ["(1+", ")"]]);
      ls[li] = ls[li].replace(/\bx\b/, o.repeat(depth) + "x" + c.repeat(depth));
      return { src: ls.join("\n"), what: `nesting ${depth}` };
    }
    case 7: { // very long line
      const n = pick(r, [1000, 10_000, 100_000]);
      const rep = pick(r, ["x+", "x*", "-", "not ", "x,", "1.0+", " ", "a"]);
      ls[li] = ls[li] + " " + rep.repeat(n);
      return { src: ls.join("\n"), what: `long line ${n}` };
    }
    case 8: { // random unicode
      const at = int(r, src.length + 1);
      return { src: src.slice(0, at) + pick(r, UNICODE) + src.slice(at), what: "unicode" };
    }
    case 9: { // insert a random token
      const at = int(r, src.length + 1);
      return { src: src.slice(0, at) + pick(r, TOKENS) + src.slice(at), what: "inserted token" };
    }
    case 10: { // delete a random span
      const at = int(r, src.length + 1);
      return { src: src.slice(0, at) + src.slice(at + 1 + int(r, 20)), what: "deleted span" };
    }
    case 11: { // duplicate a line
      ls.splice(li, 0, ls[li]);
      return { src: ls.join("\n"), what: "duplicated line" };
    }
    case 12: { // swap two lines
      const lj = int(r, ls.length);
      [ls[li], ls[lj]] = [ls[lj], ls[li]];
      return { src: ls.join("\n"), what: "swapped lines" };
    }
    case 13: { // change a spec comment
      const idx = ls.findIndex((l) => /#\s*jitlens:/.test(l));
      if (idx >= 0) ls[idx] = `# jitlens: ${randomSpec(r, ["x", "y", "w", "b", "n"])}`;
      return { src: ls.join("\n"), what: "spec comment" };
    }
    case 14: { // runaway loops and recursion
      const body = pick(r, [
        "    while True:\n        pass",
        "    while True:\n        x = x + 1",
        "    for i in range(10**9):\n        pass",
        "    y = [0] * (10**9)",
        "    y = 'ab' * (10**10)",
        "    y = [x] * 10**8",
        "    y = list(range(10**9))",
        "    return f(x)",
        "    s = 0\n    for i in range(10**7):\n        s += i",
        "    y = {i: i for i in range(10**8)}",
        "    y = x.shape * 10**9",
        "    y = (1,) * 10**9",
        "    y = [[0] * 10**5] * 10**5",
        "    return jnp.ones((10**6, 10**6))",
        "    return jnp.zeros(" + "(2,)*60" + ")",
        "    return x.reshape((-1,) * 3)",
      ]);
      const def = ls.findIndex((l) => /^def /.test(l));
      if (def >= 0) ls.splice(def + 1, 0, body);
      return { src: ls.join("\n"), what: "runaway" };
    }
    case 15: { // replace an identifier
      ls[li] = ls[li].replace(/\b[a-z_]+\b/, pick(r, ["jnp", "jax", "lax", "x", "__import__", "print", "open", "eval", "exec", "os", "range", "len", "zip", "map", "sum", "max", "getattr", "setattr", "type", "object", "super", "vars", "globals"]));
      return { src: ls.join("\n"), what: "identifier" };
    }
    default: { // control characters and CR line ends
      return { src: src.replace(/\n/g, pick(r, ["\r\n", "\r", "\n\n", "\n\t", "\n \n"])), what: "line ends" };
    }
  }
}

function randomShape(r: Rand): string {
  const rank = int(r, 5);
  return Array.from({ length: rank }, () => (r() < 0.7 ? String(1 + int(r, 16)) : pick(r, DIMS))).join(",");
}

/** A random argument spec (mostly valid-looking, often not). */
export function randomSpec(r: Rand, names: string[]): string {
  const one = (depth: number): string => {
    const k = int(r, 12);
    if (k < 5 || depth > 3) return `${r() < 0.8 ? pick(r, ["f32", "i32", "bool", "f64"]) : pick(r, DTYPES)}[${randomShape(r)}]`;
    if (k === 5) return pick(r, ["3", "0.5", "-1", "True", "None", "\"relu\"", "1e400", "9".repeat(100), "()", "[]", "{}"]);
    if (k === 6) return `(${one(depth + 1)}, ${one(depth + 1)})`;
    if (k === 7) return `[${one(depth + 1)}]`;
    if (k === 8) return `{"a": ${one(depth + 1)}, "b": ${one(depth + 1)}}`;
    if (k === 9) return pick(r, ["load(\"missing.npy\")", "load(3)", "load()", "load(\"/etc/passwd\")", "load(\"../../../x.npy\")", "__import__('os')", "f32", "f32[", "f32[]]", "f32[4", "f32()", "f32[4](1)", "lambda: 1", "x", "*x", "**x", "f32[4] + 1"]);
    if (k === 10) return `f32[${["100000,100000", "10**6,10**6", "2**31", "2**32", "2**53", "1e9,1e9", "65536,65536", "4294967297"][int(r, 8)]}]`;
    return "(".repeat(int(r, 300)) + "f32[4]" + ")".repeat(int(r, 300));
  };
  const n = 1 + int(r, 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(r() < 0.85 ? `${pick(r, names)}=${one(0)}` : one(0));
  let s = parts.join(pick(r, [", ", ",", " ", "; ", ",\n"]));
  if (r() < 0.1) s = s.slice(0, int(r, s.length + 1));
  if (r() < 0.05) s += pick(r, UNICODE);
  return s;
}

/** The cases for a seed: mostly mutated sources traced only, some spec-only, a few run on small shapes. */
export function* cases(corpus: Corpus, seed: number, count: number): Generator<FuzzCase> {
  const r = rng(seed);
  for (let id = 0; id < count; id++) {
    const f = pick(r, corpus.files);
    const roll = r();
    if (roll < 0.7) {
      // Mutated source, the function by name (or by a cursor offset now and then).
      let src = f.text;
      const kinds: string[] = [];
      const n = 1 + int(r, 3);
      for (let i = 0; i < n; i++) {
        const m = mutate(r, src);
        src = m.src;
        kinds.push(m.what);
      }
      const byOffset = r() < 0.15;
      yield { id, kind: kinds.join("+"), file: f.name, source: src, fn: byOffset ? undefined : pick(r, f.fns.length ? f.fns : ["f"]), offset: byOffset ? int(r, src.length + 2) : undefined, run: false };
    } else if (roll < 0.97) {
      // The original source, a random spec.
      const fn = pick(r, f.fns.length ? f.fns : ["f"]);
      const m = new RegExp(`def ${fn}\\(([^)]*)\\)`).exec(f.text);
      const names = m ? m[1].split(",").map((p) => p.split(/[:=]/)[0].replace(/\*/g, "").trim()).filter(Boolean) : ["x"];
      yield { id, kind: "spec", file: f.name, source: f.text, fn, args: randomSpec(r, names.length ? names : ["x"]), run: false };
    } else {
      // A run on small shapes: an elementwise function with a random small spec.
      const shape = Array.from({ length: int(r, 3) }, () => 1 + int(r, 8)).join(",");
      const dtype = pick(r, ["f32", "f32", "i32", "bool", "f64"]);
      const src = pick(r, [
        "import jax.numpy as jnp\ndef f(x):\n    return jnp.tanh(x) * 2.0 + x\n",
        "import jax\nimport jax.numpy as jnp\n@jax.jit\ndef f(x):\n    return jnp.sum(x * x, axis=-1)\n",
        "import jax.numpy as jnp\ndef f(x):\n    y = x\n    for _ in range(3):\n        y = jnp.where(y > 0, y, -y)\n    return y / (1 + jnp.abs(y))\n",
        "import jax.numpy as jnp\ndef f(x):\n    return jnp.max(x) - x\n",
      ]);
      yield { id, kind: "run", file: "run.py", source: src, fn: "f", args: `x=${dtype}[${shape}]`, run: true };
    }
  }
}

export interface Verdict {
  ok: boolean;
  /** `crash` (exception or InternalError), `badspan`, `slow`, or `ok`. */
  outcome: "ok" | "error" | "crash" | "badspan" | "slow";
  ms: number;
  detail?: string;
  report?: Report;
}

/** Whether an error span points into the input: line within the file, column within the line (or just after it). */
export function spanProblem(span: { file: string; line: number; col: number; endLine?: number; endCol?: number }, file: string, source: string, args?: string): string | undefined {
  const isInt = (n: unknown) => typeof n === "number" && Number.isInteger(n);
  if (span.file !== file) return `span file ${JSON.stringify(span.file)} is not ${JSON.stringify(file)}`;
  if (!isInt(span.line) || !isInt(span.col)) return "span line/col not integers";
  const ls = source.split("\n");
  // A spec given as an argument has no place in the file: its spans point at the def.
  void args;
  if (span.line < 1 || span.line > ls.length) return `line ${span.line} outside 1..${ls.length}`;
  if (span.col < 1 || span.col > ls[span.line - 1].length + 1) return `col ${span.col} outside 1..${ls[span.line - 1].length + 1} on line ${span.line}`;
  if (span.endLine !== undefined && span.endCol !== undefined) {
    if (span.endLine < span.line || span.endLine > ls.length) return `endLine ${span.endLine} outside ${span.line}..${ls.length}`;
    if (span.endCol < 1 || span.endCol > ls[span.endLine - 1].length + 1) return `endCol ${span.endCol} outside 1..${ls[span.endLine - 1].length + 1}`;
  }
  return undefined;
}

/** Runs one case through the engine's entry and judges the Report. */
export async function runCase(c: FuzzCase, budgetMs: number): Promise<Verdict> {
  const t0 = performance.now();
  let report: Report;
  try {
    report = await analyze({ file: c.file, source: c.source, fn: c.fn, offset: c.offset, args: c.args, run: c.run, backend: "cpu", timing: { minRuns: 1, minTimeMs: 0 } });
  } catch (e) {
    return { ok: false, outcome: "crash", ms: performance.now() - t0, detail: `uncaught ${e instanceof Error ? e.stack ?? e.message : String(e)}` };
  }
  const ms = performance.now() - t0;
  if (ms > budgetMs) return { ok: false, outcome: "slow", ms, detail: `took ${ms.toFixed(0)} ms (budget ${budgetMs} ms)`, report };
  // The Report must survive the trip over JSON-RPC.
  try { JSON.stringify(report); } catch (e) { return { ok: false, outcome: "crash", ms, detail: `Report not serialisable: ${String(e)}` }; }
  const e = report.error;
  if (!e) return { ok: true, outcome: "ok", ms, report };
  if (typeof e.kind !== "string" || !/^[A-Z]\w*$/.test(e.kind) || typeof e.message !== "string" || e.message.trim() === "") {
    return { ok: false, outcome: "crash", ms, detail: `malformed error ${JSON.stringify(e).slice(0, 300)}`, report };
  }
  if (e.kind === "InternalError") return { ok: false, outcome: "crash", ms, detail: e.message.slice(0, 500), report };
  if (!e.span) return { ok: false, outcome: "badspan", ms, detail: `no span: ${e.kind}: ${e.message.slice(0, 300)}`, report };
  const bad = spanProblem(e.span, c.file, c.source, c.args);
  if (bad) return { ok: false, outcome: "badspan", ms, detail: `${bad}: ${e.kind}: ${e.message.slice(0, 200)}`, report };
  const text = formatError(e, c.file);
  if (!text.startsWith(`${c.file}:${e.span.line}:${e.span.col}: ${e.kind}: `)) return { ok: false, outcome: "badspan", ms, detail: `formatted as ${text.slice(0, 200)}`, report };
  return { ok: true, outcome: "error", ms, report };
}

export interface Summary {
  cases: number;
  ok: number;
  errors: number;
  crashes: number;
  badSpans: number;
  slow: number;
  runs: number;
  maxMs: number;
  p99Ms: number;
  totalMs: number;
  byKind: Record<string, number>;
  failures: { c: FuzzCase; v: Verdict }[];
}

export async function fuzz(opts: { seed: number; count: number; budgetMs: number; onFailure?: (c: FuzzCase, v: Verdict) => void }): Promise<Summary> {
  const corpus = loadCorpus();
  const s: Summary = { cases: 0, ok: 0, errors: 0, crashes: 0, badSpans: 0, slow: 0, runs: 0, maxMs: 0, p99Ms: 0, totalMs: 0, byKind: {}, failures: [] };
  const times: number[] = [];
  const t0 = performance.now();
  for (const c of cases(corpus, opts.seed, opts.count)) {
    const v = await runCase(c, opts.budgetMs);
    s.cases++;
    if (c.run) s.runs++;
    times.push(v.ms);
    s.maxMs = Math.max(s.maxMs, v.ms);
    if (v.outcome === "ok") s.ok++;
    else if (v.outcome === "error") s.errors++;
    else if (v.outcome === "crash") s.crashes++;
    else if (v.outcome === "badspan") s.badSpans++;
    else s.slow++;
    const k = v.report?.error?.kind ?? (v.outcome === "ok" ? "ok" : v.outcome);
    s.byKind[k] = (s.byKind[k] ?? 0) + 1;
    if (!v.ok) { s.failures.push({ c, v }); opts.onFailure?.(c, v); }
  }
  s.totalMs = performance.now() - t0;
  times.sort((a, b) => a - b);
  s.p99Ms = times[Math.floor(times.length * 0.99)] ?? 0;
  return s;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const seed = opt("seed", 1), count = opt("cases", 20_000), budgetMs = opt("budget-ms", 5000);
  const verbose = argv.includes("--verbose");
  console.log(`fuzz: ${count} cases, seed ${seed}, budget ${budgetMs} ms per case`);
  let shown = 0;
  const s = await fuzz({
    seed, count, budgetMs,
    onFailure: (c, v) => {
      if (shown++ < 30 || verbose) console.log(`  ✘ case ${c.id} (${c.kind}, ${c.file}${c.fn ? ` fn=${c.fn}` : ""}${c.args !== undefined ? ` args=${JSON.stringify(c.args.slice(0, 80))}` : ""}): ${v.outcome}: ${v.detail?.split("\n").slice(0, 3).join(" | ")}`);
    },
  });
  console.log(`inputs tried: ${s.cases} (${s.runs} run on small shapes)`);
  console.log(`traced or ran cleanly: ${s.ok}; clear errors: ${s.errors}`);
  console.log(`crashes: ${s.crashes}; bad spans: ${s.badSpans}; over budget: ${s.slow}`);
  console.log(`time per case: max ${s.maxMs.toFixed(0)} ms, p99 ${s.p99Ms.toFixed(1)} ms; total ${(s.totalMs / 1000).toFixed(1)} s`);
  console.log(`outcomes: ${Object.entries(s.byKind).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  process.exitCode = s.failures.length ? 1 : 0;
}

if (require.main === module) void main();
