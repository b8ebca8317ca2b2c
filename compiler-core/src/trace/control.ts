// lax's structured control flow (cond, switch, while_loop, fori_loop, scan, map) and calls of
// jax.jit-decorated functions from inside the traced function, staged as JAX stages them
// (jax/_src/lax/control_flow/{conditionals,loops,common}.py, jax/_src/pjit.py):
// - each function is traced once on abstract inputs into a closed sub-jaxpr; values of the
//   enclosing trace it uses, and constant arrays it makes, become leading operands ("consts");
// - cond/switch branches share one list of consts (each branch accepts all of them), and the
//   branches are stored false-first, so the bool predicate becomes an int32 index;
// - loop carries must keep their pytree structure, shapes and dtypes; a weakly typed initial
//   value (a Python scalar) is promoted and the body traced again, as JAX does;
// - JAX's small rewrites are kept because they change the printed jaxpr: outputs that both
//   cond branches pass through unchanged are pruned, a scan or while carry the body passes
//   through unchanged becomes a const, a scan output that is just a row of xs is not stacked;
// - fori_loop is a scan when both bounds are Python ints, else a while_loop;
// - a jitted function called from the traced one leaves a `jit` equation (traced once per
//   argument signature, so repeated calls share one jaxpr, which the printer hoists).
import { JitError } from "../frontend/source";
import { promoteAll } from "../ir/dtypes";
import type { Aval, DType, Jaxpr, Literal, Var } from "../ir/types";
import { JaxprBuilder, literal } from "./builder";
import { bindSig } from "./jnp";
import { flattenTree, treeEqual, unflattenTree, type Interpreter, type PyTree } from "./interp";
import {
  None, PyBool, PyBuiltin, PyFunction, PyInt, PyTuple, Tracer, dtypeName, keyOf, pyRepr, pyTypeName,
  type Kwargs, type Origin, type PyValue,
} from "./values";

/** A function traced into a closed jaxpr whose leading invars stand for `consts`. */
interface Traced {
  jaxpr: Jaxpr;
  consts: Var[];
  outTree: PyTree;
  /** Constant arrays made inside, whose invars follow `consts`' until `close` makes them consts. */
  constValues: import("../ir/types").ArrayValue[];
}

const sameType = (a: Aval, b: Aval): boolean => a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
/** JAX's str_short of an aval: float32[4,1]. */
const longType = (a: Aval): string => `${dtypeName(a.dtype)}[${a.shape.join(",")}]`;
const shaped = (a: Aval): string => `ShapedArray(${longType(a)})`;
const isCallable = (f: PyValue | undefined): boolean => !!f && (f.k === "function" || f.k === "builtin" || f.k === "dtype");
const capitalize = (s: string): string => s[0].toUpperCase() + s.slice(1);

function leafCount(t: PyTree): number {
  if ("leaf" in t) return 1;
  if ("none" in t) return 0;
  if ("tuple" in t) return t.tuple.reduce((n, c) => n + leafCount(c), 0);
  if ("list" in t) return t.list.reduce((n, c) => n + leafCount(c), 0);
  return t.dict.reduce((n, [, c]) => n + leafCount(c), 0);
}

function children(t: PyTree): PyTree[] {
  if ("tuple" in t) return t.tuple;
  if ("list" in t) return t.list;
  if ("dict" in t) return t.dict.map(([, c]) => c);
  return [];
}

/** A pytree as JAX prints a PyTreeDef: PyTreeDef((*, [*, *])). */
function treeText(t: PyTree): string {
  const go = (x: PyTree): string => {
    if ("leaf" in x) return "*";
    if ("none" in x) return "None";
    if ("tuple" in x) return x.tuple.length === 1 ? `(${go(x.tuple[0])},)` : `(${x.tuple.map(go).join(", ")})`;
    if ("list" in x) return `[${x.list.map(go).join(", ")}]`;
    return `{${x.dict.map(([k, c]) => `${pyRepr(k)}: ${go(c)}`).join(", ")}}`;
  };
  return `PyTreeDef(${go(t)})`;
}

/** keystr of each leaf's path, in flattening order: [1], ['w'], [0][2]. */
function leafPaths(t: PyTree, prefix = "", out: string[] = []): string[] {
  if ("leaf" in t) out.push(prefix);
  else if ("tuple" in t) t.tuple.forEach((c, i) => leafPaths(c, `${prefix}[${i}]`, out));
  else if ("list" in t) t.list.forEach((c, i) => leafPaths(c, `${prefix}[${i}]`, out));
  else if ("dict" in t) t.dict.forEach(([k, c]) => leafPaths(c, `${prefix}[${pyRepr(k)}]`, out));
  return out;
}

