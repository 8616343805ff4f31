/**
 * The builder's problem list for one JSON text: like components/ckp/diagnostics.ts, but
 * the text is scanned once for all problems, and only while it is shown (a 200-node
 * document is ~200 kB of JSON and is re-checked on every edit).
 */
import type { EditorProblem } from "@/components/ckp/diagnostics";
import { mergeProblems } from "@/components/ckp/diagnostics";
import type { Diagnostic } from "@/lib/api/errors";
import { escapePointerToken, pointerSpans, pointerTokens, type Span } from "@/lib/ckp/pointer";
import type { SchemaProblem } from "@/lib/ckp/validate";

type Spans = ReturnType<typeof pointerSpans>;

/** Same rule as lib/ckp/pointer.ts locatePointer: the key of a composite member, else the value, else the nearest ancestor. */
function locate(text: string, spans: Spans, pointer: string): Span {
  const tokens = pointerTokens(pointer);
  for (let n = tokens.length; n >= 0; n--) {
    const p = tokens
      .slice(0, n)
      .map((t) => `/${escapePointerToken(t)}`)
      .join("");
    const value = spans.values.get(p);
    if (!value) continue;
    const key = spans.keys.get(p);
    const composite = "{[".includes(text.charAt(value.from));
    if (composite && !key) return { from: value.from, to: value.from + 1 };
    return composite && key ? key : value;
  }
  return { from: 0, to: Math.min(1, text.length) };
}

function severity(s: string): EditorProblem["severity"] {
  return s === "error" || s === "warning" ? s : "info";
}

/**
 * Server diagnostics and schema problems, merged (mergeProblems) and placed in `text`.
 * Without a text (the JSON pane is closed) nothing is placed (from = to = 0): scanning
 * 200 kB of JSON costs tens of milliseconds, twice per edit.
 */
export function builderProblems(text: string | null, diagnostics: readonly Diagnostic[], schema: readonly SchemaProblem[]): EditorProblem[] {
  if (diagnostics.length === 0 && schema.length === 0) return [];
  const spans = text === null ? null : pointerSpans(text);
  const place = (pointer: string): Span => (text === null || spans === null ? { from: 0, to: 0 } : locate(text, spans, pointer));
  const server = diagnostics.map<EditorProblem>((d) => ({
    source: "server",
    severity: severity(d.severity),
    code: d.code,
    path: d.path,
    message: d.message,
    hint: d.hint ?? "",
    ...place(d.path),
  }));
  const fromSchema = schema.map<EditorProblem>((p) => ({
    source: "schema",
    severity: "error",
    code: "schema",
    path: p.path,
    message: p.message,
    hint: "",
    ...place(p.path),
  }));
  return mergeProblems(server, fromSchema);
}
