// The tracing interpreter: evaluates the Python subset that numerical code uses, directly on
// the lezer syntax tree. Python values are concrete (loops unroll, `if` on a static value
// picks a branch); arrays are Tracers, and every array operation binds a primitive into the
// jaxpr with the span of the expression that made it.
import type { SyntaxNode } from "@lezer/common";
import { closest, JitError, SourceFile } from "../frontend/source";
import { kids } from "../frontend/functions";
import type { Span } from "../report";
import { JaxprBuilder } from "./builder";
import { Numpy } from "./jnp";
import { sliceBounds } from "./lax_numpy";
import { buildBuiltins } from "./builtins";
import { Scope } from "./scope";
import {
  Ellipsis, False, None, PyBool, PyBuiltin, PyDict, PyFloat, PyFunction, PyInt, PyList, PyModule, PyRange,
  PySlice, PyStr, PyTuple, Tracer, True, isNumber, keyOf, pyRepr, pyTypeName,
  type Kwargs, type Param, type PyValue,
} from "./values";

type Signal = undefined | { k: "return"; value: PyValue } | { k: "break" } | { k: "continue" };

const TIME_LIMIT_MS = 2000;
const MAX_DEPTH = 150;


const PUNCT = new Set(["(", ")", "[", "]", "{", "}", ",", ":", ";", "."]);

export class Interpreter {
  builder = new JaxprBuilder();
  readonly np: Numpy;
  readonly globals: Scope;
  private depth = 0;
  private readonly deadline: number;
  private steps = 0;
  /** The statement run last (where a stack overflow is reported). */
  lastStatement: SyntaxNode | undefined;

  constructor(readonly src: SourceFile, readonly moduleNode: SyntaxNode, timeLimitMs = TIME_LIMIT_MS) {
    this.currentNode = moduleNode;
    this.deadline = Date.now() + timeLimitMs;
    this.np = new Numpy(this);
    const builtins = new Scope();
    for (const [k, v] of buildBuiltins(this)) builtins.set(k, v);
    this.globals = new Scope(builtins);
  }

  text(n: SyntaxNode): string {
    return this.src.text.slice(n.from, n.to);
  }

  span(n: SyntaxNode): Span {
    return this.src.span(n.from, n.to);
  }

  fail(kind: string, message: string, n?: SyntaxNode): never {
    throw new JitError(kind, message, n ? this.span(n) : undefined);
  }

  /** Bounds runaway traces: infinite loops and runaway recursion end with a clear error. */
  tick(n: SyntaxNode): void {
    this.lastStatement = n;
    if ((++this.steps & 255) === 0 && Date.now() > this.deadline) {
      this.fail("TimeoutError", `tracing took longer than ${TIME_LIMIT_MS / 1000} s; is there an infinite loop (a \`while\` whose condition never changes)?`, n);
    }
  }

  // ---------------------------------------------------------------- module level

  /** Runs the module's top level: imports, constants and function definitions. Other
   *  statements (calls, prints, `if __name__ == "__main__":`) are not executed. */
  execModule(): void {
    for (let n = this.moduleNode.firstChild; n; n = n.nextSibling) {
      switch (n.name) {
        case "ImportStatement":
          this.execImport(n, this.globals);
          break;
        case "FunctionDefinition":
        case "DecoratedStatement":
          this.execStatement(n, this.globals);
          break;
        case "AssignStatement": {
          // Module constants are evaluated where possible; a failure is remembered and only
          // reported if the traced function uses the name.
          try {
            this.execStatement(n, this.globals);
          } catch (e) {
            if (!(e instanceof JitError)) throw e;
            for (const name of this.assignedNames(n)) {
              this.globals.set(name, new PyBuiltin(`<unavailable ${name}>`, () => { throw e; }));
            }
          }
          break;
        }
        default:
          break;
      }
    }
  }

  private assignedNames(n: SyntaxNode): string[] {
    const out: string[] = [];
    for (const c of kids(n)) {
      if (c.name === "AssignOp") break;
      if (c.name === "VariableName") out.push(this.text(c));
    }
    return out;
  }

  private execImport(n: SyntaxNode, scope: Scope): void {
    const cs = kids(n);
    const isFrom = cs[0]?.name === "from";
    const resolve = (path: string[], at: SyntaxNode): PyValue => {
      // Modules JIT Lens does not model (typing, jaxtyping, numpy, ...) import as opaque names:
      // the error comes only if traced code uses them.
      return this.np.importModule(path.join(".")) ?? opaqueModule(path.join("."));
    };
    if (isFrom) {
      const path: string[] = [];
      let i = 1;
      for (; i < cs.length && cs[i].name !== "import"; i++) if (cs[i].name === "VariableName") path.push(this.text(cs[i]));
      const mod = resolve(path, n);
      i++;
      for (; i < cs.length; i++) {
        if (cs[i].name !== "VariableName") continue;
        const name = this.text(cs[i]);
        let alias = name;
        if (cs[i + 1]?.name === "as") { alias = this.text(cs[i + 2]); i += 2; }
        scope.set(alias, this.getattr(mod, name, cs[i]));
      }
      return;
    }
    // import a.b.c [as d], e
    let path: string[] = [];
    let first: SyntaxNode = n;
    const flush = (alias?: string) => {
      if (!path.length) return;
      const full = resolve(path, first);
      if (alias) scope.set(alias, full);
      else scope.set(path[0], resolve([path[0]], first));
      path = [];
    };
    for (let i = 1; i < cs.length; i++) {
      const c = cs[i];
      if (c.name === "VariableName") {
        if (cs[i - 1]?.name !== "." && path.length) flush();
        if (!path.length) first = c;
        path.push(this.text(c));
      } else if (c.name === "as") {
        flush(this.text(cs[i + 1]));
        i++;
      }
    }
    flush();
  }

  // ---------------------------------------------------------------- statements

  execBlock(body: SyntaxNode, scope: Scope): Signal {
    for (let n = body.firstChild; n; n = n.nextSibling) {
      if (n.name === ":" || n.name === "Comment") continue;
      const s = this.execStatement(n, scope);
      if (s) return s;
    }
    return undefined;
  }

  execStatement(n: SyntaxNode, scope: Scope): Signal {
    this.tick(n);
    switch (n.name) {
      case "ExpressionStatement":
        this.eval(n.firstChild!, scope);
        return undefined;
      case "StatementGroup":
        for (const c of kids(n)) {
          if (c.name === ";") continue;
          const s = this.execStatement(c, scope);
          if (s) return s;
        }
        return undefined;
      case "AssignStatement":
        this.execAssign(n, scope);
        return undefined;
      case "UpdateStatement":
        this.execUpdate(n, scope);
        return undefined;
      case "ReturnStatement": {
        const cs = kids(n).slice(1);
        return { k: "return", value: cs.length ? this.evalSeq(cs, scope) : None };
      }
      case "PassStatement":
        return undefined;
      case "BreakStatement":
        return { k: "break" };
      case "ContinueStatement":
        return { k: "continue" };
      case "IfStatement":
        return this.execIf(n, scope);
      case "ForStatement":
        return this.execFor(n, scope);
      case "WhileStatement":
        return this.execWhile(n, scope);
      case "FunctionDefinition":
        scope.set(this.defName(n), this.makeFunction(n, scope));
        return undefined;
      case "DecoratedStatement":
        return this.execDecorated(n, scope);
      case "AssertStatement": {
        const cs = kids(n).filter((c) => c.name !== "assert" && c.name !== ",");
        const cond = this.eval(cs[0], scope);
        if (!this.truthy(cond, cs[0], "an `assert` statement")) {
          const msg = cs[1] ? this.str(this.eval(cs[1], scope)) : this.text(cs[0]);
          this.fail("AssertionError", msg, n);
        }
        return undefined;
      }
      case "RaiseStatement": {
        const e = kids(n)[1];
        const v = e ? this.eval(e, scope) : None;
        this.fail("RaiseError", `the function raises ${this.text(e ?? n)}${v.k === "str" ? `: ${v.v}` : ""}`, n);
      }
      // falls through (unreachable)
      case "ImportStatement":
        this.execImport(n, scope);
        return undefined;
      case "Comment":
        return undefined;
      case "ScopeStatement":
        this.fail("UnsupportedError", "`global` and `nonlocal` are not supported while tracing", n);
      // falls through
      default:
        this.unsupported(n);
    }
  }

