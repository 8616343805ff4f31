import { useMutation } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { beginSignOut, LOGIN_PATH } from "@/lib/api/session";

/** POST /api/auth/logout, then a full load of the login page (no cached data survives). */
export function useLogout() {
  return useMutation({
    mutationFn: () => {
      beginSignOut();
      return unwrap(api.POST("/api/auth/logout"));
    },
    onSettled: () => {
      // A full load on purpose: the live streams and every in-memory answer go with the session.
      window.location.assign(LOGIN_PATH);
    },
  });
}
