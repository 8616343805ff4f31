"use client";

import { useMemo, useState, type SyntheticEvent } from "react";
import { Button } from "@/components/ui/Button";
import { inputClass } from "@/components/ui/Field";
import { ApiError } from "@/lib/api/errors";
import { RUN_MODE_HELP, RUN_MODE_LABELS, RUN_MODES, type RunMode } from "@/lib/format/labels";
import { formToInputs, inputFields, plainInputMessage, toRaw, type RawValue, type VariableField } from "@/lib/inputs/variables";

/** The run-mode choice a form offers: which mode is preselected and whether test mode has the procedure's test data. */
export interface ModeChoice {
  defaultMode: RunMode;
  testData: number;
  /** The modes the user may start (by role); all of them when absent. */
  allowed?: readonly RunMode[];
}

/** The mode a form starts with: the procedure's default when it is allowed, else the first allowed one. */
export function initialMode(choice: ModeChoice | undefined): RunMode {
  if (!choice) return "production";
  const allowed = choice.allowed ?? RUN_MODES;
  return allowed.includes(choice.defaultMode) ? choice.defaultMode : (allowed[0] ?? choice.defaultMode);
}

function ModeField({ idPrefix, choice, mode, onChange }: { idPrefix: string; choice: ModeChoice; mode: RunMode; onChange: (m: RunMode) => void }) {
  return (
    <fieldset className="flex flex-col gap-1.5" data-testid="run-mode" data-mode={mode}>
      <legend className="mb-1 text-sm font-medium">Mode</legend>
      {(choice.allowed ?? RUN_MODES).map((m) => {
        const id = `${idPrefix}-mode-${m}`;
        return (
          <div key={m} className="flex items-start gap-2">
            <input
              type="radio"
              id={id}
              name={`${idPrefix}-mode`}
              value={m}
              checked={mode === m}
              onChange={() => onChange(m)}
              aria-describedby={`${id}-help`}
              className="mt-1 h-4 w-4"
              data-testid={`run-mode-${m}`}
            />
            <div className="min-w-0">
              <label htmlFor={id} className="text-sm font-medium">
                {RUN_MODE_LABELS[m]}
                {m === choice.defaultMode && m !== "production" ? <span className="font-normal text-slate-600 dark:text-slate-400"> (this procedure&apos;s default)</span> : null}
                {m === "test" && choice.testData > 0 ? (
                  <span className="ml-2 rounded bg-teal-100 px-1.5 text-xs font-medium text-teal-900 dark:bg-teal-900 dark:text-teal-100" data-testid="run-mode-test-data">
                    uses this procedure&apos;s test data
                  </span>
                ) : null}
              </label>
              <p id={`${id}-help`} className="text-xs text-slate-600 dark:text-slate-400">
                {RUN_MODE_HELP[m]}
                {m === "test" && choice.testData === 0 ? " This procedure has no test data, so every such call gets a mock result." : ""}
              </p>
            </div>
          </div>
        );
      })}
    </fieldset>
  );
}

