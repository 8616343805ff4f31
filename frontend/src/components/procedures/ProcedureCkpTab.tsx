"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { CkpWorkbench, useWorkbenchProblems } from "@/components/ckp/CkpWorkbench";
import { Button } from "@/components/ui/Button";
import { useImportProcedure } from "@/hooks/useImportProcedure";
import { useToast } from "@/hooks/useToast";
import { useUpdateProcedure } from "@/hooks/useUpdateProcedure";
import { ApiError, errorMessage, type Diagnostic } from "@/lib/api/errors";
import type { ProcedureDetail } from "@/lib/api/models";
import { procedureHref } from "@/lib/format/links";

/** 1.2.3 → 1.2.4; anything else gets ".1" appended. */
export function bumpVersion(version: string): string {
  const m = /^(.*?)(\d+)$/.exec(version);
  return m ? `${m[1] ?? ""}${String(Number(m[2]) + 1)}` : `${version}.1`;
}

export function ProcedureCkpTab({ procedure: p }: { procedure: ProcedureDetail }) {
  const toast = useToast();
  const router = useRouter();
  const original = JSON.stringify(p.ckp_json, null, 2);
  const [text, setText] = useState(original);
  const [rejected, setRejected] = useState<{ text: string; diagnostics: Diagnostic[] } | null>(null);
  const state = useWorkbenchProblems(text, rejected?.text === text ? rejected.diagnostics : undefined);
  const update = useUpdateProcedure();
  const create = useImportProcedure();
  const frozen = p.run_count > 0;
  const docVersion = typeof state.doc?.version === "string" ? state.doc.version : p.version;
  const sameVersion = docVersion === p.version && state.doc?.procedure_id === p.procedure_id;
  const dirty = text !== original;

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
    const doc = sameVersion ? { ...state.doc, version: bumpVersion(p.version) } : state.doc;
    create.mutate(
      { ckp_json: doc, project_id: p.project_id ?? null },
      {
        onSuccess: (created) => {
          toast.show("success", `Saved as ${created.procedure_id} ${created.version}`);
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
      <div className="mt-4 flex flex-wrap gap-2">
        {!frozen && sameVersion ? (
          <Button variant="primary" onClick={saveInPlace} disabled={!dirty || !state.doc || update.isPending}>
            {update.isPending ? "Saving…" : "Save"}
          </Button>
        ) : null}
        <Button variant={frozen || !sameVersion ? "primary" : "secondary"} onClick={saveAsNew} disabled={!state.doc || create.isPending}>
          {sameVersion ? `Save as new version ${bumpVersion(p.version)}` : `Save as version ${docVersion}`}
        </Button>
        <Button onClick={() => setText(original)} disabled={!dirty}>
          Discard changes
        </Button>
      </div>
    </div>
  );
}
