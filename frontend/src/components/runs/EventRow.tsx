"use client";

import { useState } from "react";
import { JsonView } from "@/components/ui/JsonView";
import { errorText, payloadOf, type RunEvent } from "@/lib/events/timeline";
import { formatCost, formatDuration, fullTime } from "@/lib/format/format";
import { decisionLabel, eventLabel, runModeLabel } from "@/lib/format/labels";

function scalar(v: unknown): string {
  return typeof v === "number" || typeof v === "string" ? String(v) : "";
}

function summary(event: RunEvent): string {
  const p = payloadOf(event);
  const err = errorText(p);
  switch (event.type) {
    case "llm_usage":
      return "";
    case "log":
      return typeof p.message === "string" ? p.message : typeof p.value === "string" ? p.value : "";
    case "loop_iteration":
      return `iteration ${scalar(p.index ?? p.iteration)}`;
    case "branch_started":
    case "branch_completed":
      return typeof p.branch_id === "string" ? `branch ${p.branch_id}` : "";
    case "subflow_started":
    case "subflow_completed":
      return typeof p.procedure_id === "string" ? `${p.procedure_id}${typeof p.child_run_id === "string" ? ` (${p.child_run_id.slice(0, 8)})` : ""}` : "";
    case "approval_decided":
      return typeof p.decision === "string" ? `${decisionLabel(p.decision)}${typeof p.decided_by === "string" ? ` by ${p.decided_by}` : ""}` : "";
    case "run_started":
      return typeof p.mode === "string" && p.mode !== "production" ? `${runModeLabel(p.mode)} mode` : "";
    case "run_completed":
      return "";
    case "step_test_override_applied":
    case "step_mock_applied":
      return typeof p.action === "string" ? p.action : "";
    case "step_skipped_dry_run":
      return typeof p.skipped_action === "string" ? p.skipped_action : "";
    default:
      return err ?? "";
  }
}

function LlmUsage({ event }: { event: RunEvent }) {
  const p = payloadOf(event);
  const num = (v: unknown) => (typeof v === "number" ? v : null);
  return (
    <span className="flex flex-wrap items-center gap-1.5 text-xs">
      {typeof p.model === "string" ? <span className="rounded bg-purple-100 px-1.5 font-medium text-purple-900 dark:bg-purple-900 dark:text-purple-100">{p.model}</span> : null}
      <span className="rounded bg-slate-100 px-1.5 dark:bg-slate-800">prompt {num(p.prompt_tokens) ?? "?"}</span>
      <span className="rounded bg-slate-100 px-1.5 dark:bg-slate-800">completion {num(p.completion_tokens) ?? "?"}</span>
      {num(p.cost_usd) !== null ? <span className="rounded bg-slate-100 px-1.5 dark:bg-slate-800">{formatCost(num(p.cost_usd))}</span> : null}
      {num(p.duration_ms) !== null ? <span className="rounded bg-slate-100 px-1.5 dark:bg-slate-800">{formatDuration(num(p.duration_ms))}</span> : null}
    </span>
  );
}

const TONE: Record<string, string> = {
  run_failed: "text-red-700 dark:text-red-400",
  node_failed: "text-red-700 dark:text-red-400",
  step_failed: "text-red-700 dark:text-red-400",
  step_timeout: "text-red-700 dark:text-red-400",
  budget_exceeded: "text-red-700 dark:text-red-400",
  sla_breached: "text-amber-700 dark:text-amber-400",
  step_error_notification: "text-amber-700 dark:text-amber-400",
  pool_saturated: "text-amber-700 dark:text-amber-400",
  step_retry: "text-amber-700 dark:text-amber-400",
  run_completed: "text-green-700 dark:text-green-400",
  approval_requested: "text-amber-700 dark:text-amber-400",
  step_test_override_applied: "text-teal-700 dark:text-teal-400",
  step_mock_applied: "text-teal-700 dark:text-teal-400",
  step_skipped_dry_run: "text-slate-600 dark:text-slate-400",
};

/** One event: type, a short summary, and its payload on demand. */
export function EventRow({ event }: { event: RunEvent }) {
  const [open, setOpen] = useState(false);
  const p = payloadOf(event);
  const hasPayload = Object.keys(p).length > 0;
  const text = summary(event);
  return (
    <li className="py-1" data-testid="timeline-event" data-type={event.type}>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="w-10 shrink-0 text-right font-mono text-xs text-slate-500 dark:text-slate-400">#{event.seq}</span>
        <span className={`text-xs font-semibold ${TONE[event.type] ?? ""}`} title={event.type}>
          {eventLabel(event.type)}
        </span>
        {event.type === "llm_usage" ? <LlmUsage event={event} /> : null}
        {text ? <span className="min-w-0 flex-1 truncate text-xs text-slate-700 dark:text-slate-300" title={text}>{text}</span> : <span className="flex-1" />}
        <time className="shrink-0 text-xs whitespace-nowrap text-slate-500 dark:text-slate-400" dateTime={event.created_at} title={fullTime(event.created_at)}>
          {new Date(event.created_at).toLocaleTimeString()}
        </time>
        {hasPayload ? (
          <button
            type="button"
            onClick={() => setOpen((o) => !o)}
            aria-expanded={open}
            className="rounded px-1.5 text-xs text-blue-700 underline underline-offset-2 dark:text-blue-300"
          >
            {open ? "Hide" : "Payload"}
            <span className="sr-only"> of event {event.seq}</span>
          </button>
        ) : null}
      </div>
      {open ? <JsonView value={p} className="mt-1 ml-12 max-h-80" /> : null}
    </li>
  );
}
