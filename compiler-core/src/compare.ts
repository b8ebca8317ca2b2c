// Ground truth: the same function, with the same inputs, run by the user's own NumPy and JAX.
//
// JIT Lens evaluates the argument spec (as tracing does), makes the inputs exactly as its own
// runs do (`load("x.npy")` data, else seeded draws: runtime/random.ts, seed + leaf index),
// writes them as .npy files, and starts the Python helper (extension/python/jitlens_compare.py)
// with a request file: the function, the call plan (which argument leaves are arrays, which are
// static Python values), the inputs, the timing options. The helper writes a result file: JAX's
// jaxpr, StableHLO and compiled HLO, timings of NumPy, JAX eager and jax.jit, the SHA-256 of
// every input it loaded, and its outputs as .npy. This module checks that result, compares the
// inputs bit for bit and the outputs numerically with ours, diffs the jaxprs, counts XLA's
// kernels, and returns a `CompareResult` (report.ts). docs/COMPARE.md has the whole story.
//
// This runs the user's code in their Python: callers run it only on an explicit command, and
// the editor only in a trusted workspace.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SyntaxNode } from "@lezer/common";
import { diffJaxprs, countXlaKernels } from "./compare_diff";
import { kids, parsePython } from "./frontend/functions";
import { JitError, SourceFile, closest } from "./frontend/source";
import { inferSpec } from "./frontend/specs";
import { typeString, type ArrayValue, type Aval } from "./ir/types";
import { readNpy, writeNpy } from "./npy";
import { COMPARE_VERSION, type CompareInput, type CompareResult, type CompareRun, type ErrorInfo, type Span } from "./report";
import { fillRandom } from "./runtime/random";
import { timingOptions } from "./runtime/timing";
import { checkSyntax, evalSpec, findFunction } from "./trace/trace";
import { dtypeName, floatRepr, pyRepr, type PyValue } from "./trace/values";

// ---------------------------------------------------------------------------------------------
// The interpreter

export interface PythonChoice {
  /** What to spawn: an absolute path, or the path found on PATH. */
  path: string;
  source: "explicit" | "setting" | "PATH";
}

/** An executable file `name` on PATH (with PATHEXT on Windows), or undefined. */
export function whichOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exts = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";").concat([""]) : [""];
  for (const dir of (env.PATH ?? env.Path ?? "").split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = path.join(dir, name + ext);
      try {
        if (!statSync(p).isFile()) continue;
        if (process.platform !== "win32") accessSync(p, constants.X_OK);
        return p;
      } catch {
        continue;
      }
    }
  }
  return undefined;
}

/**
 * The Python to run, the way Python users expect: an explicit path (`--python`, or the Python
 * extension's selected interpreter, passed by the editor) first, then the `jitlens.pythonPath`
 * setting, then `python3` (on Windows also `python`, `py`) on PATH. Throws a JitError
 * (`PythonNotFound`) saying what was tried.
 */
export function findPython(opts: { explicit?: string; setting?: string } = {}, env: NodeJS.ProcessEnv = process.env): PythonChoice {
  const given: [string | undefined, "explicit" | "setting", string][] = [[opts.explicit, "explicit", "--python"], [opts.setting, "setting", "the jitlens.pythonPath setting"]];
  for (const [p, source, what] of given) {
    if (!p || !p.trim()) continue;
    const v = p.trim();
    if (v.includes("/") || v.includes("\\")) {
      if (!existsSync(v)) throw new JitError("PythonNotFound", `${what} names ${v}, which does not exist`);
      return { path: path.resolve(v), source };
    }
    const found = whichOnPath(v, env);
    if (!found) throw new JitError("PythonNotFound", `${what} names '${v}', which is not on PATH`);
    return { path: found, source };
  }
  const names = process.platform === "win32" ? ["python3", "python", "py"] : ["python3"];
  for (const n of names) {
    const found = whichOnPath(n, env);
    if (found) return { path: found, source: "PATH" };
  }
  throw new JitError("PythonNotFound", `no Python interpreter: ${names.join(", ")} is not on PATH (give one with --python PATH or the jitlens.pythonPath setting)`);
}

