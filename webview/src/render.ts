// The IR viewer's DOM, built from a Report alone: a summary, the error (if any), and one
// tab per stage: Jaxpr · Lowered · Passes · Kernels · Graph · Timings. Text stages are
// line-linked (every IR line knows its source lines: hover highlights them in the editor,
// click reveals the first) and coloured by kernel with the editor's palette. Elements the
// tests look for carry `data-testid`s (docs/CONTRACTS.md).
import "@vscode-elements/elements/dist/vscode-tabs/index.js";
import "@vscode-elements/elements/dist/vscode-tab-header/index.js";
import "@vscode-elements/elements/dist/vscode-tab-panel/index.js";
import "@vscode-elements/elements/dist/vscode-checkbox/index.js";
import "@vscode-elements/elements/dist/vscode-button/index.js";
import { formatError, formatSpan, type IRLine, type KernelInfo, type Report, type Span, type Timings } from "../../compiler-core/src/report";
import { formatBackend, formatBytes, formatCount, formatKernels, formatMs, formatSpeedup, plural } from "../../compiler-core/src/format";
import { cssColor, kernelColorIndex } from "../../compiler-core/src/palette";
import { kernelChart, timingChart, type KernelRow } from "./chart";
import { compareChartRuns, compareStage, syntheticBanner } from "./compare";
import { diffLines } from "./diff";
import { h } from "./dom";
import { markGraphLine, renderGraph } from "./graph";
import { kernelOwnership, parseJaxpr } from "./graph-model";
import { highlightInto } from "./highlight";
import { formatInt, TEXT_MAX_LINES } from "./limits";
import { STAGES, type StageId } from "./protocol";

export interface ViewerEvents {
  /** Hovering IR that came from source line(s); null when the pointer leaves. */
  highlight(line: number | null, lines?: number[]): void;
  reveal(line: number): void;
  stageChanged(stage: StageId): void;
  showUnchangedChanged(show: boolean): void;
}

export interface ViewOptions {
  stage: StageId;
  showUnchanged: boolean;
}

export const STAGE_TITLES: Record<StageId, string> = {
  jaxpr: "Jaxpr",
  lowered: "Lowered",
  passes: "Passes",
  kernels: "Kernels",
  graph: "Graph",
  timings: "Timings",
  jax: "JAX",
};

