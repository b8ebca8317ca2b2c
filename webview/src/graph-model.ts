// The dataflow graph of a Report's jaxpr, and the ELK graph that lays it out. Pure data:
// no DOM, so the browser test and Node can both build it.
//
// The Report carries the jaxpr as printed text (JAX's format, one IRLine per printed line),
// so the graph is read back from that text: the header's input variables, one node per
// top-level equation (an equation with a nested jaxpr, like `scan`, spans several printed
// lines and stays one node), and the `in (...)` outputs. An edge goes from the equation
// that defines a variable to each equation that uses it. Each kernel of the Report is one
// cluster (a compound node) around the equations it computes; a kernel whose equations
// another kernel already owns (a `scan` body's kernels, named `<parent>.body.<name>`) is a
// cluster nested inside its parent's, around one node that summarises it.
import type { ElkNode } from "elkjs/lib/elk-api";
import type { IRLine, KernelInfo, Report } from "../../compiler-core/src/report";
import { kernelColorIndex } from "../../compiler-core/src/palette";

export interface GraphNode {
  id: string;
  kind: "input" | "output" | "eqn" | "body";
  /** Primitive name (eqn), variable name (input/output) or the kernel kind (body). */
  label: string;
  /** The output type, e.g. f32[512,1024]. */
  sub: string;
  /** The full text shown as a tooltip. */
  title: string;
  /** Equation index (eqn nodes). */
  eqn?: number;
  /** Index of the kernel whose cluster holds it, when any. */
  kernel?: number;
  /** 1-based source line it came from, when known. */
  line?: number;
  /** Indices of the jaxpr's printed lines it came from. */
  irLines: number[];
  width: number;
  height: number;
}

export interface GraphCluster {
  id: string;
  kernel: number;
  name: string;
  kindLabel: string;
  /** The enclosing cluster's id for nested kernels. */
  parent?: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
}

export interface GraphModel {
  nodes: GraphNode[];
  clusters: GraphCluster[];
  edges: GraphEdge[];
  /** Number of top-level equations read from the text. */
  eqnCount: number;
  /** Palette index of each kernel (`kernel.color`, else its index). */
  kernelColors: number[];
}

export interface ParsedEqn {
  index: number;
  outs: { name: string; type: string }[];
  prim: string;
  operands: string[];
  /** Indices into the jaxpr's IRLine[] this equation was printed on. */
  lines: number[];
  text: string;
}

export interface ParsedJaxpr {
  invars: { name: string; type: string }[];
  eqns: ParsedEqn[];
  outvars: string[];
}

const VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;

function depthDelta(s: string): number {
  let d = 0;
  for (const c of s) {
    if (c === "[" || c === "{" || c === "(") d++;
    else if (c === "]" || c === "}" || c === ")") d--;
  }
  return d;
}

