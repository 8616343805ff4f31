import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useHealth() {
  return useQuery({ queryKey: keys.health, refetchInterval: 30_000, queryFn: () => unwrap(api.GET("/api/health")) });
}
