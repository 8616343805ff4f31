"use client";

import { useRouter } from "next/navigation";
import { useMemo } from "react";
import { RunInputsForm } from "@/components/runs/RunInputsForm";
import { Card } from "@/components/ui/Page";
import { useCan } from "@/hooks/useCan";
import { useStartRun } from "@/hooks/useStartRun";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { ProcedureDetail } from "@/lib/api/models";
import { runHref } from "@/lib/format/links";
import { RUN_MODES } from "@/lib/format/labels";
import { allowedRunModes } from "@/lib/auth/roles";
import { procedureDefaultMode, testDataCount } from "@/lib/ckp/modes";
import { declaredVariables } from "@/lib/inputs/variables";

export function ProcedureRunTab({ procedure: p }: { procedure: ProcedureDetail }) {
  const router = useRouter();
  const toast = useToast();
  const start = useStartRun();
  const fields = useMemo(() => declaredVariables(p.ckp_json.variables_schema), [p.ckp_json]);
  const perms = useCan();
  const allowed = useMemo(() => (perms.ready ? allowedRunModes(perms.me, RUN_MODES, p.project_id ?? null) : []), [perms.ready, perms.me, p.project_id]);
  const modeChoice = useMemo(
    () => ({ defaultMode: procedureDefaultMode(p.ckp_json), testData: testDataCount(p.ckp_json), allowed }),
    [p.ckp_json, allowed],
  );
  if (!perms.ready) return <Card className="max-w-2xl">Checking your role…</Card>;
  if (allowed.length === 0) {
    return (
      <Card title={`Start a run of ${p.procedure_id} ${p.version}`} className="max-w-2xl">
        <p className="text-sm" data-testid="run-not-allowed">
          Starting runs needs the author role (test and dry runs) or the operator role (production runs).
        </p>
      </Card>
    );
  }
  return (
    <Card title={`Start a run of ${p.procedure_id} ${p.version}`} className="max-w-2xl">
      <RunInputsForm
        key={allowed.join(",")}
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
