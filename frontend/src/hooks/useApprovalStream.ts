"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { apiUrl } from "@/lib/api/base";
import { keys } from "@/lib/api/keys";

/**
 * Follows GET /api/approvals/stream: every inbox change refreshes the approval
 * queries (and the runs, whose status a decision changes). Returns whether the
 * stream is connected. The browser reconnects by itself after a drop.
 */
export function useApprovalStream(): boolean {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const source = new EventSource(apiUrl("/api/approvals/stream"));
    const refresh = () => {
      void client.invalidateQueries({ queryKey: keys.approvals });
      void client.invalidateQueries({ queryKey: keys.runs });
    };
    source.addEventListener("ready", () => setConnected(true));
    source.addEventListener("approval_update", refresh);
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    return () => source.close();
  }, [client]);
  return connected;
}
