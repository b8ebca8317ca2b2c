// `jitlens compare FILE --fn NAME [--arg ...] [--python PATH] [--timeout S] [--format text|json]`:
// our trace and timings next to the user's own NumPy and JAX (compare.ts, docs/COMPARE.md).
// Exit status: 0 when the comparison ran (what is missing, e.g. JAX, is reported, not an error),
// 1 when the function could not be compared (an error in the Python code or its inputs, no
// interpreter, a timeout), 3 for our own bug; usage errors (2) are main.ts's.
import { baseReport, makeInputs, npyLoader, prepare, runAndMeasure, toErrorInfo } from "../api";
import { compareWithPython, type CompareOptions } from "../compare";
import type { AnalyzeParams } from "../engine/protocol";
import { formatMs } from "../format";
import { formatError, irText, type CompareResult, type CompareRun, type ErrorInfo, type Report, type TimingStat } from "../report";
import { measureOnBackend, prepareWebGPU } from "../runtime/webgpu/backend";

export interface CompareCliOptions {
  file: string;
  fn: string;
  format: "text" | "json";
  seed: number;
  python?: string;
  timeoutS?: number;
}

/** Runs the comparison, prints it, and returns the exit status. */
export async function compareCommand(o: CompareCliOptions, params: AnalyzeParams): Promise<number> {
  let report: Report;
  let ours: CompareOptions["ours"];
  try {
    const p = prepare(params);
    report = p.report;
    const gpu = await prepareWebGPU(p, params);
    try {
      report.timings = await measureOnBackend(p, gpu, params, () => runAndMeasure(p, params, o.seed), o.seed);
    } finally {
      gpu?.dispose();
    }
    const inputs = makeInputs(p.trace, o.seed);
    ours = { jaxpr: report.jaxpr ? irText(report.jaxpr) : undefined, inputs, outputs: p.compiled.run(inputs) };
  } catch (e) {
    // Our tracer could not do it: JAX and NumPy may still run it (and say the same, or not).
    report = { ...baseReport(params), error: toErrorInfo(e) };
  }
  report.compare = await compareWithPython({
    file: params.file,
    source: params.source,
    fn: params.fn ?? "",
    args: params.args,
    seed: o.seed,
    python: o.python,
    pythonSetting: process.env.JITLENS_PYTHON,
    timeoutMs: o.timeoutS !== undefined ? o.timeoutS * 1000 : undefined,
    timing: params.timing,
    loadNpy: npyLoader(params.file),
    ours,
  });
  const c = report.compare;
  for (const w of [...(report.warnings ?? []), ...c.warnings]) process.stderr.write(`jitlens: warning: ${w}\n`);
  if (o.format === "json") process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else process.stdout.write(compareText(report) + "\n");
  const errors: ErrorInfo[] = [report.error, c.error].filter((e): e is ErrorInfo => !!e);
  const seen = new Set<string>();
  for (const e of errors) {
    const line = e.kind === "InternalError" ? `jitlens: ${e.kind}: ${e.message}` : formatError(e, params.file);
    if (!seen.has(line)) process.stderr.write(line + "\n");
    seen.add(line);
  }
  if (errors.some((e) => e.kind === "InternalError")) return 3;
  return errors.length ? 1 : 0;
}

const dash = "—";

function row(label: string, t: TimingStat | undefined, first: number | undefined, kernels: string, diff: number | undefined): string[] {
  return [
    label,
    t ? formatMs(t.median_ms) : dash,
    t ? formatMs(t.min_ms) : dash,
    t ? formatMs(t.max_ms) : dash,
    t ? String(t.runs) : dash,
    first !== undefined ? formatMs(first) : dash,
    kernels,
    diff !== undefined ? diff.toExponential(1) : dash,
  ];
}

