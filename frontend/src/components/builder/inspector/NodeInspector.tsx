"use client";

import { useEffect, useId, useMemo, useRef, useState } from "react";
import type { EditorProblem } from "@/components/ckp/diagnostics";
import { Button } from "@/components/ui/Button";
import { inputClass } from "@/components/ui/Field";
import { scopeAt, scopeEntries, type ScopeEntry } from "@/lib/builder/scope";
import { ckpNodes } from "@/lib/ckp/graph";
import { TIER_CLASSES, tierOf } from "@/lib/ckp/tiers";
import { focusField } from "./focus";
import { FormContextProvider, ObjectFields, ProblemText, Section, type FormContext } from "./SchemaForm";
import { childPointer, nodeSchema, nodeTypeName, objectFields, ownProblems, problemsUnder, setField, type Json } from "./schemaForm";
import { StepsEditor } from "./StepsEditor";

type CkpDoc = Record<string, unknown>;

/** The fields shown first for each node type, in this order; the rest go under "More settings". */
const PRIMARY: Record<string, readonly string[]> = {
  sequence: ["description", "agent", "steps", "next_node"],
  processing: ["description", "operations", "next_node"],
  transform: ["description", "transformations", "next_node"],
  subflow: ["description", "procedure_id", "version", "input_mapping", "output_mapping", "on_failure", "inherit_context", "next_node"],
  llm_action: ["description", "prompt", "system_prompt", "model", "fallback_model", "temperature", "max_tokens", "json_mode", "output_variable", "output_schema", "attachments", "retry", "next_node"],
  logic: ["description", "rules", "default_next_node"],
  loop: ["description", "iterator", "condition", "iterator_variable", "index_variable", "body_node", "collect_variable", "max_iterations", "continue_on_error", "next_node"],
  parallel: ["description", "branches", "wait_strategy", "branch_failure", "next_node"],
  verification: ["description", "checks", "on_pass", "on_fail"],
  human_approval: [
    "description", "prompt", "decision_type", "options", "approval_level", "approvers", "approver_groups", "timeout_ms", "timeout_action",
    "escalation_contact", "on_approve", "on_reject", "on_timeout", "decision_variable", "context_data",
  ],
  terminate: ["description", "status", "cleanup_actions", "error_actions", "outputs", "final_audit_log"],
};

/** Keys that say what the node is, shown in the header, never as fields. */
const IDENTITY = new Set(["type", "node_type", "id", "node_id"]);

