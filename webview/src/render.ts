// The IR viewer's DOM, built from a Report alone: a summary, the error (if any), and one
// tab per stage (Jaxpr · Kernels · Timings). Elements the end-to-end tests look for carry
// `data-testid`s (docs/CONTRACTS.md).
import "@vscode-elements/elements/dist/vscode-tabs/index.js";
import "@vscode-elements/elements/dist/vscode-tab-header/index.js";
import "@vscode-elements/elements/dist/vscode-tab-panel/index.js";
import { formatError, formatSpan, type IRLine, type KernelInfo, type Report, type Span, type Timings } from "../../compiler-core/src/report";
import { formatBackend, formatBytes, formatCount, formatKernels, formatMs, formatSpeedup, plural } from "../../compiler-core/src/format";
import { timingChart } from "./chart";
import { h } from "./dom";

export interface ViewerEvents {
  /** Hovering IR that came from source line(s); null when the pointer leaves. */
  highlight(line: number | null, lines?: number[]): void;
  reveal(line: number): void;
  tabChanged(index: number): void;
}

export const TABS = ["Jaxpr", "Kernels", "Timings"] as const;

/** Replace `root`'s content with the view of `report` (or a hint when there is none yet). */
export function render(root: HTMLElement, report: Report | undefined, tab: number, events: ViewerEvents): void {
  root.replaceChildren();
  if (!report) {
    root.append(
      h("p", { class: "empty muted", "data-testid": "empty" }, "No report yet. Run “JIT Lens: Trace & Compile” on a function to see its jaxpr, kernels and timings."),
    );
    return;
  }
  root.append(summary(report));
  if (report.error) root.append(errorBox(report));

  const tabs = h("vscode-tabs", { "selected-index": Math.min(Math.max(0, tab), TABS.length - 1) });
  const panels = [jaxprStage(report, events), kernelsStage(report, events), timingsStage(report)];
  TABS.forEach((title, i) => {
    const count = i === 1 && report.kernels ? ` (${report.kernels.length})` : "";
    tabs.append(h("vscode-tab-header", { slot: "header", "data-testid": `tab-${title.toLowerCase()}` }, title + count));
    tabs.append(h("vscode-tab-panel", {}, panels[i]));
  });
  tabs.addEventListener("vsc-tabs-select", (e) => events.tabChanged((e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex));
  root.append(tabs);
}

/** Mark the IR lines that came from source `line` (the editor's cursor); null clears. */
export function markSourceLine(root: HTMLElement, line: number | null): void {
  let first: Element | undefined;
  for (const el of root.querySelectorAll<HTMLElement>(".ir-line")) {
    const on = line !== null && (el.dataset.lines ?? "").split(" ").includes(String(line));
    el.classList.toggle("cursor", on);
    if (on && !first) first = el;
  }
  if (first && (first as HTMLElement).offsetParent !== null) first.scrollIntoView({ block: "nearest" });
}

function summary(r: Report): HTMLElement {
  const where = r.defSpan ? `${baseName(r.file)}:${r.defSpan.line}` : baseName(r.file);
  const facts = [
    r.eqnCount !== undefined ? plural(r.eqnCount, "equation") : undefined,
    formatKernels(r)?.replace(/ from .*/, ""),
    r.timings ? formatBackend(r.timings) : undefined,
  ].filter(Boolean);
  return h(
    "header",
    { class: "summary" },
    h("h1", {}, h("code", {}, r.fn || "?"), " ", h("span", { class: "muted", title: r.file }, where)),
    facts.length ? h("div", { class: "muted" }, facts.join(" · ")) : null,
    r.args.length ? h("ul", { class: "args" }, r.args.map((a) => h("li", { title: `spec: ${a.spec}` }, `${a.name}: ${a.type}`))) : null,
  );
}

function errorBox(r: Report): HTMLElement {
  const e = r.error!;
  return h(
    "div",
    { class: "error", role: "alert", "data-testid": "error" },
    formatError(e, r.file),
    (e.related ?? []).map((rel) => h("div", { class: "related" }, `${formatSpan(rel.span)}: ${rel.message}`)),
  );
}

// --- Jaxpr -------------------------------------------------------------------------------

/** The source lines an IR line came from (in the Report's own file), in order. */
function sourceLines(spans: Span[], file: string): number[] {
  const own = spans.filter((s) => s.file === file);
  return [...new Set((own.length ? own : spans).map((s) => s.line))];
}

function jaxprStage(r: Report, events: ViewerEvents): HTMLElement {
  if (!r.jaxpr?.length) return h("div", { class: "stage muted", "data-testid": "jaxpr" }, r.error ? "No jaxpr: the trace did not finish." : "No jaxpr in this report.");
  return irView(r.jaxpr, r.file, "jaxpr", events);
}

/** One element per IR line, `data-line` = its (first) source line; hover highlights, click reveals. */
function irView(lines: IRLine[], file: string, testid: string, events: ViewerEvents): HTMLElement {
  const colors = lineColors(lines.map((l) => sourceLines(l.spans, file)[0]));
  const view = h("div", { class: "ir stage", "data-testid": testid });
  for (const l of lines) {
    const src = sourceLines(l.spans, file);
    const el = h("div", { class: "ir-line", "data-line": src[0], "data-lines": src.length ? src.join(" ") : undefined }, l.text);
    if (src.length) {
      el.title = `${baseName(file)}:${src.join(", ")}`;
      el.style.setProperty("--line-color", colors.get(src[0])!);
      el.addEventListener("mouseenter", () => {
        for (const other of view.querySelectorAll<HTMLElement>(".ir-line")) other.classList.toggle("hl", other.dataset.line === String(src[0]));
        events.highlight(src[0], src.slice(1));
      });
      el.addEventListener("click", () => events.reveal(src[0]));
    }
    view.append(el);
  }
  view.addEventListener("mouseleave", () => {
    for (const other of view.querySelectorAll(".ir-line.hl")) other.classList.remove("hl");
    events.highlight(null);
  });
  return view;
}

/** A colour per source line, in order of first appearance (as Compiler Explorer does). */
function lineColors(lines: (number | undefined)[]): Map<number, string> {
  const palette = [["blue", "#3794ff"], ["orange", "#d18616"], ["green", "#388a34"], ["purple", "#652d90"], ["red", "#e51400"], ["yellow", "#bf8803"]];
  const colors = new Map<number, string>();
  for (const l of lines) {
    if (l === undefined || colors.has(l)) continue;
    const [name, fallback] = palette[colors.size % palette.length];
    colors.set(l, `var(--vscode-charts-${name}, ${fallback})`);
  }
  return colors;
}

// --- Kernels -----------------------------------------------------------------------------

function kernelsStage(r: Report, events: ViewerEvents): HTMLElement {
  if (!r.kernels?.length) return h("div", { class: "stage muted", "data-testid": "kernels" }, r.error ? "No kernels: compilation did not finish." : "No kernels in this report.");
  return h("div", { class: "stage", "data-testid": "kernels" }, r.kernels.map((k, i) => kernelView(k, i, r.file, events)));
}

function kernelView(k: KernelInfo, index: number, file: string, events: ViewerEvents): HTMLElement {
  const src = sourceLines(k.spans ?? [], file);
  const bytes = (k.bytesRead ?? 0) + (k.bytesWritten ?? 0);
  const buffers = (bs: KernelInfo["inputs"] | undefined) => (bs ?? []).map((b) => `${b.name}: ${b.type}`).join(", ") || "–";
  const stats: [string, string][] = [
    ["ops", `${k.ops ?? "?"} (${plural(k.eqns?.length ?? 0, "equation")})`],
    ["inputs", buffers(k.inputs)],
    ["outputs", buffers(k.outputs)],
    ["bytes", `${formatBytes(k.bytesRead ?? 0)} read, ${formatBytes(k.bytesWritten ?? 0)} written`],
    ["flops", `${formatCount(k.flops ?? 0)}${bytes > 0 ? ` (${((k.flops ?? 0) / bytes).toFixed(2)} flop/byte)` : ""}`],
    ["source lines", src.length ? src.join(", ") : "–"],
  ];
  const section = h(
    "section",
    { class: "kernel", "data-kernel": index },
    h("h3", { title: src.length ? `Show line ${src[0]}` : undefined }, k.name, h("span", { class: "badge" }, k.kind)),
    k.reason ? h("p", { class: "reason" }, k.reason) : null,
    h("dl", { class: "stats" }, stats.flatMap(([dt, dd]) => [h("dt", {}, dt), h("dd", {}, dd)])),
    h("pre", { class: `source lang-${k.language}`, "data-testid": "kernel-source", "data-language": k.language }, k.source),
  );
  if (src.length) {
    section.addEventListener("mouseenter", () => {
      section.classList.add("hl");
      events.highlight(src[0], src.slice(1));
    });
    section.addEventListener("mouseleave", () => {
      section.classList.remove("hl");
      events.highlight(null);
    });
    section.querySelector("h3")!.addEventListener("click", () => events.reveal(src[0]));
  }
  return section;
}

// --- Timings -----------------------------------------------------------------------------

function timingsStage(r: Report): HTMLElement {
  const t = r.timings;
  if (!t) return h("div", { class: "stage muted", "data-testid": "timings" }, r.error ? "Not run: the function did not compile." : "Not run (trace only).");
  return h(
    "div",
    { class: "stage", "data-testid": "timings" },
    h("p", { class: "speedup" }, h("strong", {}, formatSpeedup(t.speedup)), ` compiled vs eager (interpreted) on ${formatBackend(t)}`),
    timingChart(t),
    h("div", { class: "scroll-x" }, timingTable(t)),
    h("div", { class: "scroll-x" }, detailsTable(r, t)),
  );
}

function timingTable(t: Timings): HTMLElement {
  const head = ["mode", "median", "min", "max", "runs", "kernels / call", "bytes / call", "effective bandwidth"];
  const row = (mode: "eager" | "compiled") => {
    const s = t[mode];
    const bytes = t.bytes[mode];
    return h(
      "tr",
      { "data-mode": mode },
      [mode, formatMs(s.median_ms), formatMs(s.min_ms), formatMs(s.max_ms), String(s.runs), String(t.kernels[mode]), formatBytes(bytes), bandwidth(bytes, s.median_ms)].map((c) => h("td", {}, c)),
    );
  };
  return h("table", { class: "data" }, h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))), h("tbody", {}, row("eager"), row("compiled")));
}

function detailsTable(r: Report, t: Timings): HTMLElement {
  const rows: [string, string][] = [
    ["backend", formatBackend(t)],
    ["first call (trace + compile)", formatMs(t.first_call_ms)],
    ["minimum traffic (inputs once, outputs once)", formatBytes(t.bytes.minimum)],
    ["largest eager/compiled difference (relative)", t.max_rel_diff === 0 ? "0" : t.max_rel_diff.toExponential(1)],
    ...Object.entries(r.stageMs ?? {}).map(([stage, ms]): [string, string] => [`stage: ${stage}`, formatMs(ms)]),
  ];
  return h("table", { class: "data details" }, h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, v)))));
}

function bandwidth(bytes: number, ms: number): string {
  if (!(ms > 0) || !(bytes > 0)) return "–";
  return `${(bytes / (ms * 1e6)).toFixed(bytes / (ms * 1e6) < 10 ? 2 : 1)} GB/s`;
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() || file;
}
