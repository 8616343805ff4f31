import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";

export function useRunCheckpoints(runId: string) {
  return useQuery({
    queryKey: ["runs", "checkpoints", runId],
    enabled: runId !== "",
    queryFn: () => unwrap(api.GET("/api/runs/{run_id}/checkpoints", { params: { path: { run_id: runId }, query: { limit: 200 } } })),
  });
}
