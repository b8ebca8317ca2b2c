// The JAX stage: the same function run by the user's own Python (`Report.compare`, made by
// "JIT Lens: Compare with JAX" or `jitlens compare`): the environment, every run's times next to
// ours, XLA's kernel count next to ours, what could not be compared, then real JAX's jaxpr beside
// ours (line-aligned by the structural diff's pairs, mismatches highlighted with their messages)
// and XLA's HLO beside our optimized module. Test ids in docs/CONTRACTS.md.
import { formatError, type CompareResult, type CompareRun, type JaxprMismatch, type Report, type TimingStat } from "../../compiler-core/src/report";
import { formatMs, plural } from "../../compiler-core/src/format";
import type { ExtraRun } from "./chart";
import { h } from "./dom";

export interface CompareHooks {
  /** Our jaxpr's line `i` (Report.jaxpr) as a source-linked `.ir-line`. */
  oursJaxprLine(i: number): HTMLElement;
  /** Hover/click on the `.ir-line`s inside `view` highlight/reveal their source lines. */
  link(view: HTMLElement): void;
}

const RUNS: [keyof CompareResult["runs"], string][] = [
  ["numpy", "NumPy"],
  ["jax_eager", "JAX eager"],
  ["jax_jit", "jax.jit"],
];

/** The user's runs as extra bars of the Timings chart: a bar when timed, else the reason. */
export function compareChartRuns(c: CompareResult): ExtraRun[] {
  return RUNS.flatMap(([mode, label]) => {
    const run = c.runs[mode];
    if (!run) return [];
    const group = mode === "numpy" ? "NumPy" : `JAX on ${c.jax?.backend ?? "?"}`;
    const note = run.timing ? undefined : run.error ? `${run.error.kind}: ${run.error.message}` : "ran, but was not timed";
    return [{ mode, label, group, timing: run.timing, note }];
  });
}

/** The banner of a hand-made sample (nothing in its comparison was measured). */
export function syntheticBanner(c: CompareResult | undefined): HTMLElement | null {
  if (!c?.synthetic) return null;
  return h("div", { class: "banner synthetic", role: "note", "data-testid": "compare-synthetic" }, h("strong", {}, "Not a measurement: "), c.synthetic);
}

export function compareStage(r: Report, hooks: CompareHooks): HTMLElement {
  const c = r.compare;
  if (!c) {
    return h(
      "div",
      { class: "stage muted", "data-testid": "jax" },
      h("p", {}, "Not compared yet. “JIT Lens: Compare with JAX” (command palette, or the CodeLens after a run) runs this function in your own Python — with NumPy, JAX eagerly and jax.jit, on the same inputs — and shows real JAX's jaxpr, HLO, kernel count and times here, next to ours."),
      h("p", {}, "It executes your code (it imports the file and calls the function), so it is available only in a trusted workspace."),
    );
  }
  const stage = h("div", { class: "stage compare", "data-testid": "jax" });
  if (c.error) stage.append(h("div", { class: "error", role: "alert", "data-testid": "compare-error" }, formatError(c.error, r.file)));
  stage.append(h("p", { class: "env", "data-testid": "compare-env" }, envLine(c)));
  if (c.missing.length) {
    stage.append(h("div", { class: "missing", "data-testid": "compare-missing" }, h("strong", {}, "Not compared:"), h("ul", {}, c.missing.map((m) => h("li", {}, sentence(m))))));
  }
  for (const w of c.warnings) stage.append(h("p", { class: "warning", "data-testid": "compare-warning" }, w));

  stage.append(h("h3", {}, "Every way the function ran"), h("div", { class: "scroll-x" }, runsTable(r, c)));
  const ratio = ratioLine(r, c);
  if (ratio) stage.append(h("p", { "data-testid": "compare-ratio" }, ratio));
  stage.append(h("p", { "data-testid": "compare-kernels" }, kernelsLine(r, c)));
  if (c.inputs.length) {
    const bad = c.inputs.filter((x) => !x.matches).map((x) => x.path);
    stage.append(h("p", { class: bad.length ? "warning" : "muted", "data-testid": "compare-inputs" },
      `Inputs: ${plural(c.inputs.length, "array")} (seed ${c.seed}), ${c.inputsMatch ? "bit-for-bit the ones JIT Lens ran on" : `DIFFERENT from ours: ${bad.join(", ")}`}.`));
  }
  for (const [stageName, e] of Object.entries(c.stageErrors ?? {})) {
    if (e) stage.append(h("p", { class: "error-text", "data-testid": "compare-stage-error" }, `${stageName}: ${formatError(e, r.file)}`));
  }

  stage.append(h("h3", {}, "Jaxpr: ours beside jax.make_jaxpr"));
  stage.append(jaxprSection(r, c, hooks));
  stage.append(h("h3", {}, "HLO: ours (optimized) beside XLA's compiled module"));
  stage.append(hloSection(r, c));
  stage.append(h("p", { class: "muted" }, `Python: ${c.python.path} (${c.python.source === "explicit" ? "the Python extension's environment" : c.python.source === "setting" ? "the jitlens.pythonPath setting" : "python3 on PATH"}) · compared in ${formatMs(c.elapsed_ms)}`));
  return stage;
}

