// Tracing a function: parse the file, find the def, evaluate the argument spec, run the
// function on Tracers and collect the jaxpr. Every failure is a JitError with a span.
import type { SyntaxNode, Tree } from "@lezer/common";
import { functionAt, listFunctions, parsePython, ParseTimeoutError, type FunctionInfo } from "../frontend/functions";
import { JitError, SourceFile, closest } from "../frontend/source";
import { inferSpec } from "../frontend/specs";
import type { Atom, ArrayValue, Aval, DType, Jaxpr } from "../ir/types";
import type { ArgInfo, Span } from "../report";
import { literal } from "./builder";
import { Interpreter } from "./interp";
import { Scope } from "./scope";
import {
  PyBuiltin, PyDType, PyDict, PyList, PySpec, PyStr, PyTuple, Tracer, pyRepr, pyTypeName,
  type Kwargs, type PyFunction, type PyValue,
} from "./values";

export interface TraceRequest {
  file: string;
  source: string;
  fn?: string;
  /** 0-based cursor offset, used when `fn` is absent. */
  offset?: number;
  /** Argument spec text; when absent, the `# jitlens:` comment above the def. */
  args?: string;
  /** Reads a `.npy` file named in a `load("...")` spec. */
  loadNpy?: (path: string) => ArrayValue;
  timeLimitMs?: number;
}

/** One traced input leaf: its path in the argument pytree and where its data comes from. */
export interface InputLeaf {
  path: string;
  aval: Aval;
  loaded?: ArrayValue;
}

/** How the outputs nest: a leaf index, or a container of subtrees. */
export type OutTree = { leaf: number } | { tuple: OutTree[] } | { list: OutTree[] } | { dict: [string, OutTree][] } | { none: true };

export interface TraceResult {
  jaxpr: Jaxpr;
  fn: FunctionInfo;
  defSpan: Span;
  args: ArgInfo[];
  inputs: InputLeaf[];
  outTree: OutTree;
  source: SourceFile;
}

const DTYPE_SPEC: Record<string, DType> = { f32: "f32", float32: "f32", f64: "f64", float64: "f64", i32: "i32", int32: "i32", bool: "bool", bool_: "bool" };

/** Python's own limit on nested brackets (its tokenizer's MAXLEVEL): "too many nested parentheses". */
export const MAX_NESTING = 200;

/** The first bracket nested deeper than MAX_NESTING (strings and comments skipped), if any. */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "#") { while (i < text.length && text[i] !== "\n") i++; continue; }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      let j = i + (triple ? 3 : 1);
      for (; j < text.length; j++) {
        if (text[j] === "\\") { j++; continue; }
        if (!triple && text[j] === "\n") break;
        if (triple ? text.startsWith(c.repeat(3), j) : text[j] === c) break;
      }
      i = j + (triple ? 2 : 0);
      continue;
    }
    if (c === "(" || c === "[" || c === "{") { if (++depth > MAX_NESTING) return i; }
    else if (c === ")" || c === "]" || c === "}") depth = Math.max(0, depth - 1);
  }
  return undefined;
}

/** Lines longer than this get a hint with a parse error: the parser bounds how deep it nests. */
const LONG_LINE = 1000;

/** Deep nesting is refused before parsing (a linear scan: the parse of such text is slow, and the interpreter recurses on the tree). */
export function checkNesting(src: SourceFile): void {
  const deep = tooDeep(src.text);
  if (deep !== undefined) throw new JitError("SyntaxError", `too many nested parentheses (more than ${MAX_NESTING}, Python's limit)`, src.span(deep, deep + 1));
}

export function checkSyntax(src: SourceFile, tree: Tree): void {
  checkNesting(src);
  let bad: SyntaxNode | undefined;
  tree.iterate({
    enter: (n) => {
      if (bad) return false;
      if (n.type.isError) { bad = n.node; return false; }
      return undefined;
    },
  });
  if (!bad) return;
  const pos = src.position(bad.from);
  const line = src.lineText(pos.line);
  let message = "invalid syntax";
  const trimmed = line.trim();
  // Python's most common messages, recognised from the line's shape.
  const unclosed = unclosedBracket(src.text.slice(0, bad.from));
  if (/^(def|if|elif|else|for|while|with|class|try|except|finally)\b/.test(trimmed) && !/:\s*(#.*)?$/.test(trimmed)) message = "expected ':'";
  else if (unclosed) {
    const p = src.position(unclosed.at);
    throw new JitError("SyntaxError", `'${unclosed.ch}' was never closed`, src.span(unclosed.at, unclosed.at + 1), [{ message: "the parser gave up here", span: src.span(bad.from, Math.max(bad.to, bad.from + 1)) }].filter(() => p.line !== pos.line));
  } else if (bad.from >= src.text.length || /^\s*$/.test(line.slice(pos.col - 1))) message = "invalid syntax: unexpected end of line";
  else message = `invalid syntax near '${src.text.slice(bad.from, Math.max(bad.to, bad.from + 1)).split("\n")[0].slice(0, 20) || line.slice(pos.col - 1, pos.col + 9)}'`;
  if (line.length > LONG_LINE) message += ` (this line is ${line.length.toLocaleString("en-US")} characters long; the parser gives up on expressions nested or chained this deeply: split it into several statements)`;
  throw new JitError("SyntaxError", message, src.span(bad.from, Math.max(bad.to, bad.from + 1)));
}

/** The innermost bracket still open at the end of `text` (strings and comments skipped). */
function unclosedBracket(text: string): { ch: string; at: number } | undefined {
  const stack: { ch: string; at: number }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "#") { while (i < text.length && text[i] !== "\n") i++; continue; }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const end = triple ? text.indexOf(c.repeat(3), i + 3) : text.indexOf(c, i + 1);
      if (end < 0) return undefined;
      i = end + (triple ? 2 : 0);
      continue;
    }
    if ("([{".includes(c)) stack.push({ ch: c, at: i });
    else if (")]}".includes(c)) stack.pop();
  }
  return stack[stack.length - 1];
}

