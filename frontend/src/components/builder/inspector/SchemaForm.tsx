"use client";

import { createContext, useContext, useId, useState, type ReactNode } from "react";
import type { EditorProblem } from "@/components/ckp/diagnostics";
import { Button } from "@/components/ui/Button";
import { inputClass } from "@/components/ui/Field";
import type { ScopeEntry } from "@/lib/builder/scope";
import {
  boolValue,
  childPointer,
  describeField,
  isObject,
  jsonText,
  moveItem,
  newItem,
  objectFields,
  ownProblems,
  parseJsonText,
  parseLines,
  parseNumber,
  problemsUnder,
  removeAt,
  replaceAt,
  resolveRef,
  setField,
  stringValue,
  type FieldSpec,
  type Json,
  type JsonSchema,
} from "./schemaForm";
import { TemplateEditor } from "./TemplateEditor";

// ---------------------------------------------------------------- context

export interface FormContext {
  /** Every problem the form may show (absolute JSON pointers into the document). */
  problems: readonly EditorProblem[];
  /** Node ids offered by node-reference selects. */
  nodeIds: readonly string[];
  /** `{{` completion entries for a template field (of step `stepIndex` inside a node with steps). */
  entriesFor: (stepIndex?: number) => readonly ScopeEntry[];
}

const Ctx = createContext<FormContext>({ problems: [], nodeIds: [], entriesFor: () => [] });
export const FormContextProvider = Ctx.Provider;
export function useFormContext(): FormContext {
  return useContext(Ctx);
}

/** Fields whose value is a node id: drawn as a select of the document's nodes. */
export const NODE_REF_KEYS = new Set([
  "next_node",
  "default_next_node",
  "on_approve",
  "on_reject",
  "on_timeout",
  "on_pass",
  "on_fail",
  "body_node",
  "start_node",
  "fallback_node",
  "escalation_handler",
]);

/** String fields edited with `{{` completion, multi-line. */
export const PROMPT_KEYS = new Set(["prompt", "system_prompt"]);

// ---------------------------------------------------------------- pieces

const SEVERITY_TEXT: Record<EditorProblem["severity"], string> = {
  error: "text-red-700 dark:text-red-400",
  warning: "text-amber-700 dark:text-amber-400",
  info: "text-slate-600 dark:text-slate-400",
};

/** A field's problems under it: red errors, amber warnings. */
export function ProblemText({ problems, id }: { problems: readonly EditorProblem[]; id?: string }) {
  if (problems.length === 0) return null;
  return (
    <ul id={id} className="flex flex-col gap-0.5" data-testid="field-problems">
      {problems.map((p, i) => (
        <li key={`${p.code}-${String(i)}`} className={`text-xs font-medium ${SEVERITY_TEXT[p.severity]}`} data-severity={p.severity} role={p.severity === "error" ? "alert" : undefined}>
          <span className="sr-only">{p.severity}: </span>
          {p.message}
          {p.hint ? <span className="font-normal"> — {p.hint}</span> : null}
        </li>
      ))}
    </ul>
  );
}

function severityOf(problems: readonly EditorProblem[]): EditorProblem["severity"] | null {
  if (problems.some((p) => p.severity === "error")) return "error";
  if (problems.some((p) => p.severity === "warning")) return "warning";
  return problems.length ? "info" : null;
}

/** A count of problems inside a collapsed section. */
export function ProblemCount({ problems }: { problems: readonly EditorProblem[] }) {
  const sev = severityOf(problems);
  if (!sev) return null;
  const cls = sev === "error" ? "bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-200" : "bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-200";
  return (
    <span className={`ml-2 rounded-full px-1.5 text-xs font-medium ${cls}`} data-testid="problem-count">
      {problems.length}
      <span className="sr-only"> {problems.length === 1 ? "problem" : "problems"}</span>
    </span>
  );
}

export function FieldFrame({
  pointer,
  label,
  help,
  required,
  htmlFor,
  problems,
  children,
}: {
  pointer: string;
  label: ReactNode;
  help?: string;
  required?: boolean;
  htmlFor: string;
  problems: readonly EditorProblem[];
  children: ReactNode;
}) {
  return (
    <div className="flex min-w-0 flex-col gap-1" data-pointer={pointer} data-field-severity={severityOf(problems) ?? undefined}>
      <label htmlFor={htmlFor} className="text-sm font-medium">
        {label}
        {required ? (
          <span className="text-red-700 dark:text-red-400" aria-hidden="true">
            {" "}
            *
          </span>
        ) : null}
      </label>
      {children}
      {help ? (
        <p id={`${htmlFor}-hint`} className="text-xs text-slate-600 dark:text-slate-400">
          {help}
        </p>
      ) : null}
      <ProblemText problems={problems} id={`${htmlFor}-problems`} />
    </div>
  );
}

