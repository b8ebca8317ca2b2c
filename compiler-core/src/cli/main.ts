// The `jitlens` command line: trace, run and bench a function of a Python file, as DESIGN.md
// specifies. Errors in the user's code or input print `FILE:LINE:COL: Kind: message` and exit 1;
// usage errors exit 2; a JavaScript stack trace is never what a user sees.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { prepare, runAndMeasure, makeInputs, toErrorInfo, type Prepared } from "../api";
import { measureOnBackend, prepareWebGPU, type GpuPrepared } from "../runtime/webgpu/backend";
import type { AnalyzeParams, Backend } from "../engine/protocol";
import { JitError } from "../frontend/source";
import { typeString, type ArrayValue } from "../ir/types";
import { writeNpy } from "../npy";
import { formatError, irText, type Report, type Timings } from "../report";
import { formatBytes, formatMs, formatSpeedup } from "../format";
import { compareCommand } from "./compare";

const USAGE = `JIT Lens: trace, compile and time a jax.numpy function with JIT Lens's own compiler.

Usage:
  jitlens trace FILE --fn NAME [--arg NAME=SPEC]... [--format text|json]
  jitlens run   FILE --fn NAME [--arg NAME=SPEC]... [--mode eager|compiled]
                [--backend auto|webgpu|cpu] [--seed N] [--out-dir DIR]
  jitlens bench FILE --fn NAME [--arg NAME=SPEC]... [--backend auto|webgpu|cpu] [--format text|json]
  jitlens compare FILE --fn NAME [--arg NAME=SPEC]... [--python PATH] [--timeout SECONDS]
                [--seed N] [--backend auto|webgpu|cpu] [--format text|json]
                (runs the function in your Python with NumPy and JAX: it executes your code)

Argument specs: f32[512,1024], i32[8], bool[4], f32[] (a scalar), load("x.npy"), a Python
literal for a static argument (3, 0.5, "relu"), and tuples/lists/dicts of these. Without
--arg, the '# jitlens: x=f32[1024]' comment above the def is used.

Exit status: 0 success, 1 an error in the Python code or its inputs, 2 a usage error.`;

class UsageError extends Error {}

interface Options {
  command: string;
  file: string;
  fn?: string;
  args: string[];
  format: "text" | "json";
  mode: "eager" | "compiled";
  backend: Backend;
  seed: number;
  outDir?: string;
  /** compare: the Python interpreter, and the helper's time limit in seconds. */
  python?: string;
  timeoutS?: number;
}