export function findFunction(src: SourceFile, tree: Tree, fn: string | undefined, offset: number | undefined): FunctionInfo {
  const fns = listFunctions(src.text, tree);
  if (fn) {
    const f = fns.find((x) => x.name === fn);
    if (f) return f;
    const hint = closest(fn, fns.map((x) => x.name));
    throw new JitError("NameError", `no top-level function '${fn}' in ${src.file}${hint ? `. Did you mean '${hint}'?` : fns.length ? ` (it defines ${fns.map((x) => x.name).join(", ")})` : ""}`, src.span(0, 0));
  }
  const f = offset !== undefined ? functionAt(fns, src.text, offset) : undefined;
  if (!f) throw new JitError("UsageError", "put the cursor inside a top-level `def` to trace it", offset !== undefined ? src.span(offset, offset) : src.span(0, 0));
  return f;
}

/** Evaluates an argument spec such as `x=f32[512,1024], n=3, params=[(f32[4,4], f32[4])]`. */
export function evalSpec(text: string, specSpan: Span | undefined, loadNpy?: (path: string) => ArrayValue): { args: PyValue[]; kwargs: Kwargs } {
  // `f32[]` (a scalar) is not valid Python syntax; spell it as an empty index tuple.
  const wrapped = `__spec__(${text.replace(/(\w)\[\s*\]/g, "$1[()]")}\n)`;
  const src = new SourceFile("<argument spec>", wrapped);
  const fail = (message: string): never => {
    throw new JitError("SpecError", `${message} in the argument spec \`${text.length > 200 ? `${text.slice(0, 200)}…` : text}\``, specSpan);
  };
  let tree: Tree;
  try {
    checkNesting(src);
    tree = parsePython(wrapped);
  } catch (e) {
    if (e instanceof ParseTimeoutError || e instanceof JitError) fail(e.message);
    throw e;
  }
  try {
    checkSyntax(src, tree);
  } catch (e) {
    if (e instanceof JitError) fail(`${e.message}`);
    throw e;
  }
  const stmt = tree.topNode.firstChild;
  const call = stmt?.firstChild;
  if (!call || call.name !== "CallExpression" || stmt!.nextSibling) fail("expected a comma-separated list like `x=f32[512,1024], n=3`");
  const it = new Interpreter(src, tree.topNode);
  const scope = new Scope(it.globals);
  for (const [name, d] of Object.entries(DTYPE_SPEC)) scope.set(name, new PyDType(d));
  scope.set("load", new PyBuiltin("load", ([p]) => {
    if (!p || p.k !== "str") fail('load() takes a file name, e.g. load("x.npy")');
    if (!loadNpy) fail("load() is not available here");
    const value = loadNpy!((p as PyStr).v);
    return new PySpec(value.aval, `load(${JSON.stringify((p as PyStr).v)})`, { path: (p as PyStr).v, value });
  }));
  try {
    return it.evalArgs(call!.getChild("ArgList")!, scope);
  } catch (e) {
    if (e instanceof JitError) fail(e.message.replace(/^name '(\w+)' is not defined.*/, "unknown name '$1' (array specs look like f32[512,1024], i32[8], bool[4] or f32[] for a scalar)"));
    throw e;
  }
}

