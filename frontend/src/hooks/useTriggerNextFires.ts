import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** The next `n` fire times of a saved schedule, with the server's description of it (viewer). */
export function useTriggerNextFires(triggerId: string | null, n = 10) {
  return useQuery({
    queryKey: keys.triggerNextFires(triggerId ?? "", n),
    enabled: triggerId !== null,
    refetchInterval: 30_000,
    queryFn: () =>
      unwrap(api.GET("/api/triggers/{trigger_id}/next-fires", { params: { path: { trigger_id: triggerId ?? "" }, query: { n } } })),
  });
}
