"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { api, unwrap } from "@/lib/api/client";
import { apiUrl } from "@/lib/api/base";
import { keys } from "@/lib/api/keys";
import { normalizeEvent } from "@/lib/events/normalize";
import { mergeEvents, type RunEvent } from "@/lib/events/timeline";

const STATUS_EVENTS = new Set([
  "run_started",
  "run_completed",
  "run_failed",
  "run_canceled",
  "approval_requested",
  "approval_decided",
  "llm_usage",
  "budget_exceeded",
]);

export type StreamState = "connecting" | "live" | "polling" | "ended";

/**
 * A run's timeline, live: GET /api/runs/{id}/stream replays every event (ids are
 * `seq`) and follows new ones; the browser resumes with Last-Event-ID after a drop,
 * and events are de-duplicated by seq. If the stream cannot be held open, the hook
 * falls back to polling /events after the last seq. Status-changing events refresh
 * the run's other queries.
 */
export function useRunEvents(runId: string): { events: RunEvent[]; state: StreamState } {
  const client = useQueryClient();
  // State is tagged with the run it belongs to, so switching runs shows nothing stale
  // without resetting state inside the effect.
  const [store, setStore] = useState<{ runId: string; events: RunEvent[]; state: StreamState }>({
    runId,
    events: [],
    state: "connecting",
  });
  const lastSeq = useRef(0);

  useEffect(() => {
    if (!runId) return;
    let alive = true;
    let buffer: RunEvent[] = [];
    let flushTimer: number | null = null;
    let pollTimer: number | null = null;
    let ended = false;
    lastSeq.current = 0;
    const setEvents = (update: (known: RunEvent[]) => RunEvent[]) =>
      setStore((s) => (s.runId === runId ? { ...s, events: update(s.events) } : { runId, events: update([]), state: s.state }));
    const setState = (next: StreamState) =>
      setStore((s) => (s.runId === runId ? { ...s, state: next } : { runId, events: [], state: next }));

    const refreshRun = () => {
      void client.invalidateQueries({ queryKey: keys.run(runId) });
      void client.invalidateQueries({ queryKey: keys.runDiagnostics(runId) });
      void client.invalidateQueries({ queryKey: keys.approvals });
    };
    const flush = () => {
      flushTimer = null;
      if (!alive || buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      setEvents((known) => mergeEvents(known, batch));
      if (batch.some((e) => STATUS_EVENTS.has(e.type))) refreshRun();
      if (batch.some((e) => e.type === "artifact_created")) void client.invalidateQueries({ queryKey: keys.runArtifacts(runId) });
    };
    const accept = (event: RunEvent) => {
      lastSeq.current = Math.max(lastSeq.current, event.seq);
      buffer.push(event);
      flushTimer ??= window.setTimeout(flush, 60);
    };

    const poll = async () => {
      pollTimer = null;
      try {
        const page = await unwrap(
          api.GET("/api/runs/{run_id}/events", { params: { path: { run_id: runId }, query: { after_seq: lastSeq.current, limit: 1000 } } }),
        );
        for (const raw of page) {
          const e = normalizeEvent(raw);
          if (e) accept(e);
        }
        if (page.some((e) => ["run_completed", "run_failed", "run_canceled"].includes(e.event_type))) {
          ended = true;
          if (alive) setState("ended");
          return;
        }
      } catch {
        // Try again on the next tick.
      }
      if (alive) pollTimer = window.setTimeout(() => void poll(), 2000);
    };

    let source: EventSource | null = null;
    if (typeof EventSource === "undefined") {
      setState("polling");
      void poll();
    } else {
      source = new EventSource(apiUrl(`/api/runs/${encodeURIComponent(runId)}/stream`));
      source.onopen = () => {
        if (alive) setState("live");
      };
      source.onmessage = (m: MessageEvent<string>) => {
        try {
          const e = normalizeEvent(JSON.parse(m.data));
          if (e) accept(e);
        } catch {
          // A malformed frame is skipped; the next one carries on.
        }
      };
      source.addEventListener("end", () => {
        ended = true;
        source?.close();
        flush();
        refreshRun();
        if (alive) setState("ended");
      });
      source.onerror = () => {
        if (!alive || ended) return;
        if (source?.readyState === EventSource.CLOSED) {
          // The server refused or ended the stream for good (e.g. 204 for a finished run): catch up by polling.
          setState("polling");
          void poll();
        } else setState("connecting");
      };
    }
    return () => {
      alive = false;
      source?.close();
      if (flushTimer !== null) window.clearTimeout(flushTimer);
      if (pollTimer !== null) window.clearTimeout(pollTimer);
    };
  }, [runId, client]);

  if (store.runId !== runId) return { events: [], state: "connecting" };
  return { events: store.events, state: store.state };
}
