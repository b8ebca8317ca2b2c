// The webview's handle on its host. Outside VS Code (a plain page in a browser test) a page
// may define its own `acquireVsCodeApi`; with none at all, messages and state go nowhere.
import type { ViewerMessage, ViewerState } from "./protocol";

interface VsCodeApi {
  postMessage(message: ViewerMessage): void;
  getState(): unknown;
  setState(state: ViewerState): void;
}

declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

export function hostApi(): VsCodeApi {
  if (typeof acquireVsCodeApi === "function") return acquireVsCodeApi();
  let state: unknown;
  return { postMessage: () => undefined, getState: () => state, setState: (s) => void (state = s) };
}
