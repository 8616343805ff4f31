"use client";

import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { CkpWorkbench, useWorkbenchProblems } from "@/components/ckp/CkpWorkbench";
import { Button } from "@/components/ui/Button";
import { useCan } from "@/hooks/useCan";
import { useImportProcedure } from "@/hooks/useImportProcedure";
import { useProcedureVersions } from "@/hooks/useProcedureVersions";
import { useToast } from "@/hooks/useToast";
import { useUpdateProcedure } from "@/hooks/useUpdateProcedure";
import { ApiError, errorMessage, type Diagnostic } from "@/lib/api/errors";
import type { ProcedureDetail } from "@/lib/api/models";
import { nextFreeVersion } from "@/lib/ckp/version";
import { procedureHref } from "@/lib/format/links";
import { jsonEqual } from "@/lib/inputs/variables";

export function ProcedureCkpTab({ procedure: p }: { procedure: ProcedureDetail }) {
  const toast = useToast();
  const router = useRouter();
  const original = JSON.stringify(p.ckp_json, null, 2);
  const [text, setText] = useState(original);
  const [rejected, setRejected] = useState<{ text: string; diagnostics: Diagnostic[] } | null>(null);
  const state = useWorkbenchProblems(text, rejected?.text === text ? rejected.diagnostics : undefined);
  const update = useUpdateProcedure();
  const create = useImportProcedure();
  const versions = useProcedureVersions(p.procedure_id);
  const frozen = p.run_count > 0;
  const docVersion = typeof state.doc?.version === "string" ? state.doc.version : p.version;
  const sameVersion = docVersion === p.version && state.doc?.procedure_id === p.procedure_id;
  const dirty = text !== original;
  // Differs from the stored document in content, not just in formatting.
  const changed = state.doc !== null && !jsonEqual(state.doc, p.ckp_json);
  const newVersion = useMemo(
    () => nextFreeVersion(p.version, (versions.data?.items ?? []).map((v) => v.version)),
    [p.version, versions.data],
  );
  const blocked = state.errors > 0;
  const perms = useCan();
  const mayEdit = perms.can("author", p.project_id ?? null);

  const onError = (err: unknown) => {
    if (err instanceof ApiError && err.diagnostics.length > 0) setRejected({ text, diagnostics: err.diagnostics });
    toast.show("error", `Not saved: ${errorMessage(err)}`);
  };

  const saveInPlace = () => {
    if (!state.doc) return;
    update.mutate(
      { procedureId: p.procedure_id, version: p.version, ckp: state.doc },
      { onSuccess: () => toast.show("success", `Saved ${p.procedure_id} ${p.version}`), onError },
    );
  };

  const saveAsNew = () => {
    if (!state.doc) return;
    const doc = sameVersion ? { ...state.doc, version: newVersion } : state.doc;
    create.mutate(
      { ckp_json: doc, project_id: p.project_id ?? null },
      {
        onSuccess: (created) => {
          toast.show(
            created.unchanged ? "info" : "success",
            created.unchanged ? `Already stored: this exact document is ${created.procedure_id} ${created.version}` : `Saved as ${created.procedure_id} ${created.version}`,
          );
          router.push(procedureHref(created.procedure_id, created.version, "ckp"));
        },
        onError,
      },
    );
  };

  return (
    <div>
      {frozen ? (
        <p className="mb-3 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
          This version has runs, so it cannot change: saving creates a new version.
        </p>
      ) : null}
      <CkpWorkbench text={text} onChange={setText} state={state} label={`CKP JSON of ${p.procedure_id} ${p.version}`} />
      {!mayEdit ? (
        <p className="mt-3 text-sm text-slate-600 dark:text-slate-400" data-testid="ckp-read-only">
          {perms.ready ? "Saving changes needs the author role: what you type here stays in this page." : "Checking your role…"}
        </p>
      ) : null}
      {mayEdit ? (
        <>
        <div className="mt-4 flex flex-wrap gap-2">
          {!frozen && sameVersion ? (
            <Button variant="primary" onClick={saveInPlace} disabled={!changed || blocked || update.isPending}>
              {update.isPending ? "Saving…" : "Save"}
            </Button>
          ) : null}
          <Button
            variant={frozen || !sameVersion ? "primary" : "secondary"}
            onClick={saveAsNew}
            disabled={!changed || blocked || create.isPending}
            aria-describedby="ckp-save-reason"
            data-testid="save-as-new-version"
          >
            {sameVersion ? `Save as new version ${newVersion}` : `Save as version ${docVersion}`}
          </Button>
          <Button onClick={() => setText(original)} disabled={!dirty}>
            Discard changes
          </Button>
        </div>
        <p id="ckp-save-reason" className="mt-2 text-xs text-slate-600 dark:text-slate-400">
          {!state.doc
            ? "The document is not valid JSON yet."
            : blocked
              ? "Fix the errors above to save."
              : !changed
                ? "Nothing to save: the document is the stored one. Edit it to save a new version."
                : null}
        </p>
        </>
      ) : null}
    </div>
  );
}