/** Turns spec leaves into traced inputs, keeping Python values static. */
function instantiate(it: Interpreter, v: PyValue, path: string, leaves: InputLeaf[]): PyValue {
  switch (v.k) {
    case "spec": {
      leaves.push({ path, aval: v.aval, loaded: v.load?.value });
      return it.builder.input(v.aval, path);
    }
    case "tuple": return new PyTuple(v.items.map((x, i) => instantiate(it, x, `${path}[${i}]`, leaves)));
    case "list": return new PyList(v.items.map((x, i) => instantiate(it, x, `${path}[${i}]`, leaves)));
    case "dict": {
      // Leaves are made in JAX's flattening order (sorted keys); the dict keeps its own order.
      const made = new Map<string, PyValue>();
      const sorted = [...v.entries].sort(([, [a]], [, [b]]) => (pyRepr(a) < pyRepr(b) ? -1 : pyRepr(a) > pyRepr(b) ? 1 : 0));
      for (const [h, [k, x]] of sorted) made.set(h, instantiate(it, x, `${path}[${pyRepr(k)}]`, leaves));
      const d = new PyDict();
      for (const [h, [k]] of v.entries) d.entries.set(h, [k, made.get(h)!]);
      return d;
    }
    default: return v;
  }
}

function typeOfSpec(v: PyValue): string {
  switch (v.k) {
    case "spec": return `${v.aval.dtype}[${v.aval.shape.join(",")}]`;
    case "tuple": return `(${v.items.map(typeOfSpec).join(", ")}${v.items.length === 1 ? "," : ""})`;
    case "list": return `[${v.items.map(typeOfSpec).join(", ")}]`;
    case "dict": return `{${[...v.entries.values()].map(([k, x]) => `${pyRepr(k)}: ${typeOfSpec(x)}`).join(", ")}}`;
    default: return pyRepr(v);
  }
}

