// The viewer's stylesheet, injected by main.ts so that the bundle renders on its own.
// Only VS Code theme variables for colours and fonts (with plain fallbacks outside VS Code).
export const STYLES = `
:root { color-scheme: light dark; }
body {
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-size: var(--vscode-font-size, 13px);
  color: var(--vscode-foreground, #333);
  background: var(--vscode-editor-background, transparent);
  margin: 0;
  padding: 0 16px 16px;
}
header.summary { padding: 10px 0 6px; }
header.summary h1 { font-size: 1.3em; font-weight: 600; margin: 0 0 4px; }
header.summary h1 code { font-family: var(--vscode-editor-font-family, monospace); }
.muted { color: var(--vscode-descriptionForeground, #717171); }
.args { display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 4px 0 0; padding: 0; list-style: none;
  font-family: var(--vscode-editor-font-family, monospace); font-size: var(--vscode-editor-font-size, 13px); }
.error {
  margin: 8px 0; padding: 8px 10px; white-space: pre-wrap;
  font-family: var(--vscode-editor-font-family, monospace);
  color: var(--vscode-errorForeground, #a1260d);
  background: var(--vscode-inputValidation-errorBackground, transparent);
  border: 1px solid var(--vscode-inputValidation-errorBorder, currentColor);
}
.error .related { color: var(--vscode-foreground, inherit); }
.empty { margin-top: 24px; }
vscode-tabs { margin-top: 6px; }
.stage { padding: 10px 2px; }

/* IR text: one row per line; the gutter shows the source line (from data-line). */
.ir {
  font-family: var(--vscode-editor-font-family, monospace);
  font-size: var(--vscode-editor-font-size, 13px);
  line-height: 1.5;
  overflow-x: auto;
}
.ir-line { white-space: pre; padding-right: 8px; border-left: 3px solid var(--line-color, transparent); cursor: default; }
.ir-line::before {
  content: attr(data-line); display: inline-block; width: 3.5em; margin-right: 1em; text-align: right;
  color: var(--vscode-editorLineNumber-foreground, #999);
}
.ir-line[data-line] { cursor: pointer; }
.ir-line.hl, .ir-line:hover[data-line] {
  background: var(--vscode-editor-rangeHighlightBackground, rgba(128,128,128,.2));
  outline: 1px dashed var(--vscode-contrastActiveBorder, transparent);
}
.ir-line.cursor { background: var(--vscode-editor-selectionHighlightBackground, rgba(128,128,128,.3)); }
.ir-line.add { background: var(--vscode-diffEditor-insertedLineBackground, rgba(155,185,85,.2)); }
.ir-line.del { background: var(--vscode-diffEditor-removedLineBackground, rgba(255,0,0,.2)); text-decoration: line-through; text-decoration-color: var(--vscode-descriptionForeground, #999); }
.ir-line.add::after { content: "  +"; color: var(--vscode-gitDecoration-addedResourceForeground, #587c0c); }
.ir-line.del::after { content: "  −"; color: var(--vscode-gitDecoration-deletedResourceForeground, #ad0707); }
.fold { font-style: italic; padding-left: 4.5em; }
.warning { color: var(--vscode-editorWarning-foreground, #bf8803); margin: 4px 0; }

/* Passes */
section.pass { margin: 0 0 14px; }
section.pass h3 { margin: 10px 0 4px; font-size: 1.02em; font-family: var(--vscode-editor-font-family, monospace); }
section.pass.unchanged h3 { color: var(--vscode-descriptionForeground, #717171); }
vscode-checkbox { margin: 4px 0 8px; }

/* Keyboard focus is always visible */
:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: 1px; }

/* Kernels */
.kernel { margin: 0 0 18px; padding-bottom: 12px; border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); }
.kernel.hl { outline: 1px dashed var(--vscode-contrastActiveBorder, transparent); }
.kernel h3 { margin: 0 0 4px; font-size: 1.05em; font-family: var(--vscode-editor-font-family, monospace); cursor: pointer; }
.kernel.cursor { background: var(--vscode-editor-selectionHighlightBackground, rgba(128,128,128,.15)); }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 6px; border-radius: 2px; vertical-align: baseline;
  background: var(--kernel-color, transparent); border: 1px solid var(--vscode-contrastBorder, transparent); }
.buffers { margin: 0; padding: 0; list-style: none; }
.kernel-table td:first-child { width: 1em; }
.kernel-table a { color: var(--vscode-textLink-foreground, #006ab1); text-decoration: none; }
.kernel-table a:hover { text-decoration: underline; }
/* Syntax colours: the editor's symbol-icon colours are theme variables, light and dark. */
.tok-kw { color: var(--vscode-symbolIcon-keywordForeground, #af00db); }
.tok-type { color: var(--vscode-symbolIcon-classForeground, #267f99); }
.tok-fn { color: var(--vscode-symbolIcon-functionForeground, #795e26); }
.tok-num { color: var(--vscode-debugTokenExpression-number, #098658); }
.tok-str { color: var(--vscode-debugTokenExpression-string, #a31515); }
.tok-com { color: var(--vscode-descriptionForeground, #6a737d); font-style: italic; }
.tok-builtin { color: var(--vscode-debugTokenExpression-boolean, #0000ff); }
.tok-attr { color: var(--vscode-symbolIcon-propertyForeground, #795e26); }
.badge {
  display: inline-block; margin-left: 8px; padding: 0 6px; border-radius: 8px; font-size: 0.85em;
  font-family: var(--vscode-font-family, sans-serif);
  color: var(--vscode-badge-foreground, #fff); background: var(--vscode-badge-background, #616161);
}
.reason { margin: 2px 0 6px; }
.stats { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
.stats dt { color: var(--vscode-descriptionForeground, #717171); }
.stats dd { margin: 0; font-family: var(--vscode-editor-font-family, monospace); }
pre.source {
  margin: 6px 0 0; padding: 8px 10px; overflow: auto; max-height: 60vh;
  font-family: var(--vscode-editor-font-family, monospace); font-size: var(--vscode-editor-font-size, 13px);
  background: var(--vscode-textCodeBlock-background, rgba(128,128,128,.1));
  border: 1px solid var(--vscode-contrastBorder, transparent);
}

/* Timings */
.speedup { font-size: 1.4em; margin: 4px 0 10px; }
.speedup strong { font-weight: 700; }
svg.chart { width: 100%; max-width: 640px; height: auto; display: block; margin-bottom: 12px; }
svg.chart text { fill: var(--vscode-foreground, #333); font-size: 12px; font-family: var(--vscode-font-family, sans-serif); }
svg.chart .axis path, svg.chart .axis line { stroke: var(--vscode-descriptionForeground, #999); }
svg.chart .axis text { fill: var(--vscode-descriptionForeground, #717171); }
svg.chart .eager .bar { fill: var(--vscode-charts-orange, #d18616); }
svg.chart .compiled .bar { fill: var(--vscode-charts-blue, #3794ff); }
svg.chart .bar { stroke: var(--vscode-contrastBorder, none); }
svg.chart .spread { stroke: var(--vscode-foreground, #333); stroke-width: 1.5; }
svg.chart .speedup-label { font-weight: 700; }
svg.chart .floor { stroke: var(--vscode-foreground, #333); stroke-width: 2; }
svg.chart .kbar { stroke: var(--vscode-contrastBorder, none); }
.scroll-x { overflow-x: auto; }

/* Graph */
.graph-stage { padding-top: 4px; }
.graph-toolbar { display: flex; align-items: center; justify-content: space-between; gap: 8px; margin-bottom: 4px; }
svg.graph { width: 100%; height: calc(100vh - 190px); min-height: 320px; display: block; cursor: grab;
  border: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); background: var(--vscode-editor-background, transparent); }
svg.graph:active { cursor: grabbing; }
svg.graph .cluster rect { fill: color-mix(in srgb, var(--kernel-color) 14%, transparent); stroke: var(--kernel-color); stroke-width: 1.5; }
svg.graph .cluster-label { fill: var(--vscode-foreground, #333); font-size: 11px; font-family: var(--vscode-editor-font-family, monospace); }
svg.graph .node rect { fill: var(--vscode-editorWidget-background, #f3f3f3); stroke: var(--kernel-color, var(--vscode-descriptionForeground, #999)); stroke-width: 1.5; }
svg.graph .node.input rect, svg.graph .node.output rect { stroke: var(--vscode-descriptionForeground, #999); stroke-dasharray: 3 2; }
svg.graph .node { cursor: pointer; }
svg.graph .node:hover rect { stroke-width: 3; }
svg.graph .node.cursor rect { fill: var(--vscode-editor-selectionHighlightBackground, rgba(128,128,128,.4)); stroke-width: 3;
  outline: 1px dashed var(--vscode-contrastActiveBorder, transparent); }
svg.graph .node-label { fill: var(--vscode-foreground, #333); font-size: 12px; font-family: var(--vscode-editor-font-family, monospace); text-anchor: middle; }
svg.graph .node-sub { fill: var(--vscode-descriptionForeground, #717171); font-size: 10px; font-family: var(--vscode-editor-font-family, monospace); text-anchor: middle; }
svg.graph .edge { fill: none; stroke: var(--vscode-descriptionForeground, #888); stroke-width: 1.2; }
svg.graph .arrowhead { fill: var(--vscode-descriptionForeground, #888); }
table.data { border-collapse: collapse; margin: 6px 0 12px; }
table.data td { white-space: nowrap; }
table.data th, table.data td { text-align: right; padding: 3px 10px; border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data th { font-weight: 600; color: var(--vscode-descriptionForeground, inherit); }
table.data td { font-family: var(--vscode-editor-font-family, monospace); }

/* Charts: the runs of the user's own Python (Compare with JAX) */
svg.chart .numpy .bar { fill: var(--vscode-charts-green, #388a34); }
svg.chart .jax_eager .bar { fill: var(--vscode-charts-purple, #652d90); fill-opacity: 0.5; }
svg.chart .jax_jit .bar { fill: var(--vscode-charts-purple, #652d90); }
svg.chart text.run-note { fill: var(--vscode-errorForeground, #a1260d); font-style: italic; }

/* Size limits and the stale marker */
.banner.too-big, .banner.stale {
  margin: 8px 0; padding: 6px 10px; border-left: 4px solid var(--vscode-editorWarning-foreground, #bf8803);
  background: color-mix(in srgb, var(--vscode-editorWarning-foreground, #bf8803) 14%, transparent);
}
.banner.stale { margin: 4px 0 8px; padding: 3px 10px; font-size: 0.95em; }
.text-limit { margin: 8px 0; padding: 6px 8px; font-family: var(--vscode-font-family, sans-serif); display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }

/* Compare with JAX */
.banner.synthetic {
  margin: 8px 0; padding: 6px 10px; border-left: 4px solid var(--vscode-editorWarning-foreground, #bf8803);
  background: color-mix(in srgb, var(--vscode-editorWarning-foreground, #bf8803) 14%, transparent);
}
.compare h3 { margin: 16px 0 6px; font-size: 1.05em; }
.compare h4 { margin: 4px 0; font-size: 0.95em; font-weight: 600; }
.compare .env { font-weight: 600; margin-top: 0; }
.compare .missing ul { margin: 4px 0 8px; padding-left: 20px; }
.compare .error-text, table.data td.error-text { color: var(--vscode-errorForeground, #a1260d); white-space: normal; text-align: left; }
.compare .verdict.same { color: var(--vscode-charts-green, #388a34); font-weight: 600; }
.compare .verdict.differs { color: var(--vscode-editorWarning-foreground, #bf8803); font-weight: 600; }
.compare ul.mismatches { margin: 4px 0 8px; padding-left: 20px; font-family: var(--vscode-editor-font-family, monospace); }
.compare .note { margin: 2px 0; font-style: italic; }
table.sbs { width: 100%; table-layout: fixed; border-collapse: collapse; }
table.sbs th { text-align: left; font-weight: 600; padding: 2px 6px; color: var(--vscode-descriptionForeground, inherit);
  border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); font-family: var(--vscode-font-family, sans-serif); }
table.sbs td { vertical-align: top; padding: 0; }
table.sbs td.ours { border-right: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); }
table.sbs .ir-line { white-space: pre-wrap; overflow-wrap: anywhere; }
table.sbs .ir-line::before { width: 2.5em; margin-right: 0.6em; }
table.sbs .ir-line.plain::before { content: none; }
table.sbs .ir-line.plain { padding-left: 6px; }
.mm.mm-type, .mm.mm-inputs, .mm.mm-outputs { background: color-mix(in srgb, var(--vscode-errorForeground, #f85149) 20%, transparent); }
.mm.mm-params { background: color-mix(in srgb, var(--vscode-editorWarning-foreground, #bf8803) 22%, transparent); }
.mm.mm-only_ours { background: var(--vscode-diffEditor-removedLineBackground, rgba(255,0,0,.2)); }
.mm.mm-only_jax { background: var(--vscode-diffEditor-insertedLineBackground, rgba(155,185,85,.2)); }
tr.sbs-note td { padding: 1px 6px 4px 3.6em; font-size: 0.92em; font-family: var(--vscode-font-family, sans-serif);
  color: var(--vscode-editorWarning-foreground, #bf8803); }
tr.sbs-note.mm-type td, tr.sbs-note.mm-inputs td, tr.sbs-note.mm-outputs td { color: var(--vscode-errorForeground, #a1260d); }
.hlo-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.hlo-grid > div { min-width: 0; }
pre.hlo {
  margin: 0; padding: 6px 8px; overflow: auto; max-height: 60vh; font-size: 12px;
  font-family: var(--vscode-editor-font-family, monospace);
  background: var(--vscode-textCodeBlock-background, rgba(128,128,128,.1));
  border: 1px solid var(--vscode-contrastBorder, transparent);
}
pre.hlo .launch { background: color-mix(in srgb, var(--vscode-charts-purple, #652d90) 20%, transparent); font-weight: 600; }
.compare details { margin-top: 8px; }
.compare details summary { cursor: pointer; }
`;
