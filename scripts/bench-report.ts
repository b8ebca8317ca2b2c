// The pure half of `npm run bench`: what is measured (examples, peer workloads, run options)
// and how the results become docs/BENCHMARKS.md. No timing here, so unit tests can run it.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { formatBytes, formatMs } from "../compiler-core/src/format";
import { listFunctions } from "../compiler-core/src/frontend/functions";
import type { Timings, TimingStat } from "../compiler-core/src/report";

// ---------------------------------------------------------------------------------------------
// Options

/** Backends the bench can measure: the CPU (one thread) or WebGPU (Dawn; scripts/bench-gpu.ts). */
export const BENCH_BACKENDS = ["cpu", "webgpu"] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

export interface BenchOptions {
  quick: boolean;
  backend: BenchBackend;
  /** Where the markdown goes; undefined prints the generated section to stdout. */
  out?: string;
  /** `out` is the default (no --out given): a WebGPU run on SwiftShader then prints instead of writing. */
  outDefault?: true;
  /** Also write the raw results as JSON here. */
  json?: string;
}

export class BenchUsageError extends Error {}

export const BENCH_USAGE = `Usage: npm run bench -- [--quick] [--backend cpu|webgpu] [--out FILE] [--json FILE]

  --quick        a smoke run (small sizes, few repeats); prints the markdown to stdout
                 unless --out is given, so it never overwrites the real numbers
  --backend B    cpu (default): one CPU thread against @jax-js/jax on wasm;
                 webgpu: the GPU through Dawn (copy bandwidth, fused kernels as a share of it,
                 matmul TFLOP/s, every example, @jax-js/jax on its webgpu device, real-JAX
                 fixtures). Each backend has its own generated section in docs/BENCHMARKS.md.
                 On SwiftShader (a CPU emulation of Vulkan) a full run prints instead of
                 writing docs/BENCHMARKS.md unless --out is given, and every table says
                 "SwiftShader (CPU emulation): not GPU performance"
  --out FILE     the markdown file to update (default docs/BENCHMARKS.md for a full run)
  --json FILE    also write the raw results as JSON`;

export function parseBenchArgs(argv: string[], defaultOut = "docs/BENCHMARKS.md"): BenchOptions {
  const o: BenchOptions = { quick: false, backend: "cpu" };
  let outGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new BenchUsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--quick": o.quick = true; break;
      case "--backend": {
        const v = value();
        if (v === "auto") throw new BenchUsageError("--backend auto: name the backend to measure, cpu or webgpu (each has its own section)");
        if (!(BENCH_BACKENDS as readonly string[]).includes(v)) throw new BenchUsageError(`--backend must be one of ${BENCH_BACKENDS.join(", ")} (got '${v}')`);
        o.backend = v as BenchBackend;
        break;
      }
      case "--out": o.out = value(); outGiven = true; break;
      case "--json": o.json = value(); break;
      default: throw new BenchUsageError(`unknown option ${a}`);
    }
  }
  if (!outGiven && !o.quick) {
    o.out = defaultOut;
    o.outDefault = true;
  }
  return o;
}

/** The repeat rule of each section (runtime/timing.ts semantics: warm-up, then min runs AND min time, capped). */
export function timingRule(quick: boolean) {
  return quick
    ? { examples: { minRuns: 2, minTimeMs: 10 }, workloads: { minRuns: 2, minTimeMs: 20, maxTimeMs: 400 }, copyRuns: 3, copyMiB: 16, rounds: 1 }
    : { examples: { minRuns: 5, minTimeMs: 200 }, workloads: { minRuns: 5, minTimeMs: 300, maxTimeMs: 3000 }, copyRuns: 7, copyMiB: 64, rounds: 2 };
}

// ---------------------------------------------------------------------------------------------
// The examples: every `def` with a `# jitlens: SPEC` comment above it in examples/*.py

export interface ExampleFn {
  file: string; // relative to the examples folder
  fn: string;
  args: string;
}

