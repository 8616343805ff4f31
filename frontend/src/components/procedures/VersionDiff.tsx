import { diffLines } from "diff";
import { plural } from "@/lib/format/format";

interface Row {
  left: string | null;
  right: string | null;
  kind: "same" | "removed" | "added" | "changed";
}

/** Line diff laid out side by side: removals on the left, additions on the right, paired where they line up. */
export function sideBySide(a: string, b: string): Row[] {
  const rows: Row[] = [];
  const parts = diffLines(a, b);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (!part) continue;
    const lines = part.value.replace(/\n$/, "").split("\n");
    if (part.removed) {
      const next = parts[i + 1];
      const added = next?.added ? next.value.replace(/\n$/, "").split("\n") : [];
      if (next?.added) i++;
      const n = Math.max(lines.length, added.length);
      for (let j = 0; j < n; j++) {
        const l = lines[j] ?? null;
        const r = added[j] ?? null;
        rows.push({ left: l, right: r, kind: l !== null && r !== null ? "changed" : l !== null ? "removed" : "added" });
      }
    } else if (part.added) {
      for (const line of lines) rows.push({ left: null, right: line, kind: "added" });
    } else {
      for (const line of lines) rows.push({ left: line, right: line, kind: "same" });
    }
  }
  return rows;
}

const LEFT: Record<Row["kind"], string> = {
  same: "",
  removed: "bg-red-100 dark:bg-red-950",
  changed: "bg-red-100 dark:bg-red-950",
  added: "bg-slate-100 dark:bg-slate-800",
};
const RIGHT: Record<Row["kind"], string> = {
  same: "",
  added: "bg-green-100 dark:bg-green-950",
  changed: "bg-green-100 dark:bg-green-950",
  removed: "bg-slate-100 dark:bg-slate-800",
};

export function VersionDiff({ left, right, leftLabel, rightLabel }: { left: string; right: string; leftLabel: string; rightLabel: string }) {
  const rows = sideBySide(left, right);
  const changes = rows.filter((r) => r.kind !== "same").length;
  return (
    <div>
      <p className="mb-2 text-sm" aria-live="polite">
        {changes === 0 ? "The two versions are identical." : `${plural(changes, "changed line")}.`}
      </p>
      <div tabIndex={0} role="region" aria-label="Side-by-side differences" className="max-h-[36rem] overflow-auto rounded-md border border-slate-200 dark:border-slate-700">
        <table className="w-full table-fixed font-mono text-xs">
          <caption className="sr-only">
            Differences between {leftLabel} and {rightLabel}
          </caption>
          <thead className="sticky top-0 bg-slate-100 text-left dark:bg-slate-800">
            <tr>
              <th scope="col" className="px-2 py-1">{leftLabel}</th>
              <th scope="col" className="px-2 py-1">{rightLabel}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i} data-kind={r.kind}>
                <td className={`px-2 align-top break-all whitespace-pre-wrap ${LEFT[r.kind]}`}>
                  {r.kind === "removed" || r.kind === "changed" ? <span className="sr-only">removed: </span> : null}
                  {r.left ?? ""}
                </td>
                <td className={`px-2 align-top break-all whitespace-pre-wrap ${RIGHT[r.kind]}`}>
                  {r.kind === "added" || r.kind === "changed" ? <span className="sr-only">added: </span> : null}
                  {r.right ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
