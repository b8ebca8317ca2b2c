// The Graph stage: the jaxpr's dataflow graph, laid out by elkjs (layered, each kernel a
// compound node) in a Web Worker and drawn with d3 (zoom and pan, coloured by kernel,
// hover highlights the source line, click reveals it).
//
// The worker: a webview cannot start a Worker from its resource URL (another origin than
// the page), so the ELK worker script is bundled into dist/webview.js as text and started
// from a Blob URL; the panel's CSP allows it with `worker-src blob:`. One worker serves the
// page for its lifetime; it is started (and its script compiled) when the viewer loads, so
// the first layout does not pay for that.
import ELK, { type ELK as ElkApi, type ElkNode, type ElkExtendedEdge } from "elkjs/lib/elk-api.js";
import workerSource from "elkjs/lib/elk-worker.min.js" with { type: "text" };
import { select, zoom, zoomIdentity, type ZoomBehavior } from "d3";
import type { Report } from "../../compiler-core/src/report";
import { cssColor } from "../../compiler-core/src/palette";
import { buildGraph, CLUSTER_LABEL_H, parseJaxpr, toElk, warmUpGraph, type GraphModel, type GraphNode } from "./graph-model";
import { h } from "./dom";
import { GRAPH_MAX_EQNS, graphTooBigMessage } from "./limits";

export interface GraphEvents {
  highlight(line: number | null): void;
  reveal(line: number): void;
}

let engine: ElkApi | undefined;
let engineError: string | undefined;

/** The page's one layout engine (a Worker from a Blob URL); undefined when workers are refused. */
export function layoutEngine(): ElkApi | undefined {
  if (engine || engineError) return engine;
  try {
    const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
    engine = new ELK({ workerFactory: () => new Worker(url) });
  } catch (e) {
    engineError = e instanceof Error ? e.message : String(e);
  }
  return engine;
}

/**
 * Starts the worker and warms its compiler with a layout shaped like a big function, off the
 * UI thread: ELK is compiled Java, several times slower until V8 has optimised it, and a
 * function's trace takes longer than this warm-up, so the real layout finds it warm.
 */
export function warmUpLayout(): void {
  const elk = layoutEngine();
  if (!elk) return;
  void elk.layout(warmUpGraph()).catch(() => undefined);
}

let generation = 0;

/**
 * Fills `stage` with the graph of `r`: a status line now, the drawing when the worker
 * answers. `stage.dataset.state` goes `layout` → `ready` (or `error`), and `data-layout-ms`
 * says how long it took from this call to the drawing. A function of more than
 * GRAPH_MAX_EQNS top-level equations is not laid out: `data-state` `too-big` and a
 * `graph-too-big` message instead.
 */