function describedBy(id: string, help: string | undefined, problems: readonly EditorProblem[]): string | undefined {
  const ids = [help ? `${id}-hint` : "", problems.length ? `${id}-problems` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

/**
 * Text kept while it does not parse (or parses to what the value already is), reset when
 * the value changes from outside to something the text does not say.
 */
export function useDraft(canonical: string, matches: (draft: string) => boolean): [string, (text: string) => void] {
  const [draft, setDraft] = useState(canonical);
  const [seen, setSeen] = useState(canonical);
  if (canonical !== seen) {
    setSeen(canonical);
    if (!matches(draft)) setDraft(canonical);
  }
  return [draft, setDraft];
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---------------------------------------------------------------- leaf editors

export function NodeSelect({
  id,
  value,
  onChange,
  describedBy: described,
  invalid,
  allowNone = true,
}: {
  id: string;
  value: unknown;
  onChange: (v: string | undefined) => void;
  describedBy?: string;
  invalid?: boolean;
  allowNone?: boolean;
}) {
  const { nodeIds } = useFormContext();
  const current = typeof value === "string" ? value : "";
  const missing = current !== "" && !nodeIds.includes(current);
  return (
    <select
      id={id}
      className={inputClass}
      value={current}
      aria-invalid={invalid || missing ? true : undefined}
      aria-describedby={described}
      onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      data-testid="node-select"
    >
      {allowNone || current === "" ? <option value="">— none —</option> : null}
      {missing ? <option value={current}>{current} (no such node)</option> : null}
      {nodeIds.map((n) => (
        <option key={n} value={n}>
          {n}
        </option>
      ))}
    </select>
  );
}

function NumberInput({ id, value, integer, onChange, described, invalid, placeholder }: {
  id: string;
  value: unknown;
  integer: boolean;
  onChange: (v: number | undefined) => void;
  described?: string;
  invalid: boolean;
  placeholder?: string;
}) {
  const canonical = typeof value === "number" ? String(value) : value === undefined ? "" : JSON.stringify(value);
  const [draft, setDraft] = useDraft(canonical, (d) => {
    const p = parseNumber(d, integer);
    return p.ok && p.value === value;
  });
  const parsed = parseNumber(draft, integer);
  return (
    <>
      <input
        id={id}
        className={inputClass}
        inputMode={integer ? "numeric" : "decimal"}
        value={draft}
        placeholder={placeholder}
        aria-invalid={invalid || !parsed.ok ? true : undefined}
        aria-describedby={described}
        onChange={(e) => {
          setDraft(e.target.value);
          const p = parseNumber(e.target.value, integer);
          if (p.ok) onChange(p.value);
        }}
      />
      {!parsed.ok ? <p className="text-xs font-medium text-red-700 dark:text-red-400">{parsed.error}</p> : null}
    </>
  );
}

/** Free JSON: the text stays as typed while it does not parse, with the parse error under it. */
export function JsonInput({ id, value, expect, onChange, described, invalid, rows = 4 }: {
  id: string;
  value: unknown;
  expect: "object" | "array" | null;
  onChange: (v: unknown) => void;
  described?: string;
  invalid: boolean;
  rows?: number;
}) {
  const [draft, setDraft] = useDraft(jsonText(value), (d) => {
    const p = parseJsonText(d, expect);
    return p.ok && sameJson(p.value, value);
  });
  const parsed = parseJsonText(draft, expect);
  return (
    <>
      <textarea
        id={id}
        className={`${inputClass} font-mono text-xs`}
        rows={Math.min(12, Math.max(rows, draft.split("\n").length))}
        value={draft}
        spellCheck={false}
        placeholder={expect === "array" ? "[ ]" : expect === "object" ? "{ }" : "JSON value"}
        aria-invalid={invalid || !parsed.ok ? true : undefined}
        aria-describedby={described}
        onChange={(e) => {
          setDraft(e.target.value);
          const p = parseJsonText(e.target.value, expect);
          if (p.ok) onChange(p.value);
        }}
        data-testid="json-field"
      />
      {!parsed.ok ? (
        <p className="text-xs font-medium text-red-700 dark:text-red-400" data-testid="json-error">
          {parsed.error}
        </p>
      ) : null}
    </>
  );
}

function LinesInput({ id, value, onChange, described, invalid }: {
  id: string;
  value: unknown;
  onChange: (v: string[] | undefined) => void;
  described?: string;
  invalid: boolean;
}) {
  const items = Array.isArray(value) ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))) : [];
  const [draft, setDraft] = useDraft(items.join("\n"), (d) => sameJson(parseLines(d) ?? [], items));
  return (
    <textarea
      id={id}
      className={inputClass}
      rows={Math.min(8, Math.max(2, draft.split("\n").length))}
      value={draft}
      placeholder="one per line"
      aria-invalid={invalid ? true : undefined}
      aria-describedby={described}
      onChange={(e) => {
        setDraft(e.target.value);
        onChange(parseLines(e.target.value));
      }}
    />
  );
}

