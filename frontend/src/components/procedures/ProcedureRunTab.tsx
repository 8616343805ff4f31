"use client";

import { useRouter } from "next/navigation";
import { useMemo } from "react";
import { RunInputsForm } from "@/components/runs/RunInputsForm";
import { Card } from "@/components/ui/Page";
import { useStartRun } from "@/hooks/useStartRun";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { ProcedureDetail } from "@/lib/api/models";
import { runHref } from "@/lib/format/links";
import { procedureDefaultMode, testDataCount } from "@/lib/ckp/modes";
import { declaredVariables } from "@/lib/inputs/variables";

export function ProcedureRunTab({ procedure: p }: { procedure: ProcedureDetail }) {
  const router = useRouter();
  const toast = useToast();
  const start = useStartRun();
  const fields = useMemo(() => declaredVariables(p.ckp_json.variables_schema), [p.ckp_json]);
  const modeChoice = useMemo(() => ({ defaultMode: procedureDefaultMode(p.ckp_json), testData: testDataCount(p.ckp_json) }), [p.ckp_json]);
  return (
    <Card title={`Start a run of ${p.procedure_id} ${p.version}`} className="max-w-2xl">
      <RunInputsForm
        fields={fields}
        submitLabel="Start run"
        busy={start.isPending}
        serverError={start.error}
        modeChoice={modeChoice}
        onSubmit={(inputs, mode) =>
          start.mutate(
            { procedure_id: p.procedure_id, procedure_version: p.version, input_vars: inputs, project_id: p.project_id ?? null, mode: mode ?? null },
            {
              onSuccess: (run) => {
                toast.show("success", `${run.mode === "test" ? "Test run" : run.mode === "dry_run" ? "Dry run" : "Run"} ${run.run_id.slice(0, 8)} started`);
                router.push(runHref(run.run_id));
              },
              onError: (e) => toast.show("error", `Run not started: ${errorMessage(e)}`),
            },
          )
        }
      />
    </Card>
  );
}