function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function envLine(c: CompareResult): string {
  const v = c.versions;
  return [
    `Python ${v.python ?? "?"}`,
    v.numpy ? `NumPy ${v.numpy}` : "no NumPy",
    v.jax ? `JAX ${v.jax}${v.jaxlib && v.jaxlib !== v.jax ? ` (jaxlib ${v.jaxlib})` : ""}` : "no JAX",
    c.jax ? `on ${c.jax.backend}: ${c.jax.device}${c.jax.devices > 1 ? ` (+${c.jax.devices - 1} more)` : ""}` : undefined,
  ].filter(Boolean).join(" · ");
}

function diffText(d: number | null | undefined): string {
  if (d === undefined) return "–";
  if (d === null || !Number.isFinite(d)) return "non-finite";
  return d === 0 ? "0" : d.toExponential(1);
}

function runsTable(r: Report, c: CompareResult): HTMLElement {
  const head = ["run", "median", "min", "max", "runs", "first call", "kernels / call", "difference from ours"];
  const rows: HTMLElement[] = [];
  const stat = (t: TimingStat | undefined) => (t ? [formatMs(t.median_ms), formatMs(t.min_ms), formatMs(t.max_ms), String(t.runs)] : ["–", "–", "–", "–"]);
  const t = r.timings;
  if (t) {
    const where = t.backend === "cpu" ? "CPU" : t.device;
    rows.push(h("tr", { "data-run": "ours-eager" }, [`JIT Lens interpreted (${where})`, ...stat(t.eager), "–", String(t.kernels.eager), "–"].map((x) => h("td", {}, x))));
    rows.push(h("tr", { "data-run": "ours-compiled" }, [`JIT Lens compiled (${where})`, ...stat(t.compiled), formatMs(t.first_call_ms), String(t.kernels.compiled), "–"].map((x) => h("td", {}, x))));
  }
  for (const [mode, label] of RUNS) {
    const run: CompareRun | undefined = c.runs[mode];
    if (!run) continue;
    const name = mode === "numpy" ? label : `${label} (${c.jax?.backend ?? "?"})`;
    if (run.error && !run.timing) {
      rows.push(h("tr", { "data-run": mode, class: "failed" }, h("td", {}, name), h("td", { colspan: head.length - 1, class: "error-text", "data-testid": "compare-run-error" }, formatError(run.error, r.file))));
      continue;
    }
    const kernels = mode === "jax_jit" && c.xla ? `${c.xla.kernels} (XLA)` : "–";
    rows.push(h("tr", { "data-run": mode }, [name, ...stat(run.timing), run.first_call_ms !== undefined ? formatMs(run.first_call_ms) : "–", kernels, diffText(run.max_rel_diff)].map((x) => h("td", {}, x))));
  }
  return h("table", { class: "data compare-runs", "data-testid": "compare-runs" }, h("thead", {}, h("tr", {}, head.map((x) => h("th", {}, x)))), h("tbody", {}, rows));
}

function ratioLine(r: Report, c: CompareResult): string | undefined {
  const ours = r.timings?.compiled.median_ms;
  const jit = c.runs.jax_jit?.timing?.median_ms;
  if (!ours || !jit) return undefined;
  const x = jit / ours;
  const same = r.timings?.backend === "cpu" ? c.jax?.backend === "cpu" : c.jax?.backend === "gpu";
  return `JIT Lens compiled is ${x >= 1 ? `${x.toFixed(2)}× faster` : `${(1 / x).toFixed(2)}× slower`} than jax.jit${same ? "" : " (on different devices: compare with care)"}.`;
}

