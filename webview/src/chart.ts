// The Timings charts, drawn with d3 on log time axes; colours come from the theme (CSS
// classes in styles.ts), so they read in light, dark and high contrast.
//   timingChart: per backend measured, the function interpreted (eager) and compiled: the
//     median as the bar, the min–max spread as a whisker, the speedup next to the compiled bar.
//   kernelChart: per profiled kernel, its measured time as the bar and its bandwidth floor
//     (bytes moved over the bandwidth) as a tick: how far each kernel is from the roofline.
import { axisBottom, scaleBand, scaleLog, select } from "d3";
import type { KernelInfo, TimingStat, Timings } from "../../compiler-core/src/report";
import { formatMs, formatSpeedup } from "../../compiler-core/src/format";

const WIDTH = 640;
const BAR = 22;

export interface TimingGroup {
  /** e.g. `CPU` or `WebGPU: <device>`. */
  label: string;
  timings: Timings;
}

/** A run of the user's own Python (Compare with JAX): a bar when it was timed, else why not. */
export interface ExtraRun {
  mode: "numpy" | "jax_eager" | "jax_jit";
  /** e.g. `NumPy`, `JAX eager`, `jax.jit`. */
  label: string;
  /** Where it ran, e.g. `numpy` or JAX's backend (`gpu`). */
  group: string;
  timing?: TimingStat;
  /** Shown instead of a bar when there is no timing. */
  note?: string;
}

interface Row {
  key: string;
  group: string;
  mode: "eager" | "compiled" | ExtraRun["mode"];
  label: string;
  median: number;
  min: number;
  max: number;
  speedup?: number;
  /** No bar: this text instead (a run that did not run). */
  note?: string;
}

/** Cut to `n` characters with an ellipsis. */
function cut(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/** A log domain from the decade at or below the smallest value to a bit past the largest. */
function logDomain(values: number[]): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = positive.length ? Math.min(...positive) : 1e-3;
  const hi = positive.length ? Math.max(...positive) : 1;
  const floor = 10 ** Math.floor(Math.log10(lo * 0.999));
  return [floor, Math.max(hi * 1.15, floor * 10)];
}

function svgRoot(cls: string, height: number, label: string) {
  return select(document.createElementNS("http://www.w3.org/2000/svg", "svg"))
    .attr("class", `chart ${cls}`)
    .attr("viewBox", `0 0 ${WIDTH} ${height}`)
    .attr("role", "img")
    .attr("aria-label", label);
}

export function timingChart(groups: TimingGroup[], extra: ExtraRun[] = []): SVGSVGElement {
  const margin = { top: 8, right: 150, bottom: 28, left: 150 };
  const ours: Row[] = groups.flatMap((g) => [
    { key: `${g.label}/eager`, group: g.label, mode: "eager" as const, label: "interpreted (eager)", median: g.timings.eager.median_ms, min: g.timings.eager.min_ms, max: g.timings.eager.max_ms },
    { key: `${g.label}/compiled`, group: g.label, mode: "compiled" as const, label: "compiled", median: g.timings.compiled.median_ms, min: g.timings.compiled.min_ms, max: g.timings.compiled.max_ms, speedup: g.timings.speedup },
  ]);
  const theirs: Row[] = extra.map((e) => ({ key: `python/${e.mode}`, group: e.group, mode: e.mode, label: e.label, median: e.timing?.median_ms ?? 0, min: e.timing?.min_ms ?? 0, max: e.timing?.max_ms ?? 0, note: e.timing ? undefined : e.note ?? "not timed" }));
  const rows = [...ours, ...theirs];
  const height = margin.top + rows.length * (BAR + 12) + margin.bottom;
  const domain = logDomain(rows.filter((r) => r.note === undefined).flatMap((r) => [r.median, r.min, r.max]));
  const x = scaleLog().domain(domain).range([margin.left, WIDTH - margin.right]).clamp(true);
  const y = scaleBand<string>().domain(rows.map((r) => r.key)).range([margin.top, height - margin.bottom]).padding(0.3);
  const svg = svgRoot("timing-chart", height, [
    ...groups.map((g) => `${g.label}: interpreted ${formatMs(g.timings.eager.median_ms)}, compiled ${formatMs(g.timings.compiled.median_ms)}, ${formatSpeedup(g.timings.speedup)}`),
    ...theirs.map((r) => `${r.label}: ${r.note ?? formatMs(r.median)}`),
  ].join("; "));
  svg.attr("data-testid", "timing-chart");
  svg
    .append("g")
    .attr("class", "axis")
    .attr("transform", `translate(0,${height - margin.bottom})`)
    .call(axisBottom(x).tickFormat((d) => (isRound(+d, domain) ? formatMs(+d) : "")));
  const bw = y.bandwidth();
  const bar = svg.selectAll("g.row").data(rows).join("g").attr("class", (r) => `row ${r.mode}`).attr("transform", (r) => `translate(0,${y(r.key)})`);
  bar
    .append("text")
    .attr("class", "label")
    .attr("x", margin.left - 8)
    .attr("y", bw / 2)
    .attr("dy", "0.35em")
    .attr("text-anchor", "end")
    .text((r) => (r.note !== undefined || (r.mode !== "eager" && r.mode !== "compiled") ? r.label : groups.length > 1 ? `${r.group} · ${r.label}` : extra.length ? `JIT Lens ${r.mode}` : r.label))
    .append("title")
    .text((r) => `${r.group} · ${r.label}`);
  // A run of the user's Python that has no timing: why, where its bar would be.
  bar
    .filter((r) => r.note !== undefined)
    .append("text")
    .attr("class", "run-note")
    .attr("data-testid", "timing-run-note")
    .attr("data-mode", (r) => r.mode)
    .attr("x", margin.left + 4)
    .attr("y", bw / 2)
    .attr("dy", "0.35em")
    .text((r) => cut(r.note!, 70))
    .append("title")
    .text((r) => r.note!);
  const timed = bar.filter((r) => r.note === undefined);
  timed
    .append("rect")
    .attr("class", "bar")
    .attr("data-testid", "timing-bar")
    .attr("data-mode", (r) => r.mode)
    .attr("data-backend", (r) => r.group)
    .attr("x", x(domain[0]))
    .attr("width", (r) => Math.max(1, x(Math.max(r.median, domain[0])) - x(domain[0])))
    .attr("height", bw)
    .append("title")
    .text((r) => `${r.group}, ${r.label}: median ${formatMs(r.median)} (min ${formatMs(r.min)}, max ${formatMs(r.max)})`);
  timed
    .append("line")
    .attr("class", "spread")
    .attr("x1", (r) => x(Math.max(r.min, domain[0])))
    .attr("x2", (r) => x(Math.max(r.max, domain[0])))
    .attr("y1", bw / 2)
    .attr("y2", bw / 2);
  timed
    .append("text")
    .attr("class", "value")
    .attr("x", (r) => x(Math.max(r.max, r.median, domain[0])) + 6)
    .attr("y", bw / 2)
    .attr("dy", "0.35em")
    .text((r) => formatMs(r.median));
  timed
    .filter((r) => r.speedup !== undefined)
    .select("text.value")
    .append("tspan")
    .attr("class", "speedup-label")
    .attr("data-testid", "speedup-label")
    .text((r) => `  ${formatSpeedup(r.speedup!)} ${r.speedup! >= 1 ? "faster" : "slower"}`);
  return svg.node()!;
}

