import { useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/**
 * The pending approvals of one run (none asked for while `runId` is empty). Under the
 * approvals key, so the run's live timeline refreshes it on approval events.
 */
export function useRunApprovals(runId: string, waiting: boolean) {
  return useQuery({
    queryKey: keys.approvalList({ run_id: runId, status: "pending", scope: "run" }),
    enabled: runId !== "",
    refetchInterval: waiting ? 3000 : false,
    queryFn: () => unwrapPage(api.GET("/api/approvals", { params: { query: { run_id: runId, status: "pending", limit: 20, offset: 0 } } })),
  });
}
