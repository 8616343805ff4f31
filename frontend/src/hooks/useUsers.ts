import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Local users (admin). */
export function useUsers(enabled = true) {
  return useQuery({ queryKey: keys.users, enabled, queryFn: () => unwrap(api.GET("/api/users")) });
}
