import { useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** A trigger's fires, newest first, each with its outcome and run (viewer). */
export function useTriggerHistory(triggerId: string | null) {
  return useQuery({
    queryKey: keys.triggerHistory(triggerId ?? ""),
    enabled: triggerId !== null,
    refetchInterval: 15_000,
    queryFn: () =>
      unwrapPage(api.GET("/api/triggers/{trigger_id}/history", { params: { path: { trigger_id: triggerId ?? "" }, query: { limit: 50 } } })),
  });
}
