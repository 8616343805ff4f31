import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import { keys } from "@/lib/api/keys";
import type { Me } from "@/lib/api/models";

/**
 * Who is signed in (GET /api/auth/me). `null` means the server has no authentication
 * (no /api/auth routes): everyone may do everything there. A 401 sends the browser to
 * the login page (the client's session middleware).
 */
export function useMe() {
  return useQuery({
    queryKey: keys.me,
    staleTime: 60_000,
    queryFn: async (): Promise<Me | null> => {
      try {
        return await unwrap(api.GET("/api/auth/me"));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
}
