"use client";

import { useRouter } from "next/navigation";
import { useMemo, useState, type ChangeEvent } from "react";
import { CkpWorkbench, useWorkbenchProblems } from "@/components/ckp/CkpWorkbench";
import { FlowGraph, TierLegend } from "@/components/graph/FlowGraph";
import { ckpToGraph } from "@/lib/ckp/graph";
import { Button } from "@/components/ui/Button";
import { SelectField } from "@/components/ui/Field";
import { Card, PageHeader } from "@/components/ui/Page";
import { useImportProcedure } from "@/hooks/useImportProcedure";
import { useProjects } from "@/hooks/useProjects";
import { useToast } from "@/hooks/useToast";
import { ApiError, errorMessage, type Diagnostic } from "@/lib/api/errors";
import { procedureHref } from "@/lib/format/links";

const MAX_FILE = 5 * 1024 * 1024;

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

  const onImport = () => {
    if (!state.doc) return;
    save.mutate(
      { ckp_json: state.doc, project_id: projectId || null },
      {
        onSuccess: (p) => {
          toast.show("success", `Imported ${p.procedure_id} ${p.version}`);
          router.push(procedureHref(p.procedure_id, p.version));
        },
        onError: (err) => {
          if (err instanceof ApiError && err.diagnostics.length > 0) {
            setRejected({ text, diagnostics: err.diagnostics });
            toast.show("error", `Not imported: ${String(err.diagnostics.filter((d) => d.severity === "error").length)} error(s) in the CKP`);
          } else toast.show("error", `Not imported: ${errorMessage(err)}`);
        },
      },
    );
  };

  const empty = text.trim() === "";
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
          <details className="mt-4">
            <summary className="cursor-pointer text-sm font-medium">Graph preview ({preview.nodes.length} nodes)</summary>
            <div className="mt-2 flex flex-col gap-2">
              <TierLegend />
              <FlowGraph graph={preview} height={380} label="Preview of the graph being imported" />
            </div>
          </details>
        ) : null}
        <div className="mt-4 flex items-center gap-3">
          <Button variant="primary" onClick={onImport} disabled={empty || !state.doc || save.isPending} data-testid="import-submit">
            {save.isPending ? "Importing…" : "Import"}
          </Button>
          {!empty && state.errors > 0 ? (
            <span className="text-sm text-red-700 dark:text-red-400">Fix the errors above; the server will refuse this document as it is.</span>
          ) : null}
        </div>
      </Card>
    </>
  );
}
