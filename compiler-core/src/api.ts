// analyze(): source + function + argument spec -> Report. Trace, compile, run, measure.
import type { AnalyzeParams } from "./engine/protocol";
import { REPORT_VERSION, type Report } from "./report";

export async function analyze(params: AnalyzeParams): Promise<Report> {
  // Implemented by the pipeline (work in progress).
  return { version: REPORT_VERSION, file: params.file, fn: params.fn ?? "", args: [], error: { kind: "NotImplemented", message: "pipeline not built yet" } };
}
