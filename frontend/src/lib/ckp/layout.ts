/**
 * Graph layout for reading: ELK's layered algorithm, top to bottom.
 *
 * - Branches of a node sit side by side in the next layer, in declaration order.
 * - Edges back to an ancestor (a loop body returning to its loop, a retry) are told to
 *   ELK as feedback edges: it reverses them for layering and routes them around the
 *   nodes instead of through them.
 * - Side edges (fallback / escalation) weigh less in the layering, so an error handler
 *   does not pull the main flow apart.
 * - Edge labels are given to ELK with their size, so they get room between layers.
 *
 * ELK (elkjs, its bundled build) is imported lazily on the first layout, so pages
 * without graphs do not load it.
 */
import type { ELK, ElkExtendedEdge, ElkNode, LayoutOptions } from "elkjs/lib/elk-api";
import type { GraphEdgeModel, GraphModel } from "./graph";

export interface Position {
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface EdgeRoute {
  /** The polyline, start (on the source's border) and end (on the target's border) included. */
  points: Position[];
  /** The centre of the edge's label, when it has one. */
  label?: Position;
}

export interface LayoutResult {
  /** Top-left corner of every node (what React Flow's `position` wants). */
  positions: Map<string, Position>;
  /** Route of every edge ELK routed, by edge id. */
  routes: Map<string, EdgeRoute>;
  /** Size of the whole drawing. */
  width: number;
  height: number;
  /** Whether the layout was wrapped into side-by-side columns to fit its pane (see `LayoutOptionsIn.viewport`). */
  wrapped: boolean;
  /** How long the layout took (ELK runs included), in milliseconds. */
  ms: number;
}

export type LayoutGraph = Pick<GraphModel, "start_node" | "nodes" | "edges">;

/** A node's size when none is measured: the graph views' NodeCard, w-52 (208px) by 76px. */
export const DEFAULT_NODE_SIZE: Size = { width: 208, height: 76 };

/** Edge kinds that leave the main flow (error handling); dashed, and light in the layering. */
export const SIDE_EDGE_KINDS: ReadonlySet<string> = new Set(["fallback", "escalation"]);

/** The longest label drawn in full; longer ones (logic conditions) are cut, with the full text in a tooltip. */
export const MAX_LABEL_CHARS = 24;

const DEFAULT_LABEL: Record<string, string> = {
  default: "default",
  approve: "approve",
  reject: "reject",
  timeout: "timeout",
  pass: "pass",
  fail: "fail",
  body: "each",
  fallback: "on error",
  escalation: "sla breach",
};

/** The outcome an edge is labelled with (full text): "" for a plain `next`. */
export function edgeLabel(edge: Pick<GraphEdgeModel, "kind" | "label">): string {
  const label = edge.label.trim();
  if (label !== "") return label;
  return DEFAULT_LABEL[edge.kind] ?? (edge.kind === "next" ? "" : edge.kind);
}

/** The label as drawn: cut to `MAX_LABEL_CHARS` with an ellipsis. */
export function shortLabel(text: string): string {
  return text.length > MAX_LABEL_CHARS ? `${text.slice(0, MAX_LABEL_CHARS - 1).trimEnd()}…` : text;
}

/** Label box the layout reserves: 11px text, about 6.2px a character, plus padding. */
export function labelSize(text: string): Size {
  return { width: Math.ceil(text.length * 6.2) + 10, height: 18 };
}

const ROOT_OPTIONS: LayoutOptions = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.edgeRouting": "ORTHOGONAL",
  // Cycles are broken where we say (see `forwardOrder`): edges against the model order are the back edges.
  "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
  "elk.layered.feedbackEdges": "true",
  // Keep siblings in declaration order (rule 1 left of rule 2 …) unless that costs crossings.
  "elk.layered.considerModelOrder.strategy": "PREFER_EDGES",
  "elk.layered.crossingMinimization.forceNodeModelOrder": "false",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  "elk.layered.nodePlacement.bk.fixedAlignment": "BALANCED",
  "elk.layered.spacing.nodeNodeBetweenLayers": "28",
  "elk.spacing.nodeNode": "28",
  "elk.layered.spacing.edgeNodeBetweenLayers": "12",
  "elk.spacing.edgeNode": "16",
  "elk.spacing.edgeEdge": "12",
  "elk.layered.spacing.edgeEdgeBetweenLayers": "10",
  "elk.spacing.edgeLabel": "4",
  "elk.spacing.componentComponent": "48",
  // One layered drawing even for parts nothing connects (a global failure handler): it
  // sits beside the start instead of in a column of its own.
  "elk.separateConnectedComponents": "false",
  "elk.layered.mergeEdges": "false",
};

