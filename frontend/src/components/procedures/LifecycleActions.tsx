"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button, buttonClass } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { useCan } from "@/hooks/useCan";
import { useDeleteProcedure } from "@/hooks/useDeleteProcedure";
import { useProcedureStatus } from "@/hooks/useProcedureStatus";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { ProcedureDetail, ProcedureStatus } from "@/lib/api/models";
import { plural } from "@/lib/format/format";
import { RUN_MODES } from "@/lib/format/labels";
import { allowedRunModes } from "@/lib/auth/roles";
import { builderHref } from "@/lib/builder/links";

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
  const perms = useCan();
  const project = p.project_id ?? null;
  const mayRun = perms.ready && allowedRunModes(perms.me, RUN_MODES, project).length > 0;
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
      {(perms.can("author", project) ? NEXT[p.status] : []).map((n) => (
        <Button key={n.status} onClick={() => change(n.status)} disabled={status.isPending}>
          {n.label}
        </Button>
      ))}
      {perms.can("author", project) ? (
        <Link href={builderHref({ kind: "version", procedureId: p.procedure_id, version: p.version })} className={buttonClass("secondary")} data-testid="open-in-builder">
          Open in builder
        </Link>
      ) : null}
      {perms.can("operator", project) ? (
        <Button variant="danger" onClick={() => setConfirm(true)} data-testid="delete-procedure">
          Delete version
        </Button>
      ) : null}
      {mayRun ? (
        <Button variant="primary" onClick={onRun} disabled={p.status === "archived"} data-testid="run-procedure">
          Run…
        </Button>
      ) : null}
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
