"use client";

import { useEffect, useMemo, useRef } from "react";
import type { EditorProblem } from "@/components/ckp/diagnostics";
import { ckpNodes } from "@/lib/ckp/graph";
import { focusField } from "./focus";
import { ProblemSummary } from "./NodeInspector";
import { FormContextProvider, NodeSelect, ObjectFields, Section, fieldOf, SchemaField, type FormContext } from "./SchemaForm";
import { childPointer, ownProblems, problemsUnder, schemaDef, setField, type Json, type JsonSchema } from "./schemaForm";
import { VariablesEditor } from "./VariablesEditor";

type CkpDoc = Record<string, unknown>;

const PROCEDURE: JsonSchema = schemaDef("Procedure") ?? {};
const GLOBAL_CONFIG: JsonSchema = schemaDef("GlobalConfig") ?? {};
const HEAD = ["procedure_id", "version", "description", "status", "effective_date", "tags"];
/** The graph is the canvas's; these keys are never drawn as fields here. */
const GRAPH_KEYS = new Set(["workflow_graph", "nodes", "edges", "transitions", "start_node", "start_node_id", "entry"]);
const SECTIONS = new Set([...HEAD, "variables_schema", "global_config", "trigger"]);

function isUnder(path: string, pointer: string): boolean {
  return path === pointer || path.startsWith(`${pointer}/`);
}

/**
 * The procedure's own settings: id, version, description, `variables_schema`,
 * `global_config` and `trigger` (forms from the CKP JSON Schema), the rest folded.
 * Problems show under their field; the ones no field shows (and not inside a node) at the top.
 */
export function ProcedureSettings({
  doc,
  problems,
  onChange,
  focusPath = null,
}: {
  doc: CkpDoc;
  problems: EditorProblem[];
  onChange: (doc: CkpDoc) => void;
  focusPath?: string | null;
}) {
  const root = useRef<HTMLDivElement>(null);
  const nodeIds = useMemo(() => ckpNodes(doc).nodes.map(([id]) => id), [doc]);
  const ctx: FormContext = useMemo(() => ({ problems, nodeIds, entriesFor: () => [] }), [problems, nodeIds]);
  useEffect(() => {
    if (focusPath !== null && root.current) focusField(root.current, focusPath);
  }, [focusPath]);

  const gc = doc.global_config;
  const set = (key: string) => (v: unknown) => onChange(setField(doc, key, v));
  const fieldKeys = [...new Set([...Object.keys(PROCEDURE.properties ?? {}), ...Object.keys(doc)])].filter((k) => !GRAPH_KEYS.has(k) && !k.startsWith("$"));
  const summary = ownProblems(problems, "", fieldKeys).filter((p) => !isUnder(p.path, "/workflow_graph/nodes"));
  const more = new Set([...SECTIONS, ...GRAPH_KEYS]);
  const morePointers = fieldKeys.filter((k) => !more.has(k)).map((k) => childPointer("", k));
  return (
    <FormContextProvider value={ctx}>
      <div ref={root} className="flex flex-col gap-4" data-testid="procedure-settings">
        <ProblemSummary problems={summary} />
        <ObjectFields schema={PROCEDURE} value={doc} onChange={onChange} pointer="" only={HEAD} />
        <Section title="Variables" problems={problemsUnder(problems, "/variables_schema")} open testId="variables-section">
          <VariablesEditor value={doc.variables_schema} onChange={set("variables_schema")} />
        </Section>
        <SchemaField
          spec={{ ...fieldOf(PROCEDURE, "trigger"), title: "Trigger", description: "How runs start: by hand, on a schedule, a webhook, an event, a file or another run." }}
          value={doc.trigger}
          onChange={set("trigger")}
          pointer="/trigger"
        />
        <Section title="Global config" problems={problemsUnder(problems, "/global_config")} pointer="/global_config" testId="global-config">
          <ObjectFields
            schema={GLOBAL_CONFIG}
            value={gc && typeof gc === "object" && !Array.isArray(gc) ? (gc as Json) : undefined}
            pointer="/global_config"
            onChange={(next) => set("global_config")(Object.keys(next).length ? next : undefined)}
            render={(spec, value, setValue) =>
              spec.key === "on_failure" ? (
                <div className="flex flex-col gap-1" data-pointer="/global_config/on_failure">
                  <label className="text-sm font-medium" htmlFor="global-on-failure">
                    On failure (node)
                  </label>
                  <NodeSelect id="global-on-failure" value={value} onChange={setValue} />
                  <p className="text-xs text-slate-600 dark:text-slate-400">A node any failing node continues at.</p>
                </div>
              ) : undefined
            }
          />
        </Section>
        <Section title="More procedure settings" problems={problems.filter((p) => morePointers.some((mp) => isUnder(p.path, mp)))}>
          <ObjectFields schema={PROCEDURE} value={doc} onChange={onChange} pointer="" exclude={more} />
        </Section>
      </div>
    </FormContextProvider>
  );
}