/**
 * The back edges (edges to a node on the current path of a depth-first search from
 * the start, then from nodes nothing points at, then from any node not reached: a loop
 * body returning to its loop, a retry) and a topological order of the other edges that
 * starts at the start node and keeps siblings in declaration order. Side edges are
 * followed last, so the main flow decides what counts as "back".
 */
export function forwardOrder(graph: LayoutGraph): { order: string[]; back: Set<string> } {
  const ids = graph.nodes.map((n) => n.id);
  const known = new Set(ids);
  const out = new Map<string, GraphEdgeModel[]>();
  for (const id of ids) out.set(id, []);
  const valid = graph.edges.filter((e) => known.has(e.source) && known.has(e.target));
  const main = valid.filter((e) => !SIDE_EDGE_KINDS.has(e.kind));
  const side = valid.filter((e) => SIDE_EDGE_KINDS.has(e.kind));
  for (const e of [...main, ...side]) out.get(e.source)?.push(e);
  const back = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const visit = (root: string): void => {
    const stack: [string, number][] = [[root, 0]];
    state.set(root, "open");
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (!top) break;
      const edge = (out.get(top[0]) ?? [])[top[1]];
      if (edge) {
        top[1] += 1;
        const s = state.get(edge.target);
        if (s === "open") back.add(edge.id);
        else if (s === undefined) {
          state.set(edge.target, "open");
          stack.push([edge.target, 0]);
        }
      } else {
        state.set(top[0], "done");
        stack.pop();
      }
    }
  };
  const pointed = new Set(valid.map((e) => e.target));
  const roots = [graph.start_node, ...ids.filter((id) => !pointed.has(id)), ...ids];
  for (const root of roots) if (known.has(root) && !state.has(root)) visit(root);
  // Kahn's algorithm over the forward edges, first in first out: the start, then what it leads to, in declaration order.
  const indegree = new Map(ids.map((id) => [id, 0]));
  for (const e of valid) if (!back.has(e.id)) indegree.set(e.target, (indegree.get(e.target) ?? 0) + 1);
  const queue = [graph.start_node, ...ids].filter((id, i, all) => known.has(id) && indegree.get(id) === 0 && all.indexOf(id) === i);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    if (id === undefined) continue;
    order.push(id);
    for (const e of out.get(id) ?? []) {
      if (back.has(e.id)) continue;
      const left = (indegree.get(e.target) ?? 0) - 1;
      indegree.set(e.target, left);
      if (left === 0) queue.push(e.target);
    }
  }
  return { order, back };
}

// On the edge (the line passes behind the label), in the middle of its longest straight part.
const LABEL_OPTIONS: LayoutOptions = { "elk.edgeLabels.inline": "true", "elk.edgeLabels.placement": "CENTER" };

let elkPromise: Promise<ELK> | null = null;

/** The ELK instance, created on first use (the bundled build runs in the calling thread). */
function elk(): Promise<ELK> {
  elkPromise ??= import("elkjs/lib/elk.bundled.js").then((mod) => {
    const Ctor = mod.default;
    return new Ctor();
  });
  return elkPromise;
}

export interface LayoutOptionsIn {
  /**
   * The pane the graph is shown in. A graph too tall to read in it whole is laid out
   * again wrapped into side-by-side columns (ELK's graph wrapping, aimed at the pane's
   * aspect ratio), and the wrapped layout is kept when it reads larger.
   */
  viewport?: Size;
}

/** The zoom at or above which a graph fitted whole counts as readable (node text legible). */
export const READABLE_ZOOM = 0.75;

/** The zoom that fits a `width`×`height` drawing into `viewport` (React Flow's fitView with `padding`). */
export function fitZoom(width: number, height: number, viewport: Size, padding = 0.05): number {
  if (width <= 0 || height <= 0) return Infinity;
  return Math.min(viewport.width / (width * (1 + padding)), viewport.height / (height * (1 + padding)));
}

