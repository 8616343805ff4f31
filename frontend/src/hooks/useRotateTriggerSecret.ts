import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** A new webhook secret, answered once; the previous one stays valid for a grace period (operator). */
export function useRotateTriggerSecret() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (triggerId: string) => unwrap(api.POST("/api/triggers/{trigger_id}/rotate-secret", { params: { path: { trigger_id: triggerId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.triggers }),
  });
}