/** A pytree of avals as JAX prints one in messages (leaves as ShapedArray(...)). */
function avalTreeText(t: PyTree, avals: Aval[]): string {
  const it = avals[Symbol.iterator]();
  const go = (x: PyTree): string => {
    if ("leaf" in x) return shaped(it.next().value as Aval);
    if ("none" in x) return "None";
    if ("tuple" in x) return x.tuple.length === 1 ? `(${go(x.tuple[0])},)` : `(${x.tuple.map(go).join(", ")})`;
    if ("list" in x) return `[${x.list.map(go).join(", ")}]`;
    return `{${x.dict.map(([k, c]) => `${pyRepr(k)}: ${go(c)}`).join(", ")}}`;
  };
  return go(t);
}

/** For each output, the index of the input it passes through unchanged (pe._jaxpr_forwarding). */
function forwarding(j: Jaxpr): (number | null)[] {
  const at = new Map<number, number>(j.invars.map((v, i) => [v.id, i]));
  return j.outvars.map((o) => (o.kind === "var" ? at.get(o.id) ?? null : null));
}

/** Drops equations whose results are unused (pe.dce_jaxpr with every output used). */
function dce(j: Jaxpr): Jaxpr {
  const used = new Set<number>();
  for (const o of j.outvars) if (o.kind === "var") used.add(o.id);
  const keep: boolean[] = new Array(j.eqns.length).fill(false);
  for (let i = j.eqns.length - 1; i >= 0; i--) {
    const e = j.eqns[i];
    if (!e.outputs.some((o) => used.has(o.id))) continue;
    keep[i] = true;
    for (const x of e.inputs) if (x.kind === "var") used.add(x.id);
  }
  return { ...j, eqns: j.eqns.filter((_, i) => keep[i]) };
}

const scratch = new JaxprBuilder();
const freshVar = (a: Aval): Var => scratch.newVar(a);

export class ControlFlow {
  /** Traced jitted functions, per function and argument signature (JAX's jit cache). */
  private readonly jitCache = new Map<PyFunction, Map<string, Traced>>();

  constructor(private readonly it: Interpreter) {}

  private get b(): JaxprBuilder {
    return this.it.builder;
  }

  // ---------------------------------------------------------------- tracing helpers

  /** The leaves of a pytree argument as operands: arrays, and Python scalars as literals. */
  private flatten(v: PyValue, fname: string): { leaves: Tracer[]; tree: PyTree } {
    const raw: PyValue[] = [];
    const tree = flattenTree(v, raw);
    const leaves = raw.map((x) => {
      if (x.k === "tracer") return x;
      if (x.k === "int" || x.k === "float" || x.k === "bool") return this.it.np.toArray(x, fname);
      throw new JitError("TypeError", `${fname}: value ${pyRepr(x)} of type ${pyTypeName(x)} is not a valid JAX type (pass arrays, Python numbers, or tuples/lists/dicts of them)`);
    });
    return { leaves, tree };
  }

  /** Traces `fn` on abstract arguments shaped like `argTree` with leaves of the given avals. */
  private trace(fn: PyValue, argTree: PyTree, avals: Aval[], origins: (Origin | undefined)[], kwargs: Kwargs = []): Traced {
    const res = this.it.traceSub((b) => {
      const ins: PyValue[] = avals.map((a, i) => {
        const t = b.input(a, origins[i]?.arg ?? "");
        return new Tracer(t.atom, origins[i]);
      });
      const args = unflattenTree(argTree, ins);
      return args.k === "tuple" ? args.items : [args];
    }, fn, kwargs);
    const { jaxpr, captured } = res;
    const n = captured.length;
    const invars = [...jaxpr.invars.slice(0, n), ...jaxpr.constvars, ...jaxpr.invars.slice(n)];
    return { jaxpr: { constvars: [], consts: [], invars, eqns: jaxpr.eqns, outvars: jaxpr.outvars }, consts: [...captured] as Var[], outTree: res.outTree, constValues: jaxpr.consts };
  }

  /** Constant arrays made inside become consts too (at the top level they are constvars). Done
   *  only for the trace that is kept, so a discarded first trace leaves no constants behind. */
  private close(t: Traced): Traced {
    if (!t.constValues.length) return t;
    return { ...t, consts: [...t.consts, ...t.constValues.map((c) => this.b.constant(c).atom as Var)], constValues: [] };
  }

  /** _initial_style_jaxprs_with_common_consts: every branch takes all branches' consts (deduplicated). */
  private commonConsts(traced: Traced[]): { consts: Var[]; jaxprs: Jaxpr[] } {
    const consts: Var[] = [];
    const seen = new Set<number>();
    for (const t of traced) for (const c of t.consts) if (!seen.has(c.id)) { seen.add(c.id); consts.push(c); }
    const jaxprs = traced.map((t) => {
      const mine = new Map<number, Var>(t.consts.map((c, i) => [c.id, t.jaxpr.invars[i]]));
      const head = consts.map((c) => mine.get(c.id) ?? freshVar(c.aval));
      return { ...t.jaxpr, invars: [...head, ...t.jaxpr.invars.slice(t.consts.length)] };
    });
    return { consts, jaxprs };
  }

