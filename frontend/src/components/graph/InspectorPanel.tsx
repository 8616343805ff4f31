import type { ReactNode } from "react";

/** The selected node's details, drawn over the graph (FlowGraph's `panel`), with a close button. */
export function InspectorPanel({ onClose, children }: { onClose: () => void; children: ReactNode }) {
  return (
    <section aria-label="Selected node" className="relative">
      <button
        type="button"
        onClick={onClose}
        aria-label="Close the node details"
        className="absolute top-0 right-0 rounded px-1.5 text-lg leading-6 text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
      >
        ×
      </button>
      {children}
    </section>
  );
}