function RenameField({ nodeId, onRename }: { nodeId: string; onRename: (to: string) => unknown }) {
  const id = useId();
  const [draft, setDraft] = useState(nodeId);
  const [seen, setSeen] = useState(nodeId);
  const [error, setError] = useState<string | null>(null);
  if (seen !== nodeId) {
    setSeen(nodeId);
    setDraft(nodeId);
    setError(null);
  }
  const commit = () => {
    const to = draft.trim();
    if (to === nodeId) return;
    try {
      const result = onRename(to);
      setError(typeof result === "string" && result !== "" ? result : null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="flex flex-col gap-1" data-testid="rename-node">
      <label htmlFor={id} className="text-sm font-medium">
        Node id
      </label>
      <div className="flex gap-2">
        <input
          id={id}
          className={`${inputClass} font-mono`}
          value={draft}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(e) => {
            setDraft(e.target.value);
            setError(null);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") commit();
            if (e.key === "Escape") {
              setDraft(nodeId);
              setError(null);
            }
          }}
          spellCheck={false}
        />
        <Button size="sm" onClick={commit} disabled={draft.trim() === nodeId || draft.trim() === ""}>
          Rename
        </Button>
      </div>
      {error ? (
        <p id={`${id}-error`} role="alert" className="text-xs font-medium text-red-700 dark:text-red-400" data-testid="rename-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** Problems that no field shows: on the node itself, on keys without a field, or outside the node. */
export function ProblemSummary({ problems }: { problems: readonly EditorProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <div className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 dark:border-slate-700 dark:bg-slate-800/60" data-testid="inspector-problems">
      <ProblemText problems={problems} />
    </div>
  );
}

/** `{{` completion entries per step index, each computed once for this document / node / server scope. */
function entriesCache(doc: CkpDoc, nodeId: string, scope: readonly string[]): (stepIndex?: number) => readonly ScopeEntry[] {
  const cache = new Map<number, readonly ScopeEntry[]>();
  return (stepIndex?: number) => {
    const key = stepIndex ?? -1;
    let entries = cache.get(key);
    if (!entries) {
      entries = scopeEntries(doc, scopeAt(doc, nodeId, scope, stepIndex));
      cache.set(key, entries);
    }
    return entries;
  };
}

/**
 * The inspector of one node: its id (rename), type, and a form generated from the CKP
 * JSON Schema for its type, with purpose-built editors for steps, rules, branches and
 * prompts. Every edit calls `onChange` with a new node; fields the user did not set stay
 * absent and unknown fields are kept. `problems` are shown under the deepest field their
 * path points into; `focusPath` scrolls to and focuses a field.
 */
export function NodeInspector({
  nodeId,
  node,
  doc,
  problems,
  nodePath,
  scope,
  onChange,
  onRename,
  focusPath,
}: {
  nodeId: string;
  node: Json;
  doc: CkpDoc;
  problems: EditorProblem[];
  nodePath: string;
  scope: string[];
  onChange: (node: Json) => void;
  onRename: (to: string) => unknown;
  focusPath: string | null;
}) {
  const root = useRef<HTMLDivElement>(null);
  const type = nodeTypeName(node);
  const schema = nodeSchema(type);
  const entriesFor = useMemo(() => entriesCache(doc, nodeId, scope), [doc, nodeId, scope]);
  const nodeIds = useMemo(() => ckpNodes(doc).nodes.map(([id]) => id), [doc]);
  const ctx: FormContext = useMemo(() => ({ problems, nodeIds, entriesFor }), [problems, nodeIds, entriesFor]);

  useEffect(() => {
    if (focusPath && root.current) focusField(root.current, focusPath);
  }, [focusPath]);

  const schemaKeys = schema ? objectFields(schema).map((f) => f.key) : [];
  const fieldKeys = [...new Set([...schemaKeys, ...Object.keys(node)])].filter((k) => !IDENTITY.has(k) && !k.startsWith("$"));
  const summary = [
    ...ownProblems(problems, nodePath, fieldKeys),
    ...problems.filter((p) => p.path !== nodePath && !p.path.startsWith(`${nodePath}/`)),
  ];
  const primary = (PRIMARY[type] ?? ["description"]).filter((k) => !schema || schemaKeys.includes(k) || k in node);
  const primarySet = new Set(primary);
  const moreExclude = new Set([...primary, ...IDENTITY]);
  const morePointers = fieldKeys.filter((k) => !primarySet.has(k)).map((k) => childPointer(nodePath, k));
  const moreProblems = problems.filter((p) => morePointers.some((mp) => p.path === mp || p.path.startsWith(`${mp}/`)));
  const tier = tierOf(type);

  return (
    <FormContextProvider value={ctx}>
      <div ref={root} className="flex flex-col gap-4" data-pointer={nodePath} data-testid="node-inspector" data-node-id={nodeId}>
        <div className="flex items-center gap-2">
          <span className={`rounded px-2 py-0.5 text-xs font-semibold ${TIER_CLASSES[tier]}`} data-testid="node-type">
            {type || "unknown type"}
          </span>
          {problemsUnder(problems, nodePath).length ? (
            <span className="text-xs text-slate-600 dark:text-slate-400">
              {problemsUnder(problems, nodePath).filter((p) => p.severity === "error").length} errors,{" "}
              {problemsUnder(problems, nodePath).filter((p) => p.severity === "warning").length} warnings
            </span>
          ) : null}
        </div>
        <RenameField nodeId={nodeId} onRename={onRename} />
        <ProblemSummary problems={summary} />
        {schema ? (
          <>
            <ObjectFields
              schema={schema}
              value={node}
              onChange={onChange}
              pointer={nodePath}
              only={primary}
              render={(spec) =>
                spec.key === "steps" && type === "sequence" ? (
                  <StepsEditor node={node} schema={schema} pointer={nodePath} onChange={(steps) => onChange(setField(node, "steps", steps))} />
                ) : undefined
              }
            />
            <Section title="More settings" problems={moreProblems} testId="more-settings">
              <ObjectFields schema={schema} value={node} onChange={onChange} pointer={nodePath} exclude={moreExclude} />
            </Section>
          </>
        ) : (
          <>
            <p className="text-sm text-slate-600 dark:text-slate-400">
              No schema for node type “{type}”: its fields are edited as JSON.
            </p>
            <ObjectFields schema={{}} value={node} onChange={onChange} pointer={nodePath} exclude={IDENTITY} />
          </>
        )}
      </div>
    </FormContextProvider>
  );
}
