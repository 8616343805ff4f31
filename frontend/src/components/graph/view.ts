import type { FitViewOptions, NodeChange } from "@xyflow/react";
import type { GraphModel } from "@/lib/ckp/graph";
import { TIER_COLOR } from "@/lib/ckp/tiers";
import type { RunOverlay } from "@/lib/events/timeline";
import type { CkpFlowNode, OverlayState } from "./types";

/**
 * The view on open: fit the whole graph, but never zoom out below a readable level
 * (node text stays legible) nor blow a tiny graph up. A graph too large to fit at
 * `minZoom` opens centred at that zoom and is panned (or zoomed out by hand).
 */
export const FIT_VIEW_OPTIONS = { padding: 0.15, minZoom: 0.5, maxZoom: 1.25 } satisfies FitViewOptions;

/** Limits for zooming by hand (wheel, controls, minimap); the controls' fit button still shows everything. */
export const MIN_ZOOM = 0.2;
export const MAX_ZOOM = 2;

export interface Size {
  width: number;
  height: number;
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
