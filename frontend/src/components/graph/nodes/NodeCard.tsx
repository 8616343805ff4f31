import { Handle, Position } from "@xyflow/react";
import { NODE_ICON, TIER_CLASSES, TIER_LABEL } from "@/lib/ckp/tiers";
import type { CkpNodeData } from "../types";
import { nodeCardSize } from "../view";

const OVERLAY: Record<CkpNodeData["overlay"], string> = {
  none: "",
  pending: "opacity-50",
  visited: "ring-2 ring-green-600 dark:ring-green-400",
  current: "ring-4 ring-blue-500 animate-pulse",
  failed: "!border-red-600 !bg-red-100 !text-red-950 ring-4 ring-red-600 dark:!bg-red-950 dark:!text-red-50",
};

const OVERLAY_TEXT: Record<CkpNodeData["overlay"], string> = {
  none: "",
  pending: "not reached",
  visited: "done",
  current: "running now",
  failed: "failed",
};

/**
 * The body every node type draws; the tier decides the colour. Its size is fixed
 * (`nodeCardSize`: the layout reserves exactly that room): edges enter at the top and
 * leave at the bottom. Handles show only where edges can be drawn by hand (`connectable`).
 */
export function NodeCard({ data, selected, connectable = false }: { data: CkpNodeData; selected: boolean; connectable?: boolean }) {
  const size = nodeCardSize(data.error !== null);
  const handle = connectable ? "!bg-slate-500" : "!border-0 !bg-transparent";
  return (
    <div
      className={`overflow-hidden rounded-lg border-2 px-3 py-1.5 text-left shadow-sm ${TIER_CLASSES[data.tier]} ${OVERLAY[data.overlay]} ${
        selected ? "outline-2 outline-offset-2 outline-slate-900 dark:outline-white" : ""
      }`}
      style={{ width: size.width, height: size.height }}
      data-testid={`graph-node-${data.nodeId}`}
      data-tier={data.tier}
      data-overlay={data.overlay}
    >
      <Handle type="target" position={Position.Top} className={handle} isConnectable={connectable} />
      <div className="flex h-3.5 items-center justify-between gap-2 text-[11px] leading-3.5 font-semibold tracking-wide uppercase opacity-80">
        <span>
          <span aria-hidden="true">{NODE_ICON[data.ckpType] ?? "•"}</span> {data.ckpType}
        </span>
        {data.isStart ? <span className="rounded bg-slate-900 px-1 text-[10px] text-white dark:bg-white dark:text-slate-900">start</span> : null}
      </div>
      <div className="truncate text-sm leading-4.5 font-semibold" title={data.nodeId}>
        {data.nodeId}
      </div>
      <div className="h-3.5 truncate text-xs leading-3.5 opacity-80" title={data.label !== data.nodeId ? data.label : undefined}>
        {data.label !== data.nodeId ? data.label : ""}
      </div>
      <div className="flex h-3.5 items-center justify-between text-[11px] leading-3.5 opacity-80">
        <span>{data.agent ?? TIER_LABEL[data.tier]}</span>
        {data.overlay !== "none" ? <span className="font-semibold">{OVERLAY_TEXT[data.overlay]}</span> : null}
      </div>
      {data.error ? (
        <div className="mt-1 line-clamp-3 text-xs leading-3.5 font-medium text-red-800 dark:text-red-200" data-testid={`graph-node-error-${data.nodeId}`}>
          {data.error}
        </div>
      ) : null}
      <Handle type="source" position={Position.Bottom} className={handle} isConnectable={connectable} />
    </div>
  );
}
