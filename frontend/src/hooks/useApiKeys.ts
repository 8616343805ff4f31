import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** API keys, revoked ones included (admin). The secret part is never listed. */
export function useApiKeys(enabled = true) {
  return useQuery({ queryKey: keys.apiKeys, enabled, queryFn: () => unwrap(api.GET("/api/keys")) });
}
