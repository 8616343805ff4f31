"use client";

import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  useStore,
  type FitViewOptions,
  type NodeChange,
  type NodeMouseHandler,
} from "@xyflow/react";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { GraphModel } from "@/lib/ckp/graph";
import { SIDE_EDGE_KINDS, edgeLabel, shortLabel, type LayoutResult } from "@/lib/ckp/layout";
import { TIER_COLOR } from "@/lib/ckp/tiers";
import { useElkLayout } from "@/lib/ckp/useElkLayout";
import type { RunOverlay } from "@/lib/events/timeline";
import { RoutedEdge, type RoutedEdgeType } from "./edges/RoutedEdge";
import { ControlNode } from "./nodes/ControlNode";
import { DeterministicNode } from "./nodes/DeterministicNode";
import { IntelligentNode } from "./nodes/IntelligentNode";
import type { CkpFlowNode } from "./types";
import {
  FIT_VIEW_OPTIONS,
  MAX_ZOOM,
  MIN_ZOOM,
  flowNodes,
  initialFitNodes,
  minimapNodeColor,
  nodeCardSize,
  recordDimensions,
  type Size,
} from "./view";

// Module scope: React Flow re-mounts every node (edge) when this object changes identity.
const nodeTypes = {
  deterministic: DeterministicNode,
  intelligent: IntelligentNode,
  control: ControlNode,
};
const edgeTypes = { routed: RoutedEdge };

export const EDGE_COLOR: Record<string, string> = {
  reject: "#dc2626",
  fail: "#dc2626",
  fallback: "#dc2626",
  escalation: "#d97706",
  timeout: "#d97706",
  approve: "#16a34a",
  pass: "#16a34a",
};

/** Label text in the edge's colour, dark enough to read on the label's white (dark: slate) background. */
export const LABEL_TONE: Record<string, string> = {
  reject: "text-red-700 dark:text-red-300",
  fail: "text-red-700 dark:text-red-300",
  fallback: "text-red-700 dark:text-red-300",
  escalation: "text-amber-800 dark:text-amber-300",
  timeout: "text-amber-800 dark:text-amber-300",
  approve: "text-green-800 dark:text-green-300",
  pass: "text-green-800 dark:text-green-300",
};

/** The graph to draw. Positions come from the layout here (ELK), never from the server. */
export type GraphInput = GraphModel;

/** The whole graph in view, as small as it takes (a preview: nothing may be cut off; zoom in by hand). */
const WHOLE_MIN_ZOOM = 0.02;
const WHOLE_VIEW_OPTIONS = { padding: 0.05, minZoom: WHOLE_MIN_ZOOM, maxZoom: FIT_VIEW_OPTIONS.maxZoom } satisfies FitViewOptions;

/** `height="fill"`: down to the bottom of the window (less this margin), never lower than `FILL_MIN_HEIGHT`. */
const FILL_MARGIN = 16;
const FILL_MIN_HEIGHT = 420;

/**
 * Fits the view again when the layout changes (the document was edited, the pane's
 * shape changed enough to lay it out again) and, with `onResize`, whenever the pane
 * changes size. Lives inside <ReactFlow>: it follows the pane size React Flow itself
 * measured, so the fit uses the new size.
 */
function AutoFit({ options, layout, onResize }: { options: FitViewOptions; layout: LayoutResult; onResize: boolean }) {
  const { fitView } = useReactFlow();
  const initialized = useNodesInitialized();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const size = onResize ? `${String(width)}x${String(height)}` : "";
  const first = useRef(true);
  useEffect(() => {
    if (!initialized || width <= 0 || height <= 0) return;
    // The first fit is ReactFlow's own (`fitView`); this one follows later changes.
    if (first.current) {
      first.current = false;
      return;
    }
    void fitView(options);
  }, [initialized, layout, size, fitView, options, width, height]);
  return null;
}

/** The pane's height for `height="fill"`: what is left of the window below the pane's top. */
function fillHeight(el: HTMLElement): number {
  const top = el.getBoundingClientRect().top + window.scrollY;
  return Math.max(FILL_MIN_HEIGHT, Math.floor(window.innerHeight - top - FILL_MARGIN));
}

