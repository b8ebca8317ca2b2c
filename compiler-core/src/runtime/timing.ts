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

export function measure(fn: () => void, opts: MeasureOptions): TimingStat {
  const warmup = opts.warmup ?? 1;
  for (let i = 0; i < warmup; i++) fn();
  const maxRuns = opts.maxRuns ?? Infinity;
  const maxTimeMs = opts.maxTimeMs ?? Infinity;
  const times: number[] = [];
  let total = 0;
  do {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    times.push(dt);
    total += dt;
    if (times.length >= maxRuns || total >= maxTimeMs) break;
  } while (times.length < opts.minRuns || total < opts.minTimeMs);
  return summarize(times);
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
  const maxRuns = opts.maxRuns ?? Infinity;
  const maxTimeMs = opts.maxTimeMs ?? Infinity;
  const times: number[] = [];
  let total = 0;
  do {
    const t0 = process.hrtime.bigint();
    await fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    times.push(dt);
    total += dt;
    if (times.length >= maxRuns || total >= maxTimeMs) break;
  } while (times.length < opts.minRuns || total < opts.minTimeMs);
  return summarize(times);
}
