"use client";

import { memo, useState } from "react";
import type { EditorProblem } from "@/components/ckp/diagnostics";
import { problemCounts, ProblemRow } from "@/components/ckp/ProblemList";

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
  const shown = all ? problems : problems.slice(0, SHOWN);
  return (
    <div data-testid="diagnostics">
      <h2 className="mb-1 text-sm font-semibold">{problemCounts(problems)}</h2>
      <ul className="divide-y divide-slate-200 rounded-md border border-slate-200 text-sm dark:divide-slate-700 dark:border-slate-700">
        {shown.map((p, i) => {
          const node = nodeOf(p);
          return (
            <ProblemRow key={`${p.code}-${p.path}-${String(i)}`} problem={p} onReveal={onReveal} node={node}>
              {node ? `node ${node}` : "procedure"} · {p.path || "(document)"}
            </ProblemRow>
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
