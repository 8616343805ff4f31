import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Probes GET {base_url}/health now; the server records the outcome on the agent. */
export function useAgentHealthCheck() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (agentId: string) =>
      unwrap(api.POST("/api/agents/{agent_id}/health", { params: { path: { agent_id: agentId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: keys.agents }),
  });
}
