import type { Diagnostic } from "@/lib/api/errors";
import { locatePointer } from "@/lib/ckp/pointer";
import type { SchemaProblem } from "@/lib/ckp/validate";

/** One problem shown in the editor and the list: where (pointer + text span), how bad, what to do. */
export interface EditorProblem {
  source: "server" | "schema" | "syntax";
  severity: "error" | "warning" | "info";
  code: string;
  path: string;
  message: string;
  hint: string;
  from: number;
  to: number;
}

function severity(s: string): EditorProblem["severity"] {
  return s === "error" || s === "warning" ? s : "info";
}

export function serverProblems(text: string, diagnostics: Diagnostic[]): EditorProblem[] {
  return diagnostics.map((d) => {
    const span = locatePointer(text, d.path);
    return {
      source: "server",
      severity: severity(d.severity),
      code: d.code,
      path: d.path,
      message: d.message,
      hint: d.hint ?? "",
      from: span.from,
      to: span.to,
    };
  });
}

export function schemaProblems(text: string, problems: SchemaProblem[]): EditorProblem[] {
  return problems.map((p) => {
    const span = locatePointer(text, p.path);
    return { source: "schema", severity: "error", code: "schema", path: p.path, message: p.message, hint: "", ...span };
  });
}

/** JSON.parse's complaint with an offset when the engine gives one. */
export function syntaxProblem(text: string): EditorProblem | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const message = e instanceof Error ? e.message : "invalid JSON";
    const m = /position (\d+)/.exec(message);
    const at = m ? Math.min(Number(m[1]), text.length) : text.length;
    return {
      source: "syntax",
      severity: "error",
      code: "json",
      path: "",
      message: `Not valid JSON: ${message}`,
      hint: "",
      from: Math.max(0, at - 1),
      to: Math.min(text.length, at + 1),
    };
  }
}

/** Two problems are the same when code, path and message are. */
export function problemKey(p: Pick<EditorProblem, "code" | "path" | "message">): string {
  return `${p.code}\u0000${p.path}\u0000${p.message}`;
}

function bySeverityThenPlace(a: EditorProblem, b: EditorProblem): number {
  if (a.severity !== b.severity) return a.severity === "error" ? -1 : b.severity === "error" ? 1 : a.severity === "warning" ? -1 : 1;
  return a.from - b.from;
}

/**
 * The list shown for a document: the server compiler's problems, then the JSON Schema
 * ones the server does not already report at the same path (it repeats most of them
 * in better words), each problem once (same code, path and message), errors first.
 */
export function mergeProblems(server: readonly EditorProblem[], schema: readonly EditorProblem[]): EditorProblem[] {
  const serverErrorPaths = new Set(server.filter((p) => p.severity === "error").map((p) => p.path));
  const seen = new Set<string>();
  const out: EditorProblem[] = [];
  for (const p of [...server, ...schema.filter((s) => !serverErrorPaths.has(s.path))]) {
    const key = problemKey(p);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out.sort(bySeverityThenPlace);
}
