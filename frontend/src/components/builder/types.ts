import type { Edge, Node } from "@xyflow/react";
import type { OverlayState } from "@/components/graph/types";
import type { Port } from "@/lib/builder/document";
import type { Tier } from "@/lib/ckp/tiers";

/** What the builder's node card draws. */
export interface BuilderNodeData extends Record<string, unknown> {
  nodeId: string;
  ckpType: string;
  tier: Tier;
  label: string;
  isStart: boolean;
  /** Connectable outputs, in order: one source handle each. */
  ports: Port[];
  errors: number;
  warnings: number;
  /** A test run drawn on the canvas. */
  overlay: OverlayState;
  runError: string | null;
}

export type BuilderFlowNode = Node<BuilderNodeData, "builder">;

export interface BuilderEdgeData extends Record<string, unknown> {
  portId: string;
}

export type BuilderFlowEdge = Edge<BuilderEdgeData>;

/** Edge colours by port kind (as on the read-only graph); everything else slate. */
export const PORT_COLOR: Readonly<Record<string, string>> = {
  reject: "#dc2626",
  fail: "#dc2626",
  fallback: "#dc2626",
  escalation: "#d97706",
  timeout: "#d97706",
  approve: "#16a34a",
  pass: "#16a34a",
  body: "#7c3aed",
  branch: "#0891b2",
  rule: "#2563eb",
  default: "#475569",
};

export function portColor(kind: string): string {
  return PORT_COLOR[kind] ?? "#64748b";
}

/** React Flow edge id of a port's connection (`source::portId`). */
export function edgeId(source: string, portId: string): string {
  return `${source}::${portId}`;
}
