"use client";

import { autocompletion, closeBrackets } from "@codemirror/autocomplete";
import { Annotation, Compartment, EditorState } from "@codemirror/state";
import { oneDark } from "@codemirror/theme-one-dark";
import { EditorView, placeholder as cmPlaceholder } from "@codemirror/view";
import { minimalSetup } from "codemirror";
import { useEffect, useRef } from "react";
import { useTheme } from "@/hooks/useTheme";
import type { ScopeEntry } from "@/lib/builder/scope";
import { templateCompletionSource } from "./templateCompletion";

/** Marks a change pushed in from the `value` prop: not reported back through onChange. */
const fromOutside = Annotation.define<boolean>();

/**
 * A text field for CKP templates (CodeMirror): typing `{{` offers the variables in scope,
 * `{{ name.` the fields known for `name`. `multiline` for prompts; otherwise a one-line
 * field (Enter and pasted line breaks are refused). Value changes from outside are pushed
 * into the editor; the editor is created once.
 */
export function TemplateEditor({
  id,
  value,
  onChange,
  entries,
  multiline = false,
  label,
  describedBy,
  invalid = false,
  placeholder,
  minHeight,
}: {
  id: string;
  value: string;
  onChange: (text: string) => void;
  entries: readonly ScopeEntry[];
  multiline?: boolean;
  label: string;
  describedBy?: string;
  invalid?: boolean;
  placeholder?: string;
  minHeight?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  const entriesRef = useRef(entries);
  const themeSlot = useRef(new Compartment());
  const attrSlot = useRef(new Compartment());
  const [theme] = useTheme();

  useEffect(() => {
    onChangeRef.current = onChange;
    entriesRef.current = entries;
  }, [onChange, entries]);

  const contentAttrs = (): Record<string, string> => {
    const attrs: Record<string, string> = { "aria-label": label, id, "data-template-field": "true" };
    if (describedBy) attrs["aria-describedby"] = describedBy;
    if (invalid) attrs["aria-invalid"] = "true";
    if (!multiline) attrs["aria-multiline"] = "false";
    return attrs;
  };

  useEffect(() => {
    if (!host.current) return;
    const singleLine = EditorState.transactionFilter.of((tr) => (tr.docChanged && tr.newDoc.lines > 1 ? [] : tr));
    const state = EditorState.create({
      doc: value,
      extensions: [
        minimalSetup,
        closeBrackets(),
        autocompletion({ override: [templateCompletionSource(() => entriesRef.current)], icons: false }),
        multiline ? EditorView.lineWrapping : singleLine,
        placeholder ? cmPlaceholder(placeholder) : [],
        attrSlot.current.of(EditorView.contentAttributes.of(contentAttrs())),
        EditorView.updateListener.of((u) => {
          if (u.docChanged && !u.transactions.some((tr) => tr.annotation(fromOutside))) onChangeRef.current(u.state.doc.toString());
        }),
        themeSlot.current.of([]),
        EditorView.theme({
          "&": { fontSize: "0.875rem", backgroundColor: "transparent" },
          "&.cm-focused": { outline: "none" },
          ".cm-content": { minHeight: multiline ? (minHeight ?? "6rem") : "auto", padding: "0.4rem 0" },
          ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", maxHeight: multiline ? "24rem" : "none" },
        }),
      ],
    });
    const v = new EditorView({ state, parent: host.current });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // Created once; value, attributes and theme are pushed by the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      // Bypasses the one-line filter on purpose: a value from outside is shown as it is.
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value }, filter: false, annotations: fromOutside.of(true) });
    }
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({ effects: attrSlot.current.reconfigure(EditorView.contentAttributes.of(contentAttrs())) });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [label, id, describedBy, invalid, multiline]);

  useEffect(() => {
    view.current?.dispatch({ effects: themeSlot.current.reconfigure(theme === "dark" ? oneDark : []) });
  }, [theme]);

  return (
    <div
      ref={host}
      className={`rounded-md border bg-white px-2 text-sm focus-within:ring-2 focus-within:ring-blue-500 dark:bg-slate-900 ${
        invalid ? "border-red-600" : "border-slate-300 dark:border-slate-600"
      }`}
      data-testid="template-editor"
    />
  );
}
