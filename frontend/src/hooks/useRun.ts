import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import { isTerminal } from "@/lib/api/models";

export function useRun(runId: string) {
  return useQuery({
    queryKey: keys.run(runId),
    enabled: runId !== "",
    // The live timeline invalidates this on every status change; polling is a slow safety net.
    refetchInterval: (q) => (q.state.data && isTerminal(q.state.data.status) ? false : 10_000),
    queryFn: () => unwrap(api.GET("/api/runs/{run_id}", { params: { path: { run_id: runId } } })),
  });
}
