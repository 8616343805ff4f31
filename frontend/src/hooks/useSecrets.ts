import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** The built-in store's secrets: names, versions, last use; never a value (author). */
export function useSecrets(enabled = true) {
  return useQuery({ queryKey: keys.secrets, enabled, queryFn: () => unwrap(api.GET("/api/secrets")) });
}
