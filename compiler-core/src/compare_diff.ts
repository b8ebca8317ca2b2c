// Reading JAX's own texts for the comparison with real JAX (compare.ts): a structural diff of two
// jaxpr texts (ours and `jax.make_jaxpr`'s), and the kernels of XLA's compiled HLO text.
// Pure text processing: no Python, no JAX needed, so the viewer's fixtures and the tests use it.
import type { JaxprDiff, JaxprEqnRef, JaxprMismatch, XlaKernels } from "./report";

// ---------------------------------------------------------------------------------------------
// Jaxpr text -> equations

/** One equation of a parsed jaxpr text. */
export interface ParsedEqn {
  prim: string;
  /** Result types in order, e.g. ["f32[512,1024]"] (dropped results `_` included). */
  outs: string[];
  /** Params other than sub-jaxprs, `key=value` with whitespace collapsed, sorted by key. */
  params: string[];
  /** Sub-jaxprs held by params (`jaxpr=`, `call_jaxpr=`, `branches=(...)`, ...). */
  subs: ParsedJaxpr[];
  /** 0-based line of the text where the equation starts. */
  line: number;
  /** The equation's first line, trimmed. */
  text: string;
}

export interface ParsedJaxpr {
  invars: string[];
  outs: string[];
  eqns: ParsedEqn[];
}

interface Tok { text: string; at: number }

const OPEN: Record<string, string> = { "[": "]", "(": ")", "{": "}" };
const CLOSE = new Set(["]", ")", "}"]);

/** Whitespace-separated words, where a bracket group (even with spaces inside) stays in its word. */
function words(s: string, base: number): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    const start = i;
    const stack: string[] = [];
    while (i < s.length && (stack.length > 0 || !/\s/.test(s[i]))) {
      const c = s[i];
      if (OPEN[c]) stack.push(OPEN[c]);
      else if (CLOSE.has(c) && stack.length && stack[stack.length - 1] === c) stack.pop();
      i++;
    }
    out.push({ text: s.slice(start, i), at: base + start });
  }
  return out;
}

const BINDER = /^([A-Za-z_][A-Za-z0-9_]*):(\S+)$/;

class JaxprParseError extends Error {}

/**
 * Parses a jaxpr as JAX prints it (`str(jax.make_jaxpr(f)(*args))`, and JIT Lens's printer):
 * `{ lambda CONSTS ; INVARS . let EQNS in (OUTS) }`, with optional hoisted sub-jaxprs
 * `let NAME = { ... } in` before it, params in `prim[...]` (possibly over several lines), and
 * sub-jaxprs inside params. Throws on text that is not a jaxpr.
 */
