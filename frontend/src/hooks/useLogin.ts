import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** POST /api/auth/login: on success the server sets the session and CSRF cookies. */
export function useLogin() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { username: string; password: string }) => unwrap(api.POST("/api/auth/login", { body })),
    onSuccess: (result) => {
      // Whatever was cached belonged to nobody (or to someone else): start afresh.
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== "auth" });
      client.setQueryData(keys.me, result.identity);
      void client.invalidateQueries({ queryKey: keys.authStatus });
    },
  });
}
