import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useDeleteProcedure() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { procedureId: string; version: string; force?: boolean }) =>
      unwrap(
        api.DELETE("/api/procedures/{procedure_id}/{version}", {
          params: { path: { procedure_id: v.procedureId, version: v.version }, query: { force: v.force ?? false } },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.procedures }),
  });
}
