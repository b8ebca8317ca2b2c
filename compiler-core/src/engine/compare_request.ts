// The engine's `jitlens/compare` request (protocol.ts): our side (trace, compile, and one
// compiled run on the comparison's inputs, for the output check) then the user's own Python
// (compare.ts). Never throws: a failure of ours becomes the comparison's `warnings` (JAX and
// NumPy may still run the function), a bug becomes an `InternalError` in `error`.
import { makeInputs, npyLoader, prepare, toErrorInfo } from "../api";
import { compareWithPython, type CompareOptions } from "../compare";
import { COMPARE_VERSION, irText, type CompareResult } from "../report";
import type { CompareParams } from "./protocol";

export async function compareSafely(params: CompareParams): Promise<CompareResult> {
  const t0 = Date.now();
  const seed = params.seed ?? 0;
  const notes: string[] = [];
  let ours: CompareOptions["ours"];
  try {
    const p = prepare({ file: params.file, source: params.source, fn: params.fn, args: params.args, run: false });
    const inputs = makeInputs(p.trace, seed);
    ours = { jaxpr: p.report.jaxpr ? irText(p.report.jaxpr) : undefined, inputs, outputs: p.compiled.run(inputs) };
  } catch (e) {
    const info = toErrorInfo(e);
    notes.push(`JIT Lens could not run the function itself (${info.kind}: ${info.message}); NumPy and JAX ran it without a comparison with ours`);
  }
  try {
    const result = await compareWithPython({
      file: params.file,
      source: params.source,
      fn: params.fn,
      args: params.args,
      seed,
      python: params.python || undefined,
      pythonSetting: params.pythonSetting || undefined,
      timeoutMs: params.timeoutMs,
      timing: params.timing,
      loadNpy: npyLoader(params.file),
      ours,
    });
    result.warnings.unshift(...notes);
    return result;
  } catch (e) {
    return {
      version: COMPARE_VERSION,
      python: { path: params.python || params.pythonSetting || "python3", source: params.python ? "explicit" : params.pythonSetting ? "setting" : "PATH" },
      versions: {},
      missing: [],
      warnings: notes,
      error: toErrorInfo(e),
      seed,
      inputs: [],
      inputsMatch: false,
      runs: {},
      elapsed_ms: Date.now() - t0,
    };
  }
}
