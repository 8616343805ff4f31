import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Replaces the CKP of a version that has no runs (the server answers 409 otherwise). */
export function useUpdateProcedure() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { procedureId: string; version: string; ckp: Record<string, unknown> }) =>
      unwrap(
        api.PUT("/api/procedures/{procedure_id}/{version}", {
          params: { path: { procedure_id: v.procedureId, version: v.version } },
          body: { ckp_json: v.ckp },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.procedures }),
  });
}