/** The helper script: next to the sources in a checkout, next to dist/ in the VSIX and the npm package. */
export function helperPath(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    env.JITLENS_COMPARE_HELPER,
    path.resolve(__dirname, "..", "..", "extension", "python", "jitlens_compare.py"), // compiler-core/src/
    path.resolve(__dirname, "..", "extension", "python", "jitlens_compare.py"), // dist/
  ].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new JitError("InternalError", `the Python helper jitlens_compare.py is missing (looked in ${candidates.join(", ")})`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// The call plan: the argument spec as the helper needs it

/** A node of the argument tree: an array leaf (index into the inputs), a static Python literal, or a container. */
export type PlanNode =
  | { leaf: number }
  | { py: string }
  | { dtype: string }
  | { tuple: PlanNode[] }
  | { list: PlanNode[] }
  | { dict: [string, PlanNode][] };

export interface PlanLeaf {
  /** e.g. `x`, `params[0][1]`: the same paths as the tracer's inputs. */
  path: string;
  aval: Aval;
  /** Data from `load("...")`. */
  loaded?: ArrayValue;
}

export interface CallPlan {
  fn: string;
  /** The argument spec used, and where it came from. */
  spec: string;
  /** Arguments by parameter name, in the def's order. */
  args: { name: string; value: PlanNode }[];
  /** Array leaves in JAX's flattening order (the order of our jaxpr's inputs). */
  leaves: PlanLeaf[];
}

interface DefParam { name: string; hasDefault: boolean }

/** The plain (non-star) parameters of a def, from its syntax. */
function defParams(src: string, def: SyntaxNode): DefParam[] {
  const pl = def.getChild("ParamList");
  if (!pl) return [];
  const out: DefParam[] = [];
  const cs = kids(pl);
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c.name === "*" || c.name === "**") { if (cs[i + 1]?.name === "VariableName") i++; continue; }
    if (c.name !== "VariableName") continue;
    let j = i + 1;
    if (cs[j]?.name === "TypeDef") j++;
    const hasDefault = cs[j]?.name === "AssignOp";
    if (hasDefault) j++; // the default expression follows
    out.push({ name: src.slice(c.from, c.to), hasDefault });
    i = hasDefault ? j : j - 1;
  }
  return out;
}

/** A static value as a Python literal the helper can `ast.literal_eval`. */
function staticNode(v: PyValue): PlanNode {
  switch (v.k) {
    case "none": case "bool": case "int": return { py: pyRepr(v) };
    case "float": return { py: Number.isFinite(v.v) ? floatRepr(v.v) : Number.isNaN(v.v) ? "nan" : v.v > 0 ? "inf" : "-inf" };
    case "str": return { py: JSON.stringify(v.v) }; // a JSON string is a valid Python string literal
    case "dtype": return { dtype: dtypeName(v.dtype) };
    default: return { py: pyRepr(v) };
  }
}

/**
 * Evaluates the argument spec for `fn` (the `--arg`s, else the `# jitlens:` comment, else
 * annotations or a call in the file, as tracing does) into a call plan. Throws JitError
 * (SyntaxError, NameError, SpecError) for a file or spec it cannot use. Independent of tracing,
 * so a function our tracer cannot handle can still be compared.
 */
