import { memo } from "react";
import type { NodeProps } from "@xyflow/react";
import type { CkpFlowNode } from "../types";
import { NodeCard } from "./NodeCard";

/** React Flow node type "deterministic" (the deterministic tier). */
export const DeterministicNode = memo(function DeterministicNode({ data, selected, isConnectable }: NodeProps<CkpFlowNode>) {
  return <NodeCard data={data} selected={selected} connectable={isConnectable} />;
});
