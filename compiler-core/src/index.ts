// compiler-core's public surface: used by the CLI, the engine process and (for cheap,
// editor-side parsing only) the extension. No `vscode`, no DOM.
export * from "./report";
export { listFunctions, functionAt, usesJax, lineOf } from "./frontend/functions";
export type { FunctionInfo } from "./frontend/functions";
export { analyze } from "./api";
export { inferSpec } from "./frontend/specs";
export { parsePython } from "./frontend/functions";
export type { AnalyzeParams, Backend } from "./engine/protocol";