  private checkCallable(fname: string, what: string, ...fs: (PyValue | undefined)[]): void {
    if (!fs.every(isCallable)) throw new JitError("TypeError", `${fname}: ${what} should be callable`);
  }

  /** JAX's _check_carry_type: same pytree structure, and each leaf the same shape and dtype. */
  private checkCarry(name: string, carryName: string | undefined, inTree: PyTree, inAvals: Aval[], outTree: PyTree, outAvals: Aval[], fn: PyValue): void {
    const related = fn.k === "function" ? [{ message: `the ${name.split(" ")[0]} body function`, span: fn.defSpan }] : [];
    const fail = (m: string): never => { throw new JitError("TypeError", m, undefined, related); };
    if (!treeEqual(inTree, outTree)) {
      fail(`${name} function carry input and carry output must have the same pytree structure, but they differ: the input tree structure is ${treeText(inTree)} but the output tree structure is ${treeText(outTree)}. Revise the function so that the carry output has the same pytree structure as the carry input.`);
    }
    const paths = leafPaths(inTree);
    const component = (p: string) => (carryName ? (p ? `the input carry component ${carryName}${p}` : `the input carry ${carryName}`) : (p ? `the input carry at path ${p}` : "the input carry"));
    const diffs: string[] = [];
    inAvals.forEach((a, i) => {
      const o = outAvals[i];
      if (sameType(a, o)) return;
      const shapes = a.shape.length !== o.shape.length || a.shape.some((d, k) => d !== o.shape[k]);
      const what = shapes && a.dtype !== o.dtype ? "shapes and dtypes" : shapes ? "shapes" : "dtypes";
      diffs.push(`${component(paths[i])} has type ${longType(a)} but the corresponding output carry component has type ${longType(o)}, so the ${what} do not match`);
    });
    if (!diffs.length) return;
    const list = diffs.length === 1 ? `${capitalize(diffs[0])}.` : `${diffs.map((d) => `* ${d}`).join("; ")}.`;
    fail(`${name} function carry input and carry output must have equal types, but they differ: ${list} Revise the function so that all output types match the corresponding input types.`);
  }

  /** _promote_weak_typed_inputs: a weakly typed init whose carry comes back another dtype is converted. */
  private promoteWeak(init: Tracer[], outAvals: Aval[]): { init: Tracer[]; changed: boolean } {
    let changed = false;
    const out = init.map((x, i) => {
      const o = outAvals[i];
      if (!x.aval.weak || !o || sameType(x.aval, o)) return x;
      const t = promoteAll([{ dtype: x.aval.dtype, weak: true }, { dtype: o.dtype, weak: o.weak }]);
      if (t.dtype === x.aval.dtype) return x;
      changed = true;
      // A Python scalar folds into a literal of the new dtype; an array gets a convert_element_type.
      const a = x.atom;
      const c = this.it.np.cast(a.kind === "lit" ? { k: "scalar", value: a.value, t: { dtype: a.aval.dtype, weak: true } } : x, { dtype: t.dtype, weak: false });
      return c instanceof Tracer ? c : new Tracer(c);
    });
    return { init: out, changed };
  }

  private bind(prim: "cond" | "while" | "scan" | "jit", ins: (Tracer | Literal | Var)[], params: unknown): Tracer[] {
    const vals = ins.map((x) => (x instanceof Tracer || x.kind === "lit" ? x : new Tracer(x)));
    return this.b.bindMulti(prim, vals, params as never);
  }

  // ---------------------------------------------------------------- lax.cond and lax.switch

