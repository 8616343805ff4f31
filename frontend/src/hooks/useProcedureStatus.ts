import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { ProcedureStatus } from "@/lib/api/models";

/** A lifecycle step: draft → active → deprecated → archived (the server refuses the others). */
export function useProcedureStatus() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { procedureId: string; version: string; status: ProcedureStatus }) =>
      unwrap(
        api.POST("/api/procedures/{procedure_id}/{version}/status", {
          params: { path: { procedure_id: v.procedureId, version: v.version } },
          body: { status: v.status },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.procedures }),
  });
}
