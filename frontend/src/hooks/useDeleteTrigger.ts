import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Removes a trigger with its secret and history (operator). */
export function useDeleteTrigger() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (triggerId: string) => unwrap(api.DELETE("/api/triggers/{trigger_id}", { params: { path: { trigger_id: triggerId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.triggers }),
  });
}
