"use client";

import Link from "next/link";
import { useMemo } from "react";
import { RunInputsForm } from "@/components/runs/RunInputsForm";
import { Button } from "@/components/ui/Button";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { useCan } from "@/hooks/useCan";
import { useDecideApproval } from "@/hooks/useDecideApproval";
import { useRunApprovals } from "@/hooks/useRunApprovals";
import type { StreamState } from "@/hooks/useRunEvents";
import { useStartRun } from "@/hooks/useStartRun";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import { isTerminal, type RunRead } from "@/lib/api/models";
import { allowedRunModes } from "@/lib/auth/roles";
import type { CkpDoc } from "@/lib/builder/document";
import { testDataCount } from "@/lib/ckp/modes";
import type { RunMode } from "@/lib/format/labels";
import { approvalHref, runHref } from "@/lib/format/links";
import { declaredVariables } from "@/lib/inputs/variables";
import type { SavedVersion } from "./Builder";

const BUILDER_MODES: readonly RunMode[] = ["test", "dry_run"];

/**
 * Runs the saved version in test or dry-run mode and follows it: the canvas draws the
 * visited / current / failed nodes; here the status, the run's page and, while it waits
 * for a person, its approval (approve or reject inline).
 */
export function TestRunPanel({
  saved,
  doc,
  dirty,
  runId,
  run,
  streamState,
  onStarted,
  onClose,
}: {
  saved: SavedVersion;
  doc: CkpDoc;
  dirty: boolean;
  runId: string;
  run: RunRead | null;
  streamState: StreamState;
  onStarted: (runId: string) => void;
  onClose: () => void;
}) {
  const toast = useToast();
  const start = useStartRun();
  const perms = useCan();
  const allowed = useMemo(() => (perms.ready ? allowedRunModes(perms.me, BUILDER_MODES, saved.projectId) : []), [perms.ready, perms.me, saved.projectId]);
  // The inputs the saved version declares (the form runs that version, not the canvas).
  const fields = useMemo(() => declaredVariables(saved.doc.variables_schema), [saved.doc]);
  const modeChoice = useMemo(() => ({ defaultMode: "test" as const, testData: testDataCount(saved.doc), allowed }), [saved.doc, allowed]);
  const waiting = run?.status === "waiting_approval";
  const approvals = useRunApprovals(runId, waiting);
  const decide = useDecideApproval({
    onSuccess: (a, d) => toast.show("success", `${d.decision === "approve" ? "Approved" : "Rejected"} ${a.node_id}; the run resumes`),
    onError: (e) => toast.show("error", errorMessage(e)),
  });
  const pending = approvals.data?.items ?? [];

  return (
    <section className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-700 dark:bg-slate-900" aria-labelledby="builder-run-title" data-testid="builder-run-panel">
      <div className="mb-3 flex items-center justify-between gap-2">
        <h2 id="builder-run-title" className="text-base font-semibold">
          Test run of {saved.procedureId} v{saved.version}
        </h2>
        <Button size="sm" variant="ghost" onClick={onClose} aria-label="Close the test run panel">
          ×
        </Button>
      </div>
      {dirty && doc !== saved.doc ? (
        <p className="mb-3 text-sm text-amber-800 dark:text-amber-300" data-testid="builder-run-unsaved">
          The canvas has unsaved changes: the run uses the saved version {saved.version}. Save to run them.
        </p>
      ) : null}
      <div className="grid gap-6 md:grid-cols-2">
        <div>
          {!perms.ready ? (
            <p className="text-sm">Checking your role…</p>
          ) : allowed.length === 0 ? (
            <p className="text-sm" data-testid="builder-run-not-allowed">
              Test and dry runs need the author role in this procedure&apos;s project.
            </p>
          ) : (
            <RunInputsForm
              key={`${saved.procedureId}@${saved.version}`}
              idPrefix="builder-run"
              fields={fields}
              submitLabel="Start"
              busy={start.isPending}
              serverError={start.error}
              modeChoice={modeChoice}
              onSubmit={(inputs, mode) =>
                start.mutate(
                  { procedure_id: saved.procedureId, procedure_version: saved.version, input_vars: inputs, project_id: saved.projectId, mode: mode ?? "test" },
                  {
                    onSuccess: (r) => {
                      onStarted(r.run_id);
                      toast.show("success", `${r.mode === "dry_run" ? "Dry run" : "Test run"} ${r.run_id.slice(0, 8)} started`);
                    },
                    onError: (e) => toast.show("error", `Run not started: ${errorMessage(e)}`),
                  },
                )
              }
            />
          )}
        </div>
        <div aria-live="polite" data-testid="builder-run-status" data-status={run?.status ?? (runId ? "starting" : "none")}>
          {runId === "" ? (
            <p className="text-sm text-slate-600 dark:text-slate-400">Start a run to watch it on the canvas: visited nodes get a green ring, the current one pulses, a failed one turns red.</p>
          ) : (
            <div className="flex flex-col gap-3 text-sm">
              <p className="flex flex-wrap items-center gap-2">
                <span>Run</span>
                <Link href={runHref(runId)} className="font-mono text-blue-700 underline underline-offset-2 dark:text-blue-300" data-testid="builder-run-link">
                  {runId.slice(0, 8)}
                </Link>
                {run ? <StatusBadge status={run.status} /> : <span>starting…</span>}
                {run && !isTerminal(run.status) ? <span className="text-xs text-slate-600 dark:text-slate-400">({streamState === "live" ? "live" : streamState})</span> : null}
              </p>
              {run?.error_message ? <p className="text-red-800 dark:text-red-300">{run.error_message}</p> : null}
              {pending.map((a) => (
                <div key={a.approval_id} className="rounded-md border border-amber-300 bg-amber-50 p-3 dark:border-amber-800 dark:bg-amber-950" data-testid="builder-run-approval">
                  <p className="font-medium">
                    Waiting for approval at <span className="font-mono">{a.node_id}</span>
                  </p>
                  {a.prompt ? <p className="mt-1 line-clamp-3">{a.prompt}</p> : null}
                  <div className="mt-2 flex flex-wrap items-center gap-2">
                    {a.decision_type === "approve_reject" && perms.can("approver", saved.projectId) ? (
                      <>
                        <Button
                          size="sm"
                          variant="success"
                          disabled={decide.isPending}
                          onClick={() => decide.mutate({ approvalId: a.approval_id, decision: "approve", comment: "Approved from the builder's test run" })}
                          data-testid="builder-run-approve"
                        >
                          Approve
                        </Button>
                        <Button
                          size="sm"
                          variant="danger"
                          disabled={decide.isPending}
                          onClick={() => decide.mutate({ approvalId: a.approval_id, decision: "reject", comment: "Rejected from the builder's test run" })}
                          data-testid="builder-run-reject"
                        >
                          Reject
                        </Button>
                      </>
                    ) : null}
                    <Link href={approvalHref(a.approval_id)} className="text-blue-700 underline underline-offset-2 dark:text-blue-300" data-testid="builder-run-approval-link">
                      Open the approval
                    </Link>
                  </div>
                </div>
              ))}
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