function ruleHint(f: VariableField): string {
  return [
    f.description,
    f.regex ? `pattern ${f.regex}` : "",
    f.min !== null ? `${f.type === "array" ? "at least" : "min"} ${String(f.min)}${f.type === "array" ? " items" : ""}` : "",
    f.max !== null ? `${f.type === "array" ? "at most" : "max"} ${String(f.max)}${f.type === "array" ? " items" : ""}` : "",
    f.minLength !== null ? `at least ${String(f.minLength)} characters` : "",
    f.maxLength !== null ? `at most ${String(f.maxLength)} characters` : "",
    f.type === "array" || f.type === "object" ? `JSON ${f.type}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

function initial(fields: VariableField[], values: Record<string, unknown> | undefined): Record<string, RawValue> {
  const out: Record<string, RawValue> = {};
  for (const f of fields) {
    const given = values && f.name in values ? values[f.name] : f.hasDefault ? f.default : undefined;
    out[f.name] = f.sensitive && given === "***" ? "" : toRaw(f, given);
  }
  return out;
}

/**
 * The run input form generated from variables_schema. Rules are checked here exactly
 * as the server checks them (lib/inputs/variables.ts), so a submit that passes here is
 * not refused; a 422 from the server is still shown per field.
 */
export function RunInputsForm({
  fields: all,
  values,
  submitLabel,
  busy,
  serverError,
  onSubmit,
  idPrefix = "input",
  modeChoice,
}: {
  fields: VariableField[];
  values?: Record<string, unknown>;
  submitLabel: string;
  busy: boolean;
  serverError?: unknown;
  /** `mode` is the chosen run mode when `modeChoice` is given. */
  onSubmit: (inputs: Record<string, unknown>, mode?: RunMode) => void;
  idPrefix?: string;
  /** Offer Production / Dry run / Test (a new run; a retry keeps its run's mode). */
  modeChoice?: ModeChoice;
}) {
  const fields = useMemo(() => inputFields(all), [all]);
  const [mode, setMode] = useState<RunMode>(() => initialMode(modeChoice));
  const [raw, setRaw] = useState<Record<string, RawValue>>(() => initial(fields, values));
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const { inputs, errors } = useMemo(() => formToInputs(fields, raw), [fields, raw]);
  const serverFields = useMemo(() => {
    const map = new Map<string, string>();
    if (serverError instanceof ApiError) {
      for (const fe of serverError.fieldErrors) map.set(fe.field.replace(/^input_vars\./, ""), plainInputMessage(fe.message));
    }
    return map;
  }, [serverError]);

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (Object.keys(errors).length > 0) {
      const first = fields.find((f) => f.name in errors);
      if (first) document.getElementById(`${idPrefix}-${first.name}`)?.focus();
      return;
    }
    onSubmit(inputs, modeChoice ? mode : undefined);
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Run inputs" className="flex flex-col gap-4">
      {fields.length === 0 ? <p className="text-sm text-slate-600 dark:text-slate-400">This procedure takes no inputs.</p> : null}
      {fields.map((f) => {
        const id = `${idPrefix}-${f.name}`;
        const shown = submitted || touched[f.name] ? (errors[f.name] ?? serverFields.get(f.name)) : serverFields.get(f.name);
        const hint = ruleHint(f);
        const describedBy = [hint ? `${id}-hint` : "", shown ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
        const value = raw[f.name];
        const common = {
          id,
          name: f.name,
          "aria-invalid": shown ? true : undefined,
          "aria-required": f.required,
          "aria-describedby": describedBy,
          onBlur: () => setTouched((t) => ({ ...t, [f.name]: true })),
        };
        const set = (v: RawValue) => setRaw((r) => ({ ...r, [f.name]: v }));
        let control: React.ReactNode;
        if (f.type === "boolean") {
          control = <input type="checkbox" {...common} checked={value === true} onChange={(e) => set(e.target.checked)} className="h-4 w-4" />;
        } else if (f.allowedValues) {
          control = (
            <select {...common} className={inputClass} value={typeof value === "string" ? value : ""} onChange={(e) => set(e.target.value)}>
              <option value="">{f.required && !f.hasDefault ? "Choose…" : "(not set)"}</option>
              {f.allowedValues.map((v) => {
                const text = typeof v === "string" ? v : JSON.stringify(v);
                return (
                  <option key={text} value={text}>
                    {text}
                  </option>
                );
              })}
            </select>
          );
        } else if (f.type === "array" || f.type === "object" || f.type === "any") {
          control = (
            <textarea {...common} rows={4} className={`${inputClass} font-mono`} value={typeof value === "string" ? value : ""} onChange={(e) => set(e.target.value)} />
          );
        } else {
          control = (
            <input
              {...common}
              className={inputClass}
              type={f.sensitive ? "password" : f.type === "number" || f.type === "integer" ? "text" : "text"}
              inputMode={f.type === "integer" ? "numeric" : f.type === "number" ? "decimal" : undefined}
              autoComplete={f.sensitive ? "off" : undefined}
              value={typeof value === "string" ? value : ""}
              onChange={(e) => set(e.target.value)}
            />
          );
        }
        return (
          <div key={f.name} className="flex flex-col gap-1" data-testid={`field-${f.name}`}>
            <label htmlFor={id} className="text-sm font-medium">
              <span className="font-mono">{f.name}</span> <span className="text-xs font-normal text-slate-600 dark:text-slate-400">({f.type})</span>
              {f.required ? (
                <span className="text-red-700 dark:text-red-400" aria-hidden="true">
                  {" "}
                  *
                </span>
              ) : null}
            </label>
            {control}
            {hint ? (
              <p id={`${id}-hint`} className="text-xs text-slate-600 dark:text-slate-400">
                {hint}
              </p>
            ) : null}
            {shown ? (
              <p id={`${id}-error`} className="text-xs font-medium text-red-700 dark:text-red-400" data-testid={`error-${f.name}`}>
                {f.name} {shown}
              </p>
            ) : null}
          </div>
        );
      })}
      {modeChoice ? <ModeField idPrefix={idPrefix} choice={modeChoice} mode={mode} onChange={setMode} /> : null}
      <div>
        <Button type="submit" variant="primary" disabled={busy} data-testid="run-submit">
          {busy ? "Starting…" : submitLabel}
        </Button>
      </div>
    </form>
  );
}