export function discoverExamples(dir: string): ExampleFn[] {
  const out: ExampleFn[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".py")).sort()) {
    out.push(...examplesInSource(file, readFileSync(path.join(dir, file), "utf8")));
  }
  return out;
}

/** Top-level functions with a spec comment, in file order: the product's own rule (frontend/functions.ts). */
export function examplesInSource(file: string, source: string): ExampleFn[] {
  return listFunctions(source).flatMap((f) => (f.specComment === undefined ? [] : [{ file, fn: f.name, args: f.specComment }]));
}

// ---------------------------------------------------------------------------------------------
// The peer workloads: the same functions written for JIT Lens (Python below) and for @jax-js/jax
// (scripts/bench-peer.ts, same names).

export type Verdict = "ours" | "peer" | "parity";

export interface Workload {
  /** Name of the Python function in WORKLOADS_PY and of the peer function. */
  fn: string;
  title: string;
  args: (quick: boolean) => string;
  /** An elementwise workload: its throughput is shown as a share of the copy bandwidth. */
  elementwise?: boolean;
  /** Time the eager (unfused) modes too. Off where eager equals compiled (one matmul). */
  eager: boolean;
  /** Written before the first run: who should win against the peer's jit, and why. */
  predicted: Verdict;
  why: string;
}

export const WORKLOADS_FILE = "<bench>/workloads.py";

export const WORKLOADS_PY = `import jax
import jax.numpy as jnp


def axpb_chain(x):
    return ((x * 1.5 + 0.5) * 0.75 - 0.25) * 2.0 + 1.0


def gelu(x):
    return 0.5 * x * (1.0 + jnp.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


def softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    e = jnp.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def layernorm(x, scale, shift):
    mu = jnp.mean(x, axis=-1, keepdims=True)
    sigma2 = jnp.var(x, axis=-1, keepdims=True)
    return (x - mu) * jax.lax.rsqrt(sigma2 + 1e-6) * scale + shift


def matmul(a, b):
    return a @ b


def mlp(x, w1, b1, w2, b2, w3, b3):
    h = jax.nn.gelu(x @ w1 + b1)
    h = jax.nn.gelu(h @ w2 + b2)
    return h @ w3 + b3


def sum_of_squares(x):
    return jnp.sum(x * x)
`;

const M = 1 << 20;

export const WORKLOADS: Workload[] = [
  { fn: "axpb_chain", title: "y = a·x + b chain (4 fma-like steps)", args: (q) => `x=f32[${q ? M : 16 * M}]`, elementwise: true, eager: true,
    predicted: "parity", why: "both fuse to one memory-bound loop; V8's typed-array loop vs Wasm should both approach copy speed" },
  { fn: "gelu", title: "gelu (tanh form)", args: (q) => `x=f32[${q ? M : 16 * M}]`, elementwise: true, eager: true,
    predicted: "peer", why: "compute-bound on tanh: ours calls Math.tanh (~30 ns, NOTES.md), Wasm has no tanh, so the peer inlines a cheaper approximation" },
  { fn: "softmax", title: "softmax over rows", args: (q) => `x=f32[${q ? 256 : 1024},1024]`, eager: true,
    predicted: "ours", why: "ours is one row-wise kernel; the peer's jit splits at each reduction (max, sum) and re-reads the rows" },
  { fn: "layernorm", title: "layer norm over rows", args: (q) => `x=f32[${q ? 256 : 1024},1024], scale=f32[1024], shift=f32[1024]`, eager: true,
    predicted: "ours", why: "ours is one row-wise kernel (mean and variance in one pass); the peer splits at the reductions" },
  { fn: "matmul", title: "matmul (smaller)", args: (q) => (q ? "a=f32[128,128], b=f32[128,128]" : "a=f32[256,256], b=f32[256,256]"), eager: false,
    predicted: "peer", why: "the peer's Wasm matmul is tuned (SIMD, tiling; its README claims OpenBLAS-class); ours is scalar JS tiles" },
  { fn: "matmul", title: "matmul (larger)", args: (q) => (q ? "a=f32[192,192], b=f32[192,192]" : "a=f32[512,512], b=f32[512,512]"), eager: false,
    predicted: "peer", why: "as for the smaller matmul, with more time in the inner loop" },
  { fn: "mlp", title: "MLP forward (3 layers, gelu)", args: (q) => q
      ? "x=f32[16,128], w1=f32[128,64], b1=f32[64], w2=f32[64,64], b2=f32[64], w3=f32[64,16], b3=f32[16]"
      : "x=f32[128,512], w1=f32[512,256], b1=f32[256], w2=f32[256,256], b2=f32[256], w3=f32[256,16], b3=f32[16]", eager: true,
    predicted: "peer", why: "matmul-bound; epilogue fusion (bias + gelu) saves little next to the peer's faster matmul" },
  { fn: "sum_of_squares", title: "reduction: sum(x·x)", args: (q) => `x=f32[${q ? M : 16 * M}]`, eager: true,
    predicted: "parity", why: "one fused read-reduce pass on both sides, memory-bound" },
];

