import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { NODE_ICON, TIER_CLASSES } from "@/lib/ckp/tiers";
import { portColor, type BuilderFlowNode } from "./types";

const OVERLAY: Record<string, string> = {
  none: "",
  pending: "opacity-60",
  visited: "ring-2 ring-green-600 dark:ring-green-400",
  current: "ring-4 ring-blue-500 animate-pulse",
  failed: "!border-red-600 !bg-red-100 !text-red-950 ring-4 ring-red-600 dark:!bg-red-950 dark:!text-red-50",
};

const OVERLAY_TEXT: Record<string, string> = { none: "", pending: "not reached", visited: "done", current: "running now", failed: "failed" };

/** Width of a node: room for every output handle's label. */
export function nodeWidth(ports: number): number {
  return Math.max(208, ports * 76);
}

function shortLabel(label: string): string {
  return label.length > 12 ? `${label.slice(0, 11)}…` : label;
}

/**
 * A node on the builder canvas: target handle on top; one source handle per output port
 * along the bottom, each labelled and coloured like its edges; a badge with the count
 * of errors (red) or warnings (amber) inside the node.
 */
export const BuilderNode = memo(function BuilderNode({ data, selected }: NodeProps<BuilderFlowNode>) {
  const { nodeId, ports } = data;
  const badge = data.errors > 0 ? "error" : data.warnings > 0 ? "warning" : null;
  return (
    <div
      className={`relative rounded-lg border-2 px-3 pt-2 pb-6 text-left shadow-sm ${TIER_CLASSES[data.tier]} ${OVERLAY[data.overlay] ?? ""} ${
        selected ? "outline-2 outline-offset-2 outline-slate-900 dark:outline-white" : ""
      }`}
      style={{ width: nodeWidth(ports.length) }}
      data-testid={`builder-node-${nodeId}`}
      data-node-type={data.ckpType}
      data-start={data.isStart ? "true" : undefined}
      data-overlay={data.overlay}
      data-errors={data.errors}
      data-warnings={data.warnings}
    >
      <Handle type="target" position={Position.Top} className="!h-3 !w-3 !bg-slate-500" data-testid={`handle-${nodeId}-in`} aria-label={`Input of ${nodeId}`} />
      <div className="flex items-center justify-between gap-2 text-[11px] font-semibold tracking-wide uppercase opacity-80">
        <span>
          <span aria-hidden="true">{NODE_ICON[data.ckpType] ?? "•"}</span> {data.ckpType}
        </span>
        <span className="flex items-center gap-1">
          {data.isStart ? (
            <span className="rounded bg-slate-900 px-1 text-[10px] text-white dark:bg-white dark:text-slate-900" data-testid={`builder-start-${nodeId}`}>
              start
            </span>
          ) : null}
          {badge ? (
            <span
              className={`rounded-full px-1.5 text-[10px] font-bold text-white ${badge === "error" ? "bg-red-600" : "bg-amber-500 text-slate-950"}`}
              data-testid={`node-badge-${nodeId}`}
              data-severity={badge}
              title={`${String(data.errors)} error(s), ${String(data.warnings)} warning(s)`}
              aria-label={`${String(data.errors)} errors, ${String(data.warnings)} warnings`}
            >
              {badge === "error" ? data.errors : data.warnings}
            </span>
          ) : null}
        </span>
      </div>
      <div className="mt-0.5 truncate text-sm font-semibold" title={nodeId}>
        {nodeId}
      </div>
      {data.label && data.label !== nodeId ? (
        <div className="truncate text-xs opacity-80" title={data.label}>
          {data.label}
        </div>
      ) : null}
      {data.overlay !== "none" ? <div className="mt-0.5 text-[11px] font-semibold">{OVERLAY_TEXT[data.overlay]}</div> : null}
      {data.runError ? <div className="mt-1 line-clamp-3 text-xs font-medium text-red-800 dark:text-red-200">{data.runError}</div> : null}
      {ports.map((port, i) => {
        const left = `${String(((i + 1) / (ports.length + 1)) * 100)}%`;
        const color = portColor(port.kind);
        return (
          <div key={port.id}>
            <Handle
              type="source"
              id={port.id}
              position={Position.Bottom}
              style={{ left, background: port.target ? color : "#fff", borderColor: color, borderWidth: 2 }}
              className="!h-3 !w-3"
              data-testid={`handle-${nodeId}-${port.id}`}
              data-port-kind={port.kind}
              data-connected={port.target ? "true" : "false"}
              aria-label={`${port.label} output of ${nodeId}${port.target ? ` (to ${port.target})` : " (not connected)"}`}
              title={`${port.label}${port.target ? ` → ${port.target}` : ""}`}
            />
            <span
              className="pointer-events-none absolute bottom-1 -translate-x-1/2 text-[10px] leading-none font-medium whitespace-nowrap"
              style={{ left, color }}
              aria-hidden="true"
            >
              {shortLabel(port.label)}
            </span>
          </div>
        );
      })}
    </div>
  );
});
