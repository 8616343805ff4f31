import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useQueueStats() {
  return useQuery({ queryKey: keys.queue, refetchInterval: 15_000, queryFn: () => unwrap(api.GET("/api/queue/stats")) });
}