/** The comparison as text: one table of every way the function ran, then the jaxpr diff and what is missing. */
export function compareText(r: Report): string {
  const c = r.compare as CompareResult;
  const out: string[] = [];
  const env = [
    `Python ${c.versions.python ?? "?"} (${c.python.path})`,
    c.versions.numpy ? `NumPy ${c.versions.numpy}` : "no NumPy",
    c.versions.jax ? `JAX ${c.versions.jax}${c.jax ? ` on ${c.jax.backend}: ${c.jax.device}` : ""}` : "no JAX",
  ].join(" · ");
  const sig = r.args.length ? `${r.fn}(${r.args.map((a) => `${a.name}=${a.type}`).join(", ")})` : r.fn;
  out.push(`${sig} — JIT Lens vs ${env}`);
  const t = r.timings;
  const ourDevice = t ? (t.backend === "cpu" ? `CPU` : t.device) : undefined;
  const rows: string[][] = [["", "median", "min", "max", "runs", "first call", "kernels", "diff vs ours"]];
  if (t) {
    rows.push(row(`JIT Lens interpreted (${ourDevice})`, t.eager, undefined, String(t.kernels.eager), undefined));
    rows.push(row(`JIT Lens compiled (${ourDevice})`, t.compiled, t.first_call_ms, String(t.kernels.compiled), undefined));
  }
  const runRow = (label: string, run: CompareRun | undefined, kernels: string) => { if (run) rows.push(row(label, run.timing, run.first_call_ms, kernels, run.max_rel_diff)); };
  runRow("NumPy", c.runs.numpy, dash);
  runRow("JAX eager (disable_jit)", c.runs.jax_eager, dash);
  runRow("jax.jit", c.runs.jax_jit, c.xla ? `${c.xla.kernels} (XLA)` : dash);
  if (rows.length > 1) {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
    for (const x of rows) out.push(x.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("   ").trimEnd());
  }
  if (t && c.runs.jax_jit?.timing) {
    const ratio = c.runs.jax_jit.timing.median_ms / t.compiled.median_ms;
    out.push(`ours compiled vs jax.jit: ${ratio >= 1 ? `${ratio.toFixed(2)}× faster` : `${(1 / ratio).toFixed(2)}× slower`} (different devices unless both ran on the same one)`);
  }
  if (c.xla) {
    const kinds = Object.entries(c.xla.byKind).map(([k, n]) => `${n} ${k}`).join(", ");
    out.push(`XLA: ${c.xla.fusions} fusion${c.xla.fusions === 1 ? "" : "s"}${kinds ? ` (${kinds})` : ""}, ${c.xla.customCalls} custom call${c.xla.customCalls === 1 ? "" : "s"}, ${c.xla.otherOps} unfused op${c.xla.otherOps === 1 ? "" : "s"}${r.kernels ? ` · ours: ${r.kernels.length} kernel${r.kernels.length === 1 ? "" : "s"}` : ""}`);
  }
  if (c.inputs.length) out.push(`inputs: ${c.inputs.length} array${c.inputs.length === 1 ? "" : "s"} (seed ${c.seed}), ${c.inputsMatch ? "bit-for-bit identical on both sides" : `DIFFERENT from ours: ${c.inputs.filter((x) => !x.matches).map((x) => x.path).join(", ")}`}`);
  const d = c.jaxprDiff;
  if (d) {
    if (d.same) out.push(`jaxpr: same primitives, shapes and dtypes as JAX's (${d.counts.ours} equations)${d.sameParams ? "" : "; some params differ"}`);
    else out.push(`jaxpr: differs from JAX's (ours ${d.counts.ours} equations, JAX ${d.counts.jax}, ${d.counts.matched} aligned)`);
    for (const m of d.mismatches.slice(0, 12)) out.push(`  - ${m.message}`);
    if (d.mismatches.length > 12) out.push(`  ... ${d.mismatches.length - 12} more (--format json lists them)`);
    for (const n of d.notes) out.push(`  (${n})`);
  }
  for (const [label, run] of [["NumPy", c.runs.numpy], ["JAX eager", c.runs.jax_eager], ["jax.jit", c.runs.jax_jit]] as const) {
    if (run?.error) out.push(`${label}: ${formatError(run.error, r.file)}`);
  }
  for (const [stage, e] of Object.entries(c.stageErrors ?? {})) out.push(`${stage}: ${formatError(e, r.file)}`);
  for (const m of c.missing) out.push(`missing: ${m}`);
  return out.join("\n");
}