  cond(args: PyValue[], kwargs: Kwargs): PyValue {
    let [pred, trueFun, falseFun, ...ops] = args;
    for (const [k, v] of kwargs) {
      if (k === "operand") { if (ops.length) throw new JitError("TypeError", "if 'operand' keyword is passed then no positional operands can be passed"); ops = [v]; }
      else if (k === "pred") pred = v;
      else if (k === "true_fun") trueFun = v;
      else if (k === "false_fun") falseFun = v;
      else throw new JitError("TypeError", `cond() got an unexpected keyword argument '${k}'`);
    }
    this.checkCallable("lax.cond", "true_fun and false_fun arguments", trueFun, falseFun);
    if (!pred || pred.k === "none") throw new JitError("TypeError", "cond predicate is None");
    if (pred.k === "tuple" || pred.k === "list") throw new JitError("TypeError", `Pred must be a scalar, got ${pyRepr(pred)} of type <class '${pred.k}'>`);
    let p: PyValue = pred;
    if (p.k === "tracer") {
      if (p.aval.shape.length) throw new JitError("TypeError", `Pred must be a scalar, got an array of shape (${p.aval.shape.join(", ")}${p.aval.shape.length === 1 ? "," : ""}).`);
      if (p.aval.dtype !== "bool") p = this.it.np.operator("!=", p, new PyInt(0)); // pred = pred != 0
    } else if (p.k === "int" || p.k === "float") p = new PyBool(p.v !== 0);
    else if (p.k !== "bool") throw new JitError("TypeError", `Pred type must be either boolean or number, got ${pyTypeName(p)}.`);

    const { leaves, tree } = this.flatten(new PyTuple(ops), "lax.cond");
    const avals = leaves.map((x) => x.aval);
    const origins = leaves.map((x) => x.origin);
    const tTrue = this.close(this.trace(trueFun!, tree, avals, origins));
    const tFalse = this.close(this.trace(falseFun!, tree, avals, origins));
    this.checkBranches("true_fun and false_fun output", tTrue, tFalse);
    let { consts, jaxprs: [jTrue, jFalse] } = this.commonConsts([tTrue, tFalse]);

    // Outputs both branches pass through from the same input are not outputs of the cond.
    const fT = forwarding(jTrue), fF = forwarding(jFalse);
    const inFwd = fT.map((i, k) => (i !== null && i === fF[k] ? i : null));
    if (inFwd.some((i) => i !== null)) {
      const keep = (j: Jaxpr): Jaxpr => ({ ...j, outvars: j.outvars.filter((_, k) => inFwd[k] === null) });
      jTrue = keep(jTrue);
      jFalse = keep(jFalse);
    }
    const index = this.it.np.cast(this.it.np.operand(p, "lax.cond"), { dtype: "i32", weak: false });
    const outs = this.bind("cond", [index, ...consts, ...leaves], { branches: [jFalse, jTrue] });
    const all: (Tracer | Var)[] = [...consts, ...leaves];
    let k = 0;
    const results = inFwd.map((i) => {
      if (i === null) return outs[k++];
      const x = all[i];
      return x instanceof Tracer ? x : new Tracer(x);
    });
    return unflattenTree(tTrue.outTree, results);
  }

  /** _check_tree_and_avals between two traced functions' outputs. */
  private checkBranches(what: string, a: Traced, b: Traced): void {
    const [w1, w2] = what.split(" and ");
    if (!treeEqual(a.outTree, b.outTree)) {
      throw new JitError("TypeError", `${w1} output must have same type structure as ${w2}, got ${treeText(a.outTree)} and ${treeText(b.outTree)}`);
    }
    const av = a.jaxpr.outvars.map((o) => o.aval), bv = b.jaxpr.outvars.map((o) => o.aval);
    if (av.every((x, i) => sameType(x, bv[i]))) return;
    const diff = av.map((x, i) => (sameType(x, bv[i]) ? shaped(x) : `DIFFERENT ${shaped(x)} vs. ${shaped(bv[i])}`));
    const it = diff[Symbol.iterator]();
    const text = (t: PyTree): string => {
      if ("leaf" in t) return it.next().value as string;
      if ("none" in t) return "None";
      if ("tuple" in t) return t.tuple.length === 1 ? `(${text(t.tuple[0])},)` : `(${t.tuple.map(text).join(", ")})`;
      if ("list" in t) return `[${t.list.map(text).join(", ")}]`;
      return `{${t.dict.map(([k, c]) => `${pyRepr(k)}: ${text(c)}`).join(", ")}}`;
    };
    throw new JitError("TypeError", `${what} must have identical types, got ${text(a.outTree)}.`);
  }

  switch(args: PyValue[], kwargs: Kwargs): PyValue {
    let [index, branchesV, ...ops] = args;
    for (const [k, v] of kwargs) {
      if (k === "operand") { if (ops.length) throw new JitError("TypeError", "if 'operand' keyword is passed then no positional operands can be passed"); ops = [v]; }
      else if (k === "index") index = v;
      else if (k === "branches") branchesV = v;
      else throw new JitError("TypeError", `switch() got an unexpected keyword argument '${k}'`);
    }
    const branches = branchesV && (branchesV.k === "list" || branchesV.k === "tuple") ? branchesV.items : undefined;
    if (!branches || !branches.every(isCallable)) throw new JitError("TypeError", "lax.switch: branches argument should be a sequence of callables.");
    if (!index) throw new JitError("TypeError", "switch() missing required argument: 'index'");
    const dt: DType | undefined = index.k === "tracer" ? index.aval.dtype : index.k === "int" ? "i32" : index.k === "float" ? "f32" : index.k === "bool" ? "bool" : undefined;
    if (index.k === "tracer" && index.aval.shape.length) throw new JitError("TypeError", `Branch index must be scalar, got an array of shape (${index.aval.shape.join(", ")}${index.aval.shape.length === 1 ? "," : ""}).`);
    if (dt !== "i32") throw new JitError("TypeError", `Index type must be an integer, got ${pyRepr(index)} as ${dt ? dtypeName(dt) : pyTypeName(index)}`);
    if (branches.length === 0) throw new JitError("ValueError", "Empty branch sequence");
    if (branches.length === 1) return this.it.call(branches[0], ops, [], this.b.span);

    const np = this.it.np;
    const i32 = np.cast(np.operand(index, "lax.switch"), { dtype: "i32", weak: false });
    const lit = (v: number) => literal(v, { shape: [], dtype: "i32", weak: false });
    const clamped = this.b.bind("clamp", [lit(0), i32, lit(branches.length - 1)], {});

    const { leaves, tree } = this.flatten(new PyTuple(ops), "lax.switch");
    const avals = leaves.map((x) => x.aval);
    const traced = branches.map((f) => this.close(this.trace(f, tree, avals, leaves.map((x) => x.origin))));
    traced.slice(1).forEach((t, i) => this.checkBranches(`branch 0 and ${i + 1} outputs`, traced[0], t));
    const { consts, jaxprs } = this.commonConsts(traced);
    const outs = this.bind("cond", [clamped, ...consts, ...leaves], { branches: jaxprs });
    return unflattenTree(traced[0].outTree, outs);
  }

