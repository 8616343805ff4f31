import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useRunDiagnostics(runId: string) {
  return useQuery({
    queryKey: keys.runDiagnostics(runId),
    enabled: runId !== "",
    queryFn: () => unwrap(api.GET("/api/runs/{run_id}/diagnostics", { params: { path: { run_id: runId } } })),
  });
}
