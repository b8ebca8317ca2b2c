// A short soak (the CI version of scripts/soak.ts, `npm run soak` runs 1,000 cycles): 50
// trace-compile-run cycles in one real engine process; no errors, no restart, and memory flat
// after a full GC (a leak of even 100 KiB per cycle would show as 5 MiB here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { soak } from "../../scripts/soak";

const MiB = 2 ** 20;

test("soak: 50 trace-compile-run cycles in one engine: no errors, no restarts, heap and RSS flat", async () => {
  const r = await soak({ cycles: 50, warmup: 15 });
  const f = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  console.log(`    ${r.after.requests} requests in ${(r.ms / 1000).toFixed(1)} s; heap ${f(r.before.heapUsed)} -> ${f(r.after.heapUsed)}, rss ${f(r.before.rss)} -> ${f(r.after.rss)} (after GC: ${r.after.gc})`);
  assert.deepEqual(r.errors, []);
  assert.equal(r.restarts, 0, "one engine process throughout");
  assert.equal(r.after.pid, r.before.pid);
  assert.ok(r.after.gc, "stats were taken after a full GC (--expose-gc)");
  assert.ok(r.after.heapUsed - r.before.heapUsed < 8 * MiB, `heap grew ${f(r.after.heapUsed - r.before.heapUsed)}`);
  assert.ok(r.after.rss - r.before.rss < 64 * MiB, `rss grew ${f(r.after.rss - r.before.rss)}`);
});
