"use client";

import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { Dialog } from "@/components/ui/Dialog";
import { useCan } from "@/hooks/useCan";
import { useCancelRun } from "@/hooks/useCancelRun";
import { useDeleteRun } from "@/hooks/useDeleteRun";
import { useProcedure } from "@/hooks/useProcedure";
import { useRetryRun } from "@/hooks/useRetryRun";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import { isTerminal, type RunRead } from "@/lib/api/models";
import { failingNode } from "@/lib/events/timeline";
import { runModeLabel } from "@/lib/format/labels";
import { runHref } from "@/lib/format/links";
import { declaredVariables } from "@/lib/inputs/variables";
import { RunInputsForm } from "./RunInputsForm";

export function RunActions({ run: r }: { run: RunRead }) {
  const router = useRouter();
  const toast = useToast();
  const cancel = useCancelRun();
  const retry = useRetryRun();
  const remove = useDeleteRun();
  const [dialog, setDialog] = useState<"cancel" | "delete" | "retry" | null>(null);
  const procedure = useProcedure(dialog === "retry" ? r.procedure_id : "", r.procedure_version);
  const fields = useMemo(() => declaredVariables(procedure.data?.ckp_json.variables_schema), [procedure.data]);
  const active = !isTerminal(r.status);
  const failedAt = failingNode(r);
  // Cancel, retry and delete are the operator's (on the run's project).
  const mayOperate = useCan().can("operator", r.project_id ?? null);
  if (!mayOperate) return null;

  return (
    <>
      {active ? (
        <Button variant="danger" onClick={() => setDialog("cancel")} disabled={r.cancellation_requested}>
          Cancel run
        </Button>
      ) : null}
      {r.status === "failed" || r.status === "canceled" ? (
        <Button variant="primary" onClick={() => setDialog("retry")}>
          Retry…
        </Button>
      ) : null}
      {!active ? <Button onClick={() => setDialog("delete")}>Delete</Button> : null}
      <ConfirmDialog
        open={dialog === "cancel"}
        title="Cancel this run?"
        message="The run stops at its next step boundary and ends as canceled."
        confirmLabel="Cancel run"
        busy={cancel.isPending}
        onCancel={() => setDialog(null)}
        onConfirm={() =>
          cancel.mutate(r.run_id, {
            onSuccess: () => toast.show("success", "Cancellation requested"),
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setDialog(null),
          })
        }
      />
      <ConfirmDialog
        open={dialog === "delete"}
        title="Delete this run?"
        message="Its events, approvals, artifacts records and checkpoints are removed. This cannot be undone."
        confirmLabel="Delete run"
        busy={remove.isPending}
        onCancel={() => setDialog(null)}
        onConfirm={() =>
          remove.mutate(r.run_id, {
            onSuccess: () => {
              toast.show("success", "Run deleted");
              router.push("/runs");
            },
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setDialog(null),
          })
        }
      />
      <Dialog open={dialog === "retry"} title="Retry with inputs" onClose={() => setDialog(null)} wide>
        <p className="mb-4 text-sm text-slate-600 dark:text-slate-400" data-testid="retry-from">
          {failedAt ? (
            <>
              The new run resumes from the failed node <code className="font-mono text-slate-900 dark:text-slate-100">{failedAt}</code>
              {r.last_node_id && r.last_node_id !== failedAt ? (
                <>
                  {" "}
                  (this run ended at <code className="font-mono">{r.last_node_id}</code>)
                </>
              ) : null}
              ; the nodes before it are not repeated.
            </>
          ) : (
            <>The new run continues from this run&apos;s last checkpoint (or from the start when there is none).</>
          )}{" "}
          {r.mode !== "production" ? `It runs in ${runModeLabel(r.mode).toLowerCase()} mode, like this run. ` : ""}
          Change any input below; the rest are kept.
        </p>
        {procedure.isPending ? (
          <p className="text-sm">Loading the procedure…</p>
        ) : (
          <RunInputsForm
            fields={fields}
            values={r.input_vars}
            submitLabel="Retry run"
            busy={retry.isPending}
            serverError={retry.error}
            idPrefix="retry"
            onSubmit={(inputs) => {
              const changed: Record<string, unknown> = {};
              for (const [k, v] of Object.entries(inputs)) {
                if (JSON.stringify(v) !== JSON.stringify(r.input_vars?.[k])) changed[k] = v;
              }
              retry.mutate(
                { runId: r.run_id, inputVars: Object.keys(changed).length > 0 ? changed : null },
                {
                  onSuccess: (next) => {
                    setDialog(null);
                    toast.show("success", `Retry started as ${next.run_id.slice(0, 8)}`);
                    router.push(runHref(next.run_id));
                  },
                  onError: (e) => toast.show("error", `Retry refused: ${errorMessage(e)}`),
                },
              );
            }}
          />
        )}
      </Dialog>
    </>
  );
}
