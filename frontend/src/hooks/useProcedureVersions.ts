import { useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useProcedureVersions(procedureId: string) {
  return useQuery({
    queryKey: keys.procedureVersions(procedureId),
    enabled: procedureId !== "",
    queryFn: () =>
      unwrapPage(api.GET("/api/procedures/{procedure_id}/versions", { params: { path: { procedure_id: procedureId } } })),
  });
}