/** A workload's row label: title plus the shape of its first argument. */
export function workloadLabel(w: Workload, quick: boolean): string {
  return `${w.title} — ${w.args(quick).split(/,\s*(?=\w+=)/)[0]}`;
}

/** Inside this band of peer/ours time ratios the two count as on par. */
export const PARITY_BAND: [number, number] = [0.8, 1.25];

export function verdict(peerOverOurs: number): Verdict {
  if (!Number.isFinite(peerOverOurs)) return "parity";
  if (peerOverOurs > PARITY_BAND[1]) return "ours";
  if (peerOverOurs < PARITY_BAND[0]) return "peer";
  return "parity";
}

// ---------------------------------------------------------------------------------------------
// Results (what bench.ts measures; plain JSON)

export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  platform: string;
  loadavg: number[];
  peerVersion: string;
  peerThreads: string;
}

export interface CopyResult {
  method: string;
  bytes: number; // size of one array
  best_ms: number;
  gbps: number; // (read + write) / best time
}

export interface ExampleResult {
  file: string;
  fn: string;
  args: string;
  timings?: Timings;
  error?: string;
}

export interface WorkloadResult {
  fn: string;
  label: string;
  predicted: Verdict;
  why: string;
  elementwise: boolean;
  minimumBytes?: number;
  kernels?: { eager: number; compiled: number };
  ours?: { compiled: TimingStat; eager?: TimingStat };
  peer?: { jit?: TimingStat; eager?: TimingStat; maxDiff?: number; refDiff?: number; error?: string };
  /** Ours against a float64 reference (where bench-peer.ts has one). */
  oursRefDiff?: number;
  error?: string;
}

export interface BenchResults {
  date: string;
  quick: boolean;
  backend: BenchBackend;
  machine: MachineInfo;
  rule: ReturnType<typeof timingRule>;
  copy: CopyResult[];
  /** Best time to allocate a fresh copy-sized Float32Array and touch every page. */
  freshArrayMs?: number;
  examples: ExampleResult[];
  workloads: WorkloadResult[];
  totalSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// Markdown

export const BEGIN_MARK = "<!-- bench:begin — generated by `npm run bench`; everything up to bench:end is rewritten -->";
export const END_MARK = "<!-- bench:end -->";

export type Align = "l" | "r" | "c";

/** A GitHub markdown table; `|` in cells is escaped, missing cells are blank. */
export function markdownTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  const sep = headers.map((_, i) => ({ l: "---", r: "---:", c: ":---:" })[align[i] ?? "l"]);
  const line = (cells: string[]) => `| ${headers.map((_, i) => cell(cells[i] ?? "")).join(" | ")} |`;
  return [line(headers), `|${sep.join("|")}|`, ...rows.map(line)].join("\n");
}

/** The markers of the WebGPU run's own generated section (the CPU run keeps BEGIN_MARK/END_MARK). */
export const WEBGPU_MARKS = {
  begin: "<!-- bench-webgpu:begin — generated by `npm run bench -- --backend webgpu`; everything up to bench-webgpu:end is rewritten -->",
  end: "<!-- bench-webgpu:end -->",
};

