// A static page that hosts dist/webview.js the way the VS Code panel does: the same strict
// CSP with a nonce (scripts only by nonce, workers only from blob:), a fake
// `acquireVsCodeApi` that records what the viewer posts and keeps its state in
// sessionStorage (so a reload restores it, as the panel serializer does), and VS Code's
// theme variables for a light or a dark theme. Served over http from a tiny local server.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

export const THEMES = {
  light: {
    bodyClass: "vscode-light",
    vars: {
      "--vscode-font-family": "system-ui, sans-serif",
      "--vscode-font-size": "13px",
      "--vscode-editor-font-family": "monospace",
      "--vscode-editor-font-size": "13px",
      "--vscode-foreground": "#3b3b3b",
      "--vscode-editor-background": "#ffffff",
      "--vscode-descriptionForeground": "#717171",
      "--vscode-panel-border": "#e5e5e5",
      "--vscode-panel-background": "#f8f8f8",
      "--vscode-editorWidget-background": "#f8f8f8",
      "--vscode-textCodeBlock-background": "#f2f2f2",
      "--vscode-textLink-foreground": "#005fb8",
      "--vscode-badge-background": "#cccccc",
      "--vscode-badge-foreground": "#3b3b3b",
      "--vscode-focusBorder": "#005fb8",
      "--vscode-editorLineNumber-foreground": "#6e7681",
      "--vscode-editor-rangeHighlightBackground": "#fdff0033",
      "--vscode-editor-selectionHighlightBackground": "#add6ff80",
      "--vscode-diffEditor-insertedLineBackground": "#9bb95533",
      "--vscode-diffEditor-removedLineBackground": "#ff000033",
      "--vscode-charts-blue": "#1a85ff",
      "--vscode-charts-orange": "#d18616",
      "--vscode-charts-green": "#388a34",
      "--vscode-charts-purple": "#652d90",
      "--vscode-charts-red": "#e51400",
      "--vscode-charts-yellow": "#bf8803",
      "--vscode-symbolIcon-keywordForeground": "#af00db",
      "--vscode-symbolIcon-classForeground": "#d67e00",
      "--vscode-symbolIcon-functionForeground": "#652d90",
      "--vscode-debugTokenExpression-number": "#098658",
      "--vscode-debugTokenExpression-string": "#a31515",
      "--vscode-debugTokenExpression-boolean": "#0000ff",
      "--vscode-errorForeground": "#f85149",
      "--vscode-checkbox-background": "#f8f8f8",
      "--vscode-checkbox-border": "#cecece",
      "--vscode-button-background": "#005fb8",
      "--vscode-button-foreground": "#ffffff",
      "--vscode-button-secondaryBackground": "#e5e5e5",
      "--vscode-button-secondaryForeground": "#3b3b3b",
      "--vscode-panelTitle-activeForeground": "#3b3b3b",
      "--vscode-panelTitle-activeBorder": "#005fb8",
      "--vscode-panelTitle-inactiveForeground": "#3b3b3b",
    },
  },
  dark: {
    bodyClass: "vscode-dark",
    vars: {
      "--vscode-font-family": "system-ui, sans-serif",
      "--vscode-font-size": "13px",
      "--vscode-editor-font-family": "monospace",
      "--vscode-editor-font-size": "13px",
      "--vscode-foreground": "#cccccc",
      "--vscode-editor-background": "#1f1f1f",
      "--vscode-descriptionForeground": "#9d9d9d",
      "--vscode-panel-border": "#2b2b2b",
      "--vscode-panel-background": "#181818",
      "--vscode-editorWidget-background": "#202020",
      "--vscode-textCodeBlock-background": "#2b2b2b",
      "--vscode-textLink-foreground": "#4daafc",
      "--vscode-badge-background": "#616161",
      "--vscode-badge-foreground": "#f8f8f8",
      "--vscode-focusBorder": "#0078d4",
      "--vscode-editorLineNumber-foreground": "#6e7681",
      "--vscode-editor-rangeHighlightBackground": "#ffffff0b",
      "--vscode-editor-selectionHighlightBackground": "#add6ff26",
      "--vscode-diffEditor-insertedLineBackground": "#9bb95533",
      "--vscode-diffEditor-removedLineBackground": "#ff000033",
      "--vscode-charts-blue": "#3794ff",
      "--vscode-charts-orange": "#d18616",
      "--vscode-charts-green": "#89d185",
      "--vscode-charts-purple": "#b180d7",
      "--vscode-charts-red": "#f14c4c",
      "--vscode-charts-yellow": "#cca700",
      "--vscode-symbolIcon-keywordForeground": "#c586c0",
      "--vscode-symbolIcon-classForeground": "#ee9d28",
      "--vscode-symbolIcon-functionForeground": "#b180d7",
      "--vscode-debugTokenExpression-number": "#b5cea8",
      "--vscode-debugTokenExpression-string": "#ce9178",
      "--vscode-debugTokenExpression-boolean": "#4e94ce",
      "--vscode-errorForeground": "#f85149",
      "--vscode-checkbox-background": "#313131",
      "--vscode-checkbox-border": "#3c3c3c",
      "--vscode-button-background": "#0078d4",
      "--vscode-button-foreground": "#ffffff",
      "--vscode-button-secondaryBackground": "#313131",
      "--vscode-button-secondaryForeground": "#cccccc",
      "--vscode-panelTitle-activeForeground": "#e7e7e7",
      "--vscode-panelTitle-activeBorder": "#0078d4",
      "--vscode-panelTitle-inactiveForeground": "#9d9d9d",
    },
  },
};

const NONCE = "dGVzdC1ub25jZS0xMjM0";
/** The panel's CSP (extension/src/panel.ts), with this server's origin as the resource source. */
const CSP = ["default-src 'none'", `script-src 'nonce-${NONCE}'`, "style-src 'self' 'unsafe-inline'", "font-src 'self'", "img-src 'self' data:", "worker-src blob:"].join("; ");

function pageHtml(theme) {
  const t = THEMES[theme];
  const vars = Object.entries(t.vars).map(([k, v]) => `${k}: ${v};`).join(" ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${CSP}">
  <title>JIT Lens viewer test</title>
  <link rel="icon" href="data:,">
  <style>html { ${vars} }</style>
  <script nonce="${NONCE}">
    window.__posted = [];
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => { const s = sessionStorage.getItem("state"); return s ? JSON.parse(s) : undefined; },
      // sessionStorage holds a few MB: a bigger state is kept in memory only (no reload test uses one).
      setState: (s) => { try { sessionStorage.setItem("state", JSON.stringify(s)); } catch { sessionStorage.removeItem("state"); } },
    });
  </script>
</head>
<body class="${t.bodyClass}">
  <div id="root"></div>
  <script nonce="${NONCE}" src="/dist/webview.js"></script>
</body>
</html>`;
}

/** Serves `/light.html`, `/dark.html` and `/dist/webview.js`; resolves to the base URL and a close(). */
export function startServer(root) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const theme = /^\/(light|dark)\.html$/.exec(url.pathname)?.[1];
    if (theme) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(pageHtml(theme));
      return;
    }
    if (url.pathname === "/dist/webview.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(fs.readFileSync(path.join(root, "dist", "webview.js")));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ base: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
