import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** One version with its CKP; without a version, the newest one. */
export function useProcedure(procedureId: string, version: string | null) {
  return useQuery({
    queryKey: keys.procedure(procedureId, version ?? "latest"),
    enabled: procedureId !== "",
    queryFn: () =>
      version
        ? unwrap(
            api.GET("/api/procedures/{procedure_id}/{version}", {
              params: { path: { procedure_id: procedureId, version } },
            }),
          )
        : unwrap(api.GET("/api/procedures/{procedure_id}", { params: { path: { procedure_id: procedureId } } })),
  });
}
