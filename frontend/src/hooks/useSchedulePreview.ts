import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, unwrap } from "@/lib/api/client";

export interface SchedulePreviewInput {
  cron?: string | null;
  rrule?: string | null;
  /** UTC ISO instant of a one-off schedule. */
  at?: string | null;
  timezone: string;
}

/** The server's description and next fire times of a schedule being edited, debounced (viewer). */
export function useSchedulePreview(input: SchedulePreviewInput | null, n = 10, delayMs = 400) {
  const [settled, setSettled] = useState<SchedulePreviewInput | null>(input);
  const key = JSON.stringify(input);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(input), delayMs);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the serialised input is the dependency
  }, [key, delayMs]);
  return useQuery({
    queryKey: ["schedule-preview", JSON.stringify(settled), n],
    enabled: settled !== null,
    retry: false,
    queryFn: () =>
      unwrap(
        api.POST("/api/triggers/preview", {
          body: { cron: settled?.cron ?? null, rrule: settled?.rrule ?? null, at: settled?.at ?? null, timezone: settled?.timezone ?? "UTC", n },
        }),
      ),
  });
}
