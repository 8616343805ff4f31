import { getViewportForBounds, type FitViewOptions, type NodeChange } from "@xyflow/react";
import type { GraphModel } from "@/lib/ckp/graph";
import { DEFAULT_NODE_SIZE } from "@/lib/ckp/layout";
import { TIER_COLOR } from "@/lib/ckp/tiers";
import type { RunOverlay } from "@/lib/events/timeline";
import type { CkpFlowNode, OverlayState } from "./types";

/**
 * The view on open: fit the whole graph, but never zoom out below a readable level
 * (node text stays legible) nor blow a tiny graph up. A graph too large to fit at
 * `minZoom` opens on its start instead (see `initialFitNodes`) and is panned (or
 * zoomed out by hand).
 */
export const FIT_VIEW_OPTIONS = { padding: 0.05, minZoom: 0.5, maxZoom: 1.25 } satisfies FitViewOptions;

/** Limits for zooming by hand (wheel, controls, minimap); the controls' fit button still shows everything. */
export const MIN_ZOOM = 0.2;
export const MAX_ZOOM = 2;

export interface Size {
  width: number;
  height: number;
}

/** NodeCard's size (fixed, so the layout reserves exactly its room): 208×76, the layout's default node size. */
export const ASSUMED_NODE_SIZE: Size = DEFAULT_NODE_SIZE;
/** Extra height of a NodeCard that shows a run error (up to three 14px lines and a 4px gap). */
export const ERROR_EXTRA_HEIGHT = 46;

/** A NodeCard's size: taller when it shows a run error. */
export function nodeCardSize(hasError: boolean): Size {
  return hasError ? { width: ASSUMED_NODE_SIZE.width, height: ASSUMED_NODE_SIZE.height + ERROR_EXTRA_HEIGHT } : ASSUMED_NODE_SIZE;
}
/** The graph pane's typical size (about 700x470 at a 1440px-wide page), for when the container is not measured yet. */
export const TYPICAL_VIEWPORT: Size = { width: 700, height: 470 };
/** When the whole graph does not fit: at most this many nodes (the start included), at most `START_DEPTH` edges downstream of it. */
const START_NODES = 8;
const START_DEPTH = 2;

type Point = { x: number; y: number };

function fitsReadably(ids: readonly string[], positions: ReadonlyMap<string, Point>, viewport: Size, sizes?: ReadonlyMap<string, Size>): boolean {
  // Bounds by hand rather than getNodesBounds: that one warns on every call in development without a nodeLookup.
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (const id of ids) {
    const p = positions.get(id) ?? { x: 0, y: 0 }; // flowNodes puts an unplaced node at the origin too
    x1 = Math.min(x1, p.x);
    y1 = Math.min(y1, p.y);
    const size = sizes?.get(id) ?? ASSUMED_NODE_SIZE;
    x2 = Math.max(x2, p.x + size.width);
    y2 = Math.max(y2, p.y + size.height);
  }
  const bounds = { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
  // Zoom floor 0 so the unclamped fit zoom comes back, then compare with the readable floor.
  const { zoom } = getViewportForBounds(bounds, viewport.width, viewport.height, 0, FIT_VIEW_OPTIONS.maxZoom, FIT_VIEW_OPTIONS.padding);
  return zoom >= FIT_VIEW_OPTIONS.minZoom;
}

/**
 * The nodes the view opens on (`fitViewOptions.nodes`): `undefined` (the whole graph)
 * when it fits at `FIT_VIEW_OPTIONS.minZoom` or more in `viewport`; otherwise the start
 * node and the nodes nearest downstream of it (breadth first, up to `START_DEPTH` edges,
 * at most `START_NODES`), skipping any that would push the zoom below `minZoom`, so
 * the start is always on screen (with the top-to-bottom layout: the top of the graph).
 * Uses the layout positions and `sizes` (default `ASSUMED_NODE_SIZE`), as the fit
 * happens when nodes are first measured.
 */
export function initialFitNodes(
  graph: Pick<GraphModel, "start_node" | "nodes" | "edges">,
  positions: ReadonlyMap<string, Point>,
  viewport: Size = TYPICAL_VIEWPORT,
  sizes?: ReadonlyMap<string, Size>,
): { id: string }[] | undefined {
  if (graph.nodes.length === 0 || fitsReadably(graph.nodes.map((n) => n.id), positions, viewport, sizes)) return undefined;
  const ids = new Set(graph.nodes.map((n) => n.id));
  const start = graph.nodes.find((n) => n.is_start)?.id ?? graph.start_node;
  if (!ids.has(start)) return undefined;
  const picked = [start];
  let frontier = [start];
  for (let depth = 0; depth < START_DEPTH && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const edge of graph.edges) {
      if (!frontier.includes(edge.source) || !ids.has(edge.target) || picked.includes(edge.target)) continue;
      if (picked.length >= START_NODES) return picked.map((id) => ({ id }));
      if (!fitsReadably([...picked, edge.target], positions, viewport, sizes)) continue; // too far from the others
      picked.push(edge.target);
      next.push(edge.target);
    }
    frontier = next;
  }
  return picked.map((id) => ({ id }));
}

/**
 * Folds React Flow's "dimensions" changes into the measured sizes. The graph is
 * controlled, so React Flow writes measured sizes only to its internal nodes; the
 * MiniMap reads `measured` from the nodes we pass and skips any without it, which
 * left it empty. Returns `prev` itself when nothing changed, so no render loop.
 */
export function recordDimensions(prev: ReadonlyMap<string, Size>, changes: readonly NodeChange<CkpFlowNode>[]): ReadonlyMap<string, Size> {
  let next: Map<string, Size> | null = null;
  for (const change of changes) {
    if (change.type !== "dimensions" || !change.dimensions) continue;
    const { width, height } = change.dimensions;
    const old = (next ?? prev).get(change.id);
    if (old?.width === width && old.height === height) continue;
    next ??= new Map(prev);
    next.set(change.id, { width, height });
  }
  return next ?? prev;
}

function overlayOf(id: string, overlay: RunOverlay | undefined): OverlayState {
  if (!overlay) return "none";
  if (overlay.failed.has(id)) return "failed";
  if (overlay.current.has(id)) return "current";
  if (overlay.visited.has(id)) return "visited";
  return "pending";
}

/** React Flow nodes of a graph, carrying the sizes measured so far. */
export function flowNodes(
  graph: GraphModel,
  positions: ReadonlyMap<string, { x: number; y: number }>,
  overlay: RunOverlay | undefined,
  selected: string | null | undefined,
  measured: ReadonlyMap<string, Size>,
): CkpFlowNode[] {
  return graph.nodes.map((n) => {
    const state = overlayOf(n.id, overlay);
    return {
      id: n.id,
      type: n.tier,
      position: positions.get(n.id) ?? { x: 0, y: 0 },
      measured: measured.get(n.id),
      selected: selected === n.id,
      ariaLabel: `${n.type} node ${n.id}${state !== "none" ? `, ${state}` : ""}`,
      data: {
        tier: n.tier,
        nodeId: n.id,
        ckpType: n.type,
        label: n.label,
        agent: n.agent ?? null,
        isStart: n.is_start,
        overlay: state,
        error: state === "failed" ? (overlay?.errors.get(n.id) ?? null) : null,
      },
    };
  });
}

const COLOR_BY_TIER: Partial<Record<string, string>> = TIER_COLOR;

/** MiniMap fill: the node's tier colour (slate for a tier the server adds later, never transparent). */
export function minimapNodeColor(node: CkpFlowNode): string {
  return COLOR_BY_TIER[node.type] ?? "#64748b";
}
