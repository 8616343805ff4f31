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
import { declaredVariables } from "@/lib/inputs/variables";

export function ProcedureRunTab({ procedure: p }: { procedure: ProcedureDetail }) {
  const router = useRouter();
  const toast = useToast();
  const start = useStartRun();
  const fields = useMemo(() => declaredVariables(p.ckp_json.variables_schema), [p.ckp_json]);
  return (
    <Card title={`Start a run of ${p.procedure_id} ${p.version}`} className="max-w-2xl">
      <RunInputsForm
        fields={fields}
        submitLabel="Start run"
        busy={start.isPending}
        serverError={start.error}
        onSubmit={(inputs) =>
          start.mutate(
            { procedure_id: p.procedure_id, procedure_version: p.version, input_vars: inputs, project_id: p.project_id ?? null },
            {
              onSuccess: (run) => {
                toast.show("success", `Run ${run.run_id.slice(0, 8)} started`);
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
