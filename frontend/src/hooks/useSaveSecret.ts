import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { SecretCreate, SecretRotate } from "@/lib/api/models";

/** Creates a secret, or rotates one (a new value, a new version) when `secretId` is given (operator). */
export function useSaveSecret() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { secretId: string; rotate: SecretRotate } | { secretId?: undefined; create: SecretCreate }) =>
      v.secretId !== undefined
        ? unwrap(api.PUT("/api/secrets/{secret_id}", { params: { path: { secret_id: v.secretId } }, body: v.rotate }))
        : unwrap(api.POST("/api/secrets", { body: v.create })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.secrets }),
  });
}