/** Replace `root`'s content with the view of `report` (or a hint when there is none yet). */
export function render(root: HTMLElement, report: Report | undefined, opts: ViewOptions, events: ViewerEvents): void {
  root.replaceChildren();
  if (!report) {
    root.append(
      h("p", { class: "empty muted", "data-testid": "empty" }, "No report yet. Run “JIT Lens: Trace & Compile” on a function to see its jaxpr, kernels and timings."),
    );
    return;
  }
  root.append(summary(report));
  if (report.error) root.append(errorBox(report));
  for (const w of report.warnings ?? []) root.append(h("p", { class: "warning", "data-testid": "warning" }, w));
  const banner = syntheticBanner(report.compare);
  if (banner) root.append(banner);

  const ctx = new Context(report);
  const graphStage = h("div", { class: "stage graph-stage", "data-testid": "graph" });
  let graphDrawn = false;
  const showGraph = () => {
    if (graphDrawn) return;
    graphDrawn = true;
    renderGraph(graphStage, report, { highlight: (l) => events.highlight(l), reveal: events.reveal });
  };
  const builders: Record<StageId, () => HTMLElement> = {
    jaxpr: () => (report.jaxpr?.length ? irView(report.jaxpr, ctx, "jaxpr", events, ctx.jaxprColors()) : missing("jaxpr", report.error ? "No jaxpr: the trace did not finish." : "No jaxpr in this report.")),
    lowered: () => (report.lowered?.length ? irView(report.lowered, ctx, "lowered", events) : missing("lowered", report.error ? "No lowered module: compilation did not finish." : "The lowered module is not available for this function.")),
    passes: () => passesStage(report, ctx, opts.showUnchanged, events),
    kernels: () => kernelsStage(report, ctx, events),
    graph: () => graphStage,
    timings: () => timingsStage(report, ctx),
    jax: () => {
      const colors = ctx.jaxprColors();
      return compareStage(report, { oursJaxprLine: (i) => irLine(report.jaxpr![i], ctx, colors[i]), link: (view) => linkLines(view, events) });
    },
  };
  const index = Math.max(0, STAGES.indexOf(opts.stage));
  const tabs = h("vscode-tabs", { "selected-index": index, "data-testid": "stages" });
  const panels = new Map<StageId, HTMLElement>();
  // The stage shown is built now; the others right after, one per task, so a big Report
  // never blocks the page for long; a stage selected before its turn is built on the spot.
  const build = (id: StageId) => {
    const panel = panels.get(id)!;
    if (panel.dataset.built) return;
    panel.dataset.built = "true";
    panel.append(builders[id]());
  };
  STAGES.forEach((id) => {
    const count = id === "kernels" && report.kernels ? ` (${report.kernels.length})` : id === "passes" && report.passes ? ` (${report.passes.filter((p) => p.changed).length}/${report.passes.length})` : "";
    tabs.append(h("vscode-tab-header", { slot: "header", "data-testid": `tab-${id}`, title: `${STAGE_TITLES[id]} (${STAGES.indexOf(id) + 1})` }, STAGE_TITLES[id] + count));
    const panel = h("vscode-tab-panel", { "data-stage": id });
    panels.set(id, panel);
    tabs.append(panel);
  });
  tabs.addEventListener("vsc-tabs-select", (e) => {
    const stage = STAGES[(e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex] ?? "jaxpr";
    build(stage);
    if (stage === "graph") showGraph();
    events.stageChanged(stage);
  });
  root.append(tabs);
  // The graph's layout runs in the worker while this thread builds the text stages.
  if (STAGES[index] === "graph") showGraph();
  build(STAGES[index]);
  const rest = STAGES.filter((id) => id !== STAGES[index]);
  const next = () => {
    const id = rest.shift();
    if (!id || !tabs.isConnected) return;
    build(id);
    setTimeout(next, 0);
  };
  setTimeout(next, 0);
}

/** Select a stage (keyboard navigation); returns false when there is no viewer shown. */
export function selectStage(root: HTMLElement, stage: StageId): boolean {
  const tabs = root.querySelector<HTMLElement & { selectedIndex: number }>("vscode-tabs");
  if (!tabs) return false;
  const header = root.querySelector<HTMLElement>(`[data-testid="tab-${stage}"]`);
  header?.click();
  if (tabs.selectedIndex !== STAGES.indexOf(stage)) tabs.selectedIndex = STAGES.indexOf(stage);
  header?.focus();
  return true;
}

/** The text of the `stale` banner. */
export const STALE_TEXT = "stale: the function changed since this run — run Trace & Compile again";

/**
 * Shows (or removes) the `stale` banner under the summary: the host says the function's text
 * changed since this Report was made. A new Report replaces the whole view, banner included.
 * Returns false when no Report is shown (nothing to mark).
 */
export function markStale(root: HTMLElement, stale: boolean): boolean {
  const header = root.querySelector("header.summary");
  if (!header) return false;
  const banner = root.querySelector('[data-testid="stale"]');
  if (!stale) banner?.remove();
  else if (!banner) header.after(h("p", { class: "banner stale", role: "status", "data-testid": "stale", title: "The function's text changed since this Report was made: what is shown may no longer match the code." }, "↻ ", STALE_TEXT));
  return true;
}

/** Mark the IR lines, kernels and graph nodes that came from source `line` (the editor's cursor); null clears. */
export function markSourceLine(root: HTMLElement, line: number | null): void {
  const firsts = new Map<Element, HTMLElement>();
  const has = (el: HTMLElement) => line !== null && (el.dataset.lines ?? "").split(" ").includes(String(line));
  for (const el of root.querySelectorAll<HTMLElement>(".ir-line, section.kernel")) {
    const on = has(el);
    el.classList.toggle("cursor", on);
    const view = el.closest(".stage");
    if (on && view && !firsts.has(view)) firsts.set(view, el);
  }
  for (const first of firsts.values()) if (first.offsetParent !== null) first.scrollIntoView({ block: "nearest" });
  const graph = root.querySelector<HTMLElement>('[data-testid="graph"]');
  if (graph) markGraphLine(graph, line);
}

/** What several stages need from one Report, computed once. */
class Context {
  /** Kernel index -> palette colour. */
  readonly kernelColors: string[];
  /** Source line -> kernel index (the kernel most of the line's equations went into). */
  readonly lineKernel = new Map<number, number>();
  constructor(readonly report: Report) {
    this.kernelColors = (report.kernels ?? []).map((_, i) => cssColor(kernelColorIndex(report.kernels, i)));
    for (const li of report.lines ?? []) if (li.kernel >= 0) this.lineKernel.set(li.line, li.kernel);
  }

  /** The source lines an IR line came from (in the Report's own file), in order. */
  sourceLines(spans: Span[]): number[] {
    const own = spans.filter((s) => s.file === this.report.file);
    return [...new Set((own.length ? own : spans).map((s) => s.line))];
  }

  /** Colour of an IR line: its source line's kernel. */
  colorOfLine(line: number | undefined): string | undefined {
    const k = line === undefined ? undefined : this.lineKernel.get(line);
    return k === undefined ? undefined : this.kernelColors[k];
  }

  private jaxprColorsMemo: (string | undefined)[] | undefined;

  /** Jaxpr lines coloured by the kernel that computes their equation (exact, not by source line); computed once (the Jaxpr and JAX stages both use it). */
  jaxprColors(): (string | undefined)[] {
    return (this.jaxprColorsMemo ??= this.computeJaxprColors());
  }

  private computeJaxprColors(): (string | undefined)[] {
    const lines = this.report.jaxpr ?? [];
    const out: (string | undefined)[] = lines.map(() => undefined);
    const { owner } = kernelOwnership(this.report.kernels ?? []);
    for (const e of parseJaxpr(lines).eqns) {
      const k = owner.get(e.index);
      if (k !== undefined) for (const l of e.lines) out[l] = this.kernelColors[k];
    }
    return out;
  }
}

function missing(testid: string, text: string): HTMLElement {
  return h("div", { class: "stage muted", "data-testid": testid }, text);
}

function summary(r: Report): HTMLElement {
  const where = r.defSpan ? `${baseName(r.file)}:${r.defSpan.line}` : baseName(r.file);
  const facts = [
    r.eqnCount !== undefined ? plural(r.eqnCount, "equation") : undefined,
    formatKernels(r)?.replace(/ from .*/, ""),
    r.timings ? `${formatSpeedup(r.timings.speedup)} compiled vs interpreted on ${formatBackend(r.timings)}` : undefined,
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

// --- Line-linked IR text ----------------------------------------------------------------

/** One IR line: `data-line` = its (first) source line, `data-lines` all of them; hover highlights, click reveals. */
function irLine(l: IRLine, ctx: Context, color: string | undefined, cls = ""): HTMLElement {
  const src = ctx.sourceLines(l.spans);
  const el = h("div", { class: `ir-line ${cls}`.trim(), "data-line": src[0], "data-lines": src.length ? src.join(" ") : undefined }, l.text);
  const c = color ?? ctx.colorOfLine(src[0]);
  if (c) el.style.setProperty("--line-color", c);
  if (src.length) el.title = `${baseName(ctx.report.file)}:${src.join(", ")} (click to show)`;
  return el;
}

/** Hover and click on any `.ir-line` inside `view` (one listener per view, not per line). */
function linkLines(view: HTMLElement, events: ViewerEvents): void {
  let current: HTMLElement | undefined;
  view.addEventListener("mouseover", (e) => {
    const el = (e.target as Element).closest<HTMLElement>(".ir-line[data-line]");
    if (!el || el === current) return;
    current = el;
    const src = (el.dataset.lines ?? "").split(" ").map(Number);
    for (const other of view.querySelectorAll<HTMLElement>(".ir-line.hl")) other.classList.remove("hl");
    for (const other of view.querySelectorAll<HTMLElement>(`.ir-line[data-line="${src[0]}"]`)) other.classList.add("hl");
    events.highlight(src[0], src.slice(1));
  });
  view.addEventListener("mouseleave", () => {
    current = undefined;
    for (const other of view.querySelectorAll(".ir-line.hl")) other.classList.remove("hl");
    events.highlight(null);
  });
  view.addEventListener("click", (e) => {
    const el = (e.target as Element).closest<HTMLElement>(".ir-line[data-line]");
    if (el) events.reveal(Number(el.dataset.line));
  });
}

function irView(lines: IRLine[], ctx: Context, testid: string, events: ViewerEvents, colors?: (string | undefined)[]): HTMLElement {
  const view = h("div", { class: "ir stage", "data-testid": testid });
  appendLines(view, lines.length, (i) => irLine(lines[i], ctx, colors?.[i]));
  linkLines(view, events);
  return view;
}

/** How many more lines a stage may draw before the rest waits behind a "show all" button. */
interface LineBudget {
  left: number;
}

/**
 * Appends `make(0..n-1)` to `view`, at most `budget.left` of them (TEXT_MAX_LINES for one
 * view); the rest behind a `text-limit` row whose `show-all-lines` button draws them.
 */
function appendLines(view: HTMLElement, n: number, make: (i: number) => HTMLElement, budget: LineBudget = { left: TEXT_MAX_LINES }): void {
  const shown = Math.min(n, Math.max(0, budget.left));
  budget.left -= shown;
  const head = document.createDocumentFragment();
  for (let i = 0; i < shown; i++) head.append(make(i));
  view.append(head);
  if (shown === n) return;
  const more = h("vscode-button", { secondary: true, "data-testid": "show-all-lines" }, `Show all ${formatInt(n)} lines`);
  const row = h(
    "div",
    { class: "text-limit", "data-testid": "text-limit", "data-shown": shown, "data-total": n },
    h("span", { class: "muted" }, `Showing the first ${formatInt(shown)} of ${formatInt(n)} lines (the viewer draws up to ${formatInt(TEXT_MAX_LINES)} lines of a stage at first). `),
    more,
  );
  more.addEventListener("click", () => {
    const rest = document.createDocumentFragment();
    for (let i = shown; i < n; i++) rest.append(make(i));
    row.replaceWith(rest);
  });
  view.append(row);
}

// --- Passes ------------------------------------------------------------------------------

const CONTEXT_LINES = 3;

function passesStage(r: Report, ctx: Context, showUnchanged: boolean, events: ViewerEvents): HTMLElement {
  if (!r.passes?.length || !r.lowered) return missing("passes", r.error ? "No passes: compilation did not finish." : "The pass pipeline is not available for this function.");
  const stage = h("div", { class: "stage passes", "data-testid": "passes" });
  const unchanged = r.passes.filter((p) => !p.changed).length;
  const toggle = h("vscode-checkbox", { "data-testid": "show-unchanged", checked: showUnchanged });
  toggle.textContent = `Show passes that changed nothing (${unchanged})`;
  stage.append(
    h("p", { class: "muted" }, `${r.passes.length} pass${r.passes.length === 1 ? "" : "es"} in order; each shows what it changed in the module it was given (lowered first).`),
    toggle,
  );
  let before = r.lowered;
  // One budget for the whole stage: the diffs of a big module (a middle too big to diff is all
  // removed-then-added) would otherwise draw every line of every pass.
  const budget: LineBudget = { left: TEXT_MAX_LINES };
  r.passes.forEach((p, i) => {
    const ops = diffLines(before, p.lines, (l) => l.text);
    const added = ops.filter((o) => o.op === "add").length;
    const removed = ops.filter((o) => o.op === "del").length;
    const section = h(
      "section",
      { class: `pass${p.changed ? " changed" : " unchanged"}`, "data-testid": "pass", "data-pass": p.name, "data-changed": p.changed, hidden: !p.changed && !showUnchanged },
      h("h3", {}, `${i + 1}. ${p.name}`, h("span", { class: "badge" }, p.changed ? `+${added} −${removed}` : "no change")),
    );
    const body = h("div", { class: "ir diff" });
    if (!p.changed || (!added && !removed)) {
      body.append(h("div", { class: "muted fold" }, `${plural(p.lines.length, "line")}, unchanged`));
    } else {
      // Changed lines with a little context; long unchanged runs fold into one row.
      const keep = ops.map(() => false);
      ops.forEach((o, k) => {
        if (o.op === "same") return;
        for (let d = -CONTEXT_LINES; d <= CONTEXT_LINES; d++) if (ops[k + d]) keep[k + d] = true;
      });
      // Rows are made lazily: past the stage's line budget they wait behind "show all".
      const rows: (() => HTMLElement)[] = [];
      let folded = 0;
      const flush = () => {
        if (folded) {
          const n = folded;
          rows.push(() => h("div", { class: "muted fold" }, `⋯ ${plural(n, "unchanged line")}`));
        }
        folded = 0;
      };
      ops.forEach((o, k) => {
        if (!keep[k]) {
          folded++;
          return;
        }
        flush();
        rows.push(() => irLine(o.line, ctx, undefined, o.op === "add" ? "add" : o.op === "del" ? "del" : ""));
      });
      flush();
      appendLines(body, rows.length, (j) => rows[j](), budget);
    }
    linkLines(body, events);
    section.append(body);
    stage.append(section);
    before = p.lines;
  });
  toggle.addEventListener("change", () => {
    const on = (toggle as HTMLElement & { checked: boolean }).checked;
    for (const s of stage.querySelectorAll<HTMLElement>("section.pass.unchanged")) s.hidden = !on;
    events.showUnchangedChanged(on);
  });
  return stage;
}

// --- Kernels -----------------------------------------------------------------------------

interface FloorBandwidth {
  bytesPerMs: number;
  label: string;
}

/**
 * The bandwidth a kernel's floor is measured against: the best effective bandwidth this run
 * reached anywhere (any profiled kernel, or the whole function interpreted or compiled). The
 * Report does not carry a separately measured device bandwidth, so this is a lower bound on
 * it and the floors are upper bounds; undefined when nothing was measured.
 */
function floorBandwidth(r: Report): FloorBandwidth | undefined {
  let best = 0;
  let where = "";
  const consider = (bytes: number, ms: number | undefined, what: string) => {
    if (ms !== undefined && ms > 0 && bytes > 0 && bytes / ms > best) {
      best = bytes / ms;
      where = what;
    }
  };
  for (const k of r.kernels ?? []) consider(k.bytesRead + k.bytesWritten, k.timeMs, k.name);
  const t = r.timings;
  if (t) {
    consider(t.bytes.eager, t.eager.median_ms, "the interpreted run");
    consider(t.bytes.compiled, t.compiled.median_ms, "the compiled run");
  }
  return best > 0 ? { bytesPerMs: best, label: `${formatGBs(best / 1e6)}, the best effective bandwidth in this run (${where})` } : undefined;
}

function kernelsStage(r: Report, ctx: Context, events: ViewerEvents): HTMLElement {
  if (!r.kernels?.length) return missing("kernels", r.error ? "No kernels: compilation did not finish." : "No kernels in this report.");
  const bw = floorBandwidth(r);
  const head = ["", "kernel", "kind", "ops", "bytes", "FLOPs", "FLOP/byte", "time", "floor"];
  const table = h(
    "table",
    { class: "data kernel-table", "data-testid": "kernel-table" },
    h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))),
    h(
      "tbody",
      {},
      r.kernels.map((k, i) => {
        const bytes = k.bytesRead + k.bytesWritten;
        const row = h(
          "tr",
          { "data-kernel": i },
          h("td", {}, h("span", { class: "swatch", style: `background:${ctx.kernelColors[i]}` })),
          h("td", {}, h("a", { href: `#kernel-${i}` }, k.name)),
          [k.kind, String(k.ops), formatBytes(bytes), formatCount(k.flops), intensity(k), k.timeMs !== undefined ? formatMs(k.timeMs) : "–", bw && bytes > 0 ? formatMs(bytes / bw.bytesPerMs) : "–"].map((c) => h("td", {}, c)),
        );
        row.querySelector("a")!.addEventListener("click", (e) => {
          e.preventDefault();
          stage.querySelector(`#kernel-${i}`)?.scrollIntoView({ block: "start" });
        });
        return row;
      }),
    ),
  );
  const stage = h(
    "div",
    { class: "stage", "data-testid": "kernels" },
    h("div", { class: "scroll-x" }, table),
    r.kernels.map((k, i) => kernelView(k, i, ctx, events, bw)),
  );
  return stage;
}

