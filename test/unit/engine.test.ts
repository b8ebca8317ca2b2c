// The engine process over JSON-RPC: ping, analyze, cancel (kills it), crash, and a fresh
// engine on the next request. Runs the real bundled engine (dist/jitlens.js engine).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { EngineClient, EngineCancelledError, EngineStoppedError } from "../../compiler-core/src/engine/client";

const root = path.resolve(__dirname, "../..");
const script = path.join(root, "dist", "jitlens.js");
const file = path.join(root, "examples", "elementwise.py");
const source = readFileSync(file, "utf8");

test("the engine answers ping and analyze, then a cancel kills it and the next request starts a fresh one", async () => {
  assert.ok(existsSync(script), "dist/jitlens.js is built (npm run build)");
  const starts: (number | undefined)[] = [];
  const client = new EngineClient({ script, cwd: root, onStart: (pid) => starts.push(pid) });
  try {
    const ping = await client.ping();
    assert.ok(ping.pid > 0);
    const report = await client.analyze({ file, source, fn: "softsign", timing: { minRuns: 2, minTimeMs: 5 } });
    assert.equal(report.error, undefined);
    assert.equal(report.kernels?.length, 1);
    assert.ok((report.timings?.speedup ?? 0) > 0);

    // An infinite loop traces for up to 2 s; cancelling kills the engine at once.
    const looping = "import jax.numpy as jnp\n# jitlens: x=f32[4]\ndef f(x):\n    while True:\n        x = x\n    return x\n";
    const ac = new AbortController();
    const pending = client.analyze({ file: "loop.py", source: looping, fn: "f" }, ac.signal);
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    await assert.rejects(pending, EngineCancelledError);
    assert.ok(Date.now() - t0 < 1000, "cancel stops the work within a second");
    assert.equal(client.isRunning, false);

    const again = await client.ping();
    assert.notEqual(again.pid, ping.pid, "a fresh engine process");
    assert.equal(starts.length, 2);
    process.kill(again.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    const afterCrash = await client.analyze({ file, source, fn: "typo_does_not_exist", run: false });
    assert.equal(afterCrash.error?.kind, "NameError");
    assert.equal(starts.length, 3, "the crash was survived by starting a new engine");
  } finally {
    client.dispose();
  }
});

test("a request in flight when the engine dies rejects with a clear EngineStoppedError", async () => {
  const client = new EngineClient({ script, cwd: root });
  try {
    const { pid } = await client.ping();
    const looping = "import jax.numpy as jnp\n# jitlens: x=f32[4]\ndef f(x):\n    while True:\n        x = x\n    return x\n";
    const pending = client.analyze({ file: "loop.py", source: looping, fn: "f" });
    setTimeout(() => process.kill(pid, "SIGKILL"), 100);
    await assert.rejects(pending, (e: unknown) => e instanceof EngineStoppedError && /SIGKILL|signal|exit/i.test(e.message));
  } finally {
    client.dispose();
  }
});
