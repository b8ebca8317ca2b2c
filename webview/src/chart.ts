// Eager vs compiled as horizontal bars on a log time axis: the median as the bar, the
// min–max spread as a whisker, and the speedup next to the faster bar. Colours come from
// the theme (CSS classes in styles.ts), so it reads in light, dark and high contrast.
import { axisBottom, scaleBand, scaleLog, select } from "d3";
import type { Timings } from "../../compiler-core/src/report";
import { formatMs, formatSpeedup } from "../../compiler-core/src/format";

const WIDTH = 560;
const BAR = 26;
const MARGIN = { top: 8, right: 120, bottom: 28, left: 80 };

interface Row {
  mode: "eager" | "compiled";
  label: string;
  median: number;
  min: number;
  max: number;
}

export function timingChart(t: Timings): SVGSVGElement {
  const rows: Row[] = [
    { mode: "eager", label: "eager", median: t.eager.median_ms, min: t.eager.min_ms, max: t.eager.max_ms },
    { mode: "compiled", label: "compiled", median: t.compiled.median_ms, min: t.compiled.min_ms, max: t.compiled.max_ms },
  ];
  const height = MARGIN.top + rows.length * (BAR + 14) + MARGIN.bottom;
  const positive = rows.flatMap((r) => [r.median, r.min, r.max]).filter((v) => v > 0 && Number.isFinite(v));
  const lo = positive.length ? Math.min(...positive) : 1e-3;
  const hi = positive.length ? Math.max(...positive) : 1;
  // From the decade at or below the smallest value (a bar must have a length) to a bit past
  // the largest, spanning at least one decade.
  const floor = 10 ** Math.floor(Math.log10(lo * 0.999));
  const domain: [number, number] = [floor, Math.max(hi * 1.15, floor * 10)];

  const x = scaleLog().domain(domain).range([MARGIN.left, WIDTH - MARGIN.right]).clamp(true);
  const y = scaleBand<string>().domain(rows.map((r) => r.mode)).range([MARGIN.top, height - MARGIN.bottom]).padding(0.3);

  const svg = select(document.createElementNS("http://www.w3.org/2000/svg", "svg"))
    .attr("class", "chart")
    .attr("viewBox", `0 0 ${WIDTH} ${height}`)
    .attr("role", "img")
    .attr("aria-label", `eager ${formatMs(t.eager.median_ms)}, compiled ${formatMs(t.compiled.median_ms)}: ${formatSpeedup(t.speedup)}`);

  svg
    .append("g")
    .attr("class", "axis")
    .attr("transform", `translate(0,${height - MARGIN.bottom})`)
    .call(axisBottom(x).tickFormat((d) => (isRound(+d) ? formatMs(+d) : "")));

  const bar = svg.selectAll("g.row").data(rows).join("g").attr("class", (r) => `row ${r.mode}`).attr("transform", (r) => `translate(0,${y(r.mode)})`);
  const bw = y.bandwidth();
  bar.append("text").attr("class", "label").attr("x", MARGIN.left - 8).attr("y", bw / 2).attr("dy", "0.35em").attr("text-anchor", "end").text((r) => r.label);
  bar
    .append("rect")
    .attr("class", "bar")
    .attr("x", x(domain[0]))
    .attr("width", (r) => Math.max(1, x(Math.max(r.median, domain[0])) - x(domain[0])))
    .attr("height", bw)
    .append("title")
    .text((r) => `${r.label}: median ${formatMs(r.median)} (min ${formatMs(r.min)}, max ${formatMs(r.max)})`);
  bar
    .append("line")
    .attr("class", "spread")
    .attr("x1", (r) => x(Math.max(r.min, domain[0])))
    .attr("x2", (r) => x(Math.max(r.max, domain[0])))
    .attr("y1", bw / 2)
    .attr("y2", bw / 2);
  bar
    .append("text")
    .attr("class", "value")
    .attr("x", (r) => x(Math.max(r.max, r.median, domain[0])) + 6)
    .attr("y", bw / 2)
    .attr("dy", "0.35em")
    .text((r) => formatMs(r.median) + (r.mode === "compiled" ? `  (${formatSpeedup(t.speedup)})` : ""));
  return svg.node()!;
}

/** Label only 1, 2 and 5 times a power of ten, so the log axis stays readable. */
function isRound(v: number): boolean {
  const lead = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  return [1, 2, 5].some((d) => Math.abs(lead - d) < 1e-6);
}
