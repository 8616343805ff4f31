"use client";

import { useMemo, useState } from "react";
import { StatusBadge } from "@/components/ui/StatusBadge";
import type { StreamState } from "@/hooks/useRunEvents";
import { buildTimeline, ITEM_STATUS_LABEL, type ItemStatus, type NodeGroup, type RunEvent, type StepRow } from "@/lib/events/timeline";
import { formatDuration, plural } from "@/lib/format/format";
import { EventRow } from "./EventRow";

const STATUS_TONE: Record<ItemStatus, string> = {
  running: "running",
  completed: "completed",
  failed: "failed",
  skipped: "dry_run",
  waiting: "waiting_approval",
  retrying: "pending",
  test_data: "test",
  mocked: "test",
  interrupted: "canceled",
  ended: "canceled",
};

const BORDER: Record<ItemStatus, string> = {
  running: "border-blue-500",
  completed: "border-green-500",
  failed: "border-red-500",
  skipped: "border-slate-400",
  waiting: "border-amber-500",
  retrying: "border-amber-500",
  test_data: "border-green-500",
  mocked: "border-green-500",
  interrupted: "border-slate-400",
  ended: "border-slate-400",
};

function StepLine({ step }: { step: StepRow }) {
  const [open, setOpen] = useState(step.status === "failed");
  return (
    <li className="py-1" data-testid="timeline-step" data-step={step.stepId} data-status={step.status}>
      <button
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        className="flex w-full items-center gap-2 rounded px-1 text-left text-sm hover:bg-slate-50 dark:hover:bg-slate-800"
      >
        <span aria-hidden="true" className="w-3 text-xs">{open ? "▾" : "▸"}</span>
        <span className="font-mono">{step.stepId}</span>
        <StatusBadge status={STATUS_TONE[step.status]} label={ITEM_STATUS_LABEL[step.status]} />
        {step.attempts > 1 ? <span className="text-xs text-amber-700 dark:text-amber-400">attempt {step.attempts}</span> : null}
        <span className="flex-1" />
        <span className="text-xs text-slate-600 dark:text-slate-400">{formatDuration(step.durationMs)}</span>
      </button>
      {step.error ? <p className="ml-6 text-xs text-red-700 dark:text-red-400">{step.error}</p> : null}
      {open ? (
        <ul className="ml-5 border-l border-slate-200 pl-2 dark:border-slate-700">
          {step.events.map((e) => (
            <EventRow key={e.seq} event={e} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function NodeBlock({ group, defaultOpen }: { group: NodeGroup; defaultOpen: boolean }) {
  const [open, setOpen] = useState(defaultOpen);
  return (
    <li className={`rounded-md border-l-4 bg-white py-2 pr-2 pl-3 shadow-sm dark:bg-slate-900 ${BORDER[group.status]}`} data-testid="timeline-node" data-node={group.nodeId} data-status={group.status}>
      <button type="button" onClick={() => setOpen((o) => !o)} aria-expanded={open} className="flex w-full flex-wrap items-center gap-2 text-left">
        <span aria-hidden="true" className="w-3 text-xs">{open ? "▾" : "▸"}</span>
        <span className="font-semibold">{group.nodeId}</span>
        {group.nodeType ? <span className="text-xs text-slate-600 dark:text-slate-400">{group.nodeType}</span> : null}
        <StatusBadge status={STATUS_TONE[group.status]} label={ITEM_STATUS_LABEL[group.status]} />
        <span className="flex-1" />
        <span className="text-xs text-slate-600 dark:text-slate-400">
          {group.steps.length > 0 ? `${plural(group.steps.length, "step")} · ` : ""}
          {formatDuration(group.durationMs)}
        </span>
      </button>
      {group.error ? (
        <p className="mt-1 ml-5 text-sm font-medium text-red-700 dark:text-red-400" data-testid="node-error">
          {group.error}
        </p>
      ) : null}
      {open ? (
        <div className="mt-1 ml-5">
          {group.steps.length > 0 ? (
            <ul aria-label={`Steps of ${group.nodeId}`}>
              {group.steps.map((s) => (
                <StepLine key={s.key} step={s} />
              ))}
            </ul>
          ) : null}
          {group.events.length > 0 ? (
            <ul aria-label={`Events of ${group.nodeId}`} className="mt-1 border-t border-slate-100 pt-1 dark:border-slate-800">
              {group.events.map((e) => (
                <EventRow key={e.seq} event={e} />
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

const STATE_TEXT: Record<StreamState, string> = {
  connecting: "Connecting…",
  live: "Live",
  polling: "Live (polling)",
  ended: "Run finished",
};

/**
 * The run's timeline grouped by node visit, with step rows and expandable payloads.
 * `runStatus` (the run row's status) settles what a finished run left unfinished.
 */
export function RunTimeline({ events, state, runStatus }: { events: RunEvent[]; state: StreamState; runStatus?: string | null }) {
  const items = useMemo(() => buildTimeline(events, runStatus), [events, runStatus]);
  return (
    <div>
      <p className="mb-2 flex items-center gap-2 text-xs text-slate-600 dark:text-slate-400" aria-live="polite" data-testid="stream-state" data-state={state}>
        <span
          className={`inline-block h-2 w-2 rounded-full ${state === "live" || state === "polling" ? "animate-pulse bg-green-500" : state === "ended" ? "bg-slate-400" : "bg-amber-500"}`}
          aria-hidden="true"
        />
        {STATE_TEXT[state]} · {plural(events.length, "event")}
      </p>
      {items.length === 0 ? <p className="text-sm text-slate-600 dark:text-slate-400">No events yet.</p> : null}
      <ol className="flex flex-col gap-2" aria-label="Run timeline" data-testid="timeline">
        {items.map((item, i) =>
          item.kind === "run" ? (
            <li key={item.key} className="px-1">
              <ul>
                <EventRow event={item.event} />
              </ul>
            </li>
          ) : (
            <NodeBlock key={item.key} group={item} defaultOpen={item.status === "failed" || i >= items.length - 3} />
          ),
        )}
      </ol>
    </div>
  );
}