function parseArgs(argv: string[]): Options {
  const [command, ...rest] = argv;
  const o: Options = { command, file: "", args: [], format: "text", mode: "compiled", backend: "auto", seed: 0 };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const oneOf = <T extends string>(v: string, allowed: readonly T[]): T => {
      if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(", ")} (got '${v}')`);
      return v as T;
    };
    switch (flag) {
      case "--fn": o.fn = value(); break;
      case "--arg": o.args.push(value()); break;
      case "--format": o.format = oneOf(value(), ["text", "json"] as const); break;
      case "--mode": o.mode = oneOf(value(), ["eager", "compiled"] as const); break;
      case "--backend": o.backend = oneOf(value(), ["auto", "webgpu", "cpu"] as const); break;
      case "--seed": {
        const v = Number(value());
        if (!Number.isInteger(v) || v < 0) throw new UsageError("--seed must be a non-negative integer");
        o.seed = v;
        break;
      }
      case "--out-dir": o.outDir = value(); break;
      case "--python": o.python = value(); break;
      case "--timeout": {
        const v = Number(value());
        if (!Number.isFinite(v) || v <= 0) throw new UsageError("--timeout must be a positive number of seconds");
        o.timeoutS = v;
        break;
      }
      default:
        if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        positional.push(a);
    }
  }
  if (positional.length !== 1) throw new UsageError(positional.length ? `expected one FILE, got ${positional.length}` : "missing FILE");
  o.file = positional[0];
  if (!o.fn) throw new UsageError("missing --fn NAME");
  return o;
}

function readSource(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new JitError("FileError", code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a Python file" : `cannot read the file (${code ?? String(e)})`, { file, line: 1, col: 1, endLine: 1, endCol: 1 });
  }
}

function params(o: Options): AnalyzeParams {
  return {
    file: o.file,
    source: readSource(o.file),
    fn: o.fn,
    args: o.args.length ? o.args.join(", ") : undefined,
    backend: o.backend,
  };
}

/** Warnings of the report (e.g. why the WebGPU backend was not used) on stderr. */
function printWarnings(r: Report): void {
  for (const w of r.warnings ?? []) process.stderr.write(`jitlens: warning: ${w}\n`);
}


export function timingTable(r: Report, t: Timings): string {
  const rows = [
    ["", "median", "min", "max", "runs", "kernels", "traffic"],
    ["interpreted", formatMs(t.eager.median_ms), formatMs(t.eager.min_ms), formatMs(t.eager.max_ms), String(t.eager.runs), String(t.kernels.eager), formatBytes(t.bytes.eager)],
    ["compiled", formatMs(t.compiled.median_ms), formatMs(t.compiled.min_ms), formatMs(t.compiled.max_ms), String(t.compiled.runs), String(t.kernels.compiled), formatBytes(t.bytes.compiled)],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("   "));
  return [
    `${r.fn}(${r.args.map((a) => `${a.name}=${a.type}`).join(", ")}) on ${t.backend === "cpu" ? `CPU: ${t.device}` : t.device}`,
    ...lines,
    `speedup: ${formatSpeedup(t.speedup)} compiled vs interpreted · ${r.kernels?.length ?? 0} kernel${r.kernels?.length === 1 ? "" : "s"} from ${r.eqnCount} ops`,
    `minimum traffic ${formatBytes(t.bytes.minimum)} · first call (trace + compile + run) ${formatMs(t.first_call_ms)} · eager and compiled outputs agree within ${t.max_rel_diff.toExponential(1)} (relative)`,
  ].join("\n");
}

function outputSummary(a: ArrayValue): string {
  const n = a.data.length;
  const head = Array.from(a.data.slice(0, 6), (v) => (a.aval.dtype === "f32" || a.aval.dtype === "f64" ? Number(v).toPrecision(6) : String(v)));
  return `${typeString(a.aval)} [${head.join(", ")}${n > 6 ? ", ..." : ""}]`;
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE + "\n");
    return command ? 0 : 2;
  }
  if (command === "--version") {
    process.stdout.write("jitlens 0.1.0\n");
    return 0;
  }
  if (command === "engine") {
    const { startEngineServer } = await import("../engine/server");
    startEngineServer();
    return -1; // keep running
  }
  if (!["trace", "run", "bench", "compare"].includes(command)) throw new UsageError(`unknown command '${command}' (expected trace, run, bench or compare)`);
  const o = parseArgs(argv);
  if (o.command === "compare") return compareCommand({ file: o.file, fn: o.fn!, format: o.format, seed: o.seed, python: o.python, timeoutS: o.timeoutS }, params(o));
  const p = prepare(params(o));
  if (o.command === "trace") {
    process.stdout.write(o.format === "json" ? JSON.stringify(p.report, null, 2) + "\n" : irText(p.report.jaxpr!) + "\n");
    return 0;
  }
  // --backend webgpu|auto: compile for the GPU too; a fault falls back to the CPU with a warning.
  const gpu = await prepareWebGPU(p, params(o));
  try {
    return await runOrBench(o, p, gpu);
  } finally {
    gpu?.dispose();
  }
}

async function runOrBench(o: Options, p: Prepared, gpu: GpuPrepared | undefined): Promise<number> {
  if (o.command === "run") {
    const inputs = makeInputs(p.trace, o.seed);
    let outs: ArrayValue[] | undefined;
    if (gpu) {
      try {
        outs = await (o.mode === "eager" ? gpu.eager : gpu.compiled).runAsync(inputs);
      } catch (e) {
        (p.report.warnings ??= []).push(`WebGPU run failed, ran on the CPU instead: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    printWarnings(p.report);
    outs ??= (o.mode === "eager" ? p.eager : p.compiled).run(inputs);
    if (o.outDir) {
      mkdirSync(o.outDir, { recursive: true });
      outs.forEach((a, i) => writeFileSync(path.join(o.outDir!, `${i}.npy`), writeNpy(a)));
      process.stderr.write(`wrote ${outs.length} output${outs.length === 1 ? "" : "s"} to ${o.outDir} (${o.mode})\n`);
    } else {
      outs.forEach((a, i) => process.stdout.write(`${i}: ${outputSummary(a)}\n`));
    }
    return 0;
  }
  const t = await measureOnBackend(p, gpu, params(o), () => runAndMeasure(p, params(o), o.seed), o.seed);
  p.report.timings = t;
  printWarnings(p.report);
  if (o.format === "json") {
    const { backend, device, eager, compiled, speedup, first_call_ms, kernels, bytes, max_rel_diff } = t;
    const warnings = p.report.warnings?.length ? { warnings: p.report.warnings } : {};
    process.stdout.write(JSON.stringify({ file: o.file, fn: p.report.fn, backend, device, eager, compiled, speedup, first_call_ms, kernels, bytes, max_rel_diff, eqns: p.report.eqnCount, ...warnings }, null, 2) + "\n");
  } else {
    process.stdout.write(timingTable(p.report, t) + "\n");
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`jitlens: error: ${e.message}\nRun 'jitlens --help' for usage.\n`);
      process.exitCode = 2;
    } else if (e instanceof JitError) {
      const file = process.argv[3] ?? "<input>";
      process.stderr.write(formatError(e.info(), file) + "\n");
      process.exitCode = 1;
    } else {
      const info = toErrorInfo(e);
      process.stderr.write(`jitlens: ${info.kind}: ${info.message}\n`);
      if (process.env.JITLENS_DEBUG && e instanceof Error) process.stderr.write(String(e.stack) + "\n");
      process.exitCode = 3;
    }
  },
);
