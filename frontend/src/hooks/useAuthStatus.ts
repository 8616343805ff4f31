import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** How this server signs people in (GET /api/auth/status, anonymous). */
export function useAuthStatus() {
  return useQuery({
    queryKey: keys.authStatus,
    staleTime: 30_000,
    queryFn: () => unwrap(api.GET("/api/auth/status")),
  });
}
