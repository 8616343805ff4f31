"use client";

import { memo, useState } from "react";
import type { EditorProblem } from "@/components/ckp/diagnostics";
import { plural } from "@/lib/format/format";

const DOT: Record<EditorProblem["severity"], string> = {
  error: "bg-red-600",
  warning: "bg-amber-500",
  info: "bg-slate-500",
};

const SHOWN = 100;

/**
 * The builder's problems, each under the node it lies in: pressing one selects that node
 * and focuses the field in the inspector (or, for the procedure's own fields, the
 * settings). Same row test ids as components/ckp/ProblemList (`diagnostic`, with
 * data-severity and data-path), plus data-node.
 */
export const BuilderProblemList = memo(function BuilderProblemList({
  problems,
  nodeOf,
  onReveal,
}: {
  problems: EditorProblem[];
  nodeOf: (p: EditorProblem) => string | null;
  onReveal: (p: EditorProblem) => void;
}) {
  const [all, setAll] = useState(false);
  if (problems.length === 0) return null;
  const errors = problems.filter((p) => p.severity === "error").length;
  const shown = all ? problems : problems.slice(0, SHOWN);
  return (
    <div data-testid="diagnostics">
      <h2 className="mb-1 text-sm font-semibold">
        {errors > 0 ? plural(errors, "error") : "No errors"}
        {problems.length > errors ? `, ${plural(problems.length - errors, "warning")}` : ""}
      </h2>
      <ul className="divide-y divide-slate-200 rounded-md border border-slate-200 text-sm dark:divide-slate-700 dark:border-slate-700">
        {shown.map((p, i) => {
          const node = nodeOf(p);
          return (
            <li key={`${p.code}-${p.path}-${String(i)}`} data-testid="diagnostic" data-severity={p.severity} data-path={p.path} data-node={node ?? ""}>
              <button type="button" onClick={() => onReveal(p)} className="flex w-full items-start gap-2 px-3 py-2 text-left hover:bg-slate-50 dark:hover:bg-slate-800">
                <span className={`mt-1.5 h-2 w-2 shrink-0 rounded-full ${DOT[p.severity]}`} aria-hidden="true" />
                <span className="min-w-0 flex-1">
                  <span className="font-medium">
                    <span className="sr-only">{p.severity}: </span>
                    {p.message}
                  </span>
                  {p.hint ? <span className="block text-slate-600 dark:text-slate-400">Fix: {p.hint}</span> : null}
                  <span className="mt-0.5 block font-mono text-xs text-slate-600 dark:text-slate-400">
                    {p.code !== "schema" && p.code !== "json" ? `${p.code} · ` : ""}
                    {node ? `node ${node}` : "procedure"} · {p.path || "(document)"}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {problems.length > shown.length ? (
        <button type="button" onClick={() => setAll(true)} className="mt-1 text-sm text-blue-700 underline underline-offset-2 dark:text-blue-300">
          Show all {problems.length}
        </button>
      ) : null}
    </div>
  );
});
