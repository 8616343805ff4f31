"use client";

import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useNow } from "@/hooks/useNow";
import { isTerminal, type RunRead } from "@/lib/api/models";
import { failingNode } from "@/lib/events/timeline";
import { durationBetween, formatCost, formatDuration, formatNumber } from "@/lib/format/format";
import { runModeBadge } from "@/lib/format/labels";

function Stat({ label, children, testId, className = "" }: { label: string; children: React.ReactNode; testId?: string; className?: string }) {
  return (
    <div className={`min-w-0 ${className}`}>
      <dt className="text-xs text-slate-600 uppercase dark:text-slate-400">{label}</dt>
      <dd className="text-sm font-medium break-words" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

/** The run's error text: error_message, else error.message (with its type when it has one). */
export function runErrorText(r: Pick<RunRead, "error_message" | "error">): string | null {
  if (r.error_message) return r.error_message;
  const message = r.error?.message;
  if (typeof message !== "string" || message === "") return null;
  const type = r.error?.type;
  return typeof type === "string" && type !== "" ? `${type}: ${message}` : message;
}

/** The header badge of a dry-run or test run (nothing for production). */
export function RunModeBadge({ mode }: { mode: string | null | undefined }) {
  const text = runModeBadge(mode);
  if (!text) return null;
  return (
    <span data-testid="run-mode-badge" data-mode={mode}>
      <StatusBadge status={mode === "test" ? "test" : "dry_run"} label={text} />
    </span>
  );
}

function lastNodeLabel(status: string): string {
  if (status === "waiting_approval") return "Waiting at";
  return isTerminal(status) ? "Ended at" : "Last node";
}

export function RunHeader({ run: r }: { run: RunRead }) {
  const now = useNow(!isTerminal(r.status) && r.started_at !== null);
  const error = runErrorText(r);
  const failedAt = failingNode(r);
  const endedAt = r.last_node_id && r.last_node_id !== failedAt ? r.last_node_id : null;
  return (
    <section aria-label="Run summary" className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-700 dark:bg-slate-900">
      {runModeBadge(r.mode) ? (
        <p className="mb-3 flex flex-wrap items-center gap-2 text-sm text-slate-700 dark:text-slate-300">
          <RunModeBadge mode={r.mode} />
          {r.mode === "test"
            ? "Agent, MCP, HTTP and LLM calls were answered from the procedure's test data or mocked."
            : "External calls with side effects were skipped; reads ran for real."}
        </p>
      ) : null}
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4 lg:grid-cols-9">
        <Stat label="Duration">{formatDuration(durationBetween(r.started_at ?? r.created_at, r.ended_at, now))}</Stat>
        <Stat label="Trigger">
          {r.trigger_type}
          {r.triggered_by ? ` · ${r.triggered_by}` : ""}
        </Stat>
        <Stat label="Prompt tokens">{formatNumber(r.total_prompt_tokens)}</Stat>
        <Stat label="Completion tokens">{formatNumber(r.total_completion_tokens)}</Stat>
        <Stat label="Est. cost">{formatCost(r.estimated_cost_usd)}</Stat>
        <Stat label="Started">
          <Time iso={r.started_at} />
        </Stat>
        <Stat label="Ended">
          <Time iso={r.ended_at} />
        </Stat>
        <Stat label={lastNodeLabel(r.status)} testId="run-last-node" className="sm:col-span-2">
          {r.last_node_id ? <span className="font-mono">{r.last_node_id}</span> : "—"}
        </Stat>
      </dl>
      <p className="mt-2 text-xs text-slate-600 dark:text-slate-400">
        Trace id{" "}
        <code className="font-mono select-all" data-testid="run-trace-id" title="The OpenTelemetry trace of every step of this run">
          {r.trace_id}
        </code>
      </p>
      {r.status === "failed" ? (
        <div role="alert" className="mt-3 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" data-testid="run-error">
          <p className="break-words">
            <span className="font-semibold">
              Failed
              {failedAt ? (
                <>
                  {" at "}
                  <code className="rounded bg-red-100 px-1 font-mono dark:bg-red-900" data-testid="run-failed-node">
                    {failedAt}
                  </code>
                </>
              ) : null}
              {error ? ":" : ""}
            </span>{" "}
            {endedAt ? (error ?? "no error message was recorded").replace(/\.\s*$/, "") : (error ?? "no error message was recorded.")}
            {endedAt ? (
              <>
                {", ended at "}
                <code className="rounded bg-red-100 px-1 font-mono dark:bg-red-900" data-testid="run-ended-node">
                  {endedAt}
                </code>
              </>
            ) : null}
          </p>
        </div>
      ) : null}
      {r.cancellation_requested && !isTerminal(r.status) ? (
        <p className="mt-3 text-sm text-amber-800 dark:text-amber-300">Cancellation requested; the run stops at its next step boundary.</p>
      ) : null}
    </section>
  );
}