function intensity(k: KernelInfo): string {
  const bytes = k.bytesRead + k.bytesWritten;
  return bytes > 0 ? (k.flops / bytes).toFixed(2) : "–";
}

function kernelView(k: KernelInfo, index: number, ctx: Context, events: ViewerEvents, bw: FloorBandwidth | undefined): HTMLElement {
  const src = ctx.sourceLines(k.spans);
  const bytes = k.bytesRead + k.bytesWritten;
  const buffers = (bs: KernelInfo["inputs"]) => (bs.length ? h("ul", { class: "buffers" }, bs.map((b) => h("li", {}, `${b.name}: ${b.type}`, h("span", { class: "muted" }, ` (${formatBytes(b.bytes)})`)))) : "–");
  const floorMs = bw && bytes > 0 ? bytes / bw.bytesPerMs : undefined;
  const stats: [string, string | HTMLElement][] = [
    ["ops", `${k.ops} (${plural(k.eqns.length, "equation")}${k.eqns.length ? `: ${eqnRange(k.eqns)}` : ""})`],
    ["inputs", buffers(k.inputs)],
    ["outputs", buffers(k.outputs)],
    ["bytes", `${formatBytes(bytes)} (${formatBytes(k.bytesRead)} read, ${formatBytes(k.bytesWritten)} written)`],
    ["FLOPs", formatCount(k.flops)],
    ["arithmetic intensity", bytes > 0 ? `${intensity(k)} FLOP/byte` : "– (moves no memory)"],
    [
      "time",
      k.timeMs === undefined
        ? "not profiled in this report"
        : floorMs !== undefined
          ? `${formatMs(k.timeMs)} measured · bandwidth floor ${formatMs(floorMs)} (${(k.timeMs / floorMs).toFixed(1)}× the floor, at ${bw!.label})`
          : `${formatMs(k.timeMs)} measured`,
    ],
    ["source lines", src.length ? src.join(", ") : "–"],
  ];
  const pre = h("pre", { class: `source lang-${k.language}`, "data-testid": "kernel-source", "data-language": k.language });
  const section = h(
    "section",
    { class: "kernel", id: `kernel-${index}`, "data-kernel": index, "data-lines": src.length ? src.join(" ") : undefined },
    h(
      "h3",
      { title: src.length ? `Show line ${src[0]}` : undefined, style: `--kernel-color:${ctx.kernelColors[index]}` },
      h("span", { class: "swatch" }),
      k.name,
      h("span", { class: "badge" }, k.kind),
      h("span", { class: "badge lang" }, k.language),
    ),
    h("p", { class: "reason", "data-testid": "kernel-reason" }, h("strong", {}, "Why it ends here: "), k.reason || "–"),
    h("dl", { class: "stats" }, stats.flatMap(([dt, dd]) => [h("dt", {}, dt), h("dd", {}, dd)])),
    pre,
  );
  // After `pre` is in the section: a long source puts its "show all" button after it.
  sourceInto(pre, k.source, k.language);
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

/** Highlighted up to this many characters; a longer source (a 500-op kernel is megabytes) shows its head, then the rest on request. */
const SOURCE_HEAD = 60_000;

function sourceInto(pre: HTMLElement, source: string, language: string): void {
  if (source.length <= SOURCE_HEAD) {
    highlightInto(pre, source, language);
    return;
  }
  const cut = source.lastIndexOf("\n", SOURCE_HEAD) + 1 || SOURCE_HEAD;
  highlightInto(pre, source.slice(0, cut), language);
  const lines = source.split("\n").length;
  const more = h("vscode-button", { secondary: true, class: "more", "data-testid": "kernel-source-more" }, `Show all ${formatInt(lines)} lines (${formatBytes(source.length)})`);
  more.addEventListener("click", () => {
    more.remove();
    pre.append(source.slice(cut));
  });
  pre.after(more);
}

/** `3-7` for consecutive equation indices, else a short list. */
function eqnRange(eqns: number[]): string {
  const s = [...eqns].sort((a, b) => a - b);
  const consecutive = s.every((e, i) => i === 0 || e === s[i - 1] + 1);
  if (consecutive && s.length > 1) return `eqns ${s[0]}–${s[s.length - 1]}`;
  return `eqn${s.length === 1 ? "" : "s"} ${s.slice(0, 12).join(", ")}${s.length > 12 ? ", …" : ""}`;
}

// --- Timings -----------------------------------------------------------------------------

function timingsStage(r: Report, ctx: Context): HTMLElement {
  const t = r.timings;
  if (!t) return missing("timings", r.error ? "Not run: the function did not compile." : "Not run (trace only).");
  const stage = h(
    "div",
    { class: "stage", "data-testid": "timings" },
    h("p", { class: "speedup" }, h("strong", {}, formatSpeedup(t.speedup)), ` compiled vs eager (interpreted) on ${formatBackend(t)}`),
    h("h3", {}, r.compare ? "The whole function: ours interpreted and compiled, and as your own Python ran it (log scale; details in the JAX tab)" : "The whole function, interpreted and compiled (log scale)"),
    timingChart([{ label: formatBackend(t), timings: t }], r.compare ? compareChartRuns(r.compare) : []),
    h("div", { class: "scroll-x" }, timingTable(t)),
  );
  const kernels = r.kernels ?? [];
  const bw = floorBandwidth(r);
  const rows: KernelRow[] = kernels
    .map((k, index) => ({ kernel: k, index, color: ctx.kernelColors[index], floorMs: bw ? (k.bytesRead + k.bytesWritten) / bw.bytesPerMs : 0 }))
    .filter((row) => row.kernel.timeMs !== undefined);
  stage.append(h("h3", {}, "Each kernel against its bandwidth floor (log scale)"));
  if (rows.length && bw) {
    stage.append(h("p", { class: "muted" }, `Bar: measured time of one launch. Tick: the floor, the kernel's bytes at ${bw.label}.`), kernelChart(rows, bw.label));
  } else {
    stage.append(h("p", { class: "muted", "data-testid": "kernel-chart-missing" }, "The kernels were not profiled one by one in this run."));
  }
  stage.append(h("div", { class: "scroll-x" }, detailsTable(r, t)));
  return stage;
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
  return formatGBs(bytes / (ms * 1e6));
}

/** `8.53 GB/s`, `120.4 GB/s`. */
function formatGBs(gbs: number): string {
  return `${gbs.toFixed(gbs < 10 ? 2 : 1)} GB/s`;
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() || file;
}