export function FlowGraph({
  graph,
  overlay,
  selected,
  onSelect,
  height = 520,
  label,
  fitWhole = false,
  panel,
}: {
  graph: GraphInput;
  overlay?: RunOverlay;
  selected?: string | null;
  onSelect?: (nodeId: string) => void;
  /** Pixels, or "fill": the rest of the window below the pane. */
  height?: number | "fill";
  label: string;
  /** Always show the whole graph (refit on resize and on change) instead of opening at a readable zoom. */
  fitWhole?: boolean;
  /** Drawn over the pane's top right corner (e.g. the selected node's inspector). */
  panel?: ReactNode;
}) {
  // The pane's size, measured before paint; the layout waits for it (a tall graph wraps to the pane's shape).
  const container = useRef<HTMLDivElement>(null);
  const [paneHeight, setPaneHeight] = useState<number | null>(typeof height === "number" ? height : null);
  const [viewport, setViewport] = useState<Size | null>(null);
  useLayoutEffect(() => {
    const el = container.current;
    if (!el) return;
    const measure = () => {
      const h = height === "fill" ? fillHeight(el) : height;
      setPaneHeight(h);
      if (el.clientWidth > 0) setViewport((prev) => (prev?.width === el.clientWidth && prev.height === h ? prev : { width: el.clientWidth, height: h }));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    window.addEventListener("resize", measure);
    return () => {
      observer.disconnect();
      window.removeEventListener("resize", measure);
    };
  }, [height]);
  // Node sizes are known up front (NodeCard has a fixed size), so the layout never waits for measuring.
  const sizes = useMemo(() => {
    const out = new Map<string, Size>();
    for (const n of graph.nodes) out.set(n.id, nodeCardSize(Boolean(overlay?.failed.has(n.id) && overlay.errors.get(n.id))));
    return out;
  }, [graph, overlay]);
  const layout = useElkLayout(graph, { sizes, viewport, keepPrevious: true });
  const positions = layout?.positions;
  // A graph too big to fit readably opens on its start (its top) instead of its middle.
  const fitViewOptions = useMemo(
    () =>
      fitWhole || !positions || !viewport
        ? WHOLE_VIEW_OPTIONS
        : { ...FIT_VIEW_OPTIONS, nodes: initialFitNodes(graph, positions, viewport, sizes) },
    [fitWhole, graph, positions, viewport, sizes],
  );
  // Sizes React Flow measured, fed back into the nodes: the MiniMap draws only nodes with a size.
  const [measured, setMeasured] = useState<ReadonlyMap<string, Size>>(() => new Map());
  const onNodesChange = useCallback((changes: NodeChange<CkpFlowNode>[]) => {
    setMeasured((prev) => recordDimensions(prev, changes));
  }, []);
  const nodes = useMemo(() => {
    if (!positions) return [];
    // Only laid-out nodes: while a changed graph is laid out again, new nodes wait instead of sitting at the origin.
    const placed = { ...graph, nodes: graph.nodes.filter((n) => positions.has(n.id)) };
    return flowNodes(placed, positions, overlay, selected, measured);
  }, [graph, positions, overlay, selected, measured]);
  const edges = useMemo<RoutedEdgeType[]>(() => {
    if (!positions) return [];
    return graph.edges
      .filter((e) => positions.has(e.source) && positions.has(e.target))
      .map((e) => {
        const color = EDGE_COLOR[e.kind] ?? "#64748b";
        const taken = overlay ? overlay.visited.has(e.source) && overlay.visited.has(e.target) : false;
        const full = edgeLabel(e);
        const route = layout.routes.get(e.id);
        return {
          id: e.id,
          type: "routed",
          source: e.source,
          target: e.target,
          animated: overlay ? overlay.current.has(e.target) && taken : false,
          style: {
            stroke: color,
            strokeWidth: taken ? 2.5 : 1.5,
            strokeDasharray: SIDE_EDGE_KINDS.has(e.kind) ? "6 4" : undefined,
          },
          markerEnd: { type: MarkerType.ArrowClosed, color },
          data: {
            points: route?.points,
            labelAt: route?.label,
            text: shortLabel(full),
            title: full,
            tone: LABEL_TONE[e.kind],
          },
        };
      });
  }, [graph, overlay, positions, layout]);
  const onNodeClick: NodeMouseHandler<CkpFlowNode> = (_, node) => onSelect?.(node.id);
  return (
    <div
      ref={container}
      style={{ height: paneHeight ?? FILL_MIN_HEIGHT }}
      className="relative rounded-lg border border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900"
      role="group"
      aria-label={label}
      aria-busy={layout === null}
      data-testid="flow-graph"
      data-layout={layout === null ? "pending" : layout.wrapped ? "wrapped" : "layered"}
      data-layout-ms={layout ? Math.round(layout.ms) : undefined}
    >
      {layout === null ? (
        <p className="flex h-full items-center justify-center text-sm text-slate-600 dark:text-slate-400" role="status">
          Laying out the graph…
        </p>
      ) : (
        <ReactFlow<CkpFlowNode, RoutedEdgeType>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onNodesChange={onNodesChange}
          onNodeClick={onNodeClick}
          nodesDraggable={false}
          nodesConnectable={false}
          fitView
          fitViewOptions={fitViewOptions}
          minZoom={fitWhole ? WHOLE_MIN_ZOOM : MIN_ZOOM}
          maxZoom={MAX_ZOOM}
          proOptions={{ hideAttribution: true }}
        >
          <AutoFit options={fitWhole ? WHOLE_VIEW_OPTIONS : fitViewOptions} layout={layout} onResize={fitWhole} />
          <Background gap={20} />
          <Controls showInteractive={false} />
          <MiniMap<CkpFlowNode> pannable zoomable ariaLabel="Graph overview" nodeColor={minimapNodeColor} />
        </ReactFlow>
      )}
      {panel ? (
        <div className="absolute top-2 right-2 z-10 max-h-[calc(100%-11rem)] w-80 max-w-[calc(100%-1rem)] overflow-auto rounded-lg border border-slate-200 bg-white p-3 shadow-lg dark:border-slate-700 dark:bg-slate-900">
          {panel}
        </div>
      ) : null}
    </div>
  );
}

export function TierLegend() {
  return (
    <ul className="flex flex-wrap gap-4 text-xs" aria-label="Node tiers">
      {(
        [
          ["deterministic", "Deterministic: sequence, processing, transform, subflow"],
          ["intelligent", "Intelligent: llm_action"],
          ["control", "Control: logic, loop, parallel, verification, human_approval, terminate"],
        ] as const
      ).map(([tier, text]) => (
        <li key={tier} className="flex items-center gap-1.5">
          <span className="inline-block h-3 w-3 rounded-sm" style={{ background: TIER_COLOR[tier] }} aria-hidden="true" />
          {text}
        </li>
      ))}
    </ul>
  );
}