/** Replaces the text between the markers (markers included); appends the section when they are absent. */
export function replaceGenerated(doc: string, generated: string, marks = { begin: BEGIN_MARK, end: END_MARK }): string {
  const section = `${marks.begin}\n${generated.trim()}\n${marks.end}`;
  const b = doc.indexOf(marks.begin.split(" ").slice(0, 2).join(" "));
  const e = doc.indexOf(marks.end, b);
  if (b >= 0 && e > b) return doc.slice(0, b) + section + doc.slice(e + marks.end.length);
  return `${doc.trimEnd()}${doc.trim() ? "\n\n" : ""}${section}\n`;
}

/** max |a − b| / max |a|: a scale-aware difference that near-zero outputs do not blow up. */
export function scaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return worst / Math.max(scale, 1e-30);
}

/** The first sentence of a message, at most 200 characters, for a table or a list item. */
export const firstSentence = (m: string): string => {
  const s = m.split("\n")[0].replace(/^(.*?[.!?])\s.*$/, "$1");
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
};

export const DOC_SKELETON = `# Benchmarks

Regenerate with \`npm run bench\` (about 3 minutes; \`npm run bench -- --quick\` is a smoke run that
prints instead of writing). Everything between the bench markers below is rewritten by each run;
notes outside them are kept.
`;

const fx = (x: number | undefined, digits: number) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits));
const gbps = (bytes: number, msTime: number) => bytes / (msTime * 1e6);

