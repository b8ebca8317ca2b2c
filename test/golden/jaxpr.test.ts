// Golden jaxprs: every example function that JIT Lens traces has its jaxpr text in
// test/golden/jaxpr/<file>.<fn>.jaxpr. UPDATE_GOLDEN=1 rewrites them; review the diff like code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { traceFunction } from "../../compiler-core/src/trace/trace";
import { printJaxpr } from "../../compiler-core/src/ir/print";
import { irText } from "../../compiler-core/src/report";

const root = path.resolve(__dirname, "../..");
const examples = path.join(root, "examples");
const goldenDir = path.join(__dirname, "jaxpr");
const update = process.env.UPDATE_GOLDEN === "1";
const manifest: { file: string; fn: string; args: string; expect: string }[] = JSON.parse(readFileSync(path.join(examples, "manifest.json"), "utf8"));

/** The example functions this version must trace (grows with each issue). */
const MUST_TRACE = [
  "gelu", "elu", "sigmoid_scaled", "smooth_max", "softsign", "damped_wave", "clamp_log1p",
  "center_crop", "reverse_and_pad", "add_row_index", "masked_upper", "scatter_add_first", "embedding_lookup",
  "linear_relu", "mlp_forward", "sdpa", "qkv_split", "batched_proj", "nll",
  "softmax", "layernorm", "logsumexp_rows", "sum_of_squares", "row_dot", "zscore_cols", "argmax_onehot",
  "unrolled_heat", "vmapped_softmax", "tanh_second_derivative", "linreg_grad",
  "fixed_point", "ema", "maybe_square",
];

function trace(file: string, fn: string): string {
  const source = readFileSync(path.join(examples, file), "utf8");
  return irText(printJaxpr(traceFunction({ file, source, fn }).jaxpr)) + "\n";
}

for (const e of manifest.filter((m) => m.expect === "ok")) {
  const golden = path.join(goldenDir, `${e.file.replace(/\.py$/, "")}.${e.fn}.jaxpr`);
  const required = MUST_TRACE.includes(e.fn);
  if (!required && !existsSync(golden) && !update) continue;
  test(`jaxpr of ${e.file}:${e.fn} matches its golden file`, () => {
    let text: string;
    try {
      text = trace(e.file, e.fn);
    } catch (err) {
      if (!required && update) return;
      throw err;
    }
    if (update) {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(golden, text);
      return;
    }
    assert.ok(existsSync(golden), `missing golden file ${path.relative(root, golden)} (run with UPDATE_GOLDEN=1)`);
    assert.equal(text, readFileSync(golden, "utf8"));
  });
}

test("every golden file belongs to an example in the manifest", () => {
  const names = new Set(manifest.map((m) => `${m.file.replace(/\.py$/, "")}.${m.fn}.jaxpr`));
  for (const f of readdirSync(goldenDir)) assert.ok(names.has(f), `stale golden file ${f}`);
});

/** Each `error` example fails with a clear error on the line that causes it. */
const ERROR_LINES: Record<string, [string, number]> = {
  positive_branch: ["TracerBoolConversionError", 6],
  wrong_matmul: ["ShapeError", 13],
  typo: ["AttributeError", 18],
  bad_split: ["ShapeError", 23],
};

for (const e of manifest.filter((m) => m.expect === "error")) {
  test(`${e.file}:${e.fn} fails with a clear error naming the right line`, () => {
    const source = readFileSync(path.join(examples, e.file), "utf8");
    assert.throws(() => traceFunction({ file: e.file, source, fn: e.fn }), (err: unknown) => {
      const x = err as { kind?: string; span?: { line: number }; message?: string };
      const want = ERROR_LINES[e.fn];
      assert.ok(want, `no expectation for ${e.fn}`);
      assert.equal(x.kind, want[0], x.message);
      assert.equal(x.span?.line, want[1]);
      return true;
    });
  });
}