  // ---------------------------------------------------------------- lax.while_loop and lax.fori_loop

  whileLoop(args: PyValue[], kwargs: Kwargs): PyValue {
    const a = bindSig("lax.while_loop", ["cond_fun", "body_fun", "init_val"], args, kwargs);
    this.checkCallable("lax.while_loop", "body_fun and cond_fun arguments", a.body_fun, a.cond_fun);
    return this.whileCore(a.cond_fun!, a.body_fun!, a.init_val!, carryNameOf(a.body_fun!));
  }

  /** `userFn`: the user's function behind a wrapper body (fori_loop), for error locations. */
  private whileCore(condFun: PyValue, bodyFun: PyValue, initVal: PyValue, carryName: string | undefined, userFn?: PyValue): PyValue {
    let { leaves: init, tree: initTree } = this.flatten(initVal, "lax.while_loop");
    const argTree: PyTree = { tuple: [initTree] };
    const create = () => {
      const avals = init.map((x) => x.aval), origins = init.map((x) => x.origin);
      const c = this.trace(condFun, argTree, avals, origins);
      const body = this.trace(bodyFun, argTree, avals, origins);
      if (!("leaf" in c.outTree) || c.jaxpr.outvars.length !== 1) {
        throw new JitError("TypeError", `cond_fun must return a boolean scalar, but got pytree ${treeText(c.outTree)}.`);
      }
      const pa = c.jaxpr.outvars[0].aval;
      if (pa.dtype !== "bool" || pa.shape.length) throw new JitError("TypeError", `cond_fun must return a boolean scalar, but got output type(s) [${shaped(pa)}].`);
      return { c, body };
    };
    let { c, body } = create();
    const promoted = this.promoteWeak(init, body.jaxpr.outvars.map((o) => o.aval));
    if (promoted.changed) {
      init = promoted.init;
      ({ c, body } = create());
    }
    c = this.close(c);
    body = this.close(body);
    this.checkCarry("while_loop body", carryName, initTree, init.map((x) => x.aval), body.outTree, body.jaxpr.outvars.map((o) => o.aval), userFn ?? bodyFun);

    // A carry the body passes through unchanged and the condition does not read becomes a body const.
    const nbc = body.consts.length, ncc = c.consts.length;
    const fwd = forwarding(body.jaxpr);
    const condUses = new Set<number>();
    for (const e of c.jaxpr.eqns) for (const x of e.inputs) if (x.kind === "var") condUses.add(x.id);
    for (const o of c.jaxpr.outvars) if (o.kind === "var") condUses.add(o.id);
    const move = init.map((_, i) => fwd[i] === nbc + i && !condUses.has(c.jaxpr.invars[ncc + i].id));
    let condJ = c.jaxpr, bodyJ = body.jaxpr;
    let bodyConsts: (Var | Tracer)[] = body.consts;
    let carry: Tracer[] = init;
    if (move.some(Boolean)) {
      condJ = dce({ ...condJ, invars: condJ.invars.filter((_, k) => k < ncc || !move[k - ncc]) });
      const bi = bodyJ.invars;
      bodyJ = {
        ...bodyJ,
        invars: [...bi.filter((_, k) => k >= nbc && move[k - nbc]), ...bi.slice(0, nbc), ...bi.filter((_, k) => k >= nbc && !move[k - nbc])],
        outvars: bodyJ.outvars.filter((_, k) => !move[k]),
      };
      bodyConsts = [...init.filter((_, k) => move[k]), ...body.consts];
      carry = init.filter((_, k) => !move[k]);
    }
    const outs = this.bind("while", [...c.consts, ...bodyConsts, ...carry], {
      cond_jaxpr: condJ, body_jaxpr: bodyJ, cond_nconsts: ncc, body_nconsts: bodyConsts.length,
    });
    let k = 0;
    const results = init.map((x, i) => (move[i] ? x : outs[k++]));
    return unflattenTree(body.outTree, results);
  }

