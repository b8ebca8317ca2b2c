// What the IR viewer draws at most, and why (docs/CONTRACTS.md, viewer; docs/RELIABILITY.md).
// Past these the viewer says so instead of freezing the panel: the Graph stage shows a
// message, a text stage shows its first lines and a "show all" button. Measured in headless
// chromium on the shared 2-core VM (test/browser/viewer.test.mjs logs the figures each run):
//   - graph: 2,002 equations (unrolled_heat, 182 steps) 1.5 s from the report to the drawing,
//     5,060 equations 3.8 s, of which ~0.65 s of drawing on the UI thread (the layout is in a
//     worker; the SVG is not). Both grow about linearly, so 10,000 would be ~8 s and a 1.3 s freeze.
//   - text: ~56 µs per IR line to build and show (5,062 jaxpr lines: 284 ms), on the UI
//     thread; the stages are built one per task, so each task must stay well under a second.
// No DOM here: the Node side of the tests imports these numbers.

/** The Graph stage lays out functions of at most this many (top-level) equations. */
export const GRAPH_MAX_EQNS = 5_000;

/** A text stage (Jaxpr, Lowered, the Passes stage as a whole) first draws this many lines. */
export const TEXT_MAX_LINES = 10_000;

/**
 * A Report whose JSON is longer than this is not kept in the webview state (it would be
 * serialised again on every tab switch); after a window reload the viewer then shows the
 * hint until the next run. Reports this big come from functions of thousands of equations
 * whose fused kernels' sources are megabytes (5,060 equations: 31 MB, 24 MB of it source).
 */
export const STATE_MAX_CHARS = 8_000_000;

/** `1,234` */
export function formatInt(n: number): string {
  return n.toLocaleString("en-US");
}

/** The Graph stage's message past GRAPH_MAX_EQNS. */
export function graphTooBigMessage(eqns: number): string {
  return `This function has ${formatInt(eqns)} equations; the graph draws up to ${formatInt(GRAPH_MAX_EQNS)}. The Jaxpr and Kernels stages show everything.`;
}
