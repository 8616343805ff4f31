"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState, type ChangeEvent } from "react";
import { CkpWorkbench, useWorkbenchProblems } from "@/components/ckp/CkpWorkbench";
import { FlowGraph, TierLegend } from "@/components/graph/FlowGraph";
import { ckpToGraph } from "@/lib/ckp/graph";
import { Button } from "@/components/ui/Button";
import { SelectField } from "@/components/ui/Field";
import { Card, PageHeader } from "@/components/ui/Page";
import { useImportProcedure } from "@/hooks/useImportProcedure";
import { useProcedureVersions } from "@/hooks/useProcedureVersions";
import { useProjects } from "@/hooks/useProjects";
import { useToast } from "@/hooks/useToast";
import { ApiError, errorMessage, type Diagnostic } from "@/lib/api/errors";
import { nextFreeVersion, withVersion } from "@/lib/ckp/version";
import { plural } from "@/lib/format/format";
import { procedureHref } from "@/lib/format/links";

const MAX_FILE = 5 * 1024 * 1024;

/** What the server said about the last Import of this exact text, when it did not create a version. */
type Outcome =
  | { kind: "unchanged"; text: string; procedureId: string; version: string }
  | { kind: "duplicate"; text: string; message: string; procedureId: string; version: string };

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** A 409 duplicate_version: the message and which version is in the way. */
function duplicateOf(err: unknown, doc: Record<string, unknown>): { message: string; procedureId: string; version: string } | null {
  if (!(err instanceof ApiError) || err.status !== 409 || err.code !== "duplicate_version") return null;
  const details = typeof err.details === "object" && err.details !== null ? (err.details as Record<string, unknown>) : {};
  return {
    message: err.message,
    procedureId: str(details.procedure_id) ?? str(doc.procedure_id) ?? "",
    version: str(details.version) ?? str(doc.version) ?? "",
  };
}