  foriLoop(args: PyValue[], kwargs: Kwargs): PyValue {
    const a = bindSig("lax.fori_loop", ["lower", "upper", "body_fun", "init_val", "unroll=None"], args, kwargs);
    const [lower, upper, bodyFun] = [a.lower!, a.upper!, a.body_fun!];
    this.checkCallable("lax.fori_loop", "body_fun argument", bodyFun);
    const dt = (v: PyValue): { dtype: DType; weak: boolean } => {
      if (v.k === "tracer") return { dtype: v.aval.dtype, weak: v.aval.weak };
      if (v.k === "int") return { dtype: "i32", weak: true };
      if (v.k === "bool") return { dtype: "bool", weak: false };
      if (v.k === "float") return { dtype: "f32", weak: true };
      throw new JitError("TypeError", `lax.fori_loop: the loop bounds must be integers, got ${pyTypeName(v)}`);
    };
    const lt = dt(lower), ut = dt(upper);
    if (lt.dtype !== ut.dtype) throw new JitError("TypeError", `lower and upper arguments to fori_loop must have equal types, got ${dtypeName(lt.dtype)} and ${dtypeName(ut.dtype)}`);
    const unroll = a.unroll ?? None;
    const span = this.b.span;

    if (lower.k !== "tracer" && upper.k !== "tracer") {
      // Static trip count: a scan over (i, x), with no xs and no ys.
      const lo = Math.trunc(Number((lower as PyInt).v)), hi = Math.trunc(Number((upper as PyInt).v));
      const body = new PyBuiltin("scanned_fun", ([loopCarry]) => {
        const [i, x] = (loopCarry as PyTuple).items;
        const next = this.it.np.operator("+", i, new PyInt(1));
        const y = this.it.call(bodyFun, [i, x], [], span);
        return new PyTuple([new PyTuple([next, y]), None]);
      });
      const out = this.scanCore(body, new PyTuple([new PyInt(lo), a.init_val!]), None, Math.max(hi - lo, 0), false, unroll.k === "none" ? new PyBool(false) : unroll, "loop_carry", bodyFun);
      return ((out as PyTuple).items[0] as PyTuple).items[1];
    }
    if (unroll.k !== "none" && !(unroll.k === "bool" && !unroll.v) && !(unroll.k === "int" && unroll.v === 1)) {
      throw new JitError("ValueError", "Can only use `unroll` in `fori_loop` if the loop bounds are statically known.");
    }
    const lowerT = this.it.np.toArray(lower, "lax.fori_loop"), upperT = this.it.np.toArray(upper, "lax.fori_loop");
    const cond = new PyBuiltin("_fori_cond_fun", ([loopCarry]) => {
      const [i, up] = (loopCarry as PyTuple).items as Tracer[];
      return this.b.bind("lt", [i, up], {});
    });
    const body = new PyBuiltin("while_body_fun", ([loopCarry]) => {
      const [i, up, x] = (loopCarry as PyTuple).items;
      const iT = i as Tracer;
      const next = this.b.bind("add", [iT, literal(1, { shape: [], dtype: iT.aval.dtype, weak: false })], {});
      const y = this.it.call(bodyFun, [i, x], [], span);
      return new PyTuple([next, up, y]);
    });
    const out = this.whileCore(cond, body, new PyTuple([lowerT, upperT, a.init_val!]), "loop_carry", bodyFun);
    return (out as PyTuple).items[2];
  }

  // ---------------------------------------------------------------- lax.scan and lax.map

  scan(args: PyValue[], kwargs: Kwargs): PyValue {
    const a = bindSig("lax.scan", ["f", "init", "xs=None", "length=None", "reverse=False", "unroll=1", "_split_transpose=False"], args, kwargs);
    this.checkCallable("lax.scan", "f argument", a.f);
    let length: number | undefined;
    const lv = a.length ?? None;
    if (lv.k === "int") length = lv.v;
    else if (lv.k === "tracer") throw new JitError("ConcretizationTypeError", "The `length` argument to `scan` expects a concrete `int` value. For scan-like iteration with a dynamic length, use `while_loop` or `fori_loop`.");
    else if (lv.k !== "none") throw new JitError("TypeError", `The \`length\` argument to \`scan\` expects an int, got ${pyTypeName(lv)}`);
    const rev = a.reverse ?? new PyBool(false);
    if (rev.k === "tracer") throw new JitError("ConcretizationTypeError", "The `reverse` argument to `scan` must be a Python bool");
    return this.scanCore(a.f!, a.init!, a.xs ?? None, length, this.it.truthy(rev, this.it.currentNode, "scan's reverse argument"), a.unroll ?? new PyInt(1), carryNameOf(a.f!));
  }

