// Hovers on a traced line: its jaxpr equations, the kernel they went into and why that kernel
// ends where it does, and the memory traffic fusion saved. Read from the function's last Report
// (moved with edits above the function; nothing once the function itself was edited).
import * as vscode from "vscode";
import { formatBytes, formatMs, plural } from "../../compiler-core/src/format";
import type { KernelInfo, LineInfo, Report } from "../../compiler-core/src/report";
import { place } from "./locate";
import type { Results } from "./results";
import { fileNameOf } from "./spans";

export class JitLensHoverProvider implements vscode.HoverProvider {
  constructor(private readonly results: Results) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    for (const [fn, state] of this.results.all(doc.uri)) {
      const placed = place(doc, fn, state);
      if (!placed?.report || placed.stale || placed.report.error || placed.report.file !== fileNameOf(doc)) continue;
      const reportLine = pos.line + 1 - placed.delta;
      const li = placed.report.lines?.find((l) => l.line === reportLine);
      if (!li) continue;
      const md = hoverMarkdown(placed.report, li);
      return new vscode.Hover(md, doc.lineAt(pos.line).range);
    }
    return undefined;
  }
}

/** The hover's text for one line of a Report (plain Markdown, so tests can read it). */
export function hoverText(r: Report, li: LineInfo): string {
  const out: string[] = [];
  const eqns = (r.jaxpr ?? []).filter((l) => l.spans.some((s) => s.line === li.line && s.file === r.file)).map((l) => l.text.trim());
  out.push(`**JIT Lens** · \`${r.fn}\` line ${li.line} · ${li.type || "?"}${typeof li.eagerMs === "number" ? ` · eager ${formatMs(li.eagerMs)}` : ""}`);
  const ks = li.kernels?.length ? li.kernels : li.kernel >= 0 ? [li.kernel] : [];
  for (const k of ks.slice(0, 3)) {
    const kernel = r.kernels?.[k];
    if (kernel) out.push(kernelText(k, kernel));
  }
  const b = r.timings?.bytes;
  if (b) {
    const saved = b.eager - b.compiled;
    out.push(saved > 0
      ? `Fusion saved **${formatBytes(saved)}** of memory traffic per call (interpreted ${formatBytes(b.eager)} → compiled ${formatBytes(b.compiled)}; minimum ${formatBytes(b.minimum)}).`
      : `Memory traffic per call: interpreted ${formatBytes(b.eager)}, compiled ${formatBytes(b.compiled)} (minimum ${formatBytes(b.minimum)}).`);
  }
  // The equations last: the kernel and the traffic fit in a short hover without scrolling.
  if (eqns.length) out.push("```\n" + eqns.slice(0, 12).join("\n") + (eqns.length > 12 ? `\n… ${eqns.length - 12} more` : "") + "\n```");
  return out.join("\n\n");
}

function kernelText(k: number, kernel: KernelInfo): string {
  const time = typeof kernel.timeMs === "number" ? ` · ${formatMs(kernel.timeMs)}` : "";
  return [
    `**→ kernel ${k}** \`${kernel.name}\` · ${kernel.kind} · ${plural(kernel.ops, "op")}${time} · reads ${formatBytes(kernel.bytesRead)}, writes ${formatBytes(kernel.bytesWritten)}`,
    `Ends here: ${kernel.reason}`,
  ].join("  \n");
}

function hoverMarkdown(r: Report, li: LineInfo): vscode.MarkdownString {
  const md = new vscode.MarkdownString(hoverText(r, li));
  md.supportThemeIcons = false;
  return md;
}