export interface KernelRow {
  kernel: KernelInfo;
  index: number;
  color: string;
  floorMs: number;
}

/** Measured time (bar) against the bandwidth floor (tick) of each profiled kernel. */
export function kernelChart(rows: KernelRow[], bandwidthLabel: string): SVGSVGElement {
  const margin = { top: 8, right: 170, bottom: 28, left: 170 };
  const height = margin.top + rows.length * (BAR + 8) + margin.bottom;
  const domain = logDomain(rows.flatMap((r) => [r.kernel.timeMs ?? 0, r.floorMs]));
  const x = scaleLog().domain(domain).range([margin.left, WIDTH - margin.right]).clamp(true);
  const y = scaleBand<number>().domain(rows.map((r) => r.index)).range([margin.top, height - margin.bottom]).padding(0.25);
  const svg = svgRoot("kernel-chart", height, `Per-kernel time against the bandwidth floor (${bandwidthLabel})`);
  svg.attr("data-testid", "kernel-chart");
  svg
    .append("g")
    .attr("class", "axis")
    .attr("transform", `translate(0,${height - margin.bottom})`)
    .call(axisBottom(x).tickFormat((d) => (isRound(+d, domain) ? formatMs(+d) : "")));
  const bw = y.bandwidth();
  const g = svg.selectAll("g.row").data(rows).join("g").attr("class", "row").attr("transform", (r) => `translate(0,${y(r.index)})`);
  g.append("text").attr("class", "label").attr("x", margin.left - 8).attr("y", bw / 2).attr("dy", "0.35em").attr("text-anchor", "end").text((r) => `${r.kernel.name} · ${r.kernel.kind}`);
  g.append("rect")
    .attr("class", "kbar")
    .attr("data-testid", "kernel-bar")
    .attr("x", x(domain[0]))
    .attr("width", (r) => Math.max(1, x(Math.max(r.kernel.timeMs ?? 0, domain[0])) - x(domain[0])))
    .attr("height", bw)
    .style("fill", (r) => r.color)
    .append("title")
    .text((r) => `${r.kernel.name}: ${formatMs(r.kernel.timeMs ?? 0)} measured, floor ${formatMs(r.floorMs)}`);
  g.append("line")
    .attr("class", "floor")
    .attr("x1", (r) => x(Math.max(r.floorMs, domain[0])))
    .attr("x2", (r) => x(Math.max(r.floorMs, domain[0])))
    .attr("y1", -3)
    .attr("y2", bw + 3);
  g.append("text")
    .attr("class", "value")
    .attr("x", (r) => x(Math.max(r.kernel.timeMs ?? 0, r.floorMs, domain[0])) + 6)
    .attr("y", bw / 2)
    .attr("dy", "0.35em")
    .text((r) => `${formatMs(r.kernel.timeMs ?? 0)} · ${r.floorMs > 0 ? `${((r.kernel.timeMs ?? 0) / r.floorMs).toFixed(1)}× floor` : "no traffic"}`);
  return svg.node()!;
}

/** Label only 1, 2 and 5 times a power of ten (only powers of ten over more than two decades), so the log axis stays readable. */
function isRound(v: number, domain: [number, number]): boolean {
  const lead = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  const leads = Math.log10(domain[1] / domain[0]) > 2.05 ? [1] : [1, 2, 5];
  return leads.some((d) => Math.abs(lead - d) < 1e-6);
}