// Cell formatters shared with scripts/bench-gpu-report.ts.
/** A ratio as `2.00×` (`12×` from 10 up); "–" when absent or not finite. */
export const ratio = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`);
/** A timing's median (or a plain time in ms); "–" when absent. */
export const ms = (t: TimingStat | number | undefined) => (t === undefined ? "–" : formatMs(typeof t === "number" ? t : t.median_ms));
/** A relative difference as `1.2e-7`; "0" when exact, "–" when absent. */
export const diffText = (d: number | undefined) => (d === undefined ? "–" : d === 0 ? "0" : d.toExponential(1));
/** Geometric mean (of positive, finite values). */
export const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
/** The faster of two timings by median (the second when the first is absent): interleaved rounds keep the best. */
export const better = (a: TimingStat | undefined, b: TimingStat): TimingStat => (!a || b.median_ms < a.median_ms ? b : a);

/** The copy row with the most GB/s: the reference for bandwidth shares. */
export function bestCopy<T extends { gbps: number }>(copy: T[]): T | undefined {
  return copy.reduce<T | undefined>((b, c) => (!b || c.gbps > b.gbps ? c : b), undefined);
}

/** The generated section: how measured, the machine, and one table per measurement. */
export function renderResults(r: BenchResults): string {
  const out: string[] = [];
  const rule = r.rule;
  const copyBest = bestCopy(r.copy);
  out.push(`_Generated ${r.date} by \`npm run bench${r.quick ? " -- --quick" : ""}\` in ${r.totalSeconds.toFixed(0)} s, backend \`${r.backend}\`${r.quick ? " — QUICK smoke run: small sizes and few repeats; do not quote these numbers" : ""}._`);
  out.push("");
  out.push("### Machine");
  out.push("");
  out.push(`- CPU: ${r.machine.cpu}, ${r.machine.cores} logical cores (JIT Lens runs on one thread)`);
  out.push(`- Node ${r.machine.node} (V8 ${r.machine.v8}), ${r.machine.platform}`);
  out.push(`- Peer: @jax-js/jax ${r.machine.peerVersion}, \`wasm\` device, ${r.machine.peerThreads}`);
  out.push(`- Load average at start: ${r.machine.loadavg.map((x) => x.toFixed(2)).join(", ")} (a shared machine: other work adds noise; compare ratios, not times)`);
  out.push("");
  out.push("### How measured");
  out.push("");
  out.push(`- Every timing is runtime/timing.ts's rule: warm-up run(s), then repeat until at least N runs **and** T ms were measured (capped), and report the median. Examples: N=${rule.examples.minRuns}, T=${rule.examples.minTimeMs} ms (the Report's own \`runAndMeasure\`). Peer workloads: N=${rule.workloads.minRuns}, T=${rule.workloads.minTimeMs} ms, cap ${rule.workloads.maxTimeMs} ms${rule.rounds > 1 ? `, in ${rule.rounds} interleaved rounds (ours, peer, ours, peer …), keeping each side's best median` : ""}.`);
  out.push("- Ratios are of medians measured in this one run, in one process, on one core: the eager/compiled speedup and ours vs the peer.");
  out.push("- Bytes: `minimum` reads each input once and writes each output once; `eager` and `compiled` sum every kernel's reads and writes (the Report's `timings.bytes`). GB/s = bytes / median time, 1 GB = 10⁹ B.");
  out.push(`- Copy bandwidth: one ${r.copy[0] ? formatBytes(r.copy[0].bytes) : "?"} Float32Array copied into another, best of ${rule.copyRuns} runs after warm-up, counted as bytes read + bytes written (the same convention as \`minimum\`).`);
  out.push("- Peer: the same functions written with @jax-js/jax's numpy API, wrapped in its `jit`, inputs already on its `wasm` device; a call is timed to `blockUntilReady()` (its arrays are lazy) and the output is disposed. Ours: `compiled.run` on Float32Arrays. Outputs are compared as max |ours − peer| / max |ours|, and, where scripts/bench-peer.ts has one, each against a float64 reference (max |x − ref| / max |ref|).");
  out.push("");

  out.push("### Copy bandwidth (one core)");
  out.push("");
  out.push(markdownTable(["method", "array", "best time", "GB/s (read + write)"],
    r.copy.map((c) => [c.method, formatBytes(c.bytes), formatMs(c.best_ms), fx(c.gbps, 1)]), ["l", "r", "r", "r"]));
  out.push("");
  if (r.freshArrayMs !== undefined && r.copy[0]) {
    out.push(`A fresh ${formatBytes(r.copy[0].bytes)} \`Float32Array\`, allocated and first touched (page faults, zeroing): ${formatMs(r.freshArrayMs)} — what a call pays for each output buffer it does not reuse.`);
    out.push("");
  }

  const ew = r.workloads.filter((w) => w.elementwise && w.ours && w.minimumBytes);
  out.push("### Compiled elementwise throughput vs copy bandwidth");
  out.push("");
  if (copyBest && ew.length) {
    out.push(markdownTable(["workload", "minimum traffic", "compiled median", "GB/s", `% of copy (${fx(copyBest.gbps, 1)} GB/s, ${copyBest.method})`],
      ew.map((w) => {
        const g = gbps(w.minimumBytes!, w.ours!.compiled.median_ms);
        return [w.label, formatBytes(w.minimumBytes!), ms(w.ours!.compiled), fx(g, 2), `${fx((100 * g) / copyBest.gbps, 0)}%`];
      }), ["l", "r", "r", "r", "r"]));
  } else {
    out.push("(not measured)");
  }
  out.push("");

  out.push(`### Examples: compiled vs eager (${r.backend})`);
  out.push("");
  const ok = r.examples.filter((e) => e.timings);
  const speedups = ok.map((e) => e.timings!.speedup).filter((s) => Number.isFinite(s) && s > 0);
  if (speedups.length) {
    out.push(`${ok.length} functions traced and ran; geometric-mean speedup ${ratio(geomean(speedups))}, compiled slower than eager on ${speedups.filter((s) => s < 1).length}.`);
    out.push("");
  }
  out.push(markdownTable(
    ["example", "args", "eager", "compiled", "speedup", "kernels (eager → compiled)", "bytes min / eager / compiled", "compiled ÷ min", "eager vs compiled diff"],
    ok.map((e) => {
      const t = e.timings!;
      return [`${e.file.replace(/\.py$/, "")}.${e.fn}`, `\`${e.args}\``, ms(t.eager), ms(t.compiled), ratio(t.speedup),
        `${t.kernels.eager} → ${t.kernels.compiled}`,
        `${formatBytes(t.bytes.minimum)} / ${formatBytes(t.bytes.eager)} / ${formatBytes(t.bytes.compiled)}`,
        ratio(t.bytes.minimum ? t.bytes.compiled / t.bytes.minimum : NaN), diffText(t.max_rel_diff)];
    }), ["l", "l", "r", "r", "r", "c", "r", "r", "r"]));
  const failed = r.examples.filter((e) => !e.timings);
  if (failed.length) {
    out.push("");
    out.push("Not benchmarked (the function does not trace or run; `errors.py` fails on purpose):");
    out.push("");
    for (const e of failed) out.push(`- \`${e.file}\` \`${e.fn}\`: ${e.error ?? "unknown error"}`);
  }
  out.push("");

  out.push("### Peer: @jax-js/jax `jit` on its `wasm` device");
  out.push("");
  out.push("`peer ÷ ours` is the peer's jit median over our compiled median: above 1, ours is faster. " +
    `Within ${PARITY_BAND[0]}–${PARITY_BAND[1]} counts as parity. The prediction was written before the first run.`);
  out.push("");
  out.push(markdownTable(
    ["workload", "ours compiled", "ours eager", "peer jit", "peer eager", "peer jit ÷ ours", "kernels (ours)", "predicted", "seen", "diff ours–peer", "error vs f64: ours / peer"],
    r.workloads.map((w) => {
      const pr = w.peer?.jit && w.ours ? w.peer.jit.median_ms / w.ours.compiled.median_ms : undefined;
      const seen = w.error ? `ours failed: ${w.error}` : w.peer?.error ? `peer failed: ${w.peer.error}` : pr === undefined ? "–" : verdict(pr);
      return [w.label, ms(w.ours?.compiled), ms(w.ours?.eager), ms(w.peer?.jit), ms(w.peer?.eager), ratio(pr),
        w.kernels ? `${w.kernels.eager} → ${w.kernels.compiled}` : "–", w.predicted, seen, diffText(w.peer?.maxDiff),
        w.oursRefDiff === undefined ? "–" : `${diffText(w.oursRefDiff)} / ${diffText(w.peer?.refDiff)}`];
    }), ["l", "r", "r", "r", "r", "r", "c", "c", "l", "r", "r"]));
  out.push("");
  out.push(predictedVsSeen(r.workloads));
  out.push("");
  out.push("Why each prediction:");
  out.push("");
  for (const w of r.workloads) out.push(`- ${w.label}: ${w.predicted} — ${w.why}.`);
  return out.join("\n");
}

