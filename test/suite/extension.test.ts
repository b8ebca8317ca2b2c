// The extension inside a real extension host: CodeLens, the traceAndCompile command and the
// Report it resolves to, and diagnostics for an error in the user's code. Checks the UI
// contract in docs/CONTRACTS.md. Runs in the workspace the runner opened (examples/*.py and
// test/e2e/fixtures/e2e_*.py copied into a scratch folder).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { Report } from "../../compiler-core/src/report";

const EXTENSION_ID = "jitlens.jitlens";
const SPEEDUP_LENS = /^⚡ [\d.]+× compiled vs interpreted/;

interface Target {
  uri: vscode.Uri;
  /** 0-based line of the `def`, and of the line that matters inside it. */
  defLine: number;
  line: number;
}

/** Finds the workspace file defining `fn` (examples first, our e2e_* fixtures last). */
function locate(fn: string, mustContain?: string): Target {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "the runner should have opened a workspace folder");
  const files = fs.readdirSync(folder.uri.fsPath).filter((f) => f.endsWith(".py"))
    .sort((a, b) => Number(a.startsWith("e2e_")) - Number(b.startsWith("e2e_")) || a.localeCompare(b));
  for (const f of files) {
    const lines = fs.readFileSync(path.join(folder.uri.fsPath, f), "utf8").split("\n");
    const def = lines.findIndex((l) => l.startsWith(`def ${fn}(`));
    if (def < 0) continue;
    let end = def + 1;
    while (end < lines.length && (lines[end].trim() === "" || /^\s/.test(lines[end]))) end++;
    const hit = lines.slice(def + 1, end).findIndex((l) => (mustContain ? l.includes(mustContain) : l.trim() !== ""));
    if (hit >= 0) return { uri: vscode.Uri.file(path.join(folder.uri.fsPath, f)), defLine: def, line: def + 1 + hit };
  }
  throw new Error(`no .py file in the workspace defines ${fn}${mustContain ? ` containing "${mustContain}"` : ""}`);
}

/** Polls `probe` until it returns a value; on timeout says what was awaited and what was last seen. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, describe: () => Promise<string>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${timeoutMs / 1000} s; last seen: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function lensesAt(uri: vscode.Uri, line: number): Promise<string[]> {
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri, 10)) ?? [];
  return lenses.filter((l) => l.range.start.line === line).map((l) => l.command?.title ?? "(unresolved)");
}

function irText(report: Report): string {
  return (report.jaxpr ?? []).map((l) => l.text).join("\n");
}

suite("JIT Lens in the extension host", () => {
  let gelu: Target;
  let typo: Target;

  suiteSetup(async () => {
    gelu = locate("gelu");
    typo = locate("typo", "tanhh");
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(gelu.uri));
  });

  test("the extension is installed and activates on a Python file", async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded (is extensionDevelopmentPath the repo root, with package.json's main built?)`);
    await until("the extension's activation", async () => (ext.isActive ? true : undefined), async () => "isActive=false", 30_000);
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes("jitlens.traceAndCompile"), "command jitlens.traceAndCompile is not registered");
  });

  test("a CodeLens \"⚡ Trace & Compile\" sits above gelu's def", async () => {
    await until("\"⚡ Trace & Compile\" on gelu's def line",
      async () => ((await lensesAt(gelu.uri, gelu.defLine)).includes("⚡ Trace & Compile") ? true : undefined),
      async () => JSON.stringify(await lensesAt(gelu.uri, gelu.defLine)));
  });

  let report: Report | undefined;
  test("jitlens.traceAndCompile(uri, 'gelu') resolves to a Report with jaxpr, timings and one kernel", async () => {
    report = await vscode.commands.executeCommand<Report | undefined>("jitlens.traceAndCompile", gelu.uri, "gelu");
    assert.ok(report, "the command resolved to undefined instead of a Report");
    assert.equal(report.error, undefined, `gelu should trace without error, got ${JSON.stringify(report.error)}`);
    assert.equal(report.fn, "gelu");
    const jaxpr = irText(report);
    assert.ok(jaxpr.startsWith("{ lambda ; "), `the jaxpr should start with "{ lambda ; ": ${JSON.stringify(jaxpr.slice(0, 80))}`);
    assert.match(jaxpr, /\btanh\b/, "the jaxpr should have a tanh equation");
    assert.ok(report.timings, "the Report has no timings");
    assert.ok(report.timings.speedup > 0, `timings.speedup should be > 0, is ${report.timings.speedup}`);
    assert.equal(report.kernels?.length, 1, `gelu is elementwise and should fuse into 1 kernel, got ${report.kernels?.length}`);
  });

  test("gelu's CodeLens then shows the measured speedup and an IR lens", async () => {
    const titles = await until("the measured-speedup lens on gelu's def line",
      async () => {
        const t = await lensesAt(gelu.uri, gelu.defLine);
        return t.some((x) => SPEEDUP_LENS.test(x)) ? t : undefined;
      },
      async () => JSON.stringify(await lensesAt(gelu.uri, gelu.defLine)));
    assert.ok(titles.includes("IR"), `expected a second lens "IR", lenses: ${JSON.stringify(titles)}`);
  });

  test("an error in the user's code becomes a JIT Lens diagnostic on its line", async () => {
    const r = await vscode.commands.executeCommand<Report | undefined>("jitlens.traceAndCompile", typo.uri, "typo");
    assert.ok(r, "the command resolved to undefined instead of a Report");
    assert.ok(r.error, "typo calls jnp.tanhh: the Report should carry an error");
    assert.equal(r.error.span?.line, typo.line + 1, `the error's span should be on line ${typo.line + 1}: ${JSON.stringify(r.error)}`);
    const diag = await until(`a diagnostic on line ${typo.line + 1}`,
      async () => vscode.languages.getDiagnostics(typo.uri).find((d) => d.source === "JIT Lens" && d.range.start.line === typo.line),
      async () => JSON.stringify(vscode.languages.getDiagnostics(typo.uri).map((d) => ({ line: d.range.start.line + 1, source: d.source, message: d.message }))));
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diag.message, /tanhh/, "the diagnostic should name the missing attribute");
  });

  test("the error's CodeLens reads \"⚠ Kind: message\"", async () => {
    await until("a \"⚠ \" lens on typo's def line",
      async () => ((await lensesAt(typo.uri, typo.defLine)).some((t) => /^⚠ \w+: /.test(t)) ? true : undefined),
      async () => JSON.stringify(await lensesAt(typo.uri, typo.defLine)));
  });
});
