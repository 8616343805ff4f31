"use client";

import { useMemo, useRef } from "react";
import { errorMessage, type Diagnostic } from "@/lib/api/errors";
import { useSchemaChecker } from "@/hooks/useSchemaChecker";
import { useServerDiagnostics } from "@/hooks/useServerDiagnostics";
import { CodeEditor, type CodeEditorHandle } from "./CodeEditor";
import { mergeProblems, schemaProblems, serverProblems, syntaxProblem, type EditorProblem } from "./diagnostics";
import { ProblemList } from "./ProblemList";

export interface WorkbenchState {
  doc: Record<string, unknown> | null;
  problems: EditorProblem[];
  errors: number;
  checking: boolean;
  /** Why the server could not compile the document (unreachable, 5xx); null when it answered. */
  serverError: unknown;
}

/**
 * Every problem for `text`: JSON syntax, then the JSON Schema, then the server compiler's
 * diagnostics, each once. `extra` are diagnostics a refused save answered for this text
 * (a 422): they are the compiler's own, so they are used only while the live check has
 * no answer for this text (when it has, they would repeat it).
 */
export function useWorkbenchProblems(text: string, extra?: Diagnostic[]): WorkbenchState {
  const checker = useSchemaChecker();
  const server = useServerDiagnostics(text);
  return useMemo(() => {
    const syntax = syntaxProblem(text);
    if (syntax) return { doc: null, problems: [syntax], errors: 1, checking: false, serverError: null };
    const doc = JSON.parse(text) as unknown;
    const isDoc = typeof doc === "object" && doc !== null && !Array.isArray(doc);
    const schema = checker ? schemaProblems(text, checker(doc)) : [];
    const fromServer = server.checkedText === text ? server.diagnostics : (extra ?? []);
    const problems = mergeProblems(serverProblems(text, fromServer), schema);
    return {
      doc: isDoc ? (doc as Record<string, unknown>) : null,
      problems,
      errors: problems.filter((p) => p.severity === "error").length + (isDoc ? 0 : 1),
      checking: server.checking,
      serverError: server.error,
    };
  }, [text, checker, server.checkedText, server.diagnostics, server.checking, server.error, extra]);
}

/** A CKP editor with inline diagnostics and the list under it. */
export function CkpWorkbench({
  text,
  onChange,
  state,
  readOnly = false,
  label = "CKP JSON",
}: {
  text: string;
  onChange?: (text: string) => void;
  state: WorkbenchState;
  readOnly?: boolean;
  label?: string;
}) {
  const editor = useRef<CodeEditorHandle>(null);
  return (
    <div>
      <CodeEditor ref={editor} value={text} onChange={onChange} problems={state.problems} readOnly={readOnly} label={label} />
      <p className="mt-2 text-xs text-slate-600 dark:text-slate-400" aria-live="polite" data-testid="check-status">
        {state.checking
          ? "Checking…"
          : state.serverError
            ? `The server could not compile this document (${errorMessage(state.serverError)}); only the schema was checked.`
            : state.errors === 0
              ? "No errors found by the schema or the compiler."
              : null}
      </p>
      <ProblemList text={text} problems={state.problems} onReveal={(p) => editor.current?.reveal(p.from, p.to)} />
    </div>
  );
}