/** Splits at top-level whitespace (outside brackets). */
function topLevelTokens(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of s) {
    if (c === "[" || c === "{" || c === "(") depth++;
    else if (c === "]" || c === "}" || c === ")") depth--;
    if (/\s/.test(c) && depth === 0) {
      if (cur) out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

function binding(tok: string): { name: string; type: string } {
  const i = tok.indexOf(":");
  return i < 0 ? { name: tok, type: "" } : { name: tok.slice(0, i), type: tok.slice(i + 1) };
}

const parsedJaxprs = new WeakMap<IRLine[], ParsedJaxpr>();

/**
 * Reads JAX's jaxpr text back into inputs, top-level equations and outputs. Tolerant: what it
 * cannot read it skips. One parse per `lines` array (the Graph stage and the kernel colours of
 * the Jaxpr and JAX stages all read the same Report's jaxpr): the result is shared, read-only.
 */
export function parseJaxpr(lines: IRLine[]): ParsedJaxpr {
  let parsed = parsedJaxprs.get(lines);
  if (!parsed) parsedJaxprs.set(lines, (parsed = readJaxpr(lines)));
  return parsed;
}

function readJaxpr(lines: IRLine[]): ParsedJaxpr {
  const texts = lines.map((l) => l.text);
  const result: ParsedJaxpr = { invars: [], eqns: [], outvars: [] };
  let i = 0;
  // The header: `{ lambda CONSTS ; INVARS. let` (possibly over several lines).
  let header = "";
  while (i < texts.length) {
    header += " " + texts[i++];
    if (/\blet\s*$/.test(header)) break;
  }
  const m = /lambda\s*(.*?)\s*;\s*(.*?)\.\s*let\s*$/s.exec(header);
  if (m) {
    for (const t of topLevelTokens(m[1])) if (t.includes(":")) result.invars.push(binding(t));
    for (const t of topLevelTokens(m[2])) if (t.includes(":")) result.invars.push(binding(t));
  }
  while (i < texts.length) {
    const first = texts[i];
    const trimmed = first.trim();
    // `in (a, b) }` ends the jaxpr (a variable may itself be named `in`: `in:f32[1] = ...`).
    if (/^in\s*\(/.test(trimmed) || (/^in\b/.test(trimmed) && !trimmed.includes(" = "))) {
      const inner = /^in\s*\((.*)\)\s*\}?\s*$/s.exec(trimmed)?.[1] ?? trimmed.replace(/^in\s*/, "").replace(/\}\s*$/, "");
      result.outvars = inner.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      break;
    }
    const idx: number[] = [i];
    let text = first;
    let depth = depthDelta(first);
    i++;
    while (depth > 0 && i < texts.length) {
      text += "\n" + texts[i];
      depth += depthDelta(texts[i]);
      idx.push(i++);
    }
    const eq = parseEqn(text, result.eqns.length, idx);
    if (eq) result.eqns.push(eq);
  }
  return result;
}

function parseEqn(text: string, index: number, lines: number[]): ParsedEqn | undefined {
  const flat = text.replace(/\s*\n\s*/g, " ").trim();
  const eq = flat.indexOf(" = ");
  if (eq < 0) return undefined;
  const outs = topLevelTokens(flat.slice(0, eq)).map(binding);
  const rhs = flat.slice(eq + 3).trim();
  const prim = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rhs)?.[0] ?? "?";
  let rest = rhs.slice(prim.length);
  if (rest.startsWith("[")) {
    let d = 0;
    let j = 0;
    for (; j < rest.length; j++) {
      if ("[{(".includes(rest[j])) d++;
      else if ("]})".includes(rest[j])) d--;
      if (d === 0) break;
    }
    rest = rest.slice(j + 1);
  }
  const operands = topLevelTokens(rest).filter((t) => VAR.test(t));
  return { index, outs, prim, operands, lines, text: flat };
}

const CHAR_W = 7;
const NODE_H = 34;

function nodeWidth(...texts: string[]): number {
  return Math.max(44, Math.max(...texts.map((t) => t.length)) * CHAR_W + 18);
}

/** Source line of each equation: from `report.lines`, else the first span in the report's own file. */
function eqnLines(r: Report, parsed: ParsedJaxpr): Map<number, number> {
  const m = new Map<number, number>();
  for (const li of r.lines ?? []) for (const e of li.eqns ?? []) if (!m.has(e)) m.set(e, li.line);
  for (const e of parsed.eqns) {
    if (m.has(e.index)) continue;
    const spans = e.lines.flatMap((l) => r.jaxpr?.[l]?.spans ?? []);
    const own = spans.find((s) => s.file === r.file) ?? spans[0];
    if (own) m.set(e.index, own.line);
  }
  return m;
}

/** Which kernel owns each equation, and the parent of each kernel whose equations another owns. */
export function kernelOwnership(kernels: KernelInfo[]): { owner: Map<number, number>; parent: Map<number, number> } {
  const owner = new Map<number, number>();
  const parent = new Map<number, number>();
  const byName = new Map(kernels.map((k, i) => [k.name, i]));
  kernels.forEach((k, ki) => {
    // `kernel_2.body.kernel_0` sits inside `kernel_2`.
    const parts = k.name.split(".");
    for (let n = parts.length - 1; n > 0; n--) {
      const p = byName.get(parts.slice(0, n).join("."));
      if (p !== undefined && p !== ki) {
        parent.set(ki, p);
        return;
      }
    }
    const eqns = k.eqns ?? [];
    const claimed = eqns.length > 0 && eqns.every((e) => owner.has(e));
    if (claimed) {
      parent.set(ki, owner.get(eqns[0])!);
      return;
    }
    for (const e of eqns) if (!owner.has(e)) owner.set(e, ki);
  });
  return { owner, parent };
}

