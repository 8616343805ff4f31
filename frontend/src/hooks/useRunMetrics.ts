import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useRunMetrics() {
  return useQuery({ queryKey: keys.runMetrics, refetchInterval: 15_000, queryFn: () => unwrap(api.GET("/api/runs/metrics/summary")) });
}