  map(args: PyValue[], kwargs: Kwargs): PyValue {
    const a = bindSig("lax.map", ["f", "xs", "batch_size=None"], args, kwargs);
    this.checkCallable("lax.map", "f argument", a.f);
    if (a.batch_size && a.batch_size.k !== "none") throw new JitError("UnsupportedError", "lax.map with batch_size (a scan of vmapped batches) is not supported by JIT Lens yet");
    const span = this.b.span;
    const g = new PyBuiltin("g", ([, x]) => new PyTuple([new PyTuple([]), this.it.call(a.f!, [x], [], span)]));
    const out = this.scanCore(g, new PyTuple([]), a.xs!, undefined, false, new PyInt(1), undefined);
    return (out as PyTuple).items[1];
  }

  private scanCore(f: PyValue, initV: PyValue, xsV: PyValue, lengthArg: number | undefined, reverse: boolean, unrollV: PyValue, carryName: string | undefined, userFn?: PyValue): PyValue {
    const rawXs: PyValue[] = [];
    const xsTree = flattenTree(xsV, rawXs);
    const xs = rawXs.map((x) => {
      if (x.k !== "tracer" || x.aval.shape.length === 0) throw new JitError("ValueError", `scan got value with no leading axis to scan over: ${pyRepr(x)}.`);
      return x;
    });
    const lengths = xs.map((x) => x.aval.shape[0]);
    let length: number;
    if (lengthArg !== undefined) {
      if (!lengths.every((l) => l === lengthArg)) throw new JitError("ValueError", `scan got \`length\` argument of ${lengthArg} which disagrees with leading axis sizes [${lengths.join(", ")}].`);
      length = lengthArg;
    } else {
      const unique = [...new Set(lengths)];
      if (unique.length > 1) throw new JitError("ValueError", `scan got values with different leading axis sizes: ${lengths.join(", ")}.`);
      if (!unique.length) throw new JitError("ValueError", "scan got no values to scan over and `length` not provided.");
      length = unique[0];
    }
    const xAvals = xs.map((x) => ({ shape: x.aval.shape.slice(1), dtype: x.aval.dtype, weak: x.aval.weak }));

    let { leaves: init, tree: initTree } = this.flatten(initV, "lax.scan");
    const create = () => {
      const t = this.trace(f, { tuple: [initTree, xsTree] }, [...init.map((x) => x.aval), ...xAvals], [...init.map((x) => x.origin), ...xs.map((x) => x.origin)]);
      const parts = children(t.outTree);
      if (parts.length !== 2) throw new JitError("TypeError", `scan body output must be a pair, got ${avalTreeText(t.outTree, t.jaxpr.outvars.map((o) => o.aval))}.`);
      return t;
    };
    let t = create();
    const promoted = this.promoteWeak(init, t.jaxpr.outvars.map((o) => o.aval));
    if (promoted.changed) {
      init = promoted.init;
      t = create();
    }
    t = this.close(t);
    const [carryTree, ysTree] = children(t.outTree);
    const nCarry = init.length;
    this.checkCarry("scan body", carryName, initTree, init.map((x) => x.aval), carryTree, t.jaxpr.outvars.slice(0, leafCount(carryTree)).map((o) => o.aval), userFn ?? f);

    let unroll: number;
    if (unrollV.k === "bool") unroll = unrollV.v ? Math.max(length, 1) : 1;
    else if (unrollV.k === "int" && unrollV.v >= 1) unroll = unrollV.v;
    else throw new JitError("ValueError", "`unroll` must be a `bool` or a positive `int`.");

    // Carries passed through unchanged become consts; ys that are rows of xs are not stacked.
    let consts: (Var | Tracer)[] = t.consts;
    let j = t.jaxpr;
    const nc = t.consts.length;
    const fwd = forwarding(j);
    const move = init.map((_, i) => fwd[i] === nc + i);
    const extFwd = fwd.slice(nCarry).map((i) => (i !== null && i >= nc + nCarry ? i - nc - nCarry : null));
    let carry: Tracer[] = init;
    if (move.some(Boolean)) {
      const iv = j.invars;
      const isCarry = (k: number) => k >= nc && k < nc + nCarry;
      j = {
        ...j,
        invars: [...iv.filter((_, k) => isCarry(k) && move[k - nc]), ...iv.slice(0, nc), ...iv.filter((_, k) => isCarry(k) && !move[k - nc]), ...iv.slice(nc + nCarry)],
        outvars: j.outvars.filter((_, k) => k >= nCarry || !move[k]),
      };
      consts = [...init.filter((_, k) => move[k]), ...t.consts];
      carry = init.filter((_, k) => !move[k]);
    }
    if (extFwd.some((i) => i !== null)) {
      const nc2 = carry.length;
      j = { ...j, outvars: j.outvars.filter((_, k) => k < nc2 || extFwd[k - nc2] === null) };
    }
    const operands = [...consts, ...carry, ...xs];
    const outs = this.bind("scan", operands, {
      _split_transpose: false, jaxpr: j, length, linear: operands.map(() => false), num_carry: carry.length,
      num_consts: consts.length, reverse, unroll,
    });
    const carryOut = outs.slice(0, carry.length);
    const ysOut = outs.slice(carry.length);
    let ci = 0, yi = 0;
    const carries = init.map((x, i) => (move[i] ? x : carryOut[ci++]));
    const ys = extFwd.map((i) => (i === null ? ysOut[yi++] : xs[i]));
    return new PyTuple([unflattenTree(carryTree, carries), unflattenTree(ysTree, ys)]);
  }