export function buildGraph(r: Report): GraphModel {
  const parsed = parseJaxpr(r.jaxpr ?? []);
  const kernels = r.kernels ?? [];
  const { owner, parent } = kernelOwnership(kernels);
  const lineOf = eqnLines(r, parsed);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const defined = new Map<string, string>(); // variable -> node id
  const edgeKeys = new Set<string>();
  const addEdge = (source: string | undefined, target: string) => {
    if (!source || source === target) return;
    const key = `${source}>${target}`;
    if (edgeKeys.has(key)) return;
    edgeKeys.add(key);
    edges.push({ id: `e${edges.length}`, source, target });
  };

  for (const v of parsed.invars) {
    const id = `in:${v.name}`;
    nodes.push({ id, kind: "input", label: v.name, sub: v.type, title: `input ${v.name}:${v.type}`, irLines: [0], width: nodeWidth(v.name, v.type), height: NODE_H });
    defined.set(v.name, id);
  }
  for (const e of parsed.eqns) {
    const id = `eq:${e.index}`;
    const out = e.outs.find((o) => o.name !== "_") ?? e.outs[0];
    const sub = out ? out.type : "";
    const label = e.prim;
    nodes.push({
      id,
      kind: "eqn",
      label,
      sub,
      title: e.text.length > 400 ? e.text.slice(0, 400) + "…" : e.text,
      eqn: e.index,
      kernel: owner.get(e.index),
      line: lineOf.get(e.index),
      irLines: e.lines,
      width: nodeWidth(label, sub),
      height: NODE_H,
    });
    for (const o of e.operands) addEdge(defined.get(o), id);
    for (const o of e.outs) if (o.name !== "_") defined.set(o.name, id);
  }
  parsed.outvars.forEach((v, i) => {
    const id = `out:${i}`;
    const type = parsed.eqns.flatMap((e) => e.outs).find((o) => o.name === v)?.type ?? parsed.invars.find((o) => o.name === v)?.type ?? "";
    nodes.push({ id, kind: "output", label: `out ${v}`, sub: type, title: `output ${i}: ${v}`, irLines: [Math.max(0, (r.jaxpr?.length ?? 1) - 1)], width: nodeWidth(`out ${v}`, type), height: NODE_H });
    addEdge(defined.get(v), id);
  });

  const clusters: GraphCluster[] = kernels.map((k, ki) => ({
    id: `k:${ki}`,
    kernel: ki,
    name: k.name,
    kindLabel: k.kind,
    parent: parent.has(ki) ? `k:${parent.get(ki)}` : undefined,
  }));
  // A cluster with no equation of its own (a nested body, or a kernel whose equations we
  // could not read back) holds one node that stands for it.
  const holds = new Set(nodes.filter((n) => n.kernel !== undefined).map((n) => n.kernel!));
  kernels.forEach((k, ki) => {
    if (holds.has(ki)) return;
    const label = k.kind || "kernel";
    const sub = `${k.ops ?? "?"} op${k.ops === 1 ? "" : "s"}`;
    const line = k.spans?.find((s) => s.file === r.file)?.line ?? k.spans?.[0]?.line;
    nodes.push({ id: `body:${ki}`, kind: "body", label, sub, title: `${k.name}: ${k.reason ?? ""}`, kernel: ki, line, irLines: (k.eqns ?? []).flatMap((e) => parsed.eqns[e]?.lines ?? []), width: nodeWidth(label, sub), height: NODE_H });
  });
  return { nodes, clusters, edges, eqnCount: parsed.eqns.length, kernelColors: kernels.map((_, i) => kernelColorIndex(kernels, i)) };
}

export const CLUSTER_LABEL_H = 18;

/**
 * Options for graphs of more than 600 nodes: keep the equations' order instead of
 * minimising crossings, longest-path layering. A 2,000-equation function then lays out in
 * under a second once the worker's compiler is warm (see warmUpLayout in graph.ts).
 */
export const BIG_GRAPH_OPTIONS: Record<string, string> = {
  "elk.layered.crossingMinimization.strategy": "NONE",
  "elk.layered.layering.strategy": "LONGEST_PATH",
  "elk.layered.cycleBreaking.strategy": "DEPTH_FIRST",
  "elk.separateConnectedComponents": "false",
};

/** A synthetic graph shaped like a big function (chains of ops in a few clusters), to warm the layout engine. */
export function warmUpGraph(n = 700): ElkNode {
  const model: GraphModel = { nodes: [], clusters: [], edges: [], eqnCount: n, kernelColors: [0, 1, 2] };
  for (let k = 0; k < 3; k++) model.clusters.push({ id: `k:${k}`, kernel: k, name: `kernel_${k}`, kindLabel: "elementwise" });
  for (let i = 0; i < n; i++) {
    model.nodes.push({ id: `eq:${i}`, kind: "eqn", label: "add", sub: "f32[64]", title: "", eqn: i, kernel: i % 97 === 0 ? undefined : Math.floor((i * 3) / n), irLines: [], width: 60, height: 34 });
    if (i > 0) model.edges.push({ id: `e${i}`, source: `eq:${i - 1}`, target: `eq:${i}` });
    if (i > 3 && i % 4 === 0) model.edges.push({ id: `f${i}`, source: `eq:${i - 4}`, target: `eq:${i}` });
  }
  return toElk(model);
}

