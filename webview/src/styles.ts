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

/* Kernels */
.kernel { margin: 0 0 18px; padding-bottom: 12px; border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); }
.kernel.hl { outline: 1px dashed var(--vscode-contrastActiveBorder, transparent); }
.kernel h3 { margin: 0 0 4px; font-size: 1.05em; font-family: var(--vscode-editor-font-family, monospace); cursor: pointer; }
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
.scroll-x { overflow-x: auto; }
table.data { border-collapse: collapse; margin: 6px 0 12px; }
table.data td { white-space: nowrap; }
table.data th, table.data td { text-align: right; padding: 3px 10px; border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data th { font-weight: 600; color: var(--vscode-descriptionForeground, inherit); }
table.data td { font-family: var(--vscode-editor-font-family, monospace); }
`;
