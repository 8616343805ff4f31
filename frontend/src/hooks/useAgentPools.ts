import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useAgentPools() {
  return useQuery({ queryKey: keys.agentPools, queryFn: () => unwrap(api.GET("/api/agents/pools")) });
}
