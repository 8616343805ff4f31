import { useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useLeases(all: boolean) {
  return useQuery({
    queryKey: keys.leases(all),
    refetchInterval: 10_000,
    queryFn: () => unwrapPage(api.GET("/api/leases", { params: { query: { all, limit: 500 } } })),
  });
}