export function buildCallPlan(req: { file: string; source: string; fn: string; args?: string; loadNpy?: (p: string) => ArrayValue }): CallPlan {
  const src = new SourceFile(req.file, req.source);
  const tree = parsePython(req.source);
  checkSyntax(src, tree);
  const info = findFunction(src, tree, req.fn, undefined);
  const defNode = tree.resolveInner(info.defFrom, 1);
  const def = defNode.name === "FunctionDefinition" ? defNode : defNode.parent!;
  const nameNode = def.getChild("VariableName")!;
  const defSpan = src.span(def.from, nameNode.to);
  const inferred = req.args === undefined && info.specComment === undefined ? inferSpec(req.source, tree, info) : undefined;
  const spec = req.args ?? info.specComment ?? inferred?.spec ?? "";
  const specSpan = req.args === undefined && info.specLine !== undefined ? src.lineSpan(info.specLine) : defSpan;
  const evaluated = spec.trim() ? evalSpec(spec, specSpan, req.loadNpy) : { args: [], kwargs: [] };
  const params = defParams(req.source, def);
  const given = new Map<string, PyValue>();
  evaluated.args.forEach((v, i) => {
    if (i >= params.length) throw new JitError("SpecError", `the argument spec gives ${evaluated.args.length} positional arguments but ${info.name}() takes ${params.length}`, specSpan);
    given.set(params[i].name, v);
  });
  for (const [k, v] of evaluated.kwargs) {
    if (!params.some((p) => p.name === k)) {
      const hint = closest(k, params.map((p) => p.name));
      throw new JitError("SpecError", `the argument spec names '${k}', but ${info.name}() has no such parameter${hint ? `. Did you mean '${hint}'?` : ""}`, specSpan);
    }
    given.set(k, v);
  }
  const missing = params.filter((p) => !given.has(p.name) && !p.hasDefault).map((p) => `'${p.name}'`);
  if (missing.length) throw new JitError("SpecError", `no shape for argument${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${info.name}(): add a comment above the def such as \`# jitlens: x=f32[1024]\``, specSpan);

  const leaves: PlanLeaf[] = [];
  // The same walk as the tracer's instantiate(): dict leaves in sorted-key order.
  const walk = (v: PyValue, p: string): PlanNode => {
    switch (v.k) {
      case "spec": leaves.push({ path: p, aval: v.aval, loaded: v.load?.value }); return { leaf: leaves.length - 1 };
      case "tuple": return { tuple: v.items.map((x, i) => walk(x, `${p}[${i}]`)) };
      case "list": return { list: v.items.map((x, i) => walk(x, `${p}[${i}]`)) };
      case "dict": {
        const made = new Map<string, PlanNode>();
        const sorted = [...v.entries].sort(([, [a]], [, [b]]) => (pyRepr(a) < pyRepr(b) ? -1 : pyRepr(a) > pyRepr(b) ? 1 : 0));
        for (const [h, [k, x]] of sorted) made.set(h, walk(x, `${p}[${pyRepr(k)}]`));
        return { dict: [...v.entries].map(([h, [k]]) => [(staticNode(k) as { py: string }).py ?? pyRepr(k), made.get(h)!]) };
      }
      default: return staticNode(v);
    }
  };
  const args = params.filter((p) => given.has(p.name)).map((p) => ({ name: p.name, value: walk(given.get(p.name)!, p.name) }));
  return { fn: info.name, spec, args, leaves };
}

/** The inputs of a compare run: exactly api.ts makeInputs' (loaded data, else fillRandom(aval, seed + i)). */
export function planInputs(plan: CallPlan, seed: number): ArrayValue[] {
  return plan.leaves.map((l, i) => l.loaded ?? fillRandom(l.aval, seed + i));
}

export function sha256Of(a: ArrayValue): string {
  return createHash("sha256").update(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength)).digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Running the helper

export interface CompareOptions {
  file: string;
  source: string;
  fn: string;
  /** Argument spec; when absent, the `# jitlens:` comment (as tracing). */
  args?: string;
  seed?: number;
  /** Interpreter: an explicit path (`--python`, the Python extension's choice) ... */
  python?: string;
  /** ... else this setting (`jitlens.pythonPath`) ... else python3 on PATH. */
  pythonSetting?: string;
  /** Whole-helper limit (default 120 s); on expiry the helper is killed and the result says what it was doing. */
  timeoutMs?: number;
  timing?: { minRuns?: number; minTimeMs?: number };
  /** Which runs (default both). */
  modes?: ("numpy" | "jax")[];
  /** Reads `load("...")` files (api.ts npyLoader). */
  loadNpy?: (p: string) => ArrayValue;
  /** Our side, when it ran: our jaxpr text (for the diff), the inputs our run used, and our outputs (flattened). */
  ours?: { jaxpr?: string; inputs?: ArrayValue[]; outputs?: ArrayValue[] };
  /** Environment for the interpreter search and the helper (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Keep the scratch folder (for debugging); its path goes into `warnings`. */
  keepDir?: boolean;
}

const STAGES: Record<string, string> = {
  numpy: "importing numpy", inputs: "loading the inputs", import: "importing the file", "numpy-import": "importing the file under the NumPy shim",
  "numpy-run": "the NumPy run", "numpy-time": "timing NumPy", "jax-import": "importing jax", jaxpr: "jax.make_jaxpr", lower: "lowering with jax.jit(f).lower",
  compile: "XLA's compile", "jax-eager": "the JAX eager run", "jax-jit": "the jax.jit run", done: "writing the result",
};

