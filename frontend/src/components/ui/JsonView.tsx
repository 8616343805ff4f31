import { Fragment, type ReactNode } from "react";

export const MASK = "***";

/** Pretty JSON with redacted values ("***") shown as a masked chip, never as text to copy. */
export function JsonView({ value, className = "", label = "JSON value" }: { value: unknown; className?: string; label?: string }) {
  // Focusable so keyboard users can scroll long values (axe: scrollable-region-focusable).
  return (
    <pre tabIndex={0} role="region" aria-label={label} className={`overflow-x-auto rounded-md bg-slate-100 p-3 font-mono text-xs leading-relaxed text-slate-900 dark:bg-slate-950 dark:text-slate-100 ${className}`}>
      {render(value, 0)}
    </pre>
  );
}

function Masked() {
  return (
    <span className="rounded bg-slate-700 px-1.5 text-white dark:bg-slate-300 dark:text-slate-900" title="Redacted: this value is secret" aria-label="redacted value">
      ••••••
    </span>
  );
}

function render(value: unknown, depth: number): ReactNode {
  const pad = "  ".repeat(depth + 1);
  const end = "  ".repeat(depth);
  if (value === MASK) return <Masked />;
  if (value === null || value === undefined) return <span className="text-slate-500 dark:text-slate-400">null</span>;
  if (typeof value === "string") return <span className="text-green-800 dark:text-green-300">{JSON.stringify(value)}</span>;
  if (typeof value === "number" || typeof value === "boolean") {
    return <span className="text-blue-800 dark:text-blue-300">{String(value)}</span>;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return (
      <>
        {"[\n"}
        {value.map((item, i) => (
          <Fragment key={i}>
            {pad}
            {render(item, depth + 1)}
            {i < value.length - 1 ? ",\n" : "\n"}
          </Fragment>
        ))}
        {end}
        {"]"}
      </>
    );
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "{}";
    return (
      <>
        {"{\n"}
        {entries.map(([k, v], i) => (
          <Fragment key={k}>
            {pad}
            <span className="text-purple-800 dark:text-purple-300">{JSON.stringify(k)}</span>
            {": "}
            {render(v, depth + 1)}
            {i < entries.length - 1 ? ",\n" : "\n"}
          </Fragment>
        ))}
        {end}
        {"}"}
      </>
    );
  }
  return "";
}

/** A one-line value for tables (masked values as dots). */
export function inlineValue(value: unknown): string {
  if (value === MASK) return "••••••";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
