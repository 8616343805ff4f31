import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Fires a trigger now (operator); the answer names the outcome and the run it queued. */
export function useFireTrigger() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ triggerId, payload = {} }: { triggerId: string; payload?: Record<string, unknown> }) =>
      unwrap(api.POST("/api/triggers/{trigger_id}/fire", { params: { path: { trigger_id: triggerId } }, body: payload })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.triggers });
      void client.invalidateQueries({ queryKey: keys.runs });
    },
  });
}
