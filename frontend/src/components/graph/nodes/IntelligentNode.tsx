import { memo } from "react";
import type { NodeProps } from "@xyflow/react";
import type { CkpFlowNode } from "../types";
import { NodeCard } from "./NodeCard";

/** React Flow node type "intelligent" (the intelligent tier). */
export const IntelligentNode = memo(function IntelligentNode({ data, selected, isConnectable }: NodeProps<CkpFlowNode>) {
  return <NodeCard data={data} selected={selected} connectable={isConnectable} />;
});
