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
 * The server compiler's diagnostics (and variable scopes) for the builder's document,
 * `delayMs` after the last edit. Every new revision aborts the request in flight, and an
 * answer for an older revision than the newest asked is dropped, so what is shown never
 * goes back in time. The previous answer stays until the next one arrives.
 */
export function useBuilderValidation(doc: Record<string, unknown>, revision: number, delayMs = 70) {
  const [result, setResult] = useState<BuilderValidation>(EMPTY);
  const [pending, setPending] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const newest = useRef(-1);

  useEffect(() => {
    newest.current = revision;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      setPending(revision);
      unwrap(api.POST("/api/procedures/validate", { body: { ckp_json: doc }, signal: controller.signal }))
        .then((answer) => {
          if (controller.signal.aborted || revision < newest.current) return;
          setResult({ revision, diagnostics: answer.diagnostics, scopes: scopesOf(answer), valid: answer.valid });
          setError(null);
          setPending((p) => (p === revision ? null : p));
        })
        .catch((e: unknown) => {
          if (controller.signal.aborted) return;
          setError(e);
          setPending((p) => (p === revision ? null : p));
        });
    }, delayMs);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [doc, revision, delayMs]);

  return { ...result, checking: pending !== null || result.revision < revision, error };
}
