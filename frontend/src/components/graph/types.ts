import type { Node } from "@xyflow/react";
import type { Tier } from "@/lib/ckp/tiers";

export type OverlayState = "none" | "pending" | "visited" | "current" | "failed";

interface Base extends Record<string, unknown> {
  nodeId: string;
  ckpType: string;
  label: string;
  agent: string | null;
  isStart: boolean;
  overlay: OverlayState;
  error: string | null;
}

/** Node data, discriminated by tier: each tier is one React Flow node type. */
export type CkpNodeData =
  | (Base & { tier: "deterministic" })
  | (Base & { tier: "intelligent" })
  | (Base & { tier: "control" });

export type CkpFlowNode = Node<CkpNodeData, Tier>;
