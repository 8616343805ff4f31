"use client";

import { json } from "@codemirror/lang-json";
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from "@codemirror/lint";
import { oneDark } from "@codemirror/theme-one-dark";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { forwardRef, useEffect, useImperativeHandle, useRef } from "react";
import { useTheme } from "@/hooks/useTheme";
import type { EditorProblem } from "./diagnostics";

export interface CodeEditorHandle {
  /** Moves the cursor to `from` and selects up to `to`, scrolling it into view. */
  reveal: (from: number, to: number) => void;
}

/**
 * A CodeMirror 6 JSON editor. `problems` (recomputed by the parent on every change)
 * are drawn as lint underlines and gutter markers at their JSON path.
 */
export const CodeEditor = forwardRef<
  CodeEditorHandle,
  {
    value: string;
    onChange?: (text: string) => void;
    problems?: EditorProblem[];
    readOnly?: boolean;
    label: string;
    height?: string;
  }
>(function CodeEditor({ value, onChange, problems = [], readOnly = false, label, height = "480px" }, ref) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  const themeSlot = useRef(new Compartment());
  const [theme] = useTheme();

  useEffect(() => {
    onChangeRef.current = onChange;
  }, [onChange]);

  useEffect(() => {
    if (!host.current) return;
    const state = EditorState.create({
      doc: value,
      extensions: [
        basicSetup,
        json(),
        lintGutter(),
        EditorState.readOnly.of(readOnly),
        EditorView.contentAttributes.of({ "aria-label": label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChangeRef.current?.(u.state.doc.toString());
        }),
        themeSlot.current.of([]),
        EditorView.theme({ "&": { height }, ".cm-scroller": { overflow: "auto" } }),
      ],
    });
    const v = new EditorView({ state, parent: host.current });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is created once; value changes from outside are pushed below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  // Problems are pushed in whenever the parent recomputes them (the server's answer
  // arrives after typing stops, so a lint source polled on edits would miss it).
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const length = v.state.doc.length;
    const diagnostics = problems
      .filter((p) => p.from <= length)
      .map<CmDiagnostic>((p) => ({
        from: p.from,
        to: Math.min(Math.max(p.to, p.from), length),
        severity: p.severity,
        source: p.source === "server" ? p.code : p.source,
        message: p.hint ? `${p.message} — ${p.hint}` : p.message,
      }));
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [problems, value]);

  useEffect(() => {
    view.current?.dispatch({ effects: themeSlot.current.reconfigure(theme === "dark" ? oneDark : []) });
  }, [theme]);

  useImperativeHandle(ref, () => ({
    reveal: (from, to) => {
      const v = view.current;
      if (!v) return;
      const len = v.state.doc.length;
      v.dispatch({
        selection: { anchor: Math.min(from, len), head: Math.min(to, len) },
        effects: EditorView.scrollIntoView(Math.min(from, len), { y: "center" }),
      });
      v.focus();
    },
  }));

  return <div ref={host} className="overflow-hidden rounded-md border border-slate-300 text-sm dark:border-slate-600" data-testid="code-editor" />;
});