function kernelsLine(r: Report, c: CompareResult): string {
  const ours = r.kernels ? `JIT Lens: ${plural(r.kernels.length, "kernel")}` : "JIT Lens: no kernels (not compiled)";
  const x = c.xla;
  if (!x) return `Kernels per call — ${ours} · XLA: not available (${c.hlo === undefined ? "no compiled HLO" : "not counted"}).`;
  const kinds = Object.entries(x.byKind).map(([k, n]) => `${n} ${k}`).join(", ");
  const parts = [plural(x.fusions, "fusion") + (kinds ? ` (${kinds})` : ""), plural(x.customCalls, "custom call"), plural(x.otherOps, "unfused op")];
  return `Kernels per call — ${ours} · XLA: ${plural(x.kernels, "kernel")}: ${parts.join(", ")}.`;
}

// --- Jaxpr side by side -------------------------------------------------------------------

function jaxprSection(r: Report, c: CompareResult, hooks: CompareHooks): HTMLElement {
  const box = h("div", { class: "compare-jaxpr" });
  if (c.jaxpr === undefined) {
    const why = c.stageErrors?.jaxpr ? formatError(c.stageErrors.jaxpr, r.file) : c.versions.jax ? "JAX gave no jaxpr." : "No jaxpr from JAX: JAX did not run in this environment (see above).";
    box.append(h("p", { class: "muted", "data-testid": "compare-no-jaxpr" }, why));
    return box;
  }
  const d = c.jaxprDiff;
  if (d) {
    const verdict = d.same
      ? `Same primitives, shapes and dtypes as JAX's (${plural(d.counts.ours, "equation")})${d.sameParams ? ", and the same params." : "; some params differ."}`
      : `Differs from JAX's: ours ${plural(d.counts.ours, "equation")}, JAX ${d.counts.jax}, ${d.counts.matched} aligned.`;
    box.append(h("p", { class: d.same ? "verdict same" : "verdict differs", "data-testid": "jaxpr-diff-verdict" }, verdict));
    if (d.mismatches.length) {
      box.append(h("ul", { class: "mismatches", "data-testid": "jaxpr-mismatches" }, d.mismatches.map((m) => h("li", { class: `mm-${m.kind}`, "data-testid": "jaxpr-mismatch", "data-kind": m.kind }, m.message))));
      if (d.truncated) box.append(h("p", { class: "muted" }, "(more mismatches were not listed)"));
    }
    for (const n of d.notes) box.append(h("p", { class: "muted note", "data-testid": "jaxpr-diff-note" }, n));
  } else if (!r.jaxpr?.length) {
    box.append(h("p", { class: "muted" }, "No jaxpr of ours to compare with (the trace did not finish)."));
  }
  box.append(sideBySide(r, c, hooks));
  return box;
}

interface Row {
  ours?: number;
  jax?: number;
  pair: boolean;
}

/** Rows of the two texts: each aligned pair on one row; the lines between two pairs side by side, in order. */
export function alignRows(oursCount: number, jaxCount: number, pairs: { oursLine: number; jaxLine: number }[]): Row[] {
  const rows: Row[] = [];
  let i = 0, j = 0;
  const gap = (toI: number, toJ: number) => {
    while (i < toI || j < toJ) rows.push({ ours: i < toI ? i++ : undefined, jax: j < toJ ? j++ : undefined, pair: false });
  };
  for (const p of pairs) {
    // Pairs are increasing on both sides; a malformed one (out of order or range) is skipped.
    if (p.oursLine < i || p.jaxLine < j || p.oursLine >= oursCount || p.jaxLine >= jaxCount) continue;
    gap(p.oursLine, p.jaxLine);
    rows.push({ ours: i++, jax: j++, pair: true });
  }
  gap(oursCount, jaxCount);
  return rows;
}

