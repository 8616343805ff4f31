"use client";

import { useCallback, useMemo, useRef, useState, type ReactNode } from "react";
import { ToastContext, type ToastKind } from "./toast-context";

interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

const STYLES: Record<ToastKind, string> = {
  success: "border-green-600 bg-green-50 text-green-900 dark:bg-green-950 dark:text-green-100",
  error: "border-red-600 bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-100",
  info: "border-slate-400 bg-white text-slate-900 dark:bg-slate-800 dark:text-slate-100",
};

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => {
    setToasts((list) => list.filter((t) => t.id !== id));
  }, []);
  const show = useCallback(
    (kind: ToastKind, message: string) => {
      const id = next.current++;
      setToasts((list) => [...list.slice(-4), { id, kind, message }]);
      window.setTimeout(() => dismiss(id), kind === "error" ? 9000 : 4500);
    },
    [dismiss],
  );
  const api = useMemo(() => ({ show }), [show]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-96 max-w-[calc(100vw-2rem)] flex-col gap-2">
        <div role="status" aria-live="polite" className="flex flex-col gap-2">
          {toasts
            .filter((t) => t.kind !== "error")
            .map((t) => (
              <ToastCard key={t.id} toast={t} onClose={dismiss} />
            ))}
        </div>
        <div role="alert" aria-live="assertive" className="flex flex-col gap-2">
          {toasts
            .filter((t) => t.kind === "error")
            .map((t) => (
              <ToastCard key={t.id} toast={t} onClose={dismiss} />
            ))}
        </div>
      </div>
    </ToastContext.Provider>
  );
}

function ToastCard({ toast, onClose }: { toast: Toast; onClose: (id: number) => void }) {
  return (
    <div
      className={`pointer-events-auto flex items-start gap-3 rounded-md border-l-4 px-4 py-3 text-sm shadow-lg ${STYLES[toast.kind]}`}
      data-testid={`toast-${toast.kind}`}
    >
      <p className="flex-1 break-words">{toast.message}</p>
      <button
        type="button"
        onClick={() => onClose(toast.id)}
        className="rounded px-1 text-lg leading-none opacity-70 hover:opacity-100"
        aria-label="Dismiss notification"
      >
        ×
      </button>
    </div>
  );
}