/** Flattens the function's result in JAX's pytree order (dicts by sorted key). */
function flattenOut(it: Interpreter, v: PyValue, atoms: Atom[], where: Span): OutTree {
  switch (v.k) {
    case "tracer": atoms.push(v.atom); return { leaf: atoms.length - 1 };
    case "int": atoms.push(literal(v.v, { shape: [], dtype: "i32", weak: true })); return { leaf: atoms.length - 1 };
    case "float": atoms.push(literal(Math.fround(v.v), { shape: [], dtype: "f32", weak: true })); return { leaf: atoms.length - 1 };
    case "bool": atoms.push(literal(v.v, { shape: [], dtype: "bool", weak: false })); return { leaf: atoms.length - 1 };
    case "none": return { none: true };
    case "tuple": return { tuple: v.items.map((x) => flattenOut(it, x, atoms, where)) };
    case "list": return { list: v.items.map((x) => flattenOut(it, x, atoms, where)) };
    case "dict": {
      const entries = [...v.entries.values()].map(([k, x]) => [k.k === "str" ? k.v : pyRepr(k), x] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return { dict: entries.map(([k, x]) => [k, flattenOut(it, x, atoms, where)]) };
    }
    default:
      throw new JitError("TypeError", `the function returned a ${pyTypeName(v)}, which is not a valid JAX type (return arrays, numbers, or tuples/lists/dicts of them)`, where);
  }
}

/**
 * Traces `req`'s function. A JavaScript stack overflow (an expression or a call chain nested
 * deeper than the interpreter can recurse) becomes a RecursionError at the statement being run.
 */
export function traceFunction(req: TraceRequest): TraceResult {
  const held: { it?: Interpreter } = {};
  try {
    return traceWith(req, held);
  } catch (e) {
    if (!(e instanceof RangeError && /call stack/i.test(e.message))) throw e;
    const src = new SourceFile(req.file, req.source);
    const at = held.it?.lastStatement;
    throw new JitError("RecursionError", "this code nests too deeply to trace (the interpreter ran out of stack): split deeply nested expressions or recursive calls into several statements", at ? src.span(at.from, at.to) : src.span(0, 0));
  }
}

function traceWith(req: TraceRequest, held: { it?: Interpreter }): TraceResult {
  const src = new SourceFile(req.file, req.source);
  checkNesting(src);
  let tree: Tree;
  try {
    tree = parsePython(req.source);
  } catch (e) {
    if (e instanceof ParseTimeoutError) e.span = src.span(e.at, e.at);
    throw e;
  }
  checkSyntax(src, tree);
  const info = findFunction(src, tree, req.fn, req.offset);
  const defNode = tree.resolveInner(info.defFrom, 1);
  const def = defNode.name === "FunctionDefinition" ? defNode : defNode.parent!;
  const nameNode = def.getChild("VariableName")!;
  const defSpan = src.span(def.from, nameNode.to);

  const inferred = req.args === undefined && info.specComment === undefined ? inferSpec(req.source, tree, info) : undefined;
  const specText = req.args ?? info.specComment ?? inferred?.spec;
  const specSpan = req.args === undefined && info.specLine !== undefined ? src.lineSpan(info.specLine) : defSpan;

  const it = new Interpreter(src, tree.topNode, req.timeLimitMs);
  held.it = it;
  it.execModule();
  const fnValue = it.globals.lookup(info.name);
  if (!fnValue || fnValue.k !== "function") {
    throw new JitError("TypeError", `'${info.name}' is not a plain Python function after its decorators are applied`, defSpan);
  }
  const fn = fnValue as PyFunction;
  let spec: ReturnType<typeof evalSpec>;
  try {
    spec = specText !== undefined && specText.trim() !== "" ? evalSpec(specText, specSpan, req.loadNpy) : { args: [], kwargs: [] };
  } catch (e) {
    if (e instanceof JitError && inferred) throw new JitError(e.kind, `${e.message} (the spec was taken from ${inferred.origin})`, e.span);
    throw e;
  }

  // Match spec entries to parameters by position and name; report what is missing.
  const params = fn.params.filter((p) => p.kind === "normal");
  const given = new Map<string, PyValue>();
  spec.args.forEach((v, i) => {
    if (i >= params.length) throw new JitError("SpecError", `the argument spec gives ${spec.args.length} positional arguments but ${info.name}() takes ${params.length}`, specSpan);
    given.set(params[i].name, v);
  });
  for (const [k, v] of spec.kwargs) {
    if (given.has(k)) throw new JitError("SpecError", `the argument spec gives '${k}' twice`, specSpan);
    if (!params.some((p) => p.name === k)) {
      const hint = closest(k, params.map((p) => p.name));
      throw new JitError("SpecError", `the argument spec names '${k}', but ${info.name}() has no such parameter${hint ? `. Did you mean '${hint}'?` : ` (its parameters: ${params.map((p) => p.name).join(", ")})`}`, specSpan);
    }
    given.set(k, v);
  }
  for (const [k, v] of given) {
    const bad = badSpecValue(v);
    if (bad) throw new JitError("SpecError", `the argument spec gives '${k}' ${bad}; an argument is an array spec such as f32[512,1024], a Python number, string, bool or None, or a tuple, list or dict of these`, specSpan);
  }
  const missing = params.filter((p) => !given.has(p.name) && p.default === undefined).map((p) => p.name);
  if (missing.length) {
    throw new JitError(
      "SpecError",
      `no shape for argument${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")} of ${info.name}(): add a comment above the def such as \`# jitlens: ${missing.map((m) => `${m}=f32[1024]`).join(", ")}\`, jaxtyping annotations (\`${missing[0]}: Float[Array, "1024"]\`), or a call such as \`${info.name}(jnp.ones((1024,)))\` in the file`,
      specSpan,
    );
  }
  const staticNames = new Set([...(fn.jit?.staticArgnames ?? []), ...(fn.jit?.staticArgnums ?? []).map((i) => params[i]?.name)]);
  const leaves: InputLeaf[] = [];
  const args: ArgInfo[] = [];
  const kwargs: Kwargs = [];
  params.forEach((p, i) => {
    const v = given.get(p.name);
    if (v === undefined) return;
    if (staticNames.has(p.name) && containsSpec(v)) {
      throw new JitError("SpecError", `argument '${p.name}' is static (static_argnums/static_argnames) and needs a Python value, not an array spec`, specSpan);
    }
    it.argSpans.set(p.name, it.span(nameNode));
    const value = instantiate(it, v, p.name, leaves);
    const type = typeOfSpec(v);
    it.argTypes.set(p.name, type);
    args.push({ name: p.name, spec: pyRepr(v), type });
    kwargs.push([p.name, value]);
    void i;
  });

  it.topLevelCall = true;
  const out = it.callFunction(fn, [], kwargs, defSpan);
  const outAtoms: Atom[] = [];
  const outTree = flattenOut(it, out, outAtoms, defSpan);
  const jaxpr = it.builder.finish(outAtoms);
  return { jaxpr, fn: info, defSpan, args, inputs: leaves, outTree, source: src };
}

/** What is wrong with a value given in an argument spec (a dtype, a function, ...), else undefined. */
function badSpecValue(v: PyValue): string | undefined {
  switch (v.k) {
    case "spec": case "int": case "float": case "bool": case "str": case "none": return undefined;
    case "tuple": case "list": for (const x of v.items) { const b = badSpecValue(x); if (b) return b; } return undefined;
    case "dict": for (const [, x] of v.entries.values()) { const b = badSpecValue(x); if (b) return b; } return undefined;
    case "dtype": return `the dtype ${v.dtype} without a shape (write ${v.dtype}[4] for an array, ${v.dtype}[] for a scalar)`;
    default: return `a ${pyTypeName(v)}`;
  }
}

function containsSpec(v: PyValue): boolean {
  if (v.k === "spec") return true;
  if (v.k === "tuple" || v.k === "list") return v.items.some(containsSpec);
  if (v.k === "dict") return [...v.entries.values()].some(([, x]) => containsSpec(x));
  return false;
}

export { Tracer };
