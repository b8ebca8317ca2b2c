// The engine's `jitlens/compare` request (what "JIT Lens: Compare with JAX" sends): the bundled
// engine runs the user's Python for real (NumPy here; JAX is reported missing), and cancelling
// it kills the engine and, with it, the Python helper (which exits when its parent goes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineCancelledError, EngineClient } from "../../compiler-core/src/engine/client";

const root = path.resolve(__dirname, "../..");
const script = path.join(root, "dist", "jitlens.js");
const fixture = path.join(root, "test", "fixtures", "compare", "numpy_ok.py");
const hasPython = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
const needsPython = { skip: hasPython ? false : "python3 with numpy is not available" } as const;

/** Running (a zombie waiting for a reaper counts as gone: it runs nothing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return process.platform !== "linux";
  }
}

test("jitlens/compare in the engine: NumPy timed on our inputs and checked against our outputs; JAX missing", needsPython, async () => {
  assert.ok(existsSync(script), "dist/jitlens.js is built (npm run build)");
  const client = new EngineClient({ script, cwd: root });
  try {
    const c = await client.compare({ file: fixture, source: readFileSync(fixture, "utf8"), fn: "gelu", timing: { minRuns: 2, minTimeMs: 5 } });
    assert.equal(c.error, undefined, JSON.stringify(c.error));
    assert.ok(c.runs.numpy?.timing && c.runs.numpy.timing.median_ms > 0);
    assert.equal(c.inputsMatch, true);
    assert.ok((c.runs.numpy.max_rel_diff ?? 1) < 1e-5, `vs ours: ${c.runs.numpy.max_rel_diff}`);
    if (!c.versions.jax) assert.ok(c.missing.some((m) => /JAX is not installed/.test(m)), JSON.stringify(c.missing));
    // A function our tracer cannot run still compares (a warning says so).
    const odd = await client.compare({ file: fixture, source: readFileSync(fixture, "utf8"), fn: "no_such_function" });
    assert.equal(odd.error?.kind, "NameError", JSON.stringify(odd.error));
    assert.ok(odd.warnings.some((w) => /could not run the function itself/.test(w)), JSON.stringify(odd.warnings));
  } finally {
    client.dispose();
  }
});

test("cancelling jitlens/compare kills the engine and the Python helper with it", needsPython, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "jitlens-compare-cancel-"));
  const file = path.join(dir, "slow.py");
  const pidFile = path.join(dir, "pid");
  writeFileSync(file, [
    "import os, time",
    "import jax.numpy as jnp",
    "",
    "# jitlens: x=f32[4]",
    "def slow(x):",
    `    open(${JSON.stringify(pidFile)}, "w").write(str(os.getpid()))`,
    "    time.sleep(60)",
    "    return x",
    "",
  ].join("\n"));
  const client = new EngineClient({ script, cwd: root });
  try {
    const ac = new AbortController();
    const pending = client.compare({ file, source: readFileSync(file, "utf8"), fn: "slow" }, ac.signal);
    const t0 = Date.now();
    while (!existsSync(pidFile) || !readFileSync(pidFile, "utf8")) {
      assert.ok(Date.now() - t0 < 20_000, "the helper called the function");
      await new Promise((r) => setTimeout(r, 50));
    }
    const pid = Number(readFileSync(pidFile, "utf8"));
    assert.ok(alive(pid), "the helper runs the function");
    ac.abort();
    await assert.rejects(pending, EngineCancelledError);
    const t1 = Date.now();
    while (alive(pid) && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(pid), false, "the Python helper exited after the engine was killed");
    console.log(`# helper gone ${Date.now() - t1} ms after the cancel`);
  } finally {
    client.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
