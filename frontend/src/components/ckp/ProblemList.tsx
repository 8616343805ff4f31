import type { ReactNode } from "react";
import { lineColumn } from "@/lib/ckp/pointer";
import { plural } from "@/lib/format/format";
import type { EditorProblem } from "./diagnostics";

const DOT: Record<EditorProblem["severity"], string> = {
  error: "bg-red-600",
  warning: "bg-amber-500",
  info: "bg-slate-500",
};

/** "2 errors, 1 warning" (or "No errors, …"): the heading of a problems list. */
export function problemCounts(problems: readonly EditorProblem[]): string {
  const errors = problems.filter((p) => p.severity === "error").length;
  return `${errors > 0 ? plural(errors, "error") : "No errors"}${problems.length > errors ? `, ${plural(problems.length - errors, "warning")}` : ""}`;
}

/** One problem as a button that reveals it; `children` say where it is. */
export function ProblemRow({
  problem: p,
  onReveal,
  node,
  children,
}: {
  problem: EditorProblem;
  onReveal?: (p: EditorProblem) => void;
  /** The builder's rows also name the node the problem lies in (data-node). */
  node?: string | null;
  children: ReactNode;
}) {
  return (
    <li data-testid="diagnostic" data-severity={p.severity} data-path={p.path} data-node={node === undefined ? undefined : (node ?? "")}>
      <button type="button" onClick={() => onReveal?.(p)} className="flex w-full items-start gap-2 px-3 py-2 text-left hover:bg-slate-50 dark:hover:bg-slate-800">
        <span className={`mt-1.5 h-2 w-2 shrink-0 rounded-full ${DOT[p.severity]}`} aria-hidden="true" />
        <span className="min-w-0 flex-1">
          <span className="font-medium">
            <span className="sr-only">{p.severity}: </span>
            {p.message}
          </span>
          {p.hint ? <span className="block text-slate-600 dark:text-slate-400">Fix: {p.hint}</span> : null}
          <span className="mt-0.5 block font-mono text-xs text-slate-600 dark:text-slate-400">
            {p.code !== "schema" && p.code !== "json" ? `${p.code} · ` : ""}
            {children}
          </span>
        </span>
      </button>
    </li>
  );
}

/** Diagnostics listed under the editor; each jumps to its place in the JSON. */
export function ProblemList({
  text,
  problems,
  onReveal,
}: {
  text: string;
  problems: EditorProblem[];
  onReveal?: (p: EditorProblem) => void;
}) {
  if (problems.length === 0) return null;
  return (
    <div className="mt-3" data-testid="diagnostics">
      <h3 className="mb-1 text-sm font-semibold">{problemCounts(problems)}</h3>
      <ul className="divide-y divide-slate-200 rounded-md border border-slate-200 text-sm dark:divide-slate-700 dark:border-slate-700">
        {problems.map((p, i) => {
          const { line, column } = lineColumn(text, p.from);
          return (
            <ProblemRow key={`${p.code}-${p.path}-${String(i)}`} problem={p} onReveal={onReveal}>
              {p.path || "(document)"} · line {line}:{column}
            </ProblemRow>
          );
        })}
      </ul>
    </div>
  );
}