/**
 * The ELK graph: layered, top to bottom, each cluster a compound node laid out on its own
 * (bottom-up), coordinates absolute. An edge between different clusters is lifted to the
 * items it connects inside their lowest common container (cluster to cluster, input to
 * cluster), so each level is a small layered graph: a 2,000-equation function lays out in
 * a fraction of the time `INCLUDE_CHILDREN` takes over the whole hierarchy.
 */
export function toElk(g: GraphModel): ElkNode {
  const big = g.nodes.length > 600;
  const layered = (padding: string): Record<string, string> => ({
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.edgeRouting": big ? "POLYLINE" : "ORTHOGONAL",
    "elk.spacing.nodeNode": "14",
    "elk.layered.spacing.nodeNodeBetweenLayers": "22",
    "elk.layered.spacing.edgeNodeBetweenLayers": "10",
    "elk.padding": padding,
    // Big graphs: crossing minimisation keeps the equations' order, simple node placement (a
    // 2,000-equation function then lays out in well under a second once the worker is warm).
    ...(big ? BIG_GRAPH_OPTIONS : {}),
  });
  const root: ElkNode = {
    id: "root",
    layoutOptions: { ...layered("[top=12,left=12,bottom=12,right=12]"), "elk.json.shapeCoords": "ROOT", "elk.json.edgeCoords": "ROOT" },
    children: [],
    edges: [],
  };
  const containers = new Map<string, ElkNode>([["root", root]]);
  const parentOf = new Map<string, string>();
  const clusterNode = (id: string): ElkNode => {
    let n = containers.get(id);
    if (n) return n;
    n = { id, children: [], edges: [], layoutOptions: layered(`[top=${CLUSTER_LABEL_H + 8},left=8,bottom=8,right=8]`) };
    containers.set(id, n);
    return n;
  };
  for (const c of g.clusters) {
    const n = clusterNode(c.id);
    // Clusters need room for their label.
    n.layoutOptions!["elk.nodeSize.minimum"] = `(${Math.max(60, (c.name.length + c.kindLabel.length + 3) * 7 + 16)},20)`;
    n.layoutOptions!["elk.nodeSize.constraints"] = "MINIMUM_SIZE";
    const p = c.parent && c.parent !== c.id ? c.parent : "root";
    parentOf.set(c.id, p);
    clusterNode(p).children!.push(n);
  }
  for (const n of g.nodes) {
    const home = n.kernel !== undefined && containers.has(`k:${n.kernel}`) ? `k:${n.kernel}` : "root";
    parentOf.set(n.id, home);
    containers.get(home)!.children!.push({ id: n.id, width: n.width, height: n.height });
  }
  // A cluster around a single node is laid out as one box (the node is drawn centred in it):
  // most kernels of a long function are single ops, and ELK's per-graph cost adds up.
  for (const c of g.clusters) {
    const n = containers.get(c.id)!;
    const only = n.children!.length === 1 ? n.children![0] : undefined;
    if (!only || containers.has(only.id)) continue;
    const minW = Math.max(60, (c.name.length + c.kindLabel.length + 3) * 7 + 16);
    n.width = Math.max(minW, (only.width ?? 0) + 16);
    n.height = (only.height ?? 0) + CLUSTER_LABEL_H + 16;
    delete n.children;
    delete n.edges;
    delete n.layoutOptions;
  }
  const chain = (id: string): string[] => {
    const c = [id];
    for (let p = parentOf.get(id); p !== undefined; p = parentOf.get(p)) {
      c.unshift(p);
      if (p === "root") break;
    }
    return c;
  };
  const seen = new Set<string>();
  for (const e of g.edges) {
    const a = chain(e.source);
    const b = chain(e.target);
    let k = 0;
    while (k < a.length && k < b.length && a[k] === b[k]) k++;
    // a[k-1] is the lowest common container; a[k] and b[k] its children on each side.
    if (k === 0 || k >= a.length || k >= b.length) continue;
    const key = `${a[k]}>${b[k]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    containers.get(a[k - 1])?.edges!.push({ id: e.id, sources: [a[k]], targets: [b[k]] });
  }
  return root;
}
