/**
 * `{{` completion for CodeMirror: after `{{` the variables in scope, after `{{ name.` the
 * fields known for `name` (declared object fields, `secrets.<name>`).
 */
import type { Completion, CompletionContext, CompletionResult } from "@codemirror/autocomplete";
import type { ScopeEntry } from "@/lib/builder/scope";

const OPEN = /\{\{-?\s*([A-Za-z_][\w.]*|)$/;

export function templateCompletionSource(entries: () => readonly ScopeEntry[]) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const line = ctx.state.doc.lineAt(ctx.pos);
    const before = ctx.state.sliceDoc(line.from, ctx.pos);
    const m = OPEN.exec(before);
    if (!m) return null;
    const typed = m[1] ?? "";
    const after = ctx.state.sliceDoc(ctx.pos, Math.min(line.to, ctx.pos + 4));
    const close = /^\s*-?\}\}/.test(after) ? "" : " }}";
    const all = entries();
    const dot = typed.lastIndexOf(".");
    if (dot >= 0) {
      const [root = "", ...rest] = typed.slice(0, dot).split(".");
      const prefix = rest.length ? `${rest.join(".")}.` : "";
      const entry = all.find((e) => e.name === root);
      if (!entry) return null;
      const options: Completion[] = entry.fields
        .filter((f) => f.startsWith(prefix))
        .map((f) => f.slice(prefix.length).split(".")[0] ?? "")
        .filter((f, i, a) => f !== "" && a.indexOf(f) === i)
        .map((f) => ({ label: f, type: "property", detail: root, apply: `${f}${close}` }));
      return options.length ? { from: ctx.pos - (typed.length - dot - 1), options, validFor: /^\w*$/ } : null;
    }
    const options: Completion[] = all.map((e) => ({
      label: e.name,
      type: "variable",
      detail: e.detail,
      // A name with known fields (secrets, declared objects) is usually followed by a dot.
      apply: e.fields.length ? e.name : `${e.name}${close}`,
    }));
    return { from: ctx.pos - typed.length, options, validFor: /^\w*$/ };
  };
}
