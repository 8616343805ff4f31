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
  type Edge,
  type FitViewOptions,
  type NodeChange,
  type NodeMouseHandler,
} from "@xyflow/react";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { layoutGraph, type GraphModel } from "@/lib/ckp/graph";
import { TIER_COLOR } from "@/lib/ckp/tiers";
import type { RunOverlay } from "@/lib/events/timeline";
import { ControlNode } from "./nodes/ControlNode";
import { DeterministicNode } from "./nodes/DeterministicNode";
import { IntelligentNode } from "./nodes/IntelligentNode";
import type { CkpFlowNode } from "./types";
import {
  FIT_VIEW_OPTIONS,
  MAX_ZOOM,
  MIN_ZOOM,
  TYPICAL_VIEWPORT,
  flowNodes,
  initialFitNodes,
  minimapNodeColor,
  recordDimensions,
  type Size,
} from "./view";

// Module scope: React Flow re-mounts every node when this object changes identity.
const nodeTypes = {
  deterministic: DeterministicNode,
  intelligent: IntelligentNode,
  control: ControlNode,
};

const EDGE_COLOR: Record<string, string> = {
  reject: "#dc2626",
  fail: "#dc2626",
  fallback: "#dc2626",
  escalation: "#d97706",
  timeout: "#d97706",
  approve: "#16a34a",
  pass: "#16a34a",
};

export interface GraphInput extends GraphModel {
  /** Server layout when present; otherwise laid out here. */
  positions?: Map<string, { x: number; y: number }>;
}

/** The whole graph in view, as small as it takes (a preview: nothing may be cut off; zoom in by hand). */
const WHOLE_MIN_ZOOM = 0.02;
const WHOLE_VIEW_OPTIONS = { padding: 0.05, minZoom: WHOLE_MIN_ZOOM, maxZoom: FIT_VIEW_OPTIONS.maxZoom } satisfies FitViewOptions;

/**
 * Fits the view again whenever the pane changes size (window resized, a collapsed
 * section opened) and when the graph's nodes change (the document was edited). Lives
 * inside <ReactFlow>: it follows the pane size React Flow itself measured, so the fit
 * uses the new size.
 */
function AutoFit({ options, graphKey }: { options: FitViewOptions; graphKey: string }) {
  const { fitView } = useReactFlow();
  const initialized = useNodesInitialized();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  useEffect(() => {
    if (initialized && width > 0 && height > 0) void fitView(options);
  }, [initialized, graphKey, width, height, fitView, options]);
  return null;
}

export function FlowGraph({
  graph,
  overlay,
  selected,
  onSelect,
  height = 520,
  label,
  fitWhole = false,
}: {
  graph: GraphInput;
  overlay?: RunOverlay;
  selected?: string | null;
  onSelect?: (nodeId: string) => void;
  height?: number;
  label: string;
  /** Always show the whole graph (refit on resize and on change) instead of opening at a readable zoom. */
  fitWhole?: boolean;
}) {
  const positions = useMemo(() => graph.positions ?? layoutGraph(graph), [graph]);
  // The pane's size, read before paint so it is known when React Flow first fits (once the nodes are measured).
  const container = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState<Size>(TYPICAL_VIEWPORT);
  useLayoutEffect(() => {
    const el = container.current;
    if (el && el.clientWidth > 0 && el.clientHeight > 0) setViewport({ width: el.clientWidth, height: el.clientHeight });
  }, [height]);
  // A graph too big to fit readably opens on its start instead of its middle.
  const fitViewOptions = useMemo(
    () => (fitWhole ? WHOLE_VIEW_OPTIONS : { ...FIT_VIEW_OPTIONS, nodes: initialFitNodes(graph, positions, viewport) }),
    [fitWhole, graph, positions, viewport],
  );
  const graphKey = useMemo(() => graph.nodes.map((n) => n.id).join("\u0000"), [graph]);
  // Sizes React Flow measured, fed back into the nodes: the MiniMap draws only nodes with a size.
  const [measured, setMeasured] = useState<ReadonlyMap<string, Size>>(() => new Map());
  const onNodesChange = useCallback((changes: NodeChange<CkpFlowNode>[]) => {
    setMeasured((prev) => recordDimensions(prev, changes));
  }, []);
  const nodes = useMemo(
    () => flowNodes(graph, positions, overlay, selected, measured),
    [graph, positions, overlay, selected, measured],
  );
  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((e) => {
        const color = EDGE_COLOR[e.kind] ?? "#64748b";
        const taken = overlay ? overlay.visited.has(e.source) && overlay.visited.has(e.target) : false;
        return {
          id: e.id,
          source: e.source,
          target: e.target,
          label: e.label || (e.kind === "next" ? undefined : e.kind),
          animated: overlay ? overlay.current.has(e.target) && taken : false,
          style: {
            stroke: color,
            strokeWidth: taken ? 2.5 : 1.5,
            strokeDasharray: e.kind === "fallback" || e.kind === "escalation" ? "6 4" : undefined,
          },
          markerEnd: { type: MarkerType.ArrowClosed, color },
          labelStyle: { fontSize: 11 },
        };
      }),
    [graph, overlay],
  );
  const onNodeClick: NodeMouseHandler<CkpFlowNode> = (_, node) => onSelect?.(node.id);
  return (
    <div ref={container} style={{ height }} className="rounded-lg border border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900" role="group" aria-label={label}>
      <ReactFlow<CkpFlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
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
        {fitWhole ? <AutoFit options={WHOLE_VIEW_OPTIONS} graphKey={graphKey} /> : null}
        <Background gap={20} />
        <Controls showInteractive={false} />
        <MiniMap<CkpFlowNode>
          pannable
          zoomable
          ariaLabel="Graph overview"
          nodeColor={minimapNodeColor}
        />
      </ReactFlow>
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