interface HelperRun { code: number | null; timedOut: boolean; stage?: string; stderr: string; spawnError?: string }

function runHelper(python: string, helper: string, request: string, timeoutMs: number, env: NodeJS.ProcessEnv, cwd: string): Promise<HelperRun> {
  return new Promise((resolve) => {
    let stderr = "";
    let stage: string | undefined;
    let timedOut = false;
    let settled = false;
    const child = spawn(python, [helper, request], {
      cwd,
      env: { ...env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8" },
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    const timer = setTimeout(() => { timedOut = true; child.kill("SIGKILL"); }, timeoutMs);
    child.stdout.on("data", (d: Buffer) => { stderr = (stderr + d.toString("utf8")).slice(-8192); });
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString("utf8");
      for (const m of text.matchAll(/^@@jitlens-stage (\S+)$/gm)) stage = m[1];
      stderr = (stderr + text.replace(/^@@jitlens-stage \S+\n?/gm, "")).slice(-8192);
    });
    const done = (r: HelperRun) => { if (!settled) { settled = true; clearTimeout(timer); resolve(r); } };
    child.on("error", (e) => done({ code: null, timedOut, stage, stderr, spawnError: e.message }));
    child.on("close", (code) => done({ code, timedOut, stage, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------
// Checking the helper's result

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const num = (x: unknown): number | undefined => (typeof x === "number" ? x : undefined);
const str = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined);

class MalformedResult extends Error {}

function errorInfo(x: unknown, userFile: string, absFile: string): ErrorInfo | undefined {
  if (x === undefined) return undefined;
  if (!isObj(x) || !str(x.kind) || !str(x.message)) throw new MalformedResult("an error without kind/message");
  const e: ErrorInfo = { kind: x.kind as string, message: x.message as string };
  if (isObj(x.span)) {
    const s = x.span;
    const file = str(s.file) ?? absFile;
    const span: Span = {
      file: path.resolve(file) === absFile ? userFile : file,
      line: num(s.line) ?? 1, col: num(s.col) ?? 1, endLine: num(s.endLine) ?? num(s.line) ?? 1, endCol: num(s.endCol) ?? num(s.col) ?? 1,
    };
    e.span = span;
  }
  return e;
}

function timingStat(x: unknown) {
  if (x === undefined) return undefined;
  if (!isObj(x)) throw new MalformedResult("timing is not an object");
  const [median_ms, min_ms, max_ms, runs] = [num(x.median_ms), num(x.min_ms), num(x.max_ms), num(x.runs)];
  if (median_ms === undefined || min_ms === undefined || max_ms === undefined || runs === undefined) throw new MalformedResult("timing lacks median_ms/min_ms/max_ms/runs");
  return { median_ms, min_ms, max_ms, runs };
}

function run(x: unknown, userFile: string, absFile: string): CompareRun | undefined {
  if (x === undefined) return undefined;
  if (!isObj(x)) throw new MalformedResult("a run is not an object");
  const r: CompareRun = {};
  if (num(x.first_call_ms) !== undefined) r.first_call_ms = num(x.first_call_ms);
  const t = timingStat(x.timing);
  if (t) r.timing = t;
  if (Array.isArray(x.outputs)) r.outputs = x.outputs.map(String);
  const e = errorInfo(x.error, userFile, absFile);
  if (e) r.error = e;
  return r;
}

function strings(x: unknown): string[] {
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : [];
}

// ---------------------------------------------------------------------------------------------
// The comparison

/**
 * Runs the user's function in their Python with NumPy and JAX and compares with ours. Never
 * throws for problems of the user's code or environment: they are `error` (nothing compared:
 * no interpreter, a bad spec, a syntax error, a timeout) or `missing` / a run's `error`.
 */
export async function compareWithPython(opts: CompareOptions): Promise<CompareResult> {
  const t0 = Date.now();
  const seed = opts.seed ?? 0;
  const env = opts.env ?? process.env;
  const result: CompareResult = {
    version: COMPARE_VERSION,
    python: { path: opts.python ?? opts.pythonSetting ?? "python3", source: opts.python ? "explicit" : opts.pythonSetting ? "setting" : "PATH" },
    versions: {},
    missing: [],
    warnings: [],
    seed,
    inputs: [],
    inputsMatch: false,
    runs: {},
    elapsed_ms: 0,
  };
  const fail = (e: unknown): CompareResult => {
    result.error = e instanceof JitError ? e.info() : { kind: "InternalError", message: e instanceof Error ? e.message : String(e) };
    result.elapsed_ms = Date.now() - t0;
    return result;
  };
  let plan: CallPlan, helper: string;
  try {
    result.python = findPython({ explicit: opts.python, setting: opts.pythonSetting }, env);
    plan = buildCallPlan({ file: opts.file, source: opts.source, fn: opts.fn, args: opts.args, loadNpy: opts.loadNpy });
    helper = helperPath(env);
  } catch (e) {
    return fail(e);
  }
  const inputs = planInputs(plan, seed);
  if (opts.ours?.inputs && opts.ours.inputs.length !== inputs.length) result.warnings.push(`our run had ${opts.ours.inputs.length} inputs, the call plan ${inputs.length}`);
  const ourInputs = opts.ours?.inputs?.length === inputs.length ? opts.ours.inputs : inputs;

  const dir = mkdtempSync(path.join(os.tmpdir(), "jitlens-compare-"));
  try {
    mkdirSync(path.join(dir, "in"));
    inputs.forEach((a, i) => writeFileSync(path.join(dir, "in", `${i}.npy`), writeNpy(a)));
    const absFile = path.resolve(opts.file);
    const resultPath = path.join(dir, "result.json");
    const request = {
      file: absFile,
      fn: plan.fn,
      args: plan.args,
      inputs: plan.leaves.map((l, i) => ({ file: path.join("in", `${i}.npy`), path: l.path, type: typeString(l.aval) })),
      timing: { warmup: 1, ...timingOptions(opts.timing) },
      modes: opts.modes ?? ["numpy", "jax"],
      result: resultPath,
    };
    const requestPath = path.join(dir, "request.json");
    writeFileSync(requestPath, JSON.stringify(request, null, 1));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const h = await runHelper(result.python.path, helper, requestPath, timeoutMs, env, path.dirname(absFile));
    if (h.spawnError) return fail(new JitError("PythonNotFound", `cannot start ${result.python.path}: ${h.spawnError}`));
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(resultPath, "utf8"));
    } catch {
      raw = undefined;
    }
    if (h.timedOut) {
      const doing = h.stage ? ` while running ${STAGES[h.stage] ?? h.stage}` : "";
      result.error = { kind: "TimeoutError", message: `the Python helper did not finish within ${formatSeconds(timeoutMs)}${doing}; it was stopped` };
    } else if (raw === undefined) {
      const last = h.stderr.trim().split("\n").filter(Boolean).slice(-1)[0] ?? "";
      const kind = /SyntaxError|invalid syntax/.test(h.stderr) ? " (is it Python 3.7 or newer?)" : "";
      return fail(new JitError("PythonError", `the Python helper failed with exit status ${h.code}${kind}${last ? `: ${last}` : ""}`));
    }
    if (raw !== undefined) {
      try {
        absorb(result, raw, opts.file, absFile);
      } catch (e) {
        if (!(e instanceof MalformedResult)) throw e;
        return fail(new JitError("PythonError", `the Python helper's result is malformed (${e.message})`));
      }
    }
    // Inputs: what Python loaded against what our run used, byte for byte.
    result.inputs = plan.leaves.map((l, i): CompareInput => {
      const got = isObj(raw) && Array.isArray(raw.inputs) && isObj(raw.inputs[i]) ? raw.inputs[i] : {};
      const sha = str(got.sha256) ?? "";
      return { path: l.path, type: str(got.type) ?? typeString(l.aval), sha256: sha, matches: sha !== "" && sha === sha256Of(ourInputs[i]) };
    });
    result.inputsMatch = result.inputs.every((x) => x.matches) && (result.inputs.length > 0 || isObj(raw));
    // Outputs against ours.
    if (opts.ours?.outputs) {
      for (const [name, folder] of [["numpy", "numpy"], ["jax_jit", "jax"]] as const) {
        const r = result.runs[name];
        if (!r || r.error || !r.outputs) continue;
        try {
          r.max_rel_diff = outputsDiff(path.join(dir, "out", folder), opts.ours.outputs);
        } catch (e) {
          result.warnings.push(`${name}'s outputs were not compared with ours: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    if (opts.ours?.jaxpr && result.jaxpr) {
      try {
        result.jaxprDiff = diffJaxprs(opts.ours.jaxpr, result.jaxpr);
      } catch (e) {
        result.warnings.push(`the jaxprs were not compared: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (result.hlo) result.xla = countXlaKernels(result.hlo);
    if (opts.keepDir) result.warnings.push(`the scratch folder was kept: ${dir}`);
  } finally {
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  }
  result.elapsed_ms = Date.now() - t0;
  return result;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The helper's result.json into `result` (checked field by field). */
function absorb(result: CompareResult, raw: unknown, userFile: string, absFile: string): void {
  if (!isObj(raw)) throw new MalformedResult("not a JSON object");
  if (raw.helper_version !== 1) throw new MalformedResult(`helper_version ${String(raw.helper_version)}, expected 1`);
  const v = isObj(raw.versions) ? raw.versions : {};
  for (const k of ["python", "numpy", "jax", "jaxlib"] as const) if (str(v[k])) result.versions[k] = v[k] as string;
  if (isObj(raw.jax) && str(raw.jax.backend)) result.jax = { backend: raw.jax.backend as string, device: str(raw.jax.device) ?? "", devices: num(raw.jax.devices) ?? 1 };
  result.missing.push(...strings(raw.missing));
  result.warnings.push(...strings(raw.warnings));
  const err = errorInfo(raw.error, userFile, absFile);
  if (err && !result.error) result.error = err;
  const runs = isObj(raw.runs) ? raw.runs : {};
  for (const k of ["numpy", "jax_eager", "jax_jit"] as const) {
    const r = run(runs[k], userFile, absFile);
    if (r) result.runs[k] = r;
  }
  for (const k of ["jaxpr", "stablehlo", "hlo"] as const) if (str(raw[k])) result[k] = raw[k] as string;
  if (isObj(raw.stage_errors)) {
    const se: NonNullable<CompareResult["stageErrors"]> = {};
    for (const k of ["jaxpr", "stablehlo", "hlo"] as const) {
      const e = errorInfo(raw.stage_errors[k], userFile, absFile);
      if (e) se[k] = e;
    }
    if (Object.keys(se).length) result.stageErrors = se;
  }
}

/**
 * max |theirs - ours| over max |ours|, for one output: the difference relative to the output's
 * scale (an elementwise relative difference blows up wherever a result is near zero, e.g. after
 * cancellation in a layer norm). NaN matches NaN, an infinity the same infinity; any other
 * mismatch involving them is Infinity.
 */
export function scaledDiff(theirs: ArrayValue, ours: ArrayValue): number {
  let diff = 0, scale = 0;
  const a = theirs.data, b = ours.data;
  for (let i = 0; i < b.length; i++) {
    const p = Number(a[i]), q = Number(b[i]);
    if (p === q || (p !== p && q !== q)) { if (Number.isFinite(q)) scale = Math.max(scale, Math.abs(q)); continue; }
    if (!Number.isFinite(p) || !Number.isFinite(q)) return Infinity;
    diff = Math.max(diff, Math.abs(p - q));
    scale = Math.max(scale, Math.abs(q));
  }
  return diff === 0 ? 0 : diff / Math.max(scale, 1e-30);
}

/** Largest scaled difference between the helper's outputs (`dir`/0.npy, ...) and ours. */
function outputsDiff(dir: string, ours: ArrayValue[]): number {
  let worst = 0;
  for (let i = 0; i < ours.length; i++) {
    const file = path.join(dir, `${i}.npy`);
    if (!existsSync(file)) throw new Error(`it returned fewer outputs than ours (${ours.length})`);
    const b = readFileSync(file);
    const theirs = readNpy(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), `output ${i}`);
    if (theirs.aval.shape.join(",") !== ours[i].aval.shape.join(",")) throw new Error(`output ${i} has shape [${theirs.aval.shape}], ours [${ours[i].aval.shape}]`);
    worst = Math.max(worst, scaledDiff(theirs, ours[i]));
  }
  if (existsSync(path.join(dir, `${ours.length}.npy`))) throw new Error(`it returned more outputs than ours (${ours.length})`);
  return worst;
}