  // ---------------------------------------------------------------- nested jax.jit

  /** A call of a jax.jit-decorated function: a `jit` equation around its traced body. */
  callJit(fn: PyFunction, args: PyValue[], kwargs: Kwargs, span: import("../report").Span): PyValue {
    this.b.span = span;
    const info = fn.jit!;
    const plain = new PyFunction(fn.name, fn.params, fn.body, fn.isLambda, fn.closure, fn.defSpan);
    if (info.inline) return this.it.callFunction(plain, args, kwargs, span);
    const params = fn.params.filter((p) => p.kind === "normal");
    const staticPos = new Set(info.staticArgnums.map((i) => (i < 0 ? i + args.length : i)));
    const staticNames = new Set(info.staticArgnames);
    params.forEach((p, i) => {
      if (staticPos.has(i)) staticNames.add(p.name);
      if (staticNames.has(p.name)) staticPos.add(i);
    });
    type Slot = { static: PyValue } | { tree: PyTree; n: number };
    const leaves: Tracer[] = [];
    const keyParts: string[] = [];
    const slot = (v: PyValue, where: string, isStatic: boolean): Slot => {
      if (isStatic) {
        if (v.k === "list" || v.k === "dict" || (v.k !== "function" && v.k !== "builtin" && keyOf(v) === undefined && v.k !== "tracer" && v.k !== "dtype")) {
          throw new JitError("ValueError", `Non-hashable static arguments are not supported: ${where} of ${fn.name}() is ${pyRepr(v)} (a ${pyTypeName(v)}); pass a tuple, or make it a traced argument`);
        }
        if (v.k === "tracer") throw new JitError("TypeError", `${where} of ${fn.name}() is marked static (static_argnums/static_argnames) but got a traced array; static arguments must be Python values`);
        keyParts.push(`s:${pyRepr(v)}`);
        return { static: v };
      }
      const raw: PyValue[] = [];
      const tree = flattenTree(v, raw);
      for (const x of raw) {
        if (x.k === "tracer") leaves.push(x);
        else if (x.k === "int" || x.k === "float" || x.k === "bool") leaves.push(this.it.np.toArray(x, fn.name));
        else {
          throw new JitError("TypeError", `Error interpreting argument to ${fn.name}() as an abstract array: the value at ${where} is a ${pyTypeName(x)}. A jit-wrapped function takes arrays, Python numbers and pytrees of them; mark this argument static with static_argnums or static_argnames`);
        }
      }
      keyParts.push(`d:${JSON.stringify(tree, (_, y) => (y && typeof y === "object" && "k" in y ? pyRepr(y as PyValue) : y))}`);
      return { tree, n: raw.length };
    };
    const posSlots = args.map((v, i) => slot(v, `argument ${params[i]?.name ?? i}`, staticPos.has(i)));
    const kwSlots = kwargs.map(([k, v]): [string, Slot] => [k, slot(v, `argument ${k}`, staticNames.has(k))]);
    const avals = leaves.map((x) => x.aval);
    const key = [...avals.map((a) => `${a.dtype}[${a.shape.join(",")}]${a.weak ? "w" : ""}`), ...keyParts, ...kwargs.map(([k]) => k)].join("|");

    let traced = this.jitCache.get(fn)?.get(key);
    if (!traced) {
      const rebuild = (ins: PyValue[]) => {
        const take = (s: Slot): PyValue => ("static" in s ? s.static : unflattenTree(s.tree, ins.splice(0, s.n)));
        const a = posSlots.map(take);
        const kw: Kwargs = kwSlots.map(([k, s]) => [k, take(s)]);
        return { a, kw };
      };
      const wrapper = new PyBuiltin(fn.name, (ins) => {
        const { a, kw } = rebuild([...ins]);
        return this.it.call(plain, a, kw, span);
      });
      traced = this.close(this.trace(wrapper, { tuple: leaves.map((): PyTree => ({ leaf: true })) }, avals, leaves.map((x) => x.origin)));
      if (!traced.consts.length) {
        // Like JAX's cache: the same function on the same argument types reuses its jaxpr.
        let m = this.jitCache.get(fn);
        if (!m) this.jitCache.set(fn, (m = new Map()));
        m.set(key, traced);
      }
    }
    const outs = this.bind("jit", [...traced.consts, ...leaves], { name: fn.name, jaxpr: traced.jaxpr });
    return unflattenTree(traced.outTree, outs);
  }
}

/** The name of a body function's first parameter (its carry), as JAX's messages name it. */
function carryNameOf(f: PyValue): string | undefined {
  return f.k === "function" ? f.params[0]?.name : undefined;
}
