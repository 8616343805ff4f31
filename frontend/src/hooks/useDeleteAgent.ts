import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useDeleteAgent() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (agentId: string) => unwrap(api.DELETE("/api/agents/{agent_id}", { params: { path: { agent_id: agentId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.agents }),
  });
}
