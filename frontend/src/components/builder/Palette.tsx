"use client";

import { PALETTE } from "@/lib/builder/document";
import type { CkpNodeType } from "@/lib/ckp/tiers";
import { TIER_COLOR } from "@/lib/ckp/tiers";

/** The drag payload type of a palette item. */
export const PALETTE_MIME = "application/x-langorch-node-type";

/**
 * Node types by tier. Drag one onto the canvas, or press it (click / Enter / Space) to add
 * it at the centre of the view.
 */
export function Palette({ onAdd, disabled = false }: { onAdd: (type: CkpNodeType) => void; disabled?: boolean }) {
  return (
    <nav aria-label="Node palette" className="flex flex-col gap-3" data-testid="builder-palette">
      {PALETTE.map((group) => (
        <section key={group.tier} aria-labelledby={`palette-${group.tier}`}>
          <h3 id={`palette-${group.tier}`} className="mb-1 flex items-center gap-1.5 text-xs font-semibold tracking-wide text-slate-600 uppercase dark:text-slate-400">
            <span className="inline-block h-2.5 w-2.5 rounded-sm" style={{ background: TIER_COLOR[group.tier] }} aria-hidden="true" />
            {group.title}
          </h3>
          <ul className="flex flex-col gap-1">
            {group.items.map((item) => (
              <li key={item.type}>
                <button
                  type="button"
                  draggable={!disabled}
                  disabled={disabled}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(PALETTE_MIME, item.type);
                    e.dataTransfer.setData("text/plain", item.type);
                    e.dataTransfer.effectAllowed = "copy";
                  }}
                  onClick={() => onAdd(item.type)}
                  title={item.help}
                  aria-label={`Add ${item.label} node`}
                  aria-describedby={`palette-help-${item.type}`}
                  className="w-full cursor-grab rounded-md border border-slate-300 bg-white px-2 py-1.5 text-left text-sm hover:bg-slate-50 active:cursor-grabbing disabled:cursor-not-allowed disabled:opacity-50 dark:border-slate-600 dark:bg-slate-800 dark:hover:bg-slate-700"
                  style={{ borderLeft: `4px solid ${TIER_COLOR[group.tier]}` }}
                  data-testid={`palette-${item.type}`}
                >
                  <span className="font-medium">{item.label}</span>
                  <span id={`palette-help-${item.type}`} className="block text-[11px] leading-tight text-slate-600 dark:text-slate-400">
                    {item.help}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