/** A value of any JSON type: plain text (a string, templates allowed) or JSON. */
function AnyInput({ id, value, onChange, described, invalid, label, stepIndex, templated }: {
  id: string;
  value: unknown;
  onChange: (v: unknown) => void;
  described?: string;
  invalid: boolean;
  label: string;
  stepIndex?: number;
  templated: boolean;
}) {
  const [mode, setMode] = useState<"text" | "json">(value === undefined || typeof value === "string" ? "text" : "json");
  const { entriesFor } = useFormContext();
  return (
    <div className="flex flex-col gap-1">
      <div className="flex gap-2 text-xs" role="group" aria-label={`${label}: value kind`}>
        {(["text", "json"] as const).map((m) => (
          <button
            key={m}
            type="button"
            aria-pressed={mode === m}
            className={`rounded px-1.5 ${mode === m ? "bg-slate-200 font-semibold dark:bg-slate-700" : "text-slate-600 dark:text-slate-400"}`}
            onClick={() => {
              if (m === "text" && typeof value !== "string" && value !== undefined) onChange(JSON.stringify(value));
              setMode(m);
            }}
          >
            {m === "text" ? "Text" : "JSON"}
          </button>
        ))}
      </div>
      {mode === "json" ? (
        <JsonInput id={id} value={value} expect={null} onChange={onChange} described={described} invalid={invalid} rows={2} />
      ) : templated ? (
        <TemplateEditor
          id={id}
          label={label}
          value={typeof value === "string" ? value : ""}
          onChange={(t) => onChange(t === "" ? undefined : t)}
          entries={entriesFor(stepIndex)}
          describedBy={described}
          invalid={invalid}
          multiline={typeof value === "string" && value.includes("\n")}
        />
      ) : (
        <input
          id={id}
          className={inputClass}
          value={typeof value === "string" ? value : ""}
          aria-invalid={invalid ? true : undefined}
          aria-describedby={described}
          onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
        />
      )}
    </div>
  );
}

// ---------------------------------------------------------------- one field

export interface FieldOptions {
  /** String fields get `{{` completion (at `stepIndex` when inside a step). */
  templated?: boolean;
  stepIndex?: number;
  /** Label override. */
  label?: string;
}