  private unsupported(n: SyntaxNode): never {
    const what: Record<string, string> = {
      TryStatement: "try/except", WithStatement: "with", ClassDefinition: "class definitions", DeleteStatement: "del",
      YieldStatement: "yield", MatchStatement: "match", AwaitExpression: "await", YieldExpression: "yield",
      SetExpression: "sets", SetComprehensionExpression: "set comprehensions", FormatString: "f-strings",
      NamedExpression: "the walrus operator :=",
    };
    this.fail("UnsupportedError", `${what[n.name] ?? `the Python construct \`${this.text(n).split("\n")[0].slice(0, 40)}\``} is not supported by JIT Lens's tracer`, n);
  }

  private defName(n: SyntaxNode): string {
    return this.text(n.getChild("VariableName")!);
  }

  private execDecorated(n: SyntaxNode, scope: Scope): Signal {
    const def = n.getChild("FunctionDefinition");
    if (!def) this.unsupported(n.lastChild ?? n);
    let fn: PyValue = this.makeFunction(def, scope);
    const decos = n.getChildren("Decorator");
    for (let i = decos.length - 1; i >= 0; i--) {
      const deco = this.evalDecorator(decos[i], scope);
      fn = this.call(deco, [fn], [], decos[i]);
    }
    scope.set(this.defName(def), fn);
    return undefined;
  }

  /** `@a.b` or `@a.b(args)`: lezer gives the dotted name as flat tokens. */
  private evalDecorator(d: SyntaxNode, scope: Scope): PyValue {
    let v: PyValue | undefined;
    for (const c of kids(d)) {
      if (c.name === "VariableName") v = v ? this.getattr(v, this.text(c), c) : this.lookup(c, scope);
      else if (c.name === "ArgList") {
        const { args, kwargs } = this.evalArgs(c, scope);
        v = this.call(v!, args, kwargs, d);
      } else if (c.name === "MemberExpression" || c.name === "CallExpression") v = this.eval(c, scope);
    }
    if (!v) this.fail("SyntaxError", "empty decorator", d);
    return v;
  }

  makeFunction(n: SyntaxNode, scope: Scope): PyFunction {
    const params = this.evalParams(n.getChild("ParamList")!, scope);
    return new PyFunction(this.defName(n), params, n.getChild("Body")!, false, scope, this.span(n.getChild("VariableName")!));
  }