function sideBySide(r: Report, c: CompareResult, hooks: CompareHooks): HTMLElement {
  const jaxLines = (c.jaxpr ?? "").split("\n");
  const oursCount = r.jaxpr?.length ?? 0;
  const d = c.jaxprDiff;
  const byOurs = new Map<number, JaxprMismatch[]>();
  const byJax = new Map<number, JaxprMismatch[]>();
  for (const m of d?.mismatches ?? []) {
    if (m.ours) byOurs.set(m.ours.line, [...(byOurs.get(m.ours.line) ?? []), m]);
    if (m.jax) byJax.set(m.jax.line, [...(byJax.get(m.jax.line) ?? []), m]);
  }
  const table = h(
    "table",
    { class: "sbs", "data-testid": "jaxpr-side-by-side" },
    h("colgroup", {}, h("col", { class: "half" }), h("col", { class: "half" })),
    h("thead", {}, h("tr", {}, h("th", {}, "JIT Lens"), h("th", {}, `jax.make_jaxpr${c.versions.jax ? ` (JAX ${c.versions.jax})` : ""}`))),
  );
  const body = h("tbody", {});
  const noted = new Set<JaxprMismatch>();
  for (const row of alignRows(oursCount, jaxLines.length, d?.pairs ?? [])) {
    const mm = [...(row.ours !== undefined ? byOurs.get(row.ours) ?? [] : []), ...(row.jax !== undefined ? byJax.get(row.jax) ?? [] : [])];
    const kinds = [...new Set(mm.map((m) => m.kind))];
    const tr = h("tr", {
      class: `sbs-row${row.pair ? " pair" : ""}${mm.length ? " mismatch" : ""}`,
      "data-testid": "sbs-row",
      "data-ours-line": row.ours,
      "data-jax-line": row.jax,
      "data-kind": kinds.length ? kinds.join(" ") : undefined,
    });
    const oursCell = h("td", { class: "ours" });
    if (row.ours !== undefined) {
      const el = hooks.oursJaxprLine(row.ours);
      for (const m of byOurs.get(row.ours) ?? []) el.classList.add("mm", `mm-${m.kind}`);
      oursCell.append(el);
    }
    const jaxCell = h("td", { class: "jax" });
    if (row.jax !== undefined) {
      const el = h("div", { class: "ir-line plain" }, jaxLines[row.jax]);
      for (const m of byJax.get(row.jax) ?? []) el.classList.add("mm", `mm-${m.kind}`);
      jaxCell.append(el);
    }
    if (mm.length) tr.title = mm.map((m) => m.message).join("\n");
    tr.append(oursCell, jaxCell);
    body.append(tr);
    for (const m of mm) {
      if (noted.has(m)) continue;
      noted.add(m);
      body.append(h("tr", { class: `sbs-note mm-${m.kind}` }, h("td", { colspan: 2, "data-testid": "jaxpr-mismatch-note", "data-kind": m.kind }, `⚠ ${m.message}`)));
    }
  }
  table.append(body);
  const view = h("div", { class: "ir sbs-view" }, table);
  hooks.link(view);
  return view;
}

// --- HLO side by side ---------------------------------------------------------------------

/** XLA's launches in the entry computation: fusions and custom calls (highlighted; compare_diff.ts counts them exactly). */
const LAUNCH = /=\s*(?:\([^=]*?\)|\S+)\s+(fusion|custom-call)\(/;

function hloSection(r: Report, c: CompareResult): HTMLElement {
  const oursLines = (r.passes?.length ? r.passes[r.passes.length - 1].lines : r.lowered ?? []).map((l) => l.text);
  const oursPre = h("pre", { class: "hlo", "data-testid": "hlo-ours" }, oursLines.length ? oursLines.join("\n") : "(no HLO of ours in this report)");
  const xlaPre = h("pre", { class: "hlo", "data-testid": "hlo-xla" });
  if (c.hlo !== undefined) {
    let inEntry = false;
    for (const line of c.hlo.split("\n")) {
      const t = line.trim();
      // A computation's header (`%name (params) -> type {`, `ENTRY %main (...) -> ... {`).
      if (t.endsWith("{") && !/\s=\s/.test(t)) inEntry = t.startsWith("ENTRY");
      const launch = inEntry && LAUNCH.test(t);
      xlaPre.append(h("span", { class: launch ? "launch" : undefined }, line), "\n");
    }
  } else {
    xlaPre.append(c.stageErrors?.hlo ? formatError(c.stageErrors.hlo, r.file) : "(no compiled HLO from XLA: JAX did not run)");
  }
  const grid = h(
    "div",
    { class: "hlo-grid", "data-testid": "compare-hlo" },
    h("div", {}, h("h4", {}, `JIT Lens${r.passes?.length ? " (after the pass pipeline)" : r.lowered ? " (lowered)" : ""}`), oursPre),
    h("div", {}, h("h4", {}, "XLA compiled", c.xla ? h("span", { class: "badge" }, plural(c.xla.kernels, "kernel")) : null), xlaPre),
  );
  const box = h("div", {}, grid);
  if (c.stablehlo !== undefined) {
    box.append(h("details", { "data-testid": "compare-stablehlo" }, h("summary", {}, "JAX's StableHLO (jax.jit(f).lower(...).as_text())"), h("pre", { class: "hlo" }, c.stablehlo)));
  }
  return box;
}
