import { memo } from "react";
import type { NodeProps } from "@xyflow/react";
import type { CkpFlowNode } from "../types";
import { NodeCard } from "./NodeCard";

/** React Flow node type "control" (the control tier). */
export const ControlNode = memo(function ControlNode({ data, selected, isConnectable }: NodeProps<CkpFlowNode>) {
  return <NodeCard data={data} selected={selected} connectable={isConnectable} />;
});
