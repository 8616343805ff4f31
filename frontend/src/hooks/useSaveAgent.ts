import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { AgentCreate, AgentUpdate } from "@/lib/api/models";

/** Registers an agent, or changes one when `agentId` is given. */
export function useSaveAgent() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { agentId: string; update: AgentUpdate } | { agentId?: undefined; create: AgentCreate }) =>
      v.agentId !== undefined
        ? unwrap(api.PUT("/api/agents/{agent_id}", { params: { path: { agent_id: v.agentId } }, body: v.update }))
        : unwrap(api.POST("/api/agents", { body: v.create })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.agents }),
  });
}
