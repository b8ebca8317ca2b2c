// Timing: warm up, then repeat until both a minimum count and a minimum time are met
// (capped by maxRuns / maxTimeMs), and report median, min and max of the runs.
import type { TimingStat } from "../report";
import type { ArrayValue } from "../ir/types";

export interface MeasureOptions {
  minRuns: number;
  minTimeMs: number;
  /** Untimed runs first (default 1). */
  warmup?: number;
  maxRuns?: number;
  maxTimeMs?: number;
}

/** Wall-clock milliseconds since an arbitrary origin (for stage timings). */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The timing loop's bookkeeping: records a run's time, and says whether another is wanted. */
class Runs {
  readonly times: number[] = [];
  private total = 0;
  private readonly maxRuns: number;
  private readonly maxTimeMs: number;
  constructor(private readonly opts: MeasureOptions) {
    this.maxRuns = opts.maxRuns ?? Infinity;
    this.maxTimeMs = opts.maxTimeMs ?? Infinity;
  }
  /** Records one run (started at `t0`, a process.hrtime.bigint()); true while more are wanted. */
  add(t0: bigint): boolean {
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    this.times.push(dt);
    this.total += dt;
    if (this.times.length >= this.maxRuns || this.total >= this.maxTimeMs) return false;
    return this.times.length < this.opts.minRuns || this.total < this.opts.minTimeMs;
  }
}

export function measure(fn: () => void, opts: MeasureOptions): TimingStat {
  const warmup = opts.warmup ?? 1;
  for (let i = 0; i < warmup; i++) fn();
  const runs = new Runs(opts);
  for (let more = true; more; ) {
    const t0 = process.hrtime.bigint();
    fn();
    more = runs.add(t0);
  }
  return summarize(runs.times);
}

export function summarize(times: number[]): TimingStat {
  if (times.length === 0) throw new Error("no timed runs");
  const sorted = [...times].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { median_ms: median, min_ms: sorted[0], max_ms: sorted[n - 1], runs: n };
}

/**
 * Largest |a - b| over the arrays, divided by their largest finite magnitude (at least
 * `tiny`). NaN matches NaN and an infinity matches the same infinity; any other mismatch
 * involving NaN or ±inf is Infinity.
 */
export function maxRelDiff(a: ArrayValue, b: ArrayValue, tiny = 1e-30): number {
  if (a.aval.shape.length !== b.aval.shape.length || a.aval.shape.some((d, i) => d !== b.aval.shape[i])) {
    throw new Error(`maxRelDiff: shapes differ ([${a.aval.shape}] vs [${b.aval.shape}])`);
  }
  if (a.data.length !== b.data.length) throw new Error("maxRelDiff: data lengths differ");
  // Scaled by the arrays' largest magnitude, not element by element: an output that crosses
  // zero (a layer norm) has elements near 0 whose own relative error means nothing.
  let worst = 0, scale = tiny;
  const x = a.data, y = b.data;
  for (let i = 0; i < x.length; i++) {
    const p = x[i], q = y[i];
    if (Number.isFinite(p)) scale = Math.max(scale, Math.abs(p));
    if (Number.isFinite(q)) scale = Math.max(scale, Math.abs(q));
    if (p === q) continue;
    if (p !== p && q !== q) continue;
    if (!Number.isFinite(p) || !Number.isFinite(q)) return Infinity;
    const d = Math.abs(p - q);
    if (d > worst) worst = d;
  }
  return worst / scale;
}

/** measure() for asynchronous work (e.g. GPU runs awaited to completion). */
export async function measureAsync(fn: () => Promise<void>, opts: MeasureOptions): Promise<TimingStat> {
  const warmup = opts.warmup ?? 1;
  for (let i = 0; i < warmup; i++) await fn();
  const runs = new Runs(opts);
  for (let more = true; more; ) {
    const t0 = process.hrtime.bigint();
    await fn();
    more = runs.add(t0);
  }
  return summarize(runs.times);
}

/** The options of an analyze/bench timing run from the request's `timing` (defaults: 5 runs, 200 ms). */
export function timingOptions(timing?: { minRuns?: number; minTimeMs?: number }): MeasureOptions {
  const minTimeMs = timing?.minTimeMs ?? 200;
  return { minRuns: timing?.minRuns ?? 5, minTimeMs, maxRuns: 10_000, maxTimeMs: Math.max(2000, minTimeMs * 4) };
}

/** maxRelDiff() over paired outputs (the largest). */
export function maxRelDiffAll(a: ArrayValue[], b: ArrayValue[]): number {
  let diff = 0;
  a.forEach((o, i) => (diff = Math.max(diff, maxRelDiff(o, b[i]))));
  return diff;
}
