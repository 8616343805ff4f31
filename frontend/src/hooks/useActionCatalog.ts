import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useActionCatalog() {
  return useQuery({ queryKey: keys.actions, staleTime: 60_000, queryFn: () => unwrap(api.GET("/api/actions")) });
}
