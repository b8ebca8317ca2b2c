// The IR viewer's entry (bundled to dist/webview.js as an IIFE; it defines no globals).
// It renders whatever Report the host sends as `{type: "report", report}`, says
// `{type: "ready"}` once it listens, and keeps the Report, the stage shown and the pass
// toggle in the webview state so that they come back after the panel is hidden or the
// window reloads. Every incoming message is checked against the protocol; anything else is
// dropped without a throw.
import { isHostMessage, isViewerState, STAGES, type HostMessage, type StageId, type ViewerState } from "./protocol";
import { warmUpLayout } from "./graph";
import { STATE_MAX_CHARS } from "./limits";
import { markSourceLine, markStale, render, selectStage, type ViewerEvents } from "./render";
import { STYLES } from "./styles";
import { hostApi } from "./vscode-api";

const api = hostApi();
const saved = api.getState();
let state: ViewerState = isViewerState(saved) ? saved : {};

const style = document.createElement("style");
style.textContent = STYLES;
document.head.append(style);

const root = document.getElementById("root") ?? document.body.appendChild(document.createElement("div"));

function currentStage(): StageId {
  return state.stage ?? STAGES[state.tab ?? 0] ?? "jaxpr";
}

const events: ViewerEvents = {
  highlight: (line, lines) => api.postMessage(lines?.length ? { type: "highlight", line, lines } : { type: "highlight", line }),
  reveal: (line) => api.postMessage({ type: "reveal", line }),
  stageChanged: (stage) => save({ ...state, stage, tab: STAGES.indexOf(stage) }),
  showUnchangedChanged: (show) => save({ ...state, showUnchanged: show }),
};

/** Whether the shown Report is small enough to keep in the webview state (limits.ts STATE_MAX_CHARS). */
let keepReport = true;

function reportFits(report: ViewerState["report"]): boolean {
  try {
    return JSON.stringify(report ?? null).length <= STATE_MAX_CHARS;
  } catch {
    return false;
  }
}

function save(next: ViewerState): void {
  state = next;
  try {
    // A huge Report stays out of the state (it would be serialised on every tab switch): the
    // host sends it again when the viewer reloads while the extension runs.
    api.setState(keepReport ? state : { ...state, report: undefined });
  } catch (err) {
    // Keeping state is a convenience: a host that refuses it must not stop the view.
    console.warn("JIT Lens viewer: could not keep the view state:", err);
  }
}

function show(): void {
  render(root, state.report, { stage: currentStage(), showUnchanged: state.showUnchanged ?? false }, events);
}

function onMessage(m: HostMessage): void {
  switch (m.type) {
    case "report":
      state = m.stage ? { ...state, report: m.report, stage: m.stage, tab: STAGES.indexOf(m.stage) } : { ...state, report: m.report };
      show();
      keepReport = reportFits(m.report);
      save(state);
      return;
    case "sourceLine":
      markSourceLine(root, m.line);
      return;
    case "stale":
      markStale(root, m.stale);
      return;
    default: {
      const unhandled: never = m;
      return unhandled;
    }
  }
}

window.addEventListener("message", (e: MessageEvent<unknown>) => {
  try {
    if (isHostMessage(e.data)) onMessage(e.data);
  } catch (err) {
    // A Report that passed the checks but still broke a view: say so, keep listening.
    console.error("JIT Lens viewer:", err);
  }
});

// Keyboard: 1–7 pick a stage, [ and ] step through them (outside text fields and the graph).
window.addEventListener("keydown", (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const target = e.target as HTMLElement | null;
  if (target?.closest("input, textarea, svg, [contenteditable]")) return;
  const at = STAGES.indexOf(currentStage());
  let next: StageId | undefined;
  if (/^[1-9]$/.test(e.key) && Number(e.key) <= STAGES.length) next = STAGES[Number(e.key) - 1];
  else if (e.key === "]") next = STAGES[(at + 1) % STAGES.length];
  else if (e.key === "[") next = STAGES[(at - 1 + STAGES.length) % STAGES.length];
  if (next && selectStage(root, next)) e.preventDefault();
});

show();
warmUpLayout();
api.postMessage({ type: "ready" });
