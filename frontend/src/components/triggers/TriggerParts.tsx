"use client";

import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useFireTrigger } from "@/hooks/useFireTrigger";
import { useSetTriggerEnabled } from "@/hooks/useSetTriggerEnabled";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { TriggerFireResult, TriggerRead } from "@/lib/api/models";
import { runHref } from "@/lib/format/links";

/** Enabled or paused. */
export function TriggerState({ trigger }: { trigger: Pick<TriggerRead, "enabled"> }) {
  return <StatusBadge status={trigger.enabled ? "active" : "disabled"} label={trigger.enabled ? "enabled" : "paused"} />;
}

/** A run id as a link to its page (shortened, the full id in the tooltip). */
export function RunLink({ runId, testId }: { runId: string; testId?: string }) {
  return (
    <Link href={runHref(runId)} title={runId} className="font-mono text-xs text-blue-700 underline underline-offset-2 dark:text-blue-300" data-testid={testId}>
      {runId.length > 12 ? `${runId.slice(0, 8)}…` : runId}
    </Link>
  );
}

/** The last fire: when, and the run it started. */
export function LastFire({ trigger }: { trigger: Pick<TriggerRead, "last_fired_at" | "last_run_id"> }) {
  if (!trigger.last_fired_at) return <span className="text-slate-600 dark:text-slate-400">never</span>;
  return (
    <span className="flex flex-col">
      <Time iso={trigger.last_fired_at} relative />
      {trigger.last_run_id ? <RunLink runId={trigger.last_run_id} testId="last-run-link" /> : null}
    </span>
  );
}

const OUTCOME_TEXT: Record<string, string> = {
  queued: "Run queued",
  deduplicated: "Already fired for this payload",
  skipped_overlap: "Skipped: a run of this trigger is still going",
  waiting: "Waiting for the running one to finish",
  refused_concurrency: "Refused: the trigger is at its concurrent run limit",
  failed: "Failed",
};

/** What a fire came to, with its run when there is one. */
export function FireOutcome({ result }: { result: TriggerFireResult }) {
  return (
    <span className="text-xs" role="status" data-testid="fire-result" data-outcome={result.outcome}>
      {OUTCOME_TEXT[result.outcome] ?? result.outcome.replace(/_/g, " ")}
      {result.detail ? `: ${result.detail}` : ""}
      {result.run_id ? (
        <>
          {" "}
          <Link href={runHref(result.run_id)} className="font-mono text-blue-700 underline underline-offset-2 dark:text-blue-300" data-testid="fired-run-link">
            open run {result.run_id.slice(0, 8)}
          </Link>
        </>
      ) : null}
    </span>
  );
}

/** Pause/resume and fire now (the caller decides who sees them). */
export function TriggerActions({ trigger, label }: { trigger: TriggerRead; label: string }) {
  const toggle = useSetTriggerEnabled();
  const fire = useFireTrigger();
  const toast = useToast();
  const [result, setResult] = useState<TriggerFireResult | null>(null);
  const pause = () =>
    toggle.mutate(
      { triggerId: trigger.id, enabled: !trigger.enabled },
      {
        onSuccess: (t) => toast.show("success", `${label} ${t.enabled ? "resumed" : "paused"}`),
        onError: (e) => toast.show("error", errorMessage(e)),
      },
    );
  const fireNow = () =>
    fire.mutate(
      { triggerId: trigger.id },
      {
        onSuccess: (r) => {
          setResult(r);
          toast.show(r.created ? "success" : "info", `${label}: ${OUTCOME_TEXT[r.outcome] ?? r.outcome}`);
        },
        onError: (e) => toast.show("error", `${label} did not fire: ${errorMessage(e)}`),
      },
    );
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <span className="inline-flex gap-2">
        <Button size="sm" onClick={pause} disabled={toggle.isPending} data-testid={trigger.enabled ? "pause-trigger" : "resume-trigger"}>
          {trigger.enabled ? "Pause" : "Resume"}
          <span className="sr-only"> {label}</span>
        </Button>
        <Button size="sm" variant="primary" onClick={fireNow} disabled={fire.isPending} data-testid="fire-trigger">
          {fire.isPending ? "Firing…" : "Fire now"}
          <span className="sr-only"> {label}</span>
        </Button>
      </span>
      {result ? <FireOutcome result={result} /> : null}
    </span>
  );
}
