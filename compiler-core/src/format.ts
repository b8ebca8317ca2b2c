// How a Report's numbers are written for people: the CodeLens titles and the viewer's labels.
// Pure functions (no `vscode`, no DOM) so that both sides share them and unit tests run in Node.
import type { ErrorInfo, Report, Timings } from "./report";

export const LENS_IDLE = "⚡ Trace & Compile";
export const LENS_RUNNING = "$(sync~spin) Tracing & compiling…";
export const LENS_IR = "IR";

/**
 * A duration in milliseconds with two or three significant digits and a unit that fits:
 * `12 µs`, `0.90 ms`, `5.5 ms`, `340 ms`, `1.25 s`.
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 0) return `-${formatMs(-ms)}`;
  if (ms === 0) return "0 ms";
  // Round first, then pick the band, so 9.96 ms becomes `10 ms`, not `10.0 ms`.
  const us = ms * 1000;
  if (round(us, 2) < 1) return `${us.toFixed(2)} µs`;
  if (round(us, 1) < 10) return `${us.toFixed(1)} µs`;
  if (round(us, 0) < 100) return `${us.toFixed(0)} µs`;
  if (round(ms, 2) < 1) return `${ms.toFixed(2)} ms`;
  if (round(ms, 1) < 10) return `${ms.toFixed(1)} ms`;
  if (round(ms, 0) < 1000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

/** `6.1×`: the eager/compiled ratio with one decimal. */
export function formatSpeedup(speedup: number): string {
  return Number.isFinite(speedup) ? `${speedup.toFixed(1)}×` : "–×";
}

/** A byte count with a binary unit: `512 B`, `2.0 KiB`, `4.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A large count in short form: `950`, `1.2 K`, `3.4 M`, `5.6 G`. */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return String(n);
  if (a < 1e6) return `${(n / 1e3).toFixed(1)} K`;
  if (a < 1e9) return `${(n / 1e6).toFixed(1)} M`;
  return `${(n / 1e9).toFixed(1)} G`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `CPU`, or `WebGPU: <device>`. */
export function formatBackend(t: Pick<Timings, "backend" | "device">): string {
  return t.backend === "webgpu" ? `WebGPU: ${t.device}` : "CPU";
}

/** `1 kernel from 8 ops`, or undefined when the Report has no kernels. */
export function formatKernels(r: Pick<Report, "kernels" | "eqnCount">): string | undefined {
  if (!r.kernels) return undefined;
  const k = plural(r.kernels.length, "kernel");
  return r.eqnCount === undefined ? k : `${k} from ${plural(r.eqnCount, "op")}`;
}

/** Shortens to at most `max` characters (first line only), ending with `…` when cut. */
export function cut(text: string, max: number): string {
  const first = text.split("\n", 1)[0].trim();
  const more = first.length < text.trim().length;
  if (first.length <= max && !more) return first;
  return first.length < max ? `${first}…` : `${first.slice(0, max - 1).trimEnd()}…`;
}

/** `⚠ <Kind>: <message, cut to 60 chars>`. */
export function errorLensTitle(e: ErrorInfo): string {
  return `⚠ ${e.kind}: ${cut(e.message, 60)}`;
}

/**
 * The CodeLens title after a run, e.g.
 * `⚡ 6.1× compiled vs interpreted · 0.90 ms vs 5.5 ms · 1 kernel from 8 ops · CPU`;
 * after a trace without timings, `⚡ Traced · 1 kernel from 8 ops`.
 */
export function resultLensTitle(r: Report): string {
  if (r.error) return errorLensTitle(r.error);
  const kernels = formatKernels(r);
  const t = r.timings;
  if (!t) return ["⚡ Traced", kernels].filter(Boolean).join(" · ");
  return [
    `⚡ ${formatSpeedup(t.speedup)} compiled vs interpreted`,
    `${formatMs(t.compiled.median_ms)} vs ${formatMs(t.eager.median_ms)}`,
    kernels,
    formatBackend(t),
  ]
    .filter(Boolean)
    .join(" · ");
}
