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

/** Newer scopes replace older ones; those of the same revision (another node selected) are added. */
function mergeScopes(shown: BuilderValidation, revision: number, scopes: Record<string, string[]>): Record<string, string[]> {
  return revision === shown.revision ? { ...shown.scopes, ...scopes } : scopes;
}

/**
 * The server compiler's diagnostics (and the variable scope of the node the inspector
 * shows, `inspected`: scopes of every node are large on a large document) for the builder's document:
 * at once after a quiet spell, at most every `delayMs` during a burst of edits, and
 * always for the last edit of a burst. An answer older than the one on screen is
 * dropped (answers can overtake each other), so what is shown never goes back in time;
 * the previous answer stays until a newer one arrives.
 */
export function useBuilderValidation(doc: Record<string, unknown>, revision: number, inspected: string | null, delayMs = 60) {
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
      const body = { ckp_json: doc, scopes_for: inspected === null ? [] : [inspected] };
      unwrap(api.POST("/api/procedures/validate", { body, signal: controller.signal }))
        .then((answer) => {
          setResult((shown) =>
            revision < shown.revision
              ? shown
              : { revision, diagnostics: answer.diagnostics, scopes: mergeScopes(shown, revision, scopesOf(answer)), valid: answer.valid },
          );
          setError(null);
        })
        .catch((e: unknown) => {
          if (!controller.signal.aborted) setError(e);
        })
        .finally(() => inFlight.current.delete(controller));
    }, wait);
    return () => window.clearTimeout(timer);
  }, [doc, revision, inspected, delayMs]);

  return { ...result, checking: result.revision < revision && error === null, error };
}
