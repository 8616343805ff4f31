import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useRunArtifacts(runId: string) {
  return useQuery({
    queryKey: keys.runArtifacts(runId),
    enabled: runId !== "",
    queryFn: () => unwrap(api.GET("/api/runs/{run_id}/artifacts", { params: { path: { run_id: runId } } })),
  });
}
