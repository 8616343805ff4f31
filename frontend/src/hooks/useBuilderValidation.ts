"use client";

import { useEffect, useRef, useState } from "react";
import { api, unwrap } from "@/lib/api/client";
import type { Diagnostic } from "@/lib/api/errors";

export interface BuilderValidation {
  /** The document revision these diagnostics belong to (-1 before the first answer). */
  revision: number;
  diagnostics: Diagnostic[];
  /** Variables known when each node starts (the compiler's data-flow analysis). */
  scopes: Record<string, string[]>;
  valid: boolean | null;
}

const EMPTY: BuilderValidation = { revision: -1, diagnostics: [], scopes: {}, valid: null };

function scopesOf(answer: unknown): Record<string, string[]> {
  if (typeof answer !== "object" || answer === null) return {};
  const raw = (answer as { scopes?: unknown }).scopes;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return {};
  const out: Record<string, string[]> = {};
  for (const [id, names] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(names)) out[id] = names.filter((n): n is string => typeof n === "string");
  }
  return out;
}

/**
 * The server compiler's diagnostics (and variable scopes) for the builder's document:
 * at once after a quiet spell, at most every `delayMs` during a burst of edits, and
 * always for the last edit of a burst. An answer older than the one on screen is
 * dropped (answers can overtake each other), so what is shown never goes back in time;
 * the previous answer stays until a newer one arrives.
 */
export function useBuilderValidation(doc: Record<string, unknown>, revision: number, delayMs = 60) {
  const [result, setResult] = useState<BuilderValidation>(EMPTY);
  const [error, setError] = useState<unknown>(null);
  const lastSent = useRef(-Infinity);
  const inFlight = useRef(new Set<AbortController>());

  useEffect(() => {
    const requests = inFlight.current;
    return () => {
      for (const c of requests) c.abort();
    };
  }, []);

  useEffect(() => {
    // Throttled with a trailing call: an edit after a quiet spell is checked at once, a burst
    // (typing) at most every `delayMs`, its last edit always.
    const wait = Math.max(0, lastSent.current + delayMs - performance.now());
    const timer = window.setTimeout(() => {
      lastSent.current = performance.now();
      const controller = new AbortController();
      inFlight.current.add(controller);
      unwrap(api.POST("/api/procedures/validate", { body: { ckp_json: doc }, signal: controller.signal }))
        .then((answer) => {
          setResult((shown) =>
            revision <= shown.revision ? shown : { revision, diagnostics: answer.diagnostics, scopes: scopesOf(answer), valid: answer.valid },
          );
          setError(null);
        })
        .catch((e: unknown) => {
          if (!controller.signal.aborted) setError(e);
        })
        .finally(() => inFlight.current.delete(controller));
    }, wait);
    return () => window.clearTimeout(timer);
  }, [doc, revision, delayMs]);

  return { ...result, checking: result.revision < revision && error === null, error };
}
