// Runs `jitlens compare` on every example of examples/manifest.json and keeps each Report
// (with its `compare` part) as a fixture, plus a summary table for docs/BENCHMARKS.md.
// Meant for a machine whose Python has JAX (and a GPU): see docs/COMPARE.md.
//
//   node scripts/compare-examples.mjs [--python PATH] [--out DIR] [--backend cpu|webgpu|auto] [NAME...]
//
// DIR defaults to test/fixtures/compare/real; NAMEs (`file.py:fn` or `fn`) pick examples.
// Writes DIR/<file>__<fn>.json for each example and DIR/SUMMARY.md; prints the summary too.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); if (i < 0) return dflt; const v = argv[i + 1]; argv.splice(i, 2); return v; };
const python = opt("--python");
const out = path.resolve(opt("--out", path.join(root, "test", "fixtures", "compare", "real")));
const backend = opt("--backend", "auto");
const only = argv;
const manifest = JSON.parse(fs.readFileSync(path.join(root, "examples", "manifest.json"), "utf8"));
fs.mkdirSync(out, { recursive: true });

const fmt = (ms) => (ms === undefined ? "—" : ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
const rows = [["example", "ours compiled", "jax.jit", "ours time ÷ jit time", "ours kernels", "XLA kernels (fusions)", "jaxpr vs JAX", "NumPy"]];
for (const e of manifest) {
  if (only.length && !only.includes(e.fn) && !only.includes(`${e.file}:${e.fn}`)) continue;
  const args = ["compare", path.join("examples", e.file), "--fn", e.fn, "--arg", e.args, "--format", "json", "--backend", backend, ...(python ? ["--python", python] : [])];
  const r = spawnSync(process.execPath, [path.join(root, "bin", "jitlens.cjs"), ...args], { cwd: root, encoding: "utf8", timeout: 300_000, maxBuffer: 256 << 20 });
  let report;
  try { report = JSON.parse(r.stdout); } catch { console.error(`${e.file}:${e.fn}: no report (exit ${r.status}): ${r.stderr.trim().split("\n").pop()}`); continue; }
  fs.writeFileSync(path.join(out, `${e.file.replace(/\.py$/, "")}__${e.fn}.json`), JSON.stringify(report, null, 1) + "\n");
  const c = report.compare ?? {};
  const ours = report.timings?.compiled?.median_ms, jit = c.runs?.jax_jit?.timing?.median_ms;
  const d = c.jaxprDiff;
  rows.push([
    `${e.file}:${e.fn}`,
    report.error ? `error: ${report.error.kind}` : fmt(ours),
    c.runs?.jax_jit?.error ? `error: ${c.runs.jax_jit.error.kind}` : fmt(jit),
    ours && jit ? `${(ours / jit).toFixed(2)}×` : "—",
    report.kernels ? String(report.kernels.length) : "—",
    c.xla ? `${c.xla.kernels} (${c.xla.fusions})` : "—",
    d ? (d.same ? (d.sameParams ? "same" : "same (params differ)") : `${d.mismatches.length} differences`) : c.error ? `error: ${c.error.kind}` : "—",
    c.runs?.numpy?.error ? "does not run" : fmt(c.runs?.numpy?.timing?.median_ms),
  ]);
}
const first = fs.readdirSync(out).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(fs.readFileSync(path.join(out, f), "utf8")).compare).find(Boolean);
const env = first ? `JAX ${first.versions?.jax ?? "(none)"} on ${first.jax ? `${first.jax.backend}: ${first.jax.device}` : "—"}, NumPy ${first.versions?.numpy ?? "—"}, Python ${first.versions?.python ?? "—"}` : "";
const md = [`Generated ${new Date().toISOString()} by \`node scripts/compare-examples.mjs\` (--backend ${backend}). ${env}`, "",
  `| ${rows[0].join(" | ")} |`, `| ${rows[0].map(() => "---").join(" | ")} |`, ...rows.slice(1).map((r) => `| ${r.join(" | ")} |`)].join("\n");
fs.writeFileSync(path.join(out, "SUMMARY.md"), md + "\n");
console.log(md);
