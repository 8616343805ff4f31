"use client";

import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
  type OnNodeDrag,
} from "@xyflow/react";
import { useCallback, useMemo, useState, type DragEvent } from "react";
import type { OverlayState } from "@/components/graph/types";
import { listNodes, nodeTypeOf, outputPorts, startNode, type CkpDoc, type JsonObject, type Position } from "@/lib/builder/document";
import { TIER_COLOR, tierOf, type CkpNodeType, isNodeType } from "@/lib/ckp/tiers";
import type { RunOverlay } from "@/lib/events/timeline";
import { BuilderNode } from "./BuilderNode";
import { PALETTE_MIME } from "./Palette";
import { edgeId, portColor, type BuilderFlowEdge, type BuilderFlowNode } from "./types";

// Module scope: React Flow re-mounts every node when this object changes identity.
const nodeTypes = { builder: BuilderNode };

const ORIGIN: Position = { x: 0, y: 0 };
const EDGE_LABELLED: ReadonlySet<string> = new Set(["rule", "branch", "fallback", "escalation"]);

function edgeText(label: string): string {
  return label.length > 28 ? `${label.slice(0, 27)}…` : label;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function applySelect(current: ReadonlySet<string>, changes: readonly { id: string; selected: boolean }[]): ReadonlySet<string> {
  const next = new Set(current);
  for (const c of changes) {
    if (c.selected) next.add(c.id);
    else next.delete(c.id);
  }
  return next;
}

/** The last value made for each key, remade when its inputs (`key`) change. */
class Memo<K extends object | string, V> {
  constructor(private readonly store: { get: (k: K) => { key: string; value: V } | undefined; set: (k: K, v: { key: string; value: V }) => unknown }) {}

  get(k: K, key: string, make: () => V): V {
    const hit = this.store.get(k);
    if (hit?.key === key) return hit.value;
    const value = make();
    this.store.set(k, { key, value });
    return value;
  }
}

function overlayOf(id: string, overlay: RunOverlay | null): OverlayState {
  if (!overlay) return "none";
  if (overlay.failed.has(id)) return "failed";
  if (overlay.current.has(id)) return "current";
  if (overlay.visited.has(id)) return "visited";
  return "pending";
}

export interface CanvasProps {
  doc: CkpDoc;
  /** Where each node is drawn ($ui position, else the layout's). */
  positions: ReadonlyMap<string, Position>;
  counts: ReadonlyMap<string, { errors: number; warnings: number }>;
  overlay: RunOverlay | null;
  selectedNodes: ReadonlySet<string>;
  selectedEdges: ReadonlySet<string>;
  /** Selection changes as updates of the previous selection (node and edge changes arrive in the same tick). */
  onSelect: (update: (nodes: ReadonlySet<string>, edges: ReadonlySet<string>) => { nodes: ReadonlySet<string>; edges: ReadonlySet<string> }) => void;
  onConnect: (source: string, portId: string, target: string) => void;
  onMove: (positions: ReadonlyMap<string, Position>) => void;
  onDropType: (type: CkpNodeType, position: Position) => void;
  readOnly?: boolean;
}

/** The editable graph: nodes dragged, handles connected, palette items dropped. Shortcuts live in the builder. */
export function BuilderCanvas({ doc, positions, counts, overlay, selectedNodes, selectedEdges, onSelect, onConnect, onMove, onDropType, readOnly = false }: CanvasProps) {
  const flow = useReactFlow<BuilderFlowNode, BuilderFlowEdge>();
  // Positions while a drag is under way; written to the document when it stops.
  const [dragging, setDragging] = useState<ReadonlyMap<string, Position>>(() => new Map());
  const [measured, setMeasured] = useState<ReadonlyMap<string, { width: number; height: number }>>(() => new Map());
  const listed = useMemo(() => listNodes(doc), [doc]);
  const start = useMemo(() => startNode(doc), [doc]);

  // React Flow re-renders a node only when its object changes: unchanged nodes keep theirs
  // (a 200-node procedure re-renders one node per edit, not 200). Keyed by the document's
  // node object, which the document library keeps for nodes an edit did not touch.
  const [nodeCache] = useState(() => new Memo<JsonObject, BuilderFlowNode>(new WeakMap()));
  const nodes = useMemo<BuilderFlowNode[]>(
    () =>
      listed.map(({ id, node }) => {
        const count = counts.get(id);
        const size = measured.get(id);
        const position = dragging.get(id) ?? positions.get(id) ?? ORIGIN;
        const state = overlayOf(id, overlay);
        const runError = overlay?.errors.get(id) ?? null;
        const selected = selectedNodes.has(id);
        const key = [id, position.x, position.y, selected, count?.errors ?? 0, count?.warnings ?? 0, state, runError ?? "", id === start, size?.width ?? "", size?.height ?? ""].join("\u0000");
        return nodeCache.get(node, key, (): BuilderFlowNode => {
          const type = nodeTypeOf(node);
          return {
            id,
            type: "builder",
            position,
            selected,
            ...(size ? { measured: size, width: size.width, height: size.height } : {}),
            data: {
              nodeId: id,
              ckpType: type,
              tier: tierOf(type),
              label: str(node.description) ?? str(node.name) ?? id,
              isStart: id === start,
              ports: outputPorts(node),
              errors: count?.errors ?? 0,
              warnings: count?.warnings ?? 0,
              overlay: state,
              runError,
            },
          };
        });
      }),
    [listed, counts, measured, dragging, positions, selectedNodes, start, overlay, nodeCache],
  );

  const [edgeCache] = useState(() => new Memo<string, BuilderFlowEdge>(new Map()));
  const edges = useMemo<BuilderFlowEdge[]>(() => {
    const ids = new Set(listed.map((n) => n.id));
    const out: BuilderFlowEdge[] = [];
    for (const { id, node } of listed) {
      for (const port of outputPorts(node)) {
        if (!port.target || !ids.has(port.target)) continue;
        const eid = edgeId(id, port.id);
        const taken = overlay ? overlay.visited.has(id) && overlay.visited.has(port.target) : false;
        const animated = overlay ? overlay.current.has(port.target) && taken : false;
        const selected = selectedEdges.has(eid);
        const key = [port.target, port.label, taken, animated, selected].join("\u0000");
        const target = port.target;
        out.push(edgeCache.get(eid, key, (): BuilderFlowEdge => {
          const color = portColor(port.kind);
          return {
            id: eid,
            source: id,
            sourceHandle: port.id,
            target,
            type: "smoothstep",
            selected,
            // The handle already names most outcomes; rules, branches and error routes say more on the edge.
            label: EDGE_LABELLED.has(port.kind) ? edgeText(port.label) : undefined,
            labelStyle: { fontSize: 11, fill: color },
            labelBgPadding: [4, 2],
            style: { stroke: color, strokeWidth: taken ? 2.5 : 1.5, strokeDasharray: port.kind === "fallback" || port.kind === "escalation" ? "6 4" : undefined },
            markerEnd: { type: MarkerType.ArrowClosed, color },
            animated,
            data: { portId: port.id },
            ariaLabel: `${id} ${port.label} to ${target}`,
          };
        }));
      }
    }
    return out;
  }, [listed, selectedEdges, overlay, edgeCache]);

  const onNodesChange = useCallback(
    (changes: NodeChange<BuilderFlowNode>[]) => {
      const select: { id: string; selected: boolean }[] = [];
      let drag: Map<string, Position> | null = null;
      let sizes: Map<string, { width: number; height: number }> | null = null;
      for (const c of changes) {
        if (c.type === "select") {
          select.push({ id: c.id, selected: c.selected });
        } else if (c.type === "position" && c.position && c.dragging) {
          drag ??= new Map(dragging);
          drag.set(c.id, c.position);
        } else if (c.type === "dimensions" && c.dimensions) {
          const old = measured.get(c.id);
          if (old?.width !== c.dimensions.width || old.height !== c.dimensions.height) {
            sizes ??= new Map(measured);
            sizes.set(c.id, c.dimensions);
          }
        }
      }
      if (select.length > 0) onSelect((nodes, edges) => ({ nodes: applySelect(nodes, select), edges }));
      if (drag) setDragging(drag);
      if (sizes) setMeasured(sizes);
    },
    [dragging, measured, onSelect],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<BuilderFlowEdge>[]) => {
      const select: { id: string; selected: boolean }[] = [];
      for (const c of changes) if (c.type === "select") select.push({ id: c.id, selected: c.selected });
      if (select.length > 0) onSelect((nodes, edges) => ({ nodes, edges: applySelect(edges, select) }));
    },
    [onSelect],
  );

  const onNodeDragStop: OnNodeDrag<BuilderFlowNode> = useCallback(
    (_event, _node, moved) => {
      const map = new Map<string, Position>();
      for (const n of moved) map.set(n.id, { x: Math.round(n.position.x), y: Math.round(n.position.y) });
      setDragging(new Map());
      if (map.size > 0) onMove(map);
    },
    [onMove],
  );

  const onConnectHandle = useCallback(
    (c: Connection) => {
      if (c.sourceHandle && c.source !== c.target) onConnect(c.source, c.sourceHandle, c.target);
    },
    [onConnect],
  );

  const onDragOver = (e: DragEvent) => {
    if (readOnly || !e.dataTransfer.types.includes(PALETTE_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  };
  const onDrop = (e: DragEvent) => {
    const type = e.dataTransfer.getData(PALETTE_MIME);
    if (readOnly || !isNodeType(type)) return;
    e.preventDefault();
    const at = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    onDropType(type, { x: Math.round(at.x - 104), y: Math.round(at.y - 30) });
  };

  return (
    <div className="h-full w-full" onDragOver={onDragOver} onDrop={onDrop} data-testid="builder-canvas" role="group" aria-label="Workflow canvas">
      <ReactFlow<BuilderFlowNode, BuilderFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStop={onNodeDragStop}
        onConnect={onConnectHandle}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        minZoom={0.1}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
        <MiniMap<BuilderFlowNode> pannable zoomable ariaLabel="Canvas overview" nodeColor={(n) => TIER_COLOR[n.data.tier]} />
      </ReactFlow>
    </div>
  );
}
