import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { TriggerCreate, TriggerCreated, TriggerUpdate } from "@/lib/api/models";

/**
 * Creates a trigger (a webhook's answer carries its secret, once), or replaces the
 * settings of one when `triggerId` is given (operator).
 */
export function useSaveTrigger() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { triggerId: string; update: TriggerUpdate } | { triggerId?: undefined; create: TriggerCreate }): Promise<TriggerCreated> =>
      v.triggerId !== undefined
        ? unwrap(api.PUT("/api/triggers/{trigger_id}", { params: { path: { trigger_id: v.triggerId } }, body: v.update }))
        : unwrap(api.POST("/api/triggers", { body: v.create })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.triggers }),
  });
}