export function parseJaxpr(text: string): ParsedJaxpr {
  const lineStarts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (at: number): number => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (lineStarts[mid] <= at) lo = mid; else hi = mid - 1; }
    return lo;
  };
  const named = new Map<string, ParsedJaxpr>();
  const top = words(text, 0);
  let k = 0;
  // Hoisted sub-jaxprs: let NAME = { ... } in
  while (k < top.length && top[k].text === "let") {
    const name = top[k + 1]?.text, eq = top[k + 2]?.text, body = top[k + 3], kw = top[k + 4]?.text;
    if (!name || eq !== "=" || !body?.text.startsWith("{") || kw !== "in") throw new JaxprParseError("malformed `let NAME = { ... } in` before the jaxpr");
    named.set(name, parseBody(body));
    k += 5;
  }
  const main = top[k];
  if (!main || !main.text.startsWith("{") || k !== top.length - 1) throw new JaxprParseError("expected `{ lambda ... }`");
  return parseBody(main);

  function parseBody(tok: Tok): ParsedJaxpr {
    const t = tok.text;
    if (!t.startsWith("{") || !t.endsWith("}")) throw new JaxprParseError("expected `{ lambda ... }`");
    const ts = words(t.slice(1, -1), tok.at + 1);
    if (ts[0]?.text !== "lambda") throw new JaxprParseError("expected `lambda` after `{`");
    let i = 1;
    // constvars ; invars . let
    const invars: string[] = [];
    let seenSemi = false;
    for (; i < ts.length && ts[i].text !== "let"; i++) {
      let w = ts[i].text;
      if (w.endsWith(";")) { w = w.slice(0, -1); seenSemi = true; if (w) invars.push(w); invars.length = 0; continue; }
      if (w === ";") { seenSemi = true; invars.length = 0; continue; }
      if (w.endsWith(".")) w = w.slice(0, -1);
      if (w) invars.push(w);
    }
    if (!seenSemi || ts[i]?.text !== "let") throw new JaxprParseError("expected `lambda ... ; ... . let`");
    i++;
    const eqns: ParsedEqn[] = [];
    const startsEqn = (j: number): boolean => {
      while (j < ts.length && BINDER.test(ts[j].text)) j++;
      return j < ts.length && ts[j].text === "=" && BINDER.test(ts[j - 1]?.text ?? "");
    };
    const atIn = (j: number): boolean => ts[j]?.text === "in" && (ts[j + 1]?.text.startsWith("(") ?? false);
    while (i < ts.length && !atIn(i)) {
      if (!startsEqn(i)) throw new JaxprParseError(`unexpected '${ts[i].text.slice(0, 40)}' where an equation should start`);
      const first = ts[i];
      const outs: string[] = [];
      while (ts[i].text !== "=") outs.push(BINDER.exec(ts[i++].text)![2]);
      i++; // =
      const primTok = ts[i++];
      if (!primTok) throw new JaxprParseError("an equation ends after `=`");
      const b = primTok.text.indexOf("[");
      const prim = b > 0 ? primTok.text.slice(0, b) : primTok.text;
      const params: string[] = [];
      const subs: ParsedJaxpr[] = [];
      if (b > 0) {
        for (const p of words(primTok.text.slice(b + 1, -1), primTok.at + b + 1)) {
          const eq = p.text.indexOf("=");
          const value = eq > 0 ? p.text.slice(eq + 1) : "";
          const found = subJaxprsIn(value, p.at + eq + 1);
          if (found.length) subs.push(...found);
          else params.push(p.text.replace(/\s+/g, " "));
        }
      }
      while (i < ts.length && !atIn(i) && !startsEqn(i)) i++; // operands
      const lineNo = lineOf(first.at);
      const lineEnd = text.indexOf("\n", lineStarts[lineNo]);
      eqns.push({ prim, outs, params: params.sort(), subs, line: lineNo, text: text.slice(lineStarts[lineNo], lineEnd < 0 ? text.length : lineEnd).trim() });
    }
    if (!atIn(i)) throw new JaxprParseError("expected `in (...)` at the end of the jaxpr");
    const outTok = ts[i + 1].text;
    const outs = outTok.slice(1, -1).split(/[\s,]+/).filter(Boolean);
    return { invars, outs, eqns };
  }

  /** Sub-jaxprs in a param value: `{ lambda ... }`, a hoisted name, or a tuple of them. */
  function subJaxprsIn(value: string, at: number): ParsedJaxpr[] {
    if (value.startsWith("{")) return [parseBody({ text: value, at })];
    if (named.has(value)) return [named.get(value)!];
    if (value.startsWith("(") && (value.includes("{") || [...named.keys()].some((n) => new RegExp(`\\b${n}\\b`).test(value)))) {
      return words(value.slice(1, -1).replace(/,/g, " "), at + 1).flatMap((w) => subJaxprsIn(w.text, w.at));
    }
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// The structural diff

/** Call-like primitives whose body is compared instead of the call itself. */
const TRANSPARENT = new Set(["custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr", "closed_call", "core_call", "remat", "checkpoint"]);
const JIT = new Set(["jit", "pjit"]);

function flattenEqns(j: ParsedJaxpr, inline: Set<string>, seen: Set<string>): ParsedEqn[] {
  const out: ParsedEqn[] = [];
  for (const e of j.eqns) {
    if (inline.has(e.prim) && e.subs.length >= 1) {
      seen.add(e.prim);
      // Inner equations keep the line of the call that holds them (where the viewer can point).
      for (const inner of flattenEqns(e.subs[0], inline, seen)) out.push({ ...inner, line: e.line, text: inner.text });
    } else out.push({ ...e, prim: JIT.has(e.prim) ? "jit" : e.prim });
  }
  return out;
}

const ref = (e: ParsedEqn, index: number): JaxprEqnRef => ({ index, line: e.line, prim: e.prim, outs: e.outs, text: e.text });

/** Longest common subsequence of the primitive names: the alignment of two equation lists. */
function align(a: ParsedEqn[], b: ParsedEqn[]): [number, number][] {
  const n = a.length, m = b.length;
  if (n * m > 25_000_000) {
    // Too big for the table: pair by position.
    return Array.from({ length: Math.min(n, m) }, (_, i) => [i, i] as [number, number]).filter(([i, j]) => a[i].prim === b[j].prim);
  }
  const w = m + 1;
  const L = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      L[i * w + j] = a[i].prim === b[j].prim ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i].prim === b[j].prim) { pairs.push([i, j]); i++; j++; }
    else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) i++;
    else j++;
  }
  return pairs;
}

