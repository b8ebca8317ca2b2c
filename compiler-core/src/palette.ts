// The kernel colours: one palette, indexed by a kernel's colour index (`KernelInfo.color`, else
// its index in `Report.kernels`), shared by the editor's per-line bands (extension/) and the IR
// viewer (webview/). Theme colours first (VS Code's chart colours follow light, dark and
// high-contrast themes), with a fixed fallback for places without theme variables.
// Pure data: no `vscode`, no DOM.

export interface PaletteColor {
  /** Short name, e.g. `blue`. */
  name: string;
  /** VS Code theme colour id (for `vscode.ThemeColor`), e.g. `charts.blue`. */
  themeId: string;
  /** The CSS variable VS Code defines for it in webviews, e.g. `--vscode-charts-blue`. */
  cssVar: string;
  /** Fallback `#rrggbb` (VS Code's dark-theme value), also used for translucent fills. */
  hex: string;
}

const color = (name: string, hex: string): PaletteColor => ({ name, themeId: `charts.${name}`, cssVar: `--vscode-charts-${name}`, hex });

/** Six colours that stay apart in light, dark and high-contrast themes. */
export const KERNEL_PALETTE: readonly PaletteColor[] = [
  color("blue", "#3794ff"),
  color("orange", "#d18616"),
  color("green", "#388a34"),
  color("purple", "#b180d7"),
  color("red", "#f14c4c"),
  color("yellow", "#cca700"),
];

/** The palette entry of colour index `i` (wraps around; negative indexes wrap too). */
export function paletteColor(i: number): PaletteColor {
  const n = KERNEL_PALETTE.length;
  return KERNEL_PALETTE[((Math.trunc(i) % n) + n) % n];
}

/** The colour index of kernel `k` of a Report: its `color` when the compiler set one, else `k`. */
export function kernelColorIndex(kernels: readonly { color?: number }[] | undefined, k: number): number {
  const c = kernels?.[k]?.color;
  return typeof c === "number" && Number.isFinite(c) ? c : k;
}

/** A CSS colour for colour index `i`: the theme variable with the fallback. */
export function cssColor(i: number): string {
  const c = paletteColor(i);
  return `var(${c.cssVar}, ${c.hex})`;
}

/** `#rrggbbaa`: the fallback colour with `alpha` (0..1), for translucent fills. */
export function translucent(i: number, alpha: number): string {
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 255).toString(16).padStart(2, "0");
  return `${paletteColor(i).hex}${a}`;
}