  private evalParams(pl: SyntaxNode, scope: Scope): Param[] {
    const params: Param[] = [];
    let kind: Param["kind"] = "normal";
    let kwOnly = false;
    const cs = kids(pl);
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (c.name === "*") {
        // A bare `*` only makes the parameters after it keyword-only.
        if (cs[i + 1]?.name === "VariableName") kind = "star";
        kwOnly = true;
      } else if (c.name === "**") kind = "starstar";
      else if (c.name === "/") continue;
      else if (c.name === "VariableName") {
        const p: Param = { name: this.text(c), kind };
        if (kwOnly && kind === "normal") p.kwOnly = true;
        kind = "normal";
        let j = i + 1;
        if (cs[j]?.name === "TypeDef") j++;
        if (cs[j]?.name === "AssignOp") { p.default = this.eval(cs[j + 1], scope); j++; }
        i = j - 1 + (cs[j - 1]?.name === "AssignOp" ? 1 : 0);
        params.push(p);
      }
    }
    return params;
  }

  private execAssign(n: SyntaxNode, scope: Scope): void {
    // Groups separated by `=`: targets..., value. `a = b = 1, 2` has two targets.
    const groups: SyntaxNode[][] = [[]];
    for (const c of kids(n)) {
      if (c.name === "AssignOp") groups.push([]);
      else if (c.name === "TypeDef") continue;
      else groups[groups.length - 1].push(c);
    }
    if (groups.length < 2) {
      // An annotation without a value (`x: int`) does nothing.
      return;
    }
    const value = this.evalSeq(groups[groups.length - 1], scope);
    for (const g of groups.slice(0, -1)) this.assignTo(g, value, scope);
  }

  /** Assigns to a target written as a flat token sequence (`a`, `a, *b`, `x[i]`, `o.f`). */
  private assignTo(target: SyntaxNode[], value: PyValue, scope: Scope): void {
    const parts = target.filter((c) => c.name !== ",");
    const isTuple = target.some((c) => c.name === ",") || parts.some((c) => c.name === "*");
    if (!isTuple) return this.assignNode(parts[0], value, scope);
    this.unpack(parts, value, scope, target[0]);
  }

  private unpack(parts: SyntaxNode[], value: PyValue, scope: Scope, at: SyntaxNode): void {
    const items = this.iterate(value, at);
    const starAt = parts.findIndex((c) => c.name === "*");
    const targets = parts.filter((c) => c.name !== "*");
    if (starAt < 0) {
      if (items.length !== targets.length) {
        this.fail("ValueError", items.length > targets.length
          ? `too many values to unpack (expected ${targets.length}, got ${items.length})`
          : `not enough values to unpack (expected ${targets.length}, got ${items.length})`, at);
      }
      targets.forEach((t, i) => this.assignNode(t, items[i], scope));
      return;
    }
    const before = starAt, after = targets.length - starAt - 1;
    if (items.length < before + after) this.fail("ValueError", `not enough values to unpack (expected at least ${before + after}, got ${items.length})`, at);
    targets.forEach((t, i) => {
      if (i < before) this.assignNode(t, items[i], scope);
      else if (i === before) this.assignNode(t, new PyList(items.slice(before, items.length - after)), scope);
      else this.assignNode(t, items[items.length - (targets.length - i)], scope);
    });
  }

  private assignNode(t: SyntaxNode, value: PyValue, scope: Scope): void {
    switch (t.name) {
      case "VariableName":
        scope.set(this.text(t), value);
        return;
      case "TupleExpression":
      case "ArrayExpression":
      case "ParenthesizedExpression": {
        const inner = kids(t).filter((c) => !PUNCT.has(c.name) || c.name === ",");
        const parts = inner.filter((c) => c.name !== ",");
        if (t.name === "ParenthesizedExpression" && !inner.some((c) => c.name === ",")) return this.assignNode(parts[0], value, scope);
        return this.unpack(parts, value, scope, t);
      }
      case "MemberExpression": {
        const cs = kids(t);
        if (cs[1]?.name === "[") {
          const obj = this.eval(cs[0], scope);
          const idx = this.evalIndex(cs.slice(2, -1), scope);
          this.setitem(obj, idx, value, t);
          return;
        }
        this.fail("UnsupportedError", `assigning to an attribute (\`${this.text(t)}\`) is not supported while tracing`, t);
      }
      // falls through
      default:
        this.fail("SyntaxError", `cannot assign to \`${this.text(t)}\``, t);
    }
  }

  private setitem(obj: PyValue, idx: PyValue, value: PyValue, at: SyntaxNode): void {
    if (obj.k === "list") {
      const i = this.index(idx, obj.items.length, at);
      obj.items[i] = value;
    } else if (obj.k === "dict") {
      const key = keyOf(idx);
      if (key === undefined) this.fail("TypeError", `unhashable type: '${pyTypeName(idx)}'`, at);
      obj.entries.set(key, [idx, value]);
    } else if (obj.k === "tracer") {
      this.fail("TypeError", `JAX arrays are immutable: \`${this.text(at)} = ...\` cannot update an array in place. Use \`x = x.at[idx].set(value)\` instead`, at);
    } else {
      this.fail("TypeError", `'${pyTypeName(obj)}' object does not support item assignment`, at);
    }
  }

  private execUpdate(n: SyntaxNode, scope: Scope): void {
    const cs = kids(n);
    const opNode = cs.find((c) => c.name === "UpdateOp")!;
    const target = cs.slice(0, cs.indexOf(opNode));
    const rhs = this.evalSeq(cs.slice(cs.indexOf(opNode) + 1), scope);
    const op = this.text(opNode).slice(0, -1);
    const cur = this.evalSeq(target, scope);
    this.builder.span = this.span(n);
    const v = this.withSpan(n, () => this.binop(op, cur, rhs, n, true));
    this.assignTo(target, v, scope);
  }

  private execIf(n: SyntaxNode, scope: Scope): Signal {
    const cs = kids(n);
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (c.name === "if" || c.name === "elif") {
        const cond = cs[i + 1];
        const body = cs[i + 2];
        if (this.truthy(this.eval(cond, scope), cond, `the condition of \`${c.name}\``)) return this.execBlock(body, scope);
        i += 2;
      } else if (c.name === "else") {
        return this.execBlock(cs[i + 1], scope);
      }
    }
    return undefined;
  }

  private execFor(n: SyntaxNode, scope: Scope): Signal {
    const cs = kids(n);
    const inAt = cs.findIndex((c) => c.name === "in");
    const bodyAt = cs.findIndex((c) => c.name === "Body");
    const target = cs.slice(1, inAt);
    const iterable = this.evalSeq(cs.slice(inAt + 1, bodyAt), scope);
    const items = this.iterate(iterable, cs[inAt + 1]);
    for (const item of items) {
      this.tick(n);
      this.assignTo(target, item, scope);
      const s = this.execBlock(cs[bodyAt], scope);
      if (s?.k === "break") return undefined;
      if (s?.k === "return") return s;
    }
    const elseAt = cs.findIndex((c) => c.name === "else");
    if (elseAt >= 0) return this.execBlock(cs[elseAt + 1], scope);
    return undefined;
  }

  private execWhile(n: SyntaxNode, scope: Scope): Signal {
    const cs = kids(n);
    const cond = cs[1];
    const body = cs.find((c) => c.name === "Body")!;
    while (this.truthy(this.eval(cond, scope), cond, "the condition of `while`")) {
      this.tick(n);
      const s = this.execBlock(body, scope);
      if (s?.k === "break") return undefined;
      if (s?.k === "return") return s;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- expressions

  /** Evaluates a flat sequence of expression nodes: one expression, or a tuple if commas appear. */
  evalSeq(nodes: SyntaxNode[], scope: Scope): PyValue {
    const parts = nodes.filter((c) => c.name !== ",");
    if (nodes.some((c) => c.name === ",") || parts.some((c) => c.name === "*")) return new PyTuple(this.evalItems(nodes, scope));
    if (parts.length !== 1) this.fail("SyntaxError", "invalid syntax", nodes[0]);
    return this.eval(parts[0], scope);
  }

  /** Items of a display (`a, *b, c`), expanding starred items. */
  private evalItems(nodes: SyntaxNode[], scope: Scope): PyValue[] {
    const out: PyValue[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const c = nodes[i];
      if (PUNCT.has(c.name)) continue;
      if (c.name === "*") { out.push(...this.iterate(this.eval(nodes[++i], scope), nodes[i])); continue; }
      out.push(this.eval(c, scope));
    }
    return out;
  }

  /** Runs `f` with the builder's span set to node `n` (operands must be evaluated before). */
  withSpan<T>(n: SyntaxNode, f: () => T): T {
    this.builder.span = this.span(n);
    try {
      return f();
    } catch (e) {
      if (e instanceof JitError && !e.span) e.span = this.span(n);
      throw e;
    }
  }

  eval(n: SyntaxNode, scope: Scope): PyValue {
    switch (n.name) {
      case "VariableName":
        return this.lookup(n, scope);
      case "Number":
        return this.number(n);
      case "String":
      case "ContinuedString":
        return new PyStr(this.stringValue(n));
      case "Boolean":
        return this.text(n) === "True" ? True : False;
      case "None":
        return None;
      case "Ellipsis":
        return Ellipsis;
      case "ParenthesizedExpression": {
        const inner = kids(n).filter((c) => c.name !== "(" && c.name !== ")");
        return this.evalSeq(inner, scope);
      }
      case "TupleExpression":
        return new PyTuple(this.evalItems(kids(n), scope));
      case "ArrayExpression":
        return new PyList(this.evalItems(kids(n), scope));
      case "DictionaryExpression":
        return this.evalDict(n, scope);
      case "BinaryExpression":
        return this.evalBinary(n, scope);
      case "UnaryExpression": {
        const [op, arg] = kids(n);
        const v = this.eval(arg, scope);
        return this.withSpan(n, () => this.unary(this.text(op), v, n));
      }
      case "ConditionalExpression": {
        const [a, , cond, , b] = kids(n);
        return this.truthy(this.eval(cond, scope), cond, "a conditional expression (`a if cond else b`)") ? this.eval(a, scope) : this.eval(b, scope);
      }
      case "CallExpression":
        return this.evalCall(n, scope);
      case "MemberExpression":
        return this.evalMember(n, scope);
      case "LambdaExpression": {
        const cs = kids(n);
        const pl = cs.find((c) => c.name === "ParamList");
        const params = pl ? this.evalParams(pl, scope) : [];
        return new PyFunction("<lambda>", params, cs[cs.length - 1], true, scope, this.span(n));
      }
      case "ArrayComprehensionExpression":
      case "ComprehensionExpression":
        return new PyList(this.comprehension(kids(n).slice(1, -1), scope));
      case "DictionaryComprehensionExpression":
        return this.dictComprehension(n, scope);
      case "⚠":
        this.fail("SyntaxError", "invalid syntax", n);
      // falls through
      default:
        this.unsupported(n);
    }
  }

  private number(n: SyntaxNode): PyValue {
    const t = this.text(n).replace(/_/g, "");
    if (/[jJ]$/.test(t)) this.fail("UnsupportedError", "complex numbers are not supported", n);
    if (/^0[xX]/.test(t)) return new PyInt(parseInt(t.slice(2), 16));
    if (/^0[oO]/.test(t)) return new PyInt(parseInt(t.slice(2), 8));
    if (/^0[bB]/.test(t)) return new PyInt(parseInt(t.slice(2), 2));
    if (/[.eE]/.test(t) || /inf|nan/i.test(t)) return new PyFloat(Number(t));
    const v = Number(t);
    if (!Number.isSafeInteger(v)) this.fail("OverflowError", `the integer ${t} is too large for JIT Lens (more than 2**53)`, n);
    return new PyInt(v);
  }

  private stringValue(n: SyntaxNode): string {
    const raw = this.text(n);
    const m = /^([rRbBuU]*)('''|"""|'|")([\s\S]*)\2$/.exec(raw);
    if (!m) return raw;
    const body = m[3];
    if (/[rR]/.test(m[1])) return body;
    return body.replace(/\\(n|t|\\|'|"|r|0)/g, (_, c: string) => ({ n: "\n", t: "\t", "\\": "\\", "'": "'", '"': '"', r: "\r", "0": "\0" })[c] ?? c);
  }

  lookup(n: SyntaxNode, scope: Scope): PyValue {
    const name = this.text(n);
    const v = scope.lookup(name);
    if (v !== undefined) {
      if (v.k === "builtin" && v.name.startsWith("<unavailable")) return v.call([], []);
      return v;
    }
    const hint = closest(name, scope.names());
    this.fail("NameError", `name '${name}' is not defined${hint ? `. Did you mean '${hint}'?` : ""}`, n);
  }

  private evalDict(n: SyntaxNode, scope: Scope): PyDict {
    const d = new PyDict();
    const cs = kids(n).filter((c) => c.name !== "{" && c.name !== "}" && c.name !== ",");
    for (let i = 0; i < cs.length; i++) {
      if (cs[i].name === "**") {
        const other = this.eval(cs[++i], scope);
        if (other.k !== "dict") this.fail("TypeError", `'${pyTypeName(other)}' object is not a mapping`, cs[i]);
        for (const [k, e] of other.entries) d.entries.set(k, e);
        continue;
      }
      const key = this.eval(cs[i], scope);
      const value = this.eval(cs[i + 2], scope);
      i += 2;
      const h = keyOf(key);
      if (h === undefined) this.fail("TypeError", `unhashable type: '${pyTypeName(key)}'`, cs[i - 2]);
      d.entries.set(h, [key, value]);
    }
    return d;
  }

  /** `elt for t in it if c for ...` as a flat token list. */
  private comprehension(cs: SyntaxNode[], scope: Scope, emit?: (s: Scope) => void): PyValue[] {
    const forAt = cs.findIndex((c) => c.name === "for");
    const elt = cs.slice(0, forAt);
    const out: PyValue[] = [];
    const inner = new Scope(scope);
    const clauses = cs.slice(forAt);
    const run = (i: number): void => {
      if (i >= clauses.length) {
        if (emit) emit(inner);
        else out.push(this.evalSeq(elt, inner));
        return;
      }
      const c = clauses[i];
      if (c.name === "for") {
        const inAt = clauses.findIndex((x, j) => j > i && x.name === "in");
        let end = inAt + 1;
        while (end < clauses.length && clauses[end].name !== "for" && clauses[end].name !== "if") end++;
        const target = clauses.slice(i + 1, inAt);
        const items = this.iterate(this.evalSeq(clauses.slice(inAt + 1, end), inner), clauses[inAt + 1]);
        for (const item of items) {
          this.tick(c);
          this.assignTo(target, item, inner);
          run(end);
        }
      } else if (c.name === "if") {
        let end = i + 1;
        while (end < clauses.length && clauses[end].name !== "for" && clauses[end].name !== "if") end++;
        if (this.truthy(this.evalSeq(clauses.slice(i + 1, end), inner), clauses[i + 1], "a comprehension's `if`")) run(end);
      } else {
        this.fail("SyntaxError", "invalid comprehension", c);
      }
    };
    run(0);
    return out;
  }

  private dictComprehension(n: SyntaxNode, scope: Scope): PyDict {
    const cs = kids(n).slice(1, -1);
    const colon = cs.findIndex((c) => c.name === ":");
    const forAt = cs.findIndex((c) => c.name === "for");
    const d = new PyDict();
    this.comprehension([cs[0], ...cs.slice(forAt)], scope, (s) => {
      const k = this.evalSeq(cs.slice(0, colon), s);
      const v = this.evalSeq(cs.slice(colon + 1, forAt), s);
      const h = keyOf(k);
      if (h === undefined) this.fail("TypeError", `unhashable type: '${pyTypeName(k)}'`, cs[0]);
      d.entries.set(h, [k, v]);
    });
    return d;
  }

  private evalBinary(n: SyntaxNode, scope: Scope): PyValue {
    const cs = kids(n);
    const left = cs[0];
    const opTokens = cs.slice(1, -1);
    const right = cs[cs.length - 1];
    const op = opTokens.map((t) => this.text(t)).join(" ");
    if (op === "and" || op === "or") {
      const a = this.eval(left, scope);
      const t = this.truthy(a, left, `\`${op}\``);
      if (op === "and" ? !t : t) return a;
      return this.eval(right, scope);
    }
    if (opTokens[0].name === "CompareOp" || op === "in" || op === "not in" || op === "is" || op === "is not") {
      // Python chains comparisons: a < b <= c means (a < b) and (b <= c); lezer nests them.
      if (left.name === "BinaryExpression" && this.isComparison(left)) {
        const lcs = kids(left);
        const l = this.evalBinary(left, scope);
        if (!this.truthy(l, left, "a chained comparison")) return l;
        const mid = this.eval(lcs[lcs.length - 1], scope);
        const r = this.eval(right, scope);
        return this.withSpan(n, () => this.compare(op, mid, r, n));
      }
      const a = this.eval(left, scope);
      const b = this.eval(right, scope);
      return this.withSpan(n, () => this.compare(op, a, b, n));
    }
    const a = this.eval(left, scope);
    const b = this.eval(right, scope);
    return this.withSpan(n, () => this.binop(op, a, b, n));
  }

  private isComparison(n: SyntaxNode): boolean {
    const cs = kids(n);
    const op = cs.slice(1, -1).map((t) => this.text(t)).join(" ");
    return cs[1]?.name === "CompareOp" || ["in", "not in", "is", "is not"].includes(op);
  }

  binop(op: string, a: PyValue, b: PyValue, at: SyntaxNode, inplace = false): PyValue {
    if (a.k === "tracer" || b.k === "tracer") return this.np.operator(op, a, b);
    if (isNumber(a) && isNumber(b)) {
      const r = pyArith(op, a, b, (m) => this.fail("ZeroDivisionError", m, at)) ?? this.badOperands(op, a, b, at);
      // Python ints are unbounded; JIT Lens's are exact up to 2**53 (10**10**8 must not become inf).
      if (r.k === "int" && !Number.isSafeInteger(r.v)) this.fail("OverflowError", `the integer result of ${pyRepr(a)} ${op} ${pyRepr(b)} is too large for JIT Lens (more than 2**53)`, at);
      return r;
    }
    // Sequences.
    if (op === "+" && a.k === b.k && (a.k === "tuple" || a.k === "list" || a.k === "str")) {
      checkSeqLength(a.k, seqLength(a) + seqLength(b as typeof a), (m) => this.fail("ResourceError", m, at));
      if (a.k === "str") return new PyStr(a.v + (b as PyStr).v);
      const items = [...(a as PyTuple).items, ...(b as PyTuple).items];
      if (a.k === "list" && inplace) { a.items = items; return a; }
      return a.k === "tuple" ? new PyTuple(items) : new PyList(items);
    }
    if (op === "*" && (a.k === "tuple" || a.k === "list" || a.k === "str") && (b.k === "int" || b.k === "bool")) return repeatSeq(a, Number(b.v), (m) => this.fail("ResourceError", m, at));
    if (op === "*" && (b.k === "tuple" || b.k === "list" || b.k === "str") && (a.k === "int" || a.k === "bool")) return repeatSeq(b, Number(a.v), (m) => this.fail("ResourceError", m, at));
    if (op === "|" && a.k === "dict" && b.k === "dict") return new PyDict(new Map([...a.entries, ...b.entries]));
    if (op === "%" && a.k === "str") return new PyStr(a.v); // printf-style formatting is not evaluated
    return this.badOperands(op, a, b, at);
  }

  private badOperands(op: string, a: PyValue, b: PyValue, at: SyntaxNode): never {
    this.fail("TypeError", `unsupported operand type(s) for ${op}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`, at);
  }

  compare(op: string, a: PyValue, b: PyValue, at: SyntaxNode): PyValue {
    if (op === "is" || op === "is not") {
      const same = a === b || (a.k === "none" && b.k === "none") || (a.k === "bool" && b.k === "bool" && a.v === b.v);
      return new PyBool(op === "is" ? same : !same);
    }
    if (op === "in" || op === "not in") {
      let found = false;
      if (b.k === "dict") found = keyOf(a) !== undefined && b.entries.has(keyOf(a)!);
      else if (b.k === "str" && a.k === "str") found = b.v.includes(a.v);
      else found = this.iterate(b, at).some((x) => this.pyEquals(a, x, at));
      return new PyBool(op === "in" ? found : !found);
    }
    if (a.k === "tracer" || b.k === "tracer") return this.np.operator(op, a, b);
    if (op === "==" || op === "!=") {
      const eq = this.pyEquals(a, b, at);
      return new PyBool(op === "==" ? eq : !eq);
    }
    if (isNumber(a) && isNumber(b)) {
      const x = Number(a.v), y = Number(b.v);
      const r = op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
      return new PyBool(r);
    }
    if (a.k === "str" && b.k === "str") {
      const r = op === "<" ? a.v < b.v : op === "<=" ? a.v <= b.v : op === ">" ? a.v > b.v : a.v >= b.v;
      return new PyBool(r);
    }
    if ((a.k === "tuple" && b.k === "tuple") || (a.k === "list" && b.k === "list")) {
      const n = Math.min(a.items.length, b.items.length);
      for (let i = 0; i < n; i++) {
        if (!this.pyEquals(a.items[i], b.items[i], at)) return this.compare(op, a.items[i], b.items[i], at);
      }
      const x = a.items.length, y = b.items.length;
      return new PyBool(op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y);
    }
    this.fail("TypeError", `'${op}' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`, at);
  }

  pyEquals(a: PyValue, b: PyValue, at: SyntaxNode): boolean {
    if (a.k === "tracer" || b.k === "tracer") {
      return this.truthy(this.np.operator("==", a, b), at, "`==` between an array and a Python value used as a bool");
    }
    if (isNumber(a) && isNumber(b)) return Number(a.v) === Number(b.v);
    if (a.k === "str" && b.k === "str") return a.v === b.v;
    if (a.k === "none" || b.k === "none") return a.k === b.k;
    if ((a.k === "tuple" && b.k === "tuple") || (a.k === "list" && b.k === "list")) {
      return a.items.length === b.items.length && a.items.every((x, i) => this.pyEquals(x, b.items[i], at));
    }
    if (a.k === "dtype" && b.k === "dtype") return a.dtype === b.dtype;
    return a === b;
  }

  unary(op: string, v: PyValue, at: SyntaxNode): PyValue {
    if (op === "not") return new PyBool(!this.truthy(v, at, "`not`"));
    if (v.k === "tracer") return this.np.unaryOperator(op, v);
    if (isNumber(v)) {
      const x = Number(v.v);
      if (op === "-") return v.k === "float" ? new PyFloat(-x) : new PyInt(-x);
      if (op === "+") return v.k === "float" ? v : new PyInt(x);
      if (op === "~" && v.k !== "float") return v.k === "bool" ? new PyInt(~x) : new PyInt(~x);
    }
    this.fail("TypeError", `bad operand type for unary ${op}: '${pyTypeName(v)}'`, at);
  }

  /** Python truthiness; a traced value here is JAX's TracerBoolConversionError. */
  truthy(v: PyValue, at: SyntaxNode, where: string): boolean {
    switch (v.k) {
      case "bool": return v.v;
      case "int": case "float": return v.v !== 0;
      case "none": return false;
      case "str": return v.v.length > 0;
      case "tuple": case "list": return v.items.length > 0;
      case "dict": return v.entries.size > 0;
      case "range": return rangeLen(v) > 0;
      case "tracer": throw this.concretizationError(v, at, where, "bool");
      default: return true;
    }
  }

  /** JAX's concretization errors, with the value's origin and the usual fixes. */
  concretizationError(v: Tracer, at: SyntaxNode, where: string, to: "bool" | "int" | "float" | "index"): JitError {
    const type = `${v.aval.dtype}[${v.aval.shape.join(",")}]`;
    const origin = v.origin;
    const from = origin ? ` derived from the argument '${origin.arg}'${origin.via.length ? ` (through line${origin.via.length > 1 ? "s" : ""} ${[...new Set(origin.via.map((s) => s.line))].join(", ")})` : ""}` : "";
    const kind = to === "bool" ? "TracerBoolConversionError" : to === "index" ? "TracerIntegerConversionError" : "ConcretizationTypeError";
    const fixes = to === "bool"
      ? "Python control flow cannot branch on a traced value. Use jnp.where(cond, a, b) to choose elementwise, lax.cond(pred, true_fn, false_fn, x) to branch, or mark the argument static (static_argnums / static_argnames in jax.jit) if it is a configuration value."
      : `A traced value has no concrete ${to} while tracing. Compute it from static values (shapes, Python numbers), or mark the argument static with static_argnums.`;
    const related = (origin?.via ?? []).map((s) => ({ message: `the value flows through here`, span: s }));
    const argSpan = origin ? this.argSpans.get(origin.arg) : undefined;
    // The argument's own type (the converted value's type is in the message above).
    const argType = this.argTypes.get(origin?.arg ?? "");
    if (argSpan) related.unshift({ message: `argument '${origin!.arg}' is traced${argType ? ` (${argType}: abstract, no concrete values while tracing)` : ""}`, span: argSpan });
    return new JitError(
      kind,
      `Attempted ${to === "bool" ? "boolean" : to} conversion of a traced array with type ${type} in ${where} (\`${this.text(at).split("\n")[0]}\`): the value is${from}. ${fixes}`,
      this.span(at),
      related,
    );
  }

  /** Spans of the traced function's parameters, for error origins. */
  readonly argSpans = new Map<string, Span>();
  /** Each traced argument's type as the Report shows it (e.g. `f32[8]`). */
  readonly argTypes = new Map<string, string>();

  str(v: PyValue): string {
    return v.k === "str" ? v.v : pyRepr(v);
  }

  // ---------------------------------------------------------------- calls

  private evalCall(n: SyntaxNode, scope: Scope): PyValue {
    const [calleeNode, argList] = kids(n);
    const callee = this.eval(calleeNode, scope);
    const { args, kwargs } = this.evalArgs(argList, scope);
    return this.call(callee, args, kwargs, n);
  }

  evalArgs(argList: SyntaxNode, scope: Scope): { args: PyValue[]; kwargs: Kwargs } {
    const cs = kids(argList).filter((c) => c.name !== "(" && c.name !== ")");
    if (cs.some((c) => c.name === "for")) return { args: [new PyList(this.comprehension(cs, scope))], kwargs: [] };
    const args: PyValue[] = [];
    const kwargs: Kwargs = [];
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (c.name === ",") continue;
      if (c.name === "*") { args.push(...this.iterate(this.eval(cs[++i], scope), cs[i])); continue; }
      if (c.name === "**") {
        const d = this.eval(cs[++i], scope);
        if (d.k !== "dict") this.fail("TypeError", `argument after ** must be a mapping, not ${pyTypeName(d)}`, cs[i]);
        for (const [k, v] of d.entries.values()) kwargs.push([k.k === "str" ? k.v : pyRepr(k), v]);
        continue;
      }
      if (c.name === "VariableName" && cs[i + 1]?.name === "AssignOp") {
        kwargs.push([this.text(c), this.eval(cs[i + 2], scope)]);
        i += 2;
        continue;
      }
      args.push(this.eval(c, scope));
    }
    return { args, kwargs };
  }

  /** Calls any callable value. `at` is the call expression (for spans and call stacks). */
  call(fn: PyValue, args: PyValue[], kwargs: Kwargs, at: SyntaxNode | Span): PyValue {
    const span = "from" in at ? this.span(at) : at;
    if ("from" in at) this.currentNode = at;
    switch (fn.k) {
      case "builtin": {
        this.builder.span = span;
        try {
          return fn.call(args, kwargs);
        } catch (e) {
          if (e instanceof JitError && !e.span) e.span = span;
          // A builtin reading an argument that is missing or of another kind (`jnp.dot()`,
          // `jnp.arange(None)`): the call is wrong, not JIT Lens. Found by the fuzzer.
          if (e instanceof TypeError && /of (undefined|null)|is not a function|is not iterable/.test(e.message)) {
            const given = args.length + kwargs.length;
            throw new JitError("TypeError", `${fn.name}() got arguments it cannot use (${given} given${kwargs.length ? `, keywords ${kwargs.map(([k]) => k).join(", ")}` : ""}): check their number and types against its signature`, span);
          }
          throw e;
        }
      }
      case "function":
        // A jax.jit-decorated function called from the traced one stages a `jit` equation.
        if (fn.jit) return this.np.control.callJit(fn, args, kwargs, span);
        return this.callFunction(fn, args, kwargs, span);
      case "dtype":
        if (args.length !== 1 || kwargs.length) throw new JitError("TypeError", `${fn.dtype}() takes exactly one argument (the value to convert), got ${args.length + kwargs.length}`, span);
        this.builder.span = span;
        return this.np.astype(args[0], fn.dtype);
      default:
        if (fn.k === "module" && fn.attrs.size === 0) {
          throw new JitError("UnsupportedError", `\`${fn.name}\` comes from a module JIT Lens cannot trace (it models jax, jax.numpy, jax.nn, jax.lax, math and functools)`, span);
        }
        throw new JitError("TypeError", `'${pyTypeName(fn)}' object is not callable`, span);
    }
  }

  callFunction(fn: PyFunction, args: PyValue[], kwargs: Kwargs, callSite: Span): PyValue {
    if (++this.depth > MAX_DEPTH) {
      this.depth = 0;
      throw new JitError("RecursionError", `maximum recursion depth (${MAX_DEPTH}) exceeded while tracing \`${fn.name}\`; does it call itself without end?`, callSite);
    }
    const scope = new Scope(fn.closure);
    this.bindParams(fn, args, kwargs, scope, callSite);
    const outer = this.builder.callStack;
    const isTop = this.depth === 1 && outer.length === 0 && this.topLevelCall;
    if (!isTop) this.builder.callStack = [callSite, ...outer];
    this.topLevelCall = false;
    try {
      if (fn.isLambda) return this.eval(fn.body, scope);
      const s = this.execBlock(fn.body, scope);
      return s?.k === "return" ? s.value : None;
    } finally {
      this.builder.callStack = outer;
      this.depth--;
    }
  }

  /** The innermost call expression being evaluated (builtins report errors there). */
  currentNode!: SyntaxNode;

  /**
   * Traces `fn` on fresh abstract inputs into a sub-jaxpr (for lax control flow, grad, vmap,
   * nested jit). `makeArgs` builds the arguments from the sub-builder's inputs. Values of the
   * enclosing trace that `fn` uses become captured inputs (listed first in the jaxpr's invars).
   */
  traceSub(makeArgs: (b: JaxprBuilder) => PyValue[], fn: PyValue, kwargs: Kwargs = []): { jaxpr: import("../ir/types").Jaxpr; captured: import("../ir/types").Atom[]; out: PyValue; outTree: PyTree; } {
    const outer = this.builder;
    const b = outer.child();
    this.builder = b;
    try {
      const args = makeArgs(b);
      const out = this.call(fn, args, kwargs, outer.span);
      const leaves: PyValue[] = [];
      const outTree = flattenTree(out, leaves);
      const atoms = leaves.map((l) => {
        if (l.k === "tracer") return l.atom;
        if (l.k === "int" || l.k === "float" || l.k === "bool") return this.np.toArray(l, "a traced function's result").atom;
        throw new JitError("TypeError", `a traced function returned a ${pyTypeName(l)}, which is not a valid JAX type`, outer.span);
      });
      const { jaxpr, captured } = b.finishSub(atoms);
      return { jaxpr, captured, out, outTree };
    } finally {
      this.builder = outer;
    }
  }

  /** Set before calling the traced function itself, whose equations have no call stack. */
  topLevelCall = false;

  bindParams(fn: PyFunction, args: PyValue[], kwargs: Kwargs, scope: Scope, callSite: Span): void {
    const positional = fn.params.filter((p) => p.kind === "normal");
    const star = fn.params.find((p) => p.kind === "star");
    const starstar = fn.params.find((p) => p.kind === "starstar");
    const starIndex = star ? fn.params.indexOf(star) : fn.params.length;
    const posParams = positional.filter((p) => fn.params.indexOf(p) < starIndex && !p.kwOnly);
    const bound = new Map<string, PyValue>();
    const err = (m: string) => new JitError("TypeError", `${fn.name}() ${m}`, callSite);
    args.forEach((a, i) => {
      if (i < posParams.length) bound.set(posParams[i].name, a);
    });
    if (args.length > posParams.length) {
      if (!star) throw err(`takes ${posParams.length} positional argument${posParams.length === 1 ? "" : "s"} but ${args.length} were given`);
      scope.set(star.name, new PyTuple(args.slice(posParams.length)));
    } else if (star) scope.set(star.name, new PyTuple([]));
    const extra = new PyDict();
    for (const [k, v] of kwargs) {
      if (!positional.some((p) => p.name === k)) {
        if (!starstar) {
          const hint = closest(k, positional.map((p) => p.name));
          throw err(`got an unexpected keyword argument '${k}'${hint ? `. Did you mean '${hint}'?` : ""}`);
        }
        extra.entries.set(`s:${k}`, [new PyStr(k), v]);
        continue;
      }
      if (bound.has(k)) throw err(`got multiple values for argument '${k}'`);
      bound.set(k, v);
    }
    if (starstar) scope.set(starstar.name, extra);
    for (const p of positional) {
      const v = bound.get(p.name) ?? p.default;
      if (v === undefined) throw err(`missing required argument: '${p.name}'`);
      scope.set(p.name, v);
    }
  }

  // ---------------------------------------------------------------- attributes and items

  private evalMember(n: SyntaxNode, scope: Scope): PyValue {
    const cs = kids(n);
    const obj = this.eval(cs[0], scope);
    if (cs[1]?.name === ".") {
      const name = this.text(cs[2]);
      return this.withSpan(n, () => this.getattr(obj, name, cs[2]));
    }
    const idx = this.evalIndex(cs.slice(2, -1), scope);
    return this.withSpan(n, () => this.getitem(obj, idx, n));
  }

  /** Index expression inside `[...]`, given as flat tokens: items split by commas, slices by colons. */
  private evalIndex(tokens: SyntaxNode[], scope: Scope): PyValue {
    if (tokens.length === 0) return new PyTuple([]);
    const items: SyntaxNode[][] = [[]];
    for (const t of tokens) {
      if (t.name === ",") items.push([]);
      else items[items.length - 1].push(t);
    }
    const isTuple = items.length > 1;
    if (isTuple && items[items.length - 1].length === 0) items.pop();
    const vals = items.map((it) => {
      if (!it.some((t) => t.name === ":")) {
        if (it.length === 2 && it[0].name === "*") return new PyTuple(this.iterate(this.eval(it[1], scope), it[1]));
        return this.evalSeq(it, scope);
      }
      const parts: (SyntaxNode | undefined)[] = [undefined];
      for (const t of it) {
        if (t.name === ":") parts.push(undefined);
        else parts[parts.length - 1] = t;
      }
      const get = (i: number) => (parts[i] ? this.eval(parts[i]!, scope) : None);
      return new PySlice(get(0), get(1), parts.length > 2 ? get(2) : None);
    });
    return isTuple ? new PyTuple(vals) : vals[0];
  }

  getattr(obj: PyValue, name: string, at: SyntaxNode): PyValue {
    switch (obj.k) {
      case "module": {
        const f = obj.attrs.get(name);
        if (f) return f();
        if (obj.attrs.size === 0) return opaqueModule(`${obj.name}.${name}`);
        const hint = closest(name, obj.attrs.keys());
        const known = this.np.knownName(obj.name, name);
        if (known) this.fail("UnsupportedError", `${obj.name}.${name} is part of JAX but not supported by JIT Lens yet`, at);
        this.fail("AttributeError", `module '${obj.name}' has no attribute '${name}'${hint ? `. Did you mean '${hint}'?` : ""}`, at);
      }
      // falls through
      case "tracer":
        return this.np.arrayAttr(obj, name, at);
      default: {
        const m = this.methods(obj, name, at);
        if (m) return m;
        this.fail("AttributeError", `'${pyTypeName(obj)}' object has no attribute '${name}'`, at);
      }
    }
  }

  /** Methods of Python containers and strings that numerical code uses. */
  private methods(obj: PyValue, name: string, at: SyntaxNode): PyValue | undefined {
    const b = (f: (args: PyValue[], kwargs: Kwargs) => PyValue) => new PyBuiltin(`${pyTypeName(obj)}.${name}`, f);
    if (obj.k === "list") {
      switch (name) {
        case "append": return b(([x]) => { obj.items.push(x); return None; });
        case "extend": return b(([x]) => { obj.items.push(...this.iterate(x, at)); return None; });
        case "pop": return b(([i]) => {
          if (!obj.items.length) this.fail("IndexError", "pop from empty list", at);
          const idx = i ? this.index(i, obj.items.length, at) : obj.items.length - 1;
          return obj.items.splice(idx, 1)[0];
        });
        case "insert": return b(([i, x]) => { obj.items.splice(Math.min(this.index(i, obj.items.length + 1, at, true), obj.items.length), 0, x); return None; });
        case "reverse": return b(() => { obj.items.reverse(); return None; });
        case "copy": return b(() => new PyList([...obj.items]));
        case "index": return b(([x]) => {
          const i = obj.items.findIndex((y) => this.pyEquals(x, y, at));
          if (i < 0) this.fail("ValueError", `${pyRepr(x)} is not in list`, at);
          return new PyInt(i);
        });
        case "count": return b(([x]) => new PyInt(obj.items.filter((y) => this.pyEquals(x, y, at)).length));
      }
    }
    if (obj.k === "tuple") {
      if (name === "index") return b(([x]) => new PyInt(obj.items.findIndex((y) => this.pyEquals(x, y, at))));
      if (name === "count") return b(([x]) => new PyInt(obj.items.filter((y) => this.pyEquals(x, y, at)).length));
    }
    if (obj.k === "dict") {
      const entries = () => [...obj.entries.values()];
      switch (name) {
        case "items": return b(() => new PyList(entries().map(([k, v]) => new PyTuple([k, v]))));
        case "keys": return b(() => new PyList(entries().map(([k]) => k)));
        case "values": return b(() => new PyList(entries().map(([, v]) => v)));
        case "get": return b(([k, d]) => obj.entries.get(keyOf(k) ?? "")?.[1] ?? d ?? None);
        case "copy": return b(() => new PyDict(new Map(obj.entries)));
        case "update": return b(([o]) => { if (o?.k === "dict") for (const [k, e] of o.entries) obj.entries.set(k, e); return None; });
        case "pop": return b(([k, d]) => {
          const h = keyOf(k) ?? "";
          const e = obj.entries.get(h);
          if (!e) { if (d) return d; this.fail("KeyError", pyRepr(k), at); }
          obj.entries.delete(h);
          return e[1];
        });
        case "setdefault": return b(([k, d]) => {
          const h = keyOf(k) ?? "";
          if (!obj.entries.has(h)) obj.entries.set(h, [k, d ?? None]);
          return obj.entries.get(h)![1];
        });
      }
    }
    if (obj.k === "str") {
      switch (name) {
        case "format": return b(() => obj);
        case "lower": return b(() => new PyStr(obj.v.toLowerCase()));
        case "upper": return b(() => new PyStr(obj.v.toUpperCase()));
        case "strip": return b(() => new PyStr(obj.v.trim()));
        case "startswith": return b(([p]) => new PyBool(p.k === "str" && obj.v.startsWith(p.v)));
        case "endswith": return b(([p]) => new PyBool(p.k === "str" && obj.v.endsWith(p.v)));
        case "split": return b(([sep]) => new PyList((sep?.k === "str" ? obj.v.split(sep.v) : obj.v.trim().split(/\s+/)).map((s) => new PyStr(s))));
        case "join": return b(([xs]) => new PyStr(this.iterate(xs, at).map((x) => this.str(x)).join(obj.v)));
      }
    }
    if (obj.k === "float" || obj.k === "int") {
      if (name === "real") return obj;
      if (name === "is_integer") return b(() => new PyBool(Number.isInteger(obj.v)));
    }
    if (obj.k === "dtype") return this.np.dtypeAttr(obj, name, at);
    if (obj.k === "function" && name === "__name__") return new PyStr(obj.name);
    return undefined;
  }

  /** A Python index into a sequence of length `len` (negative counts from the end). */
  index(i: PyValue, len: number, at: SyntaxNode, clamp = false): number {
    if (i.k === "tracer") throw this.concretizationError(i, at, "a Python sequence index", "index");
    if (i.k !== "int" && i.k !== "bool") this.fail("TypeError", `indices must be integers, not ${pyTypeName(i)}`, at);
    let k = Number(i.v);
    if (k < 0) k += len;
    if (clamp) return Math.max(0, k);
    if (k < 0 || k >= len) this.fail("IndexError", `index ${Number(i.v)} is out of range for length ${len}`, at);
    return k;
  }

  getitem(obj: PyValue, idx: PyValue, at: SyntaxNode): PyValue {
    switch (obj.k) {
      case "tracer":
        return this.np.getitem(obj, idx, at);
      case "list":
      case "tuple":
      case "str": {
        const items: PyValue[] = obj.k === "str" ? [...obj.v].map((c) => new PyStr(c)) : obj.items;
        if (idx.k === "slice") {
          const sel = sliceIndices(idx, items.length, (m) => this.fail("TypeError", m, at)).map((i) => items[i]);
          if (obj.k === "str") return new PyStr(sel.map((s) => (s as PyStr).v).join(""));
          return obj.k === "tuple" ? new PyTuple(sel) : new PyList(sel);
        }
        return items[this.index(idx, items.length, at)];
      }
      case "dict": {
        const e = obj.entries.get(keyOf(idx) ?? "");
        if (!e) this.fail("KeyError", pyRepr(idx), at);
        return e[1];
      }
      case "range": {
        const n = rangeLen(obj);
        const i = this.index(idx, n, at);
        return new PyInt(obj.start + i * obj.step);
      }
      default:
        return this.np.getitemOther(obj, idx, at);
    }
  }

  /** The items of an iterable (Python sequences, ranges, dicts, and arrays along axis 0). */
  iterate(v: PyValue, at: SyntaxNode): PyValue[] {
    switch (v.k) {
      case "list":
      case "tuple":
        return [...v.items];
      case "str":
        return [...v.v].map((c) => new PyStr(c));
      case "dict":
        return [...v.entries.values()].map(([k]) => k);
      case "range": {
        const n = rangeLen(v);
        if (n > 1_000_000) this.fail("ResourceError", `range of ${n} items is too long to unroll while tracing; use lax.fori_loop`, at);
        const out: PyValue[] = [];
        for (let i = 0; i < n; i++) out.push(new PyInt(v.start + i * v.step));
        return out;
      }
      case "tracer": {
        if (v.aval.shape.length === 0) this.fail("TypeError", "iteration over a 0-d array", at);
        const n = v.aval.shape[0];
        if (n > 10_000) this.fail("ResourceError", `iterating over ${n} rows of an array unrolls ${n} steps; use vectorised jnp operations or lax.scan`, at);
        const out: PyValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.withSpan(at, () => this.np.getitem(v, new PyInt(i), at)));
        return out;
      }
      default:
        this.fail("TypeError", `'${pyTypeName(v)}' object is not iterable`, at);
    }
  }
}

/** A name from a module JIT Lens does not model: any use other than attribute access is an error. */
function opaqueModule(name: string): PyModule {
  return new PyModule(name, new Map());
}

/** A pytree's structure: containers of leaves (arrays and Python scalars); None is an empty node. */
export type PyTree = { leaf: true } | { none: true } | { tuple: PyTree[] } | { list: PyTree[] } | { dict: [PyValue, PyTree][] };

/** Flattens in JAX's order (tuples and lists in order, dicts by sorted key), appending leaves. */
export function flattenTree(v: PyValue, leaves: PyValue[]): PyTree {
  switch (v.k) {
    case "none": return { none: true };
    case "tuple": return { tuple: v.items.map((x) => flattenTree(x, leaves)) };
    case "list": return { list: v.items.map((x) => flattenTree(x, leaves)) };
    case "dict": {
      const entries = [...v.entries.values()].sort(([a], [b]) => { const ka = pyRepr(a), kb = pyRepr(b); return ka < kb ? -1 : ka > kb ? 1 : 0; });
      return { dict: entries.map(([k, x]) => [k, flattenTree(x, leaves)]) };
    }
    default: leaves.push(v); return { leaf: true };
  }
}

/** Rebuilds a pytree from its structure and leaves (consumed from the front). */
export function unflattenTree(t: PyTree, leaves: PyValue[]): PyValue {
  if ("leaf" in t) return leaves.shift()!;
  if ("none" in t) return None;
  if ("tuple" in t) return new PyTuple(t.tuple.map((x) => unflattenTree(x, leaves)));
  if ("list" in t) return new PyList(t.list.map((x) => unflattenTree(x, leaves)));
  const d = new PyDict();
  for (const [k, x] of t.dict) d.entries.set(keyOf(k) ?? pyRepr(k), [k, unflattenTree(x, leaves)]);
  return d;
}

export function treeEqual(a: PyTree, b: PyTree): boolean {
  return JSON.stringify(a, (_, v) => (v && typeof v === "object" && "k" in v ? pyRepr(v as PyValue) : v)) === JSON.stringify(b, (_, v) => (v && typeof v === "object" && "k" in v ? pyRepr(v as PyValue) : v));
}

export function rangeLen(r: PyRange): number {
  const n = r.step > 0 ? Math.ceil((r.stop - r.start) / r.step) : Math.ceil((r.start - r.stop) / -r.step);
  return Math.max(0, n);
}

/** Indices a Python slice selects from a sequence of length `len`. */
export function sliceIndices(s: PySlice, len: number, fail: (m: string) => never): number[] {
  const { start, stop, step } = sliceBounds(s, len, fail);
  const out: number[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  return out;
}

/** Python lists and tuples made while tracing hold at most this many items, strings this many characters. */
export const MAX_SEQ_ITEMS = 1_000_000;
export const MAX_STR_CHARS = 10_000_000;

function seqLength(s: PyTuple | PyList | PyStr): number {
  return s.k === "str" ? s.v.length : s.items.length;
}

/** Refuses a Python sequence too long to build while tracing (before building it). */
function checkSeqLength(k: "tuple" | "list" | "str", n: number, fail: (m: string) => never): void {
  const max = k === "str" ? MAX_STR_CHARS : MAX_SEQ_ITEMS;
  if (n > max) fail(`a Python ${k} of ${n.toLocaleString("en-US")} ${k === "str" ? "characters" : "items"} is too large to build while tracing (the limit is ${max.toLocaleString("en-US")})`);
}

function repeatSeq(s: PyTuple | PyList | PyStr, n: number, fail: (m: string) => never): PyValue {
  checkSeqLength(s.k, seqLength(s) * Math.max(0, n), fail);
  if (s.k === "str") return new PyStr(s.v.repeat(Math.max(0, n)));
  const items: PyValue[] = [];
  for (let i = 0; i < n; i++) items.push(...s.items);
  return s.k === "tuple" ? new PyTuple(items) : new PyList(items);
}

/** Python arithmetic on int/float/bool. Returns undefined for an unsupported operator. */
export function pyArith(op: string, a: PyInt | PyFloat | PyBool, b: PyInt | PyFloat | PyBool, zeroDiv: (m: string) => never): PyValue | undefined {
  const x = Number(a.v), y = Number(b.v);
  const isInt = a.k !== "float" && b.k !== "float";
  const num = (v: number) => (isInt ? new PyInt(v) : new PyFloat(v));
  switch (op) {
    case "+": return num(x + y);
    case "-": return num(x - y);
    case "*": return num(x * y);
    case "/":
      if (y === 0) zeroDiv("division by zero");
      return new PyFloat(x / y);
    case "//":
      if (y === 0) zeroDiv("integer division or modulo by zero");
      return num(Math.floor(x / y));
    case "%": {
      if (y === 0) zeroDiv("integer division or modulo by zero");
      const r = x - Math.floor(x / y) * y;
      return num(r);
    }
    case "**":
      if (isInt && y < 0) return new PyFloat(x ** y);
      return num(x ** y);
    case "&": if (isInt) return a.k === "bool" && b.k === "bool" ? new PyBool(Boolean(x & y)) : new PyInt(x & y); return undefined;
    case "|": if (isInt) return a.k === "bool" && b.k === "bool" ? new PyBool(Boolean(x | y)) : new PyInt(x | y); return undefined;
    case "^": if (isInt) return a.k === "bool" && b.k === "bool" ? new PyBool(Boolean(x ^ y)) : new PyInt(x ^ y); return undefined;
    case "<<": if (isInt) return new PyInt(x * 2 ** y); return undefined;
    case ">>": if (isInt) return new PyInt(Math.floor(x / 2 ** y)); return undefined;
    case "@": return undefined;
  }
  return undefined;
}

export { PyModule };