export function renderGraph(stage: HTMLElement, r: Report, events: GraphEvents): void {
  const t0 = performance.now();
  const gen = ++generation;
  const eqns = parseJaxpr(r.jaxpr ?? []).eqns.length;
  if (eqns > GRAPH_MAX_EQNS) {
    stage.replaceChildren(h("p", { class: "banner too-big", role: "note", "data-testid": "graph-too-big", "data-eqns": eqns, "data-max": GRAPH_MAX_EQNS }, graphTooBigMessage(eqns)));
    stage.dataset.state = "too-big";
    return;
  }
  const model = buildGraph(r);
  stage.replaceChildren();
  stage.dataset.state = "layout";
  const status = h("p", { class: "muted graph-status", "data-testid": "graph-status" }, `Laying out ${model.nodes.length} nodes in ${model.clusters.length} kernel clusters…`);
  stage.append(status);
  if (!model.nodes.length) {
    status.textContent = r.error ? "No graph: the trace did not finish." : "No equations to draw.";
    stage.dataset.state = "ready";
    return;
  }
  const elk = layoutEngine();
  if (!elk) {
    status.textContent = `The graph cannot be laid out here: ${engineError ?? "no Web Worker"}.`;
    stage.dataset.state = "error";
    return;
  }
  elk
    .layout(toElk(model))
    .then((laid) => {
      if (gen !== generation || !stage.isConnected) return;
      const t1 = performance.now();
      draw(stage, model, laid, events);
      status.remove();
      const ms = performance.now() - t0;
      stage.dataset.layoutMs = ms.toFixed(0);
      stage.dataset.drawMs = (performance.now() - t1).toFixed(0);
      stage.dataset.state = "ready";
    })
    .catch((e: unknown) => {
      if (gen !== generation) return;
      status.textContent = `The graph layout failed: ${e instanceof Error ? e.message : String(e)}`;
      stage.dataset.state = "error";
    });
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const SVG_NS = "http://www.w3.org/2000/svg";

function draw(stage: HTMLElement, model: GraphModel, laid: ElkNode, events: GraphEvents): void {
  // Absolute boxes of everything ELK placed (shapeCoords ROOT), and of nodes drawn inside a
  // collapsed single-node cluster (centred under its label).
  const boxes = new Map<string, Box>();
  const edgesOut: ElkExtendedEdge[] = [];
  const walk = (n: ElkNode) => {
    boxes.set(n.id, { x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 });
    for (const e of n.edges ?? []) edgesOut.push(e as ElkExtendedEdge);
    for (const c of n.children ?? []) walk(c);
  };
  walk(laid);
  for (const n of model.nodes) {
    if (boxes.has(n.id) || n.kernel === undefined) continue;
    const c = boxes.get(`k:${n.kernel}`);
    if (c) boxes.set(n.id, { x: c.x + (c.width - n.width) / 2, y: c.y + CLUSTER_LABEL_H + 8, width: n.width, height: n.height });
  }
  const total = boxes.get("root")!;
  const kernelOf = new Map(model.clusters.map((c) => [c.id, c.kernel]));
  const colorOf = (k: number) => cssColor(model.kernelColors[k] ?? k);

  const toolbar = h(
    "div",
    { class: "graph-toolbar" },
    h("span", { class: "muted" }, `${model.eqnCount} equations · ${model.clusters.length} kernel${model.clusters.length === 1 ? "" : "s"} · scroll to zoom, drag to pan`),
  );
  const fit = h("vscode-button", { secondary: true, "data-testid": "graph-fit", title: "Fit the graph in view (F)" }, "Fit");
  toolbar.append(fit);
  const svgEl = document.createElementNS(SVG_NS, "svg");
  svgEl.setAttribute("class", "graph");
  svgEl.setAttribute("data-testid", "graph-svg");
  svgEl.setAttribute("tabindex", "0");
  svgEl.setAttribute("role", "img");
  svgEl.setAttribute("aria-label", `Dataflow graph: ${model.eqnCount} equations in ${model.clusters.length} kernels`);
  stage.append(toolbar, svgEl);

  const svg = select(svgEl);
  const defs = svg.append("defs");
  defs
    .append("marker")
    .attr("id", "arrow")
    .attr("viewBox", "0 0 8 8")
    .attr("refX", 7)
    .attr("refY", 4)
    .attr("markerWidth", 6)
    .attr("markerHeight", 6)
    .attr("orient", "auto")
    .append("path")
    .attr("d", "M0,0 L8,4 L0,8 z")
    .attr("class", "arrowhead");
  const viewport = svg.append("g").attr("class", "viewport");

  // Clusters, outermost first (ELK lists parents before children).
  const clusterIds = [...boxes.keys()].filter((id) => kernelOf.has(id));
  const cl = viewport
    .append("g")
    .attr("class", "clusters")
    .selectAll<SVGGElement, string>("g.cluster")
    .data(clusterIds)
    .join("g")
    .attr("class", "cluster")
    .attr("data-testid", "graph-cluster")
    .attr("data-kernel", (id) => kernelOf.get(id)!)
    .attr("transform", (id) => `translate(${boxes.get(id)!.x},${boxes.get(id)!.y})`)
    .style("--kernel-color", (id) => colorOf(kernelOf.get(id)!));
  cl.append("rect")
    .attr("width", (id) => boxes.get(id)!.width)
    .attr("height", (id) => boxes.get(id)!.height)
    .attr("rx", 6);
  cl.append("text")
    .attr("class", "cluster-label")
    .attr("x", 7)
    .attr("y", CLUSTER_LABEL_H - 4)
    .text((id) => {
      const c = model.clusters.find((k) => k.id === id)!;
      return `${c.name} · ${c.kindLabel}`;
    });
  cl.append("title").text((id) => {
    const c = model.clusters.find((k) => k.id === id)!;
    return `${c.name} (${c.kindLabel})`;
  });

  viewport
    .append("g")
    .attr("class", "edges")
    .selectAll("path")
    .data(edgesOut.filter((e) => e.sections?.length))
    .join("path")
    .attr("class", "edge")
    .attr("marker-end", "url(#arrow)")
    .attr("d", (e) =>
      e.sections!.map((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join("")).join(""),
    );

  const drawn = model.nodes.filter((n) => boxes.has(n.id));
  const nodes = viewport
    .append("g")
    .attr("class", "nodes")
    .selectAll<SVGGElement, GraphNode>("g.node")
    .data(drawn)
    .join("g")
    .attr("class", (n) => `node ${n.kind}`)
    .attr("data-testid", "graph-node")
    .attr("data-line", (n) => n.line ?? null)
    .attr("data-eqn", (n) => n.eqn ?? null)
    .attr("data-kernel", (n) => n.kernel ?? null)
    .attr("transform", (n) => `translate(${boxes.get(n.id)!.x},${boxes.get(n.id)!.y})`)
    .style("--kernel-color", (n) => (n.kernel !== undefined ? colorOf(n.kernel) : null));
  nodes
    .append("rect")
    .attr("width", (n) => n.width)
    .attr("height", (n) => n.height)
    .attr("rx", (n) => (n.kind === "eqn" || n.kind === "body" ? 4 : 12));
  nodes
    .append("text")
    .attr("class", "node-label")
    .attr("x", (n) => n.width / 2)
    .attr("y", 14)
    .text((n) => n.label);
  nodes
    .append("text")
    .attr("class", "node-sub")
    .attr("x", (n) => n.width / 2)
    .attr("y", 28)
    .text((n) => n.sub);
  nodes.append("title").text((n) => (n.line ? `${n.title}\n(line ${n.line}; click to show it)` : n.title));
  nodes
    .on("mouseenter", (_e, n) => {
      if (n.line) events.highlight(n.line);
    })
    .on("mouseleave", () => events.highlight(null))
    .on("click", (_e, n) => {
      if (n.line) events.reveal(n.line);
    });

  const zoomer: ZoomBehavior<SVGSVGElement, unknown> = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.02, 4])
    .on("zoom", (e) => viewport.attr("transform", e.transform.toString()));
  svg.call(zoomer).on("dblclick.zoom", null);
  const fitView = () => {
    const w = svgEl.clientWidth || 800;
    const hgt = svgEl.clientHeight || 500;
    // Fit the whole graph; one so tall that it would shrink to dots fits its width and starts at its top.
    const kAll = Math.min(1, w / (total.width + 20), hgt / (total.height + 20));
    const kWidth = Math.min(1, w / (total.width + 20));
    const k = kAll >= 0.4 * kWidth ? kAll : Math.min(kWidth, Math.max(kAll, 0.6));
    const tx = (w - total.width * k) / 2;
    svg.call(zoomer.transform, zoomIdentity.translate(Math.max(0, tx), 8).scale(k));
  };
  fit.addEventListener("click", fitView);
  svgEl.addEventListener("keydown", (e) => {
    const step = 60;
    if (e.key === "f" || e.key === "F") fitView();
    else if (e.key === "+" || e.key === "=") svg.call(zoomer.scaleBy, 1.25);
    else if (e.key === "-") svg.call(zoomer.scaleBy, 0.8);
    else if (e.key === "ArrowUp") svg.call(zoomer.translateBy, 0, step);
    else if (e.key === "ArrowDown") svg.call(zoomer.translateBy, 0, -step);
    else if (e.key === "ArrowLeft") svg.call(zoomer.translateBy, step, 0);
    else if (e.key === "ArrowRight") svg.call(zoomer.translateBy, -step, 0);
    else return;
    e.preventDefault();
    e.stopPropagation();
  });
  // The stage may be hidden (another tab) when this runs: fit once it has a size.
  if (svgEl.clientWidth) fitView();
  else {
    const ro = new ResizeObserver(() => {
      if (!svgEl.clientWidth) return;
      ro.disconnect();
      fitView();
    });
    ro.observe(svgEl);
  }
}

/** Marks the graph nodes that came from source `line` (null clears); scrolls the first into view. */
export function markGraphLine(stage: HTMLElement, line: number | null): void {
  for (const el of stage.querySelectorAll<SVGGElement>("g.node")) {
    el.classList.toggle("cursor", line !== null && el.getAttribute("data-line") === String(line));
  }
}