/** One field of an object, drawn by its schema kind; `onChange(undefined)` unsets it. */
export function SchemaField({
  spec,
  value,
  onChange,
  pointer,
  options = {},
}: {
  spec: FieldSpec;
  value: unknown;
  onChange: (v: unknown) => void;
  pointer: string;
  options?: FieldOptions;
}) {
  const ctx = useFormContext();
  const id = useId();
  if (spec.kind === "object") return <ObjectFieldset spec={spec} value={value} onChange={onChange} pointer={pointer} options={options} />;
  if (spec.kind === "objectArray") return <ObjectArrayField spec={spec} value={value} onChange={onChange} pointer={pointer} options={options} />;
  const problems = ownProblems(ctx.problems, pointer);
  const help = spec.description || undefined;
  const described = describedBy(id, help, problems);
  const invalid = problems.some((p) => p.severity === "error");
  const label = options.label ?? spec.title;
  const defaultNote = spec.hasDefault ? `default: ${typeof spec.default === "string" ? spec.default : JSON.stringify(spec.default)}` : "not set";
  let control: ReactNode;
  // A value of another type than the schema says is edited as JSON, never coerced.
  const mismatch = value !== undefined && !fitsKind(spec, value);
  if (mismatch || spec.kind === "json" || spec.kind === "const") {
    control = <JsonInput id={id} value={value} expect={mismatch ? null : spec.expect} onChange={onChange} described={described} invalid={invalid} rows={2} />;
  } else if (spec.kind === "string" && NODE_REF_KEYS.has(spec.key)) {
    control = <NodeSelect id={id} value={value} onChange={onChange} describedBy={described} invalid={invalid} />;
  } else if (spec.kind === "string" && (options.templated || PROMPT_KEYS.has(spec.key))) {
    const multi = PROMPT_KEYS.has(spec.key) || (typeof value === "string" && value.includes("\n"));
    control = (
      <TemplateEditor
        id={id}
        label={label}
        value={typeof value === "string" ? value : ""}
        onChange={(t) => onChange(stringValue(t, spec.required))}
        entries={ctx.entriesFor(options.stepIndex)}
        describedBy={described}
        invalid={invalid}
        multiline={multi}
        placeholder={multi ? "Type {{ for variables" : undefined}
      />
    );
  } else if (spec.kind === "string") {
    control = (
      <input
        id={id}
        className={inputClass}
        value={typeof value === "string" ? value : ""}
        aria-invalid={invalid ? true : undefined}
        aria-required={spec.required || undefined}
        aria-describedby={described}
        onChange={(e) => onChange(stringValue(e.target.value, spec.required))}
      />
    );
  } else if (spec.kind === "number" || spec.kind === "integer") {
    control = (
      <NumberInput
        id={id}
        value={value}
        integer={spec.kind === "integer"}
        onChange={onChange}
        described={described}
        invalid={invalid}
        placeholder={spec.hasDefault ? defaultNote : undefined}
      />
    );
  } else if (spec.kind === "boolean") {
    control = (
      <select
        id={id}
        className={inputClass}
        value={value === true ? "true" : value === false ? "false" : ""}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={described}
        onChange={(e) => onChange(boolValue(e.target.value))}
      >
        <option value="">— {defaultNote} —</option>
        <option value="true">yes</option>
        <option value="false">no</option>
      </select>
    );
  } else if (spec.kind === "enum") {
    const current = typeof value === "string" ? value : "";
    control = (
      <select
        id={id}
        className={inputClass}
        value={current}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={described}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      >
        <option value="">— {defaultNote} —</option>
        {current !== "" && !spec.enumValues.includes(current) ? <option value={current}>{current} (unknown)</option> : null}
        {spec.enumValues.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    );
  } else if (spec.kind === "stringArray") {
    control = <LinesInput id={id} value={value} onChange={onChange} described={described} invalid={invalid} />;
  } else {
    control = (
      <AnyInput
        id={id}
        value={value}
        onChange={onChange}
        described={described}
        invalid={invalid}
        label={label}
        stepIndex={options.stepIndex}
        templated={options.templated ?? false}
      />
    );
  }
  return (
    <FieldFrame pointer={pointer} label={label} help={help} required={spec.required} htmlFor={id} problems={problems}>
      {control}
    </FieldFrame>
  );
}

function fitsKind(spec: FieldSpec, value: unknown): boolean {
  switch (spec.kind) {
    case "string":
    case "enum":
      return typeof value === "string";
    case "number":
    case "integer":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "object":
      return isObject(value);
    case "objectArray":
      return Array.isArray(value) && value.every(isObject);
    case "stringArray":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    default:
      return true;
  }
}

// ---------------------------------------------------------------- objects

/**
 * The fields of an object schema for `value` (absent: {}), in the schema's order, then
 * the keys the schema does not know (as JSON) unless `unknown` is false. `only` /
 * `exclude` pick fields; `render` draws a field itself (return undefined for the default).
 */
export function ObjectFields({
  schema,
  value,
  onChange,
  pointer,
  only,
  exclude,
  unknown = true,
  options = {},
  render,
  className = "flex flex-col gap-3",
}: {
  schema: JsonSchema;
  value: Json | undefined;
  onChange: (v: Json) => void;
  pointer: string;
  only?: readonly string[];
  exclude?: ReadonlySet<string>;
  unknown?: boolean;
  options?: FieldOptions;
  render?: (spec: FieldSpec, value: unknown, set: (v: unknown) => void) => ReactNode | undefined;
  className?: string;
}) {
  const obj = value ?? {};
  const all = objectFields(schema);
  const known = new Set(all.map((f) => f.key));
  const byKey = new Map(all.map((f) => [f.key, f]));
  const specs = only
    ? only.map((k) => byKey.get(k) ?? describeField(k, {}, false))
    : all.filter((f) => !exclude?.has(f.key) && f.kind !== "const" && !f.key.startsWith("$")); // `$ui` & co. are the canvas's
  const extra = unknown ? Object.keys(obj).filter((k) => !known.has(k) && !exclude?.has(k) && !k.startsWith("$")) : [];
  const set = (key: string) => (v: unknown) => {
    const next = setField(obj, key, v);
    if (next !== obj) onChange(next); // no edit, no history entry
  };
  return (
    <div className={className}>
      {specs.map((spec) => {
        const own = render?.(spec, obj[spec.key], set(spec.key));
        if (own !== undefined) return <div key={spec.key}>{own}</div>;
        return <SchemaField key={spec.key} spec={spec} value={obj[spec.key]} onChange={set(spec.key)} pointer={childPointer(pointer, spec.key)} options={options} />;
      })}
      {extra.map((key) => (
        <SchemaField
          key={key}
          spec={{ ...describeField(key, {}, false), description: "Not in the CKP schema; kept as it is." }}
          value={obj[key]}
          onChange={set(key)}
          pointer={childPointer(pointer, key)}
          options={options}
        />
      ))}
    </div>
  );
}

/** Every key an object's form draws (for telling which problems its own fields show). */
export function renderedKeys(schema: JsonSchema, value: unknown): string[] {
  const keys = objectFields(schema).map((f) => f.key);
  return isObject(value) ? [...new Set([...keys, ...Object.keys(value)])] : keys;
}

/** A collapsible section: open at first when it has problems or `open`. */
export function Section({
  title,
  problems,
  open = false,
  pointer,
  children,
  testId,
}: {
  title: ReactNode;
  problems: readonly EditorProblem[];
  open?: boolean;
  pointer?: string;
  children: ReactNode;
  testId?: string;
}) {
  const [initiallyOpen] = useState(open || problems.length > 0);
  return (
    <details open={initiallyOpen} className="group rounded-md border border-slate-200 dark:border-slate-700" data-pointer={pointer} data-testid={testId}>
      <summary className="cursor-pointer select-none px-3 py-2 text-sm font-semibold hover:bg-slate-50 dark:hover:bg-slate-800">
        {title}
        <ProblemCount problems={problems} />
      </summary>
      <div className="flex flex-col gap-3 border-t border-slate-200 px-3 py-3 dark:border-slate-700">{children}</div>
    </details>
  );
}

function ObjectFieldset({ spec, value, onChange, pointer, options }: {
  spec: FieldSpec;
  value: unknown;
  onChange: (v: unknown) => void;
  pointer: string;
  options: FieldOptions;
}) {
  const { problems } = useFormContext();
  const obj = isObject(value) ? value : undefined;
  const own = ownProblems(problems, pointer, renderedKeys(spec.schema, obj));
  return (
    <Section title={spec.title} problems={problemsUnder(problems, pointer)} pointer={pointer}>
      {spec.description ? <p className="text-xs text-slate-600 dark:text-slate-400">{spec.description}</p> : null}
      <ProblemText problems={own} />
      <ObjectFields
        schema={spec.schema}
        value={obj}
        pointer={pointer}
        options={options}
        // An optional object the last unset field leaves empty goes away with it.
        onChange={(next) => onChange(Object.keys(next).length === 0 && !spec.required ? undefined : next)}
      />
    </Section>
  );
}

// ---------------------------------------------------------------- arrays of objects

/** One-line label of an array item for its header. */
export function itemLabel(item: unknown, index: number): string {
  if (!isObject(item)) return `#${String(index + 1)}`;
  for (const k of ["step_id", "branch_id", "id", "name", "action", "condition", "type", "error_type"]) {
    const v = item[k];
    if (typeof v === "string" && v !== "") return `#${String(index + 1)} ${v}`;
  }
  return `#${String(index + 1)}`;
}

/** Up / down / remove buttons of a list item. */
export function ItemButtons({ index, count, onMove, onRemove, what }: {
  index: number;
  count: number;
  onMove: (to: number) => void;
  onRemove: () => void;
  what: string;
}) {
  return (
    <span className="ml-auto inline-flex gap-1">
      <Button size="sm" variant="ghost" disabled={index === 0} onClick={() => onMove(index - 1)} aria-label={`Move ${what} up`} title="Move up">
        ↑
      </Button>
      <Button size="sm" variant="ghost" disabled={index === count - 1} onClick={() => onMove(index + 1)} aria-label={`Move ${what} down`} title="Move down">
        ↓
      </Button>
      <Button size="sm" variant="ghost" onClick={onRemove} aria-label={`Remove ${what}`} title="Remove">
        ✕
      </Button>
    </span>
  );
}

/**
 * An array of objects: each item a card (its fields from the item schema, or drawn by
 * `renderItem`), add at the end, remove, move up / down. Removing the last item of an
 * optional list unsets it.
 */
export function ObjectArrayField({
  spec,
  value,
  onChange,
  pointer,
  options = {},
  renderItem,
  addLabel,
}: {
  spec: FieldSpec;
  value: unknown;
  onChange: (v: unknown) => void;
  pointer: string;
  options?: FieldOptions;
  renderItem?: (item: Json, index: number, set: (v: Json) => void) => ReactNode;
  addLabel?: string;
}) {
  const { problems } = useFormContext();
  const items: unknown[] = Array.isArray(value) ? value : [];
  const own = ownProblems(problems, pointer, items.map((_, i) => String(i)));
  const emit = (next: unknown[]) => onChange(next.length === 0 && !spec.required ? undefined : next);
  const noun = spec.title.replace(/s$/, "").toLowerCase() || "item";
  return (
    <div className="flex flex-col gap-2" data-pointer={pointer}>
      <div className="flex items-center">
        <span className="text-sm font-medium">
          {options.label ?? spec.title}
          {spec.required ? <span className="text-red-700 dark:text-red-400" aria-hidden="true"> *</span> : null}
        </span>
        <span className="ml-2 text-xs text-slate-600 dark:text-slate-400">{items.length}</span>
        <ProblemCount problems={problemsUnder(problems, pointer)} />
      </div>
      {spec.description ? <p className="text-xs text-slate-600 dark:text-slate-400">{spec.description}</p> : null}
      <ProblemText problems={own} />
      <ol className="flex flex-col gap-2">
        {items.map((item, i) => {
          const itemPointer = childPointer(pointer, i);
          const set = (v: Json) => emit(replaceAt(items, i, v));
          const itemProblems = problemsUnder(problems, itemPointer);
          return (
            <li key={i} className="rounded-md border border-slate-200 dark:border-slate-700" data-pointer={itemPointer} data-testid="array-item">
              <div className="flex items-center gap-2 border-b border-slate-200 bg-slate-50 px-2 py-1 text-xs font-semibold dark:border-slate-700 dark:bg-slate-800/60">
                <span className="truncate font-mono">{itemLabel(item, i)}</span>
                <ProblemCount problems={itemProblems} />
                <ItemButtons index={i} count={items.length} what={itemLabel(item, i)} onMove={(to) => emit(moveItem(items, i, to))} onRemove={() => emit(removeAt(items, i))} />
              </div>
              <div className="flex flex-col gap-3 p-2">
                <ProblemText problems={ownProblems(problems, itemPointer, renderedKeys(spec.schema, item))} />
                {isObject(item) ? (
                  renderItem ? (
                    renderItem(item, i, set)
                  ) : (
                    <ObjectFields schema={spec.schema} value={item} onChange={set} pointer={itemPointer} options={{ ...options, stepIndex: i, label: undefined }} />
                  )
                ) : (
                  <JsonInput id={`${pointer}-${String(i)}`} value={item} expect={null} onChange={(v) => emit(v === undefined ? removeAt(items, i) : replaceAt(items, i, v))} invalid={false} rows={2} />
                )}
              </div>
            </li>
          );
        })}
      </ol>
      <div>
        <Button size="sm" onClick={() => emit([...items, newItem(spec.schema)])}>
          + {addLabel ?? `Add ${noun}`}
        </Button>
      </div>
    </div>
  );
}

/** An array field of `schema`'s property `key` as a FieldSpec (for purpose-built editors). */
export function fieldOf(schema: JsonSchema, key: string): FieldSpec {
  const s = resolveRef(schema);
  const props = isObject(s.properties) ? s.properties : {};
  const p = props[key];
  const required = Array.isArray(s.required) && s.required.includes(key);
  return describeField(key, isObject(p) ? p : {}, required);
}
