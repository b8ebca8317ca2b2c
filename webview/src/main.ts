// The IR viewer's entry (bundled to dist/webview.js as an IIFE; it defines no globals).
// It renders whatever Report the host sends as `{type: "report", report}`, says
// `{type: "ready"}` once it listens, and keeps the Report in the webview state so that
// it comes back after the panel is hidden or the window reloads.
import { isHostMessage, isViewerState, type HostMessage, type ViewerState } from "./protocol";
import { markSourceLine, render, type ViewerEvents } from "./render";
import { STYLES } from "./styles";
import { hostApi } from "./vscode-api";

const api = hostApi();
const saved = api.getState();
let state: ViewerState = isViewerState(saved) ? saved : {};

const style = document.createElement("style");
style.textContent = STYLES;
document.head.append(style);

const root = document.getElementById("root") ?? document.body.appendChild(document.createElement("div"));

const events: ViewerEvents = {
  highlight: (line, lines) => api.postMessage(lines?.length ? { type: "highlight", line, lines } : { type: "highlight", line }),
  reveal: (line) => api.postMessage({ type: "reveal", line }),
  tabChanged: (tab) => save({ ...state, tab }),
};

function save(next: ViewerState): void {
  state = next;
  api.setState(state);
}

function onMessage(m: HostMessage): void {
  switch (m.type) {
    case "report":
      save({ ...state, report: m.report });
      render(root, m.report, state.tab ?? 0, events);
      return;
    case "sourceLine":
      markSourceLine(root, m.line);
      return;
    default: {
      const unhandled: never = m;
      return unhandled;
    }
  }
}

window.addEventListener("message", (e: MessageEvent<unknown>) => {
  if (isHostMessage(e.data)) onMessage(e.data);
});

render(root, state.report, state.tab ?? 0, events);
api.postMessage({ type: "ready" });
