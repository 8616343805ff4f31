import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Pauses (enabled false) or resumes a trigger; a resumed schedule continues from now (operator). */
export function useSetTriggerEnabled() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ triggerId, enabled }: { triggerId: string; enabled: boolean }) =>
      unwrap(
        enabled
          ? api.POST("/api/triggers/{trigger_id}/enable", { params: { path: { trigger_id: triggerId } } })
          : api.POST("/api/triggers/{trigger_id}/disable", { params: { path: { trigger_id: triggerId } } }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.triggers }),
  });
}
