"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { useDeleteProcedure } from "@/hooks/useDeleteProcedure";
import { useProcedureStatus } from "@/hooks/useProcedureStatus";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { ProcedureDetail, ProcedureStatus } from "@/lib/api/models";
import { plural } from "@/lib/format/format";

const NEXT: Record<ProcedureStatus, { status: ProcedureStatus; label: string }[]> = {
  draft: [{ status: "active", label: "Activate" }],
  active: [{ status: "deprecated", label: "Deprecate" }],
  deprecated: [
    { status: "active", label: "Reactivate" },
    { status: "archived", label: "Archive" },
  ],
  archived: [{ status: "draft", label: "Restore as draft" }],
};

export function LifecycleActions({ procedure: p, onRun }: { procedure: ProcedureDetail; onRun: () => void }) {
  const toast = useToast();
  const router = useRouter();
  const status = useProcedureStatus();
  const remove = useDeleteProcedure();
  const [confirm, setConfirm] = useState(false);
  const change = (next: ProcedureStatus) =>
    status.mutate(
      { procedureId: p.procedure_id, version: p.version, status: next },
      {
        onSuccess: () => toast.show("success", `${p.procedure_id} ${p.version} is now ${next}`),
        onError: (e) => toast.show("error", errorMessage(e)),
      },
    );
  return (
    <>
      {NEXT[p.status].map((n) => (
        <Button key={n.status} onClick={() => change(n.status)} disabled={status.isPending}>
          {n.label}
        </Button>
      ))}
      <Button variant="danger" onClick={() => setConfirm(true)}>
        Delete version
      </Button>
      <Button variant="primary" onClick={onRun} disabled={p.status === "archived"}>
        Run…
      </Button>
      <ConfirmDialog
        open={confirm}
        title="Delete this version?"
        message={`${p.procedure_id} ${p.version} will be removed.${p.run_count > 0 ? ` It has ${plural(p.run_count, "run")}; their history stays.` : ""}`}
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setConfirm(false)}
        onConfirm={() =>
          remove.mutate(
            { procedureId: p.procedure_id, version: p.version, force: true },
            {
              onSuccess: () => {
                setConfirm(false);
                toast.show("success", `Deleted ${p.procedure_id} ${p.version}`);
                router.push("/procedures");
              },
              onError: (e) => {
                setConfirm(false);
                toast.show("error", errorMessage(e));
              },
            },
          )
        }
      />
    </>
  );
}