/** One line: what was predicted against the peer, what was seen, how many predictions held. */
export function predictedVsSeen(ws: WorkloadResult[]): string {
  const measured = ws.filter((w) => w.ours && w.peer?.jit);
  const names = (v: Verdict, pick: (w: WorkloadResult) => Verdict) => measured.filter((w) => pick(w) === v).map((w) => w.label.split(" — ")[0]);
  const seenOf = (w: WorkloadResult) => verdict(w.peer!.jit!.median_ms / w.ours!.compiled.median_ms);
  const list = (xs: string[]) => (xs.length ? xs.join(", ") : "none");
  const held = measured.filter((w) => seenOf(w) === w.predicted).length;
  const faster = measured.filter((w) => seenOf(w) === "ours").length;
  return `**Predicted vs seen.** Predicted ours faster on: ${list(names("ours", (w) => w.predicted))}; peer faster on: ${list(names("peer", (w) => w.predicted))}; parity on: ${list(names("parity", (w) => w.predicted))}. ` +
    `Seen ours faster on: ${list(names("ours", seenOf))}; peer faster on: ${list(names("peer", seenOf))}; parity on: ${list(names("parity", seenOf))}. ` +
    `${held} of ${measured.length} predictions held; ours beats the peer's jit on ${faster} of ${measured.length} workloads (the issue's goal: all).`;
}
