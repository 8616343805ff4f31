"use client";

import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { SelectField, TextAreaField, TextField } from "@/components/ui/Field";
import { useProcedureVersions } from "@/hooks/useProcedureVersions";
import { useProjects } from "@/hooks/useProjects";
import { useSaveDraft } from "@/hooks/useSaveDraft";
import { useDebouncedValue } from "@/hooks/useDebouncedValue";
import { ApiError, errorMessage } from "@/lib/api/errors";
import type { ProcedureDetail } from "@/lib/api/models";
import type { CkpDoc } from "@/lib/builder/document";
import { nextVersion } from "@/lib/builder/versioning";
import { plural } from "@/lib/format/format";

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * Save the document as a new draft version: procedure id, version (the next patch after
 * the highest stored one), project and change note. Refused while errors remain; a 409
 * or 422 is shown here with its diagnostics.
 */
export function SaveDialog({
  open,
  onClose,
  doc,
  errors,
  checking,
  defaultProjectId,
  onSaved,
}: {
  open: boolean;
  onClose: () => void;
  doc: CkpDoc;
  errors: number;
  checking: boolean;
  defaultProjectId: string | null;
  /** `stored` is the document as saved (procedure_id and version written in). */
  onSaved: (detail: ProcedureDetail, stored: CkpDoc) => void;
}) {
  return (
    <Dialog open={open} title="Save as a new draft version" onClose={onClose}>
      {open ? <SaveForm doc={doc} errors={errors} checking={checking} defaultProjectId={defaultProjectId} onSaved={onSaved} onClose={onClose} /> : null}
    </Dialog>
  );
}

function SaveForm({
  doc,
  errors,
  checking,
  defaultProjectId,
  onSaved,
  onClose,
}: {
  doc: CkpDoc;
  errors: number;
  checking: boolean;
  defaultProjectId: string | null;
  onSaved: (detail: ProcedureDetail, stored: CkpDoc) => void;
  onClose: () => void;
}) {
  const projects = useProjects();
  const save = useSaveDraft();
  const [procedureId, setProcedureId] = useState(str(doc.procedure_id));
  const settledId = useDebouncedValue(procedureId.trim(), 300);
  const versions = useProcedureVersions(settledId);
  const proposed = versions.isSuccess ? nextVersion(versions.data.items.map((v) => v.version)) : versions.isError ? "1.0.0" : "";
  const [version, setVersion] = useState<string | null>(null);
  const shownVersion = version ?? proposed;
  const [projectId, setProjectId] = useState(defaultProjectId ?? "");
  const [note, setNote] = useState("");

  const reason =
    errors > 0
      ? `Fix the ${plural(errors, "error")} first (warnings do not block saving).`
      : procedureId.trim() === ""
        ? "Give the procedure an id."
        : shownVersion.trim() === ""
          ? versions.isFetching
            ? "Looking up the stored versions…"
            : "Give the version."
          : null;

  const failure = save.error;
  const diagnostics = failure instanceof ApiError ? failure.diagnostics : [];

  const submit = () => {
    if (reason !== null) return;
    const stored: CkpDoc = { ...doc, procedure_id: procedureId.trim(), version: shownVersion.trim() };
    save.mutate(
      { ckp_json: stored, project_id: projectId || null, change_note: note },
      { onSuccess: (detail) => onSaved(detail, stored) },
    );
  };

  return (
    <form
      className="flex flex-col gap-4"
      data-testid="builder-save-dialog"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <TextField label="Procedure id" value={procedureId} onChange={(e) => setProcedureId(e.target.value)} required data-testid="save-procedure-id" />
      <TextField
        label="Version"
        value={shownVersion}
        onChange={(e) => setVersion(e.target.value)}
        required
        hint={
          versions.isSuccess && versions.data.items.length > 0
            ? `Stored: ${versions.data.items
                .slice(0, 5)
                .map((v) => v.version)
                .join(", ")}${versions.data.items.length > 5 ? ", …" : ""}`
            : "A new procedure starts at 1.0.0."
        }
        data-testid="save-version"
      />
      <SelectField label="Project" value={projectId} onChange={(e) => setProjectId(e.target.value)} data-testid="save-project">
        <option value="">No project</option>
        {(projects.data?.items ?? []).map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </SelectField>
      <TextAreaField label="Change note" value={note} onChange={(e) => setNote(e.target.value)} rows={3} placeholder="What changed and why" data-testid="save-change-note" />
      <p className="text-xs text-slate-600 dark:text-slate-400">It is saved as a draft; activate it from the procedure page.</p>
      {failure ? (
        <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" data-testid="save-error">
          <p className="font-medium">
            {failure instanceof ApiError && failure.status === 409 ? "That version already exists: " : "Not saved: "}
            {errorMessage(failure)}
          </p>
          {diagnostics.length > 0 ? (
            <ul className="mt-2 list-disc pl-5">
              {diagnostics.map((d, i) => (
                <li key={`${d.code}-${d.path}-${String(i)}`} data-testid="save-diagnostic">
                  <span className="font-mono text-xs">{d.code}</span> {d.message} <span className="font-mono text-xs">{d.path}</span>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <div className="flex flex-wrap items-center justify-end gap-2">
        {reason ? (
          <span className="mr-auto text-sm text-red-700 dark:text-red-400" data-testid="save-blocked">
            {reason}
          </span>
        ) : checking ? (
          <span className="mr-auto text-sm text-slate-600 dark:text-slate-400">Checking the latest edit…</span>
        ) : null}
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={reason !== null || save.isPending} data-testid="save-submit">
          {save.isPending ? "Saving…" : "Save draft"}
        </Button>
      </div>
    </form>
  );
}