/**
 * Lays `graph` out top to bottom with ELK. `sizes` are measured node sizes; nodes
 * without one get `DEFAULT_NODE_SIZE`. Positions are top-left corners; routes start
 * and end on the node borders, in the same coordinates.
 */
export async function layoutElk(
  graph: LayoutGraph,
  sizes?: ReadonlyMap<string, Size>,
  options: LayoutOptionsIn = {},
): Promise<LayoutResult> {
  const started = performance.now();
  const done = (result: LayoutResult): LayoutResult => ({ ...result, ms: performance.now() - started });
  const plain = await runElk(graph, sizes, {});
  const { viewport } = options;
  if (!viewport || viewport.width <= 0 || viewport.height <= 0) return done(plain);
  const zoom = fitZoom(plain.width, plain.height, viewport);
  // Wrapping only helps a drawing taller (relative to the pane) than the pane.
  if (zoom >= READABLE_ZOOM || plain.width / plain.height >= viewport.width / viewport.height) return done(plain);
  const wrapped = await runElk(graph, sizes, {
    "elk.layered.wrapping.strategy": "SINGLE_EDGE",
    "elk.aspectRatio": (viewport.width / viewport.height).toFixed(2),
  });
  return done(fitZoom(wrapped.width, wrapped.height, viewport) > zoom * 1.1 ? wrapped : plain);
}

async function runElk(graph: LayoutGraph, sizes: ReadonlyMap<string, Size> | undefined, extra: LayoutOptions): Promise<LayoutResult> {
  const known = new Set(graph.nodes.map((n) => n.id));
  const { order, back } = forwardOrder(graph);
  const rank = new Map(order.map((id, i) => [id, i]));
  const children: ElkNode[] = order.map((id) => {
    const size = sizes?.get(id) ?? DEFAULT_NODE_SIZE;
    return { id, width: size.width, height: size.height };
  });
  const edges: ElkExtendedEdge[] = [];
  // Edges in the order of their source (the model order ELK keeps); within a source, declaration order.
  const sorted = graph.edges
    .filter((e) => known.has(e.source) && known.has(e.target))
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (rank.get(a.e.source) ?? 0) - (rank.get(b.e.source) ?? 0) || a.i - b.i)
    .map(({ e }) => e);
  for (const e of sorted) {
    const text = shortLabel(edgeLabel(e));
    const options: LayoutOptions = {};
    if (SIDE_EDGE_KINDS.has(e.kind)) {
      // Light in layering and straightening: the handler goes where the main flow leaves room.
      options["elk.layered.priority.shortness"] = "0";
      options["elk.layered.priority.straightness"] = "0";
    } else {
      options["elk.layered.priority.shortness"] = back.has(e.id) ? "1" : "10";
      options["elk.layered.priority.straightness"] = back.has(e.id) ? "0" : "5";
    }
    edges.push({
      id: e.id,
      sources: [e.source],
      targets: [e.target],
      layoutOptions: options,
      labels: text === "" ? undefined : [{ id: `${e.id}#label`, text, ...labelSize(text), layoutOptions: LABEL_OPTIONS }],
    });
  }
  const instance = await elk();
  const input: ElkNode = { id: "root", layoutOptions: { ...ROOT_OPTIONS, ...extra }, children, edges };
  const result = await instance.layout(input);
  const positions = new Map<string, Position>();
  for (const child of result.children ?? []) positions.set(child.id, { x: child.x ?? 0, y: child.y ?? 0 });
  const routes = new Map<string, EdgeRoute>();
  for (const edge of result.edges ?? []) {
    const points: Position[] = [];
    for (const section of edge.sections ?? []) {
      const run = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      for (const p of run) {
        const last = points[points.length - 1];
        if (!last || last.x !== p.x || last.y !== p.y) points.push({ x: p.x, y: p.y });
      }
    }
    if (points.length < 2) continue;
    const label = edge.labels?.[0];
    routes.set(edge.id, {
      points,
      label:
        label && label.x !== undefined && label.y !== undefined
          ? { x: label.x + (label.width ?? 0) / 2, y: label.y + (label.height ?? 0) / 2 }
          : undefined,
    });
  }
  return { positions, routes, width: result.width ?? 0, height: result.height ?? 0, wrapped: "elk.layered.wrapping.strategy" in extra, ms: 0 };
}