export function ImportView() {
  const router = useRouter();
  const toast = useToast();
  const projects = useProjects();
  const [text, setText] = useState("");
  const [projectId, setProjectId] = useState("");
  const [rejected, setRejected] = useState<{ text: string; diagnostics: Diagnostic[] } | null>(null);
  const extra = rejected && rejected.text === text ? rejected.diagnostics : undefined;
  const state = useWorkbenchProblems(text, extra);
  const save = useImportProcedure();
  const preview = useMemo(() => (state.doc ? ckpToGraph(state.doc) : null), [state.doc]);
  const [previewOpen, setPreviewOpen] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const shown = outcome && outcome.text === text ? outcome : null;
  const versions = useProcedureVersions(shown?.kind === "duplicate" ? shown.procedureId : "");

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    if (file.size > MAX_FILE) {
      toast.show("error", `${file.name} is larger than 5 MB`);
      return;
    }
    const content = await file.text();
    try {
      setText(JSON.stringify(JSON.parse(content), null, 2));
    } catch {
      setText(content);
    }
    toast.show("info", `Loaded ${file.name}`);
  };

  const empty = text.trim() === "";
  // Import is refused here while errors remain (warnings are fine): the server would refuse it too.
  const blockedReason = empty
    ? "Paste a CKP document or load a file first."
    : !state.doc
      ? state.errors > 0 && state.problems.some((p) => p.source === "syntax")
        ? "Fix the JSON syntax error above first."
        : "A CKP document is a JSON object."
      : state.errors > 0
        ? `Fix the ${plural(state.errors, "error")} above first; warnings do not block an import.`
        : null;

  const importDoc = (doc: Record<string, unknown>, docText: string) => {
    save.mutate(
      { ckp_json: doc, project_id: projectId || null },
      {
        onSuccess: (p) => {
          if (p.unchanged) {
            setOutcome({ kind: "unchanged", text: docText, procedureId: p.procedure_id, version: p.version });
            toast.show("info", `Already imported as ${p.procedure_id} ${p.version}`);
            return;
          }
          toast.show("success", `Imported ${p.procedure_id} ${p.version}`);
          router.push(procedureHref(p.procedure_id, p.version));
        },
        onError: (err) => {
          const duplicate = duplicateOf(err, doc);
          if (duplicate) {
            setOutcome({ kind: "duplicate", text: docText, ...duplicate });
            toast.show("error", `Not imported: version ${duplicate.version} already exists`);
          } else if (err instanceof ApiError && err.diagnostics.length > 0) {
            setRejected({ text: docText, diagnostics: err.diagnostics });
            toast.show("error", `Not imported: ${plural(err.diagnostics.filter((d) => d.severity === "error").length, "error")} in the CKP`);
          } else toast.show("error", `Not imported: ${errorMessage(err)}`);
        },
      },
    );
  };

  const onImport = () => {
    if (blockedReason !== null || !state.doc) {
      toast.show("error", `Not imported: ${blockedReason ?? "the document is not a CKP object."}`);
      return;
    }
    importDoc(state.doc, text);
  };

  /** After a 409: the next free version written into the editor, then imported. */
  const saveAsNewVersion = () => {
    if (shown?.kind !== "duplicate") return;
    const next = nextFreeVersion(shown.version, (versions.data?.items ?? []).map((v) => v.version));
    let nextText: string;
    try {
      nextText = withVersion(text, next);
    } catch {
      return;
    }
    setText(nextText);
    importDoc(JSON.parse(nextText) as Record<string, unknown>, nextText);
  };

  return (
    <>
      <PageHeader
        title="Import procedure"
        subtitle="Paste a CKP document or load a file. It is checked against the schema and compiled by the server as you type; nothing is saved until you import."
      />
      <Card>
        <div className="mb-4 grid gap-4 md:grid-cols-2">
          <div className="flex flex-col gap-1">
            <label htmlFor="ckp-file" className="text-sm font-medium">
              CKP file
            </label>
            <input
              id="ckp-file"
              type="file"
              accept=".json,application/json"
              onChange={(e) => void onFile(e)}
              className="text-sm file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm dark:file:border-slate-600 dark:file:bg-slate-800 dark:file:text-slate-100"
            />
          </div>
          <SelectField label="Project" value={projectId} onChange={(e) => setProjectId(e.target.value)}>
            <option value="">No project</option>
            {(projects.data?.items ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
        </div>
        <CkpWorkbench text={text} onChange={setText} state={empty ? { ...state, problems: [], errors: 1 } : state} label="CKP JSON to import" />
        {preview && preview.nodes.length > 0 ? (
          <details className="mt-4" open={previewOpen} onToggle={(e) => setPreviewOpen(e.currentTarget.open)}>
            <summary className="cursor-pointer text-sm font-medium">Graph preview ({plural(preview.nodes.length, "node")})</summary>
            {/* Drawn only while open: React Flow fits to the pane's size, which is 0 while collapsed. */}
            {previewOpen ? (
              <div className="mt-2 flex flex-col gap-2">
                <TierLegend />
                <FlowGraph graph={preview} height={420} label="Preview of the graph being imported" fitWhole />
              </div>
            ) : null}
          </details>
        ) : null}
        <div className="mt-4 flex flex-wrap items-center gap-3">
          {/* aria-disabled rather than disabled: it stays focusable and says why when pressed. */}
          <Button
            variant="primary"
            onClick={onImport}
            aria-disabled={blockedReason !== null || save.isPending}
            aria-describedby={blockedReason ? "import-blocked" : undefined}
            className="aria-disabled:cursor-not-allowed aria-disabled:opacity-60"
            data-testid="import-submit"
          >
            {save.isPending ? "Importing…" : "Import"}
          </Button>
          {blockedReason ? (
            <span id="import-blocked" className={`text-sm ${empty ? "text-slate-600 dark:text-slate-400" : "text-red-700 dark:text-red-400"}`} data-testid="import-blocked">
              {blockedReason}
            </span>
          ) : null}
        </div>
        {shown?.kind === "unchanged" ? (
          <p role="status" className="mt-3 rounded-md border border-blue-300 bg-blue-50 p-3 text-sm text-blue-950 dark:border-blue-800 dark:bg-blue-950 dark:text-blue-100" data-testid="import-unchanged">
            Already imported — this exact document is version{" "}
            <Link href={procedureHref(shown.procedureId, shown.version)} className="font-mono font-semibold underline underline-offset-2">
              {shown.version}
            </Link>{" "}
            of {shown.procedureId}. Nothing new was saved.
          </p>
        ) : null}
        {shown?.kind === "duplicate" ? (
          <div role="alert" className="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100" data-testid="import-duplicate">
            <p>{shown.message}</p>
            <div className="mt-2 flex flex-wrap items-center gap-3">
              <Button variant="primary" size="sm" onClick={saveAsNewVersion} disabled={save.isPending || versions.isPending} data-testid="import-save-as-new-version">
                Save as new version {nextFreeVersion(shown.version, (versions.data?.items ?? []).map((v) => v.version))}
              </Button>
              <Link href={procedureHref(shown.procedureId, shown.version)} className="underline underline-offset-2">
                Open the stored version {shown.version}
              </Link>
            </div>
          </div>
        ) : null}
      </Card>
    </>
  );
}