const MAX_MISMATCHES = 200;

/**
 * Compares our jaxpr with JAX's: are the primitives the same, in the same order, with the same
 * result shapes and dtypes? Equations are aligned by the longest common subsequence of their
 * primitive names; aligned pairs are then checked for result types and params; unaligned
 * equations are `only_ours` / `only_jax`. `custom_jvp_call` / `custom_vjp_call` (e.g. from
 * `jax.nn.relu`) are compared by their bodies, and JAX's nested `jit`/`pjit` calls too when our
 * jaxpr has none (each inlining is listed in `notes`).
 */
export function diffJaxprs(oursText: string, jaxText: string): JaxprDiff {
  const ours = parseJaxpr(oursText);
  const jax = parseJaxpr(jaxText);
  const notes: string[] = [];
  const seenOurs = new Set<string>(), seenJax = new Set<string>();
  const hasJit = (j: ParsedJaxpr): boolean => j.eqns.some((e) => JIT.has(e.prim) || e.subs.some(hasJit));
  const oursInline = new Set(TRANSPARENT);
  const jaxInline = new Set(TRANSPARENT);
  if (!hasJit(ours)) { jaxInline.add("jit"); jaxInline.add("pjit"); }
  const a = flattenEqns(ours, oursInline, seenOurs);
  const b = flattenEqns(jax, jaxInline, seenJax);
  for (const p of seenJax) notes.push(`JAX's ${p} equations were replaced by their bodies to compare`);
  for (const p of seenOurs) notes.push(`our ${p} equations were replaced by their bodies to compare`);

  const mismatches: JaxprMismatch[] = [];
  const typeOf = (v: string): string => BINDER.exec(v)?.[2] ?? v;
  const invOurs = ours.invars.map(typeOf), invJax = jax.invars.map(typeOf);
  if (invOurs.join(" ") !== invJax.join(" ")) mismatches.push({ kind: "inputs", message: `inputs differ: ours (${invOurs.join(", ")}) vs JAX (${invJax.join(", ")})` });

  const pairs = align(a, b);
  let sameTypes = true, sameParams = true;
  let pi = 0, i = 0, j = 0;
  const push = (m: JaxprMismatch) => { if (mismatches.length < MAX_MISMATCHES) mismatches.push(m); };
  while (i < a.length || j < b.length) {
    const [pa, pb] = pairs[pi] ?? [a.length, b.length];
    for (; i < pa; i++) push({ kind: "only_ours", ours: ref(a[i], i), message: `only in ours: ${a[i].prim} -> ${a[i].outs.join(" ")}` });
    for (; j < pb; j++) push({ kind: "only_jax", jax: ref(b[j], j), message: `only in JAX: ${b[j].prim} -> ${b[j].outs.join(" ")}` });
    if (pi < pairs.length) {
      const x = a[pa], y = b[pb];
      if (x.outs.join(" ") !== y.outs.join(" ")) {
        sameTypes = false;
        push({ kind: "type", ours: ref(x, pa), jax: ref(y, pb), message: `${x.prim}: ours gives ${x.outs.join(" ")}, JAX gives ${y.outs.join(" ")}` });
      } else if (x.params.join(" ") !== y.params.join(" ")) {
        sameParams = false;
        const onlyX = x.params.filter((p) => !y.params.includes(p)), onlyY = y.params.filter((p) => !x.params.includes(p));
        push({ kind: "params", ours: ref(x, pa), jax: ref(y, pb), message: `${x.prim}: params differ: ours [${onlyX.join(" ")}] vs JAX [${onlyY.join(" ")}]` });
      }
      i = pa + 1; j = pb + 1; pi++;
    }
  }
  const outOurs = ours.outs.length, outJax = jax.outs.length;
  if (outOurs !== outJax) push({ kind: "outputs", message: `ours returns ${outOurs} value${outOurs === 1 ? "" : "s"}, JAX ${outJax}` });
  const samePrims = pairs.length === a.length && pairs.length === b.length;
  const total = mismatches.length;
  return {
    same: samePrims && sameTypes && outOurs === outJax && invOurs.join(" ") === invJax.join(" "),
    samePrimitives: samePrims,
    sameTypes,
    sameParams,
    counts: { ours: a.length, jax: b.length, matched: pairs.length },
    pairs: pairs.map(([x, y]) => ({ ours: x, jax: y, oursLine: a[x].line, jaxLine: b[y].line })),
    mismatches,
    ...(total >= MAX_MISMATCHES ? { truncated: true } : {}),
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// XLA's compiled HLO: how many kernels

/** Ops of a computation that launch nothing: they name, reinterpret or group buffers. */
const FREE_OPS = new Set(["parameter", "constant", "tuple", "get-tuple-element", "bitcast", "after-all", "partition-id", "replica-id", "opt-barrier", "copy-start", "copy-done"]);

/**
 * Counts the kernels of a compiled HLO module (`jax.jit(f).lower(...).compile().as_text()`):
 * every `fusion` instruction outside the fused computations is one kernel (`kind=kLoop`,
 * `kInput`, `kOutput`, `kCustom`); every `custom-call` there too (cuBLAS/cuDNN, or a CPU runtime
 * call); other instructions of the entry computation that move or compute data (not parameter,
 * constant, tuple, get-tuple-element, bitcast) count as unfused ops. Computations called only
 * by a fusion (`calls=%fused_...`) or by a reduce (`to_apply=`) are bodies, not launches.
 */
export function countXlaKernels(hlo: string): XlaKernels {
  const lines = hlo.split("\n");
  // Names of computations that are bodies of something (fusion, reduce, map, sort, ...).
  const bodies = new Set<string>();
  for (const l of lines) {
    for (const m of l.matchAll(/\b(?:calls|to_apply|comparator|scatter)=%?([\w.\-]+)/g)) bodies.add(m[1]);
    for (const m of l.matchAll(/\bcalled_computations=\{([^}]*)\}/g)) for (const n of m[1].split(",")) bodies.add(n.trim().replace(/^%/, ""));
  }
  const byKind: Record<string, number> = {};
  let fusions = 0, customCalls = 0, otherOps = 0;
  const other: Record<string, number> = {};
  let current: string | undefined;
  let isBody = false;
  for (const raw of lines) {
    const l = raw.trim();
    const instr = /^(?:ROOT\s+)?%?[\w.\-]+\s*=\s/.test(l);
    const head = !instr && l.endsWith("{") ? /^(ENTRY\s+)?%?([\w.\-]+)/.exec(l) : null;
    if (head) { current = head[2]; isBody = !head[1] && (bodies.has(current) || /^fused_/.test(current)); continue; }
    if (l === "}") { current = undefined; continue; }
    if (!current || isBody) continue;
    // %name = type opcode(operands), attrs     (ROOT optional)
    const m = /^(?:ROOT\s+)?%?[\w.\-]+\s*=\s*(?:\([^=]*?\)|\S+)\s+([a-z][\w\-]*)\(/.exec(l);
    if (!m) continue;
    const op = m[1];
    if (op === "fusion") {
      fusions++;
      const kind = /\bkind=(k\w+)/.exec(l)?.[1] ?? "kUnknown";
      byKind[kind] = (byKind[kind] ?? 0) + 1;
    } else if (op === "custom-call") customCalls++;
    else if (!FREE_OPS.has(op) && op !== "call" && op !== "while" && op !== "conditional") { otherOps++; other[op] = (other[op] ?? 0) + 1; }
  }
  return { fusions, byKind, customCalls, otherOps, otherByOp: other, kernels: fusions + customCalls + otherOps };
}
