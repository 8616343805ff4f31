import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { alertKeys } from "./types";

/** Which channels the server has for alerts (its LANGORCH_NOTIFY__* settings; viewer). */
export function useAlertChannels() {
  return useQuery({
    queryKey: alertKeys.channels,
    staleTime: 60_000,
    queryFn: () => unwrap(api.GET("/api/alert-channels")),
  });
}
