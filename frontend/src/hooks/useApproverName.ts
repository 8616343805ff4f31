"use client";

import { useCallback, useSyncExternalStore } from "react";

const KEY = "langorch-approver";
const listeners = new Set<() => void>();

function subscribe(cb: () => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

function read(): string {
  try {
    return localStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

/** The name recorded as decided_by, remembered in this browser. */
export function useApproverName(): [string, (name: string) => void] {
  const name = useSyncExternalStore(subscribe, read, () => "");
  const set = useCallback((next: string) => {
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Not persisted in private mode.
    }
    listeners.forEach((l) => l());
  }, []);
  return [name, set];
}
