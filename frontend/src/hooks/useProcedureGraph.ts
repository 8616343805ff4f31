import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useProcedureGraph(procedureId: string, version: string) {
  return useQuery({
    queryKey: keys.procedureGraph(procedureId, version),
    enabled: procedureId !== "" && version !== "",
    staleTime: 5 * 60_000,
    queryFn: () =>
      unwrap(
        api.GET("/api/procedures/{procedure_id}/{version}/graph", {
          params: { path: { procedure_id: procedureId, version } },
        }),
      ),
  });
}
