import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { ApiKeyCreate } from "@/lib/api/models";

/** POST /api/keys: the answer's `key` is the only time the key is shown. */
export function useCreateApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ApiKeyCreate) => unwrap(api.POST("/api/keys", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.apiKeys }),
  });
}
