"use client";

import { useId, useState } from "react";
import { Button } from "@/components/ui/Button";
import { inputClass } from "@/components/ui/Field";
import { FieldFrame, ItemButtons, JsonInput, ObjectFields, ProblemCount, ProblemText, Section, renderedKeys, useFormContext } from "./SchemaForm";
import { childPointer, isObject, moveItem, ownProblems, problemsUnder, schemaDef, setField, type Json, type JsonSchema } from "./schemaForm";
import { addVariable, isSplit, removeVariable, renameVariable, setRequired, setSpec, variablePointer, variableRows, type VariableRow } from "./variablesForm";

const SPEC_SCHEMA: JsonSchema = schemaDef("VariableSpec") ?? {};
const TYPES = ["string", "number", "integer", "boolean", "array", "object", "any"] as const;
const SHOWN = new Set(["type", "description", "default", "required"]);

function NameInput({ row, onRename }: { row: VariableRow; onRename: (to: string) => void }) {
  const id = useId();
  const [draft, setDraft] = useState(row.name);
  const [seen, setSeen] = useState(row.name);
  const [error, setError] = useState<string | null>(null);
  if (seen !== row.name) {
    setSeen(row.name);
    setDraft(row.name);
  }
  const commit = () => {
    if (draft.trim() === row.name) return;
    try {
      onRename(draft);
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        Name
      </label>
      <input
        id={id}
        className={`${inputClass} font-mono`}
        value={draft}
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
        data-testid="variable-name"
      />
      {error ? (
        <p role="alert" className="text-xs font-medium text-red-700 dark:text-red-400">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function VariableCard({ vs, row, index, count, onChange, onMove }: {
  vs: Json;
  row: VariableRow;
  index: number;
  count: number;
  onChange: (vs: Json | undefined) => void;
  onMove: (to: number) => void;
}) {
  const { problems } = useFormContext();
  const pointer = variablePointer(row);
  const typeId = useId();
  const defId = useId();
  const descId = useId();
  const reqId = useId();
  const type = typeof row.spec.type === "string" ? row.spec.type : "";
  const setSpecField = (key: string, v: unknown) => onChange(setSpec(vs, row, setField(row.spec, key, v)));
  const at = (key: string) => childPointer(pointer, key);
  const restKeys = Object.keys(row.spec).filter((k) => !SHOWN.has(k));
  return (
    <li className="rounded-md border border-slate-200 dark:border-slate-700" data-pointer={pointer} data-testid="variable-row">
      <div className="flex items-center gap-2 border-b border-slate-200 bg-slate-50 px-2 py-1 text-xs font-semibold dark:border-slate-700 dark:bg-slate-800/60">
        <span className="font-mono">{row.name}</span>
        <span className="font-normal text-slate-600 dark:text-slate-400">{row.required ? "required" : "optional"}</span>
        <ProblemCount problems={problemsUnder(problems, pointer)} />
        <ItemButtons index={index} count={count} what={`variable ${row.name}`} onMove={onMove} onRemove={() => onChange(removeVariable(vs, row))} />
      </div>
      <div className="flex flex-col gap-3 p-2">
        <ProblemText problems={ownProblems(problems, pointer, renderedKeys(SPEC_SCHEMA, row.spec))} />
        <NameInput row={row} onRename={(to) => onChange(renameVariable(vs, row, to))} />
        <div className="grid grid-cols-2 gap-3">
          <FieldFrame pointer={at("type")} label="Type" htmlFor={typeId} problems={ownProblems(problems, at("type"))}>
            <select id={typeId} className={inputClass} value={type} onChange={(e) => setSpecField("type", e.target.value === "" ? undefined : e.target.value)}>
              <option value="">— any (not set) —</option>
              {type !== "" && !(TYPES as readonly string[]).includes(type) ? <option value={type}>{type} (unknown)</option> : null}
              {TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </FieldFrame>
          <FieldFrame pointer={at("required")} label="Required" htmlFor={reqId} problems={ownProblems(problems, at("required"))}>
            <span className="flex h-full items-center gap-2 text-sm">
              <input id={reqId} type="checkbox" checked={row.required} onChange={(e) => onChange(setRequired(vs, row, e.target.checked))} />
              the caller must supply it
            </span>
          </FieldFrame>
        </div>
        <FieldFrame
          pointer={at("default")}
          label="Default"
          htmlFor={defId}
          problems={ownProblems(problems, at("default"))}
          help={type === "string" ? "Empty: no default." : "JSON (e.g. 10, true, [\"a\"]); empty: no default."}
        >
          {type === "string" && (row.spec.default === undefined || typeof row.spec.default === "string") ? (
            <input
              id={defId}
              className={inputClass}
              value={typeof row.spec.default === "string" ? row.spec.default : ""}
              onChange={(e) => setSpecField("default", e.target.value === "" ? undefined : e.target.value)}
            />
          ) : (
            <JsonInput id={defId} value={row.spec.default} expect={null} onChange={(v) => setSpecField("default", v)} invalid={false} rows={1} />
          )}
        </FieldFrame>
        <FieldFrame pointer={at("description")} label="Description" htmlFor={descId} problems={ownProblems(problems, at("description"))}>
          <input
            id={descId}
            className={inputClass}
            value={typeof row.spec.description === "string" ? row.spec.description : ""}
            onChange={(e) => setSpecField("description", e.target.value === "" ? undefined : e.target.value)}
          />
        </FieldFrame>
        <Section title="Validation and more" problems={problems.filter((p) => restKeys.some((k) => p.path === at(k) || p.path.startsWith(`${at(k)}/`)))}>
          <ObjectFields schema={SPEC_SCHEMA} value={row.spec} onChange={(spec) => onChange(setSpec(vs, row, spec))} pointer={pointer} exclude={SHOWN} />
        </Section>
      </div>
    </li>
  );
}

/** Reorders within a group (flat map or one group of the split shape). */
function moveVariable(vs: Json, rows: VariableRow[], from: number, to: number): Json {
  const a = rows[from];
  const b = rows[to];
  if (!a || !b || a.group !== b.group) return vs;
  const groupRows = rows.filter((r) => r.group === a.group);
  const moved = moveItem(groupRows, groupRows.indexOf(a), groupRows.indexOf(b));
  const map: Json = Object.fromEntries(moved.map((r) => [r.name, r.spec]));
  // Keys that are not specs (kept by the flat map's reading as non-variables) stay at the end.
  const source = a.group === null ? vs : isObject(vs[a.group]) ? vs[a.group] : {};
  for (const [k, v] of Object.entries(source as Json)) if (!(k in map)) map[k] = v;
  return a.group === null ? map : setField(vs, a.group, map);
}

/** `variables_schema`: one card per variable (name, type, required, default, description), add / remove / reorder. */
export function VariablesEditor({ value, onChange }: { value: unknown; onChange: (vs: Json | undefined) => void }) {
  const { problems } = useFormContext();
  const rows = variableRows(value);
  const vs: Json = isObject(value) ? value : {};
  return (
    <div className="flex flex-col gap-2" data-pointer="/variables_schema" data-testid="variables-editor">
      <p className="text-xs text-slate-600 dark:text-slate-400">
        {value === undefined
          ? "No variables_schema: templates may read any variable (the compiler only warns)."
          : isSplit(value)
            ? "Split shape: required and optional groups."
            : "What a run of this procedure takes as input."}
      </p>
      <ProblemText problems={ownProblems(problems, "/variables_schema", rows.map((r) => r.group ?? r.name).concat(["required", "optional"]))} />
      <ol className="flex flex-col gap-2">
        {rows.map((row, i) => (
          <VariableCard key={`${row.group ?? ""}:${String(i)}`} vs={vs} row={row} index={i} count={rows.length} onChange={onChange} onMove={(to) => onChange(moveVariable(vs, rows, i, to))} />
        ))}
      </ol>
      <div>
        <Button size="sm" onClick={() => onChange(addVariable(value).vs)} data-testid="add-variable">
          + Add variable
        </Button>
      </div>
    </div>
  );
}
