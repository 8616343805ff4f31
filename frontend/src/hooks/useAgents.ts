import { useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useAgents() {
  return useQuery({
    queryKey: keys.agents,
    refetchInterval: 15_000,
    queryFn: () => unwrapPage(api.GET("/api/agents", { params: { query: { limit: 1000 } } })),
  });
}
