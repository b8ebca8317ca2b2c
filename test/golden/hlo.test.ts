// Golden HLO: every example function that traces has its optimized HLO text (after the
// whole pass pipeline) in test/golden/hlo/<file>.<fn>.hlo. UPDATE_GOLDEN=1 rewrites them;
// review the diff like code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { traceFunction } from "../../compiler-core/src/trace/trace";
import { lower } from "../../compiler-core/src/lower/lower";
import { printHlo } from "../../compiler-core/src/lower/print";
import { runPipeline } from "../../compiler-core/src/passes/pipeline";
import { irText } from "../../compiler-core/src/report";

const root = path.resolve(__dirname, "../..");
const examples = path.join(root, "examples");
const goldenDir = path.join(__dirname, "hlo");
const update = process.env.UPDATE_GOLDEN === "1";
const manifest: { file: string; fn: string; expect: string }[] = JSON.parse(readFileSync(path.join(examples, "manifest.json"), "utf8"));

function tryTrace(file: string, fn: string) {
  try {
    return traceFunction({ file, source: readFileSync(path.join(examples, file), "utf8"), fn });
  } catch {
    return undefined; // examples that do not trace yet have no HLO golden file
  }
}

for (const e of manifest.filter((m) => m.expect === "ok")) {
  const golden = path.join(goldenDir, `${e.file.replace(/\.py$/, "")}.${e.fn}.hlo`);
  const traced = tryTrace(e.file, e.fn);
  if (!traced) continue;
  test(`optimized HLO of ${e.file}:${e.fn} matches its golden file`, () => {
    const { module } = runPipeline(lower(traced.jaxpr, `jit_${traced.fn.name}`));
    const text = irText(printHlo(module)) + "\n";
    if (update) {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(golden, text);
      return;
    }
    assert.ok(existsSync(golden), `missing golden file ${path.relative(root, golden)} (run with UPDATE_GOLDEN=1)`);
    assert.equal(text, readFileSync(golden, "utf8"));
  });
}

test("every HLO golden file belongs to an example in the manifest", () => {
  const names = new Set(manifest.map((m) => `${m.file.replace(/\.py$/, "")}.${m.fn}.hlo`));
  for (const f of readdirSync(goldenDir)) assert.ok(names.has(f), `stale golden file ${f}`);
});
