"use client";

import { useId, useMemo, useState, type SyntheticEvent } from "react";
import { FormActions } from "@/components/ui/FormActions";
import { SelectField, TextAreaField, TextField } from "@/components/ui/Field";
import { useSaveTrigger } from "@/hooks/useSaveTrigger";
import { useSchedulePreview } from "@/hooks/useSchedulePreview";
import { useToast } from "@/hooks/useToast";
import { ApiError, errorMessage } from "@/lib/api/errors";
import type { TriggerCreated, TriggerRead } from "@/lib/api/models";
import {
  CONFIG_FIELDS,
  OVERLAP_HELP,
  OVERLAPS,
  SCHEDULE_KIND_LABELS,
  TRIGGER_TYPE_LABELS,
  TRIGGER_TYPES,
  createBody,
  draftFrom,
  emptyDraft,
  formFieldOf,
  isTriggerType,
  updateBody,
  validateDraft,
  type DraftErrors,
  type ScheduleKind,
  type TriggerDraft,
} from "@/lib/triggers/form";
import { localTimezone, timezones, wallToUtc, formatInZone } from "@/lib/triggers/zones";

const SCHEDULE_KINDS: ScheduleKind[] = ["cron", "rrule", "at"];

function serverErrors(error: unknown, d: TriggerDraft): { fields: DraftErrors; other: string | null } {
  if (!(error instanceof ApiError)) return { fields: {}, other: error ? errorMessage(error) : null };
  const fields: DraftErrors = {};
  const rest: string[] = [];
  for (const f of error.fieldErrors) {
    const field = formFieldOf(f.field, d);
    if (field === null) rest.push(`${f.field}: ${f.message}`);
    else fields[field] = f.message;
  }
  if (error.fieldErrors.length === 0) rest.push(error.message);
  return { fields, other: rest.length > 0 ? rest.join("; ") : null };
}

function Check({ label, checked, onChange, disabled, hint, testId }: { label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean; hint?: string; testId?: string }) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="flex items-center gap-2 text-sm font-medium">
        <input id={id} type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} data-testid={testId} aria-describedby={hint ? `${id}-hint` : undefined} />
        {label}
      </label>
      {hint ? (
        <p id={`${id}-hint`} className="text-xs text-slate-600 dark:text-slate-400">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/**
 * Creates a trigger on `procedureId`, or edits `trigger`. A schedule is cron, RRULE or one
 * time, on the wall clock of an IANA timezone; its description and next fire times come
 * from the server as it is edited (POST /api/triggers/preview, debounced). Webhooks,
 * events, file watches and chains have their settings as plain fields of `config`. A
 * trigger derived from the CKP only changes its policies here.
 */
export function TriggerForm({
  procedureId,
  trigger,
  onSaved,
  onCancel,
}: {
  procedureId: string;
  trigger?: TriggerRead | null;
  onSaved: (saved: TriggerCreated) => void;
  onCancel: () => void;
}) {
  const save = useSaveTrigger();
  const toast = useToast();
  const editing = trigger !== null && trigger !== undefined;
  const fromCkp = editing && trigger.source === "ckp";
  const [draft, setDraft] = useState<TriggerDraft>(() => (editing ? draftFrom(trigger) : { ...emptyDraft("scheduled", localTimezone()), name: "" }));
  const [tried, setTried] = useState(false);
  const zones = useMemo(() => timezones(), []);
  const zoneList = useId();
  const local = validateDraft(draft);
  const server = serverErrors(save.error, draft);
  const errorOf = (field: string): string | null => (tried ? (local[field] ?? null) : null) ?? server.fields[field] ?? null;
  const set = (changes: Partial<TriggerDraft>) => {
    setDraft((d) => ({ ...d, ...changes }));
    if (save.isError) save.reset();
  };
  const setConfig = (name: string, value: string) => set({ config: { ...draft.config, [name]: value } });
  const scheduled = draft.trigger_type === "scheduled";
  const atInstant = draft.scheduleKind === "at" ? wallToUtc(draft.at, draft.timezone) : null;

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    setTried(true);
    if (Object.keys(local).length > 0) return;
    const request = editing ? { triggerId: trigger.id, update: updateBody(draft, trigger.source) } : { create: createBody(draft, procedureId) };
    save.mutate(request, {
      onSuccess: (saved) => {
        toast.show("success", `Trigger ${saved.name ?? saved.id} ${editing ? "saved" : "created"}`);
        onSaved(saved);
      },
      onError: (err) => toast.show("error", `Not saved: ${errorMessage(err)}`),
    });
  };

  return (
    <form onSubmit={submit} aria-label={editing ? `Edit trigger ${trigger.name ?? trigger.id}` : "New trigger"} className="flex flex-col gap-4" noValidate>
      {fromCkp ? (
        <p className="rounded-md bg-slate-100 p-3 text-sm dark:bg-slate-800">
          This trigger comes from the procedure&apos;s CKP: its type, name, schedule and settings change with the CKP. Its policies below can change here.
        </p>
      ) : null}
      <div className="grid gap-3 md:grid-cols-2">
        <TextField
          label="Name"
          required
          value={draft.name}
          disabled={fromCkp}
          onChange={(e) => set({ name: e.target.value })}
          placeholder={scheduled ? "Nightly import" : "Orders from the shop"}
          error={errorOf("name")}
          data-testid="trigger-name"
        />
        <SelectField
          label="Type"
          value={draft.trigger_type}
          disabled={editing}
          hint={editing ? "The type of a trigger does not change; make a new one instead." : undefined}
          onChange={(e) => {
            const type = e.target.value;
            if (isTriggerType(type)) set({ trigger_type: type, config: {} });
          }}
          data-testid="trigger-type"
        >
          {TRIGGER_TYPES.map((t) => (
            <option key={t} value={t}>
              {TRIGGER_TYPE_LABELS[t]}
            </option>
          ))}
        </SelectField>
      </div>

      {scheduled ? (
        <fieldset className="rounded-md border border-slate-200 p-3 dark:border-slate-700" disabled={fromCkp}>
          <legend className="px-1 text-sm font-semibold">Schedule</legend>
          <div className="mb-3 flex flex-wrap gap-4" role="radiogroup" aria-label="Schedule kind">
            {SCHEDULE_KINDS.map((k) => (
              <label key={k} className="flex items-center gap-1.5 text-sm">
                <input type="radio" name="schedule-kind" value={k} checked={draft.scheduleKind === k} onChange={() => set({ scheduleKind: k })} data-testid={`schedule-kind-${k}`} />
                {SCHEDULE_KIND_LABELS[k]}
              </label>
            ))}
          </div>
          <div className="grid gap-3 md:grid-cols-2">
            {draft.scheduleKind === "cron" ? (
              <TextField
                label="Cron expression"
                required
                value={draft.cron}
                onChange={(e) => set({ cron: e.target.value })}
                placeholder="*/5 * * * *"
                hint="minute hour day-of-month month day-of-week, on the wall clock of the timezone: 0 9 * * 1-5 is 09:00 on weekdays."
                error={errorOf("cron")}
                data-testid="trigger-cron"
              />
            ) : null}
            {draft.scheduleKind === "rrule" ? (
              <TextField
                label="RRULE"
                required
                value={draft.rrule}
                onChange={(e) => set({ rrule: e.target.value })}
                placeholder="FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"
                hint="RFC 5545, without DTSTART: the schedule starts when it is saved."
                error={errorOf("rrule")}
                data-testid="trigger-rrule"
              />
            ) : null}
            {draft.scheduleKind === "at" ? (
              <TextField
                label="Date and time"
                type="datetime-local"
                required
                value={draft.at}
                onChange={(e) => set({ at: e.target.value })}
                hint={atInstant ? `In ${draft.timezone}: ${formatInZone(atInstant, draft.timezone)} (${atInstant} UTC).` : "On the wall clock of the timezone."}
                error={errorOf("at")}
                data-testid="trigger-at"
              />
            ) : null}
            <div className="flex flex-col gap-1">
              <TextField
                label="Timezone"
                required
                list={zoneList}
                value={draft.timezone}
                onChange={(e) => set({ timezone: e.target.value })}
                hint="IANA name; the schedule follows its daylight saving changes."
                error={errorOf("timezone")}
                autoComplete="off"
                data-testid="trigger-timezone"
              />
              <datalist id={zoneList}>
                {zones.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </div>
          </div>
          <SchedulePreviewBox draft={draft} atInstant={atInstant} />
        </fieldset>
      ) : null}

      {scheduled ? (
        <div className="grid gap-3 md:grid-cols-2">
          <TextField
            label="Misfire grace (seconds)"
            type="number"
            min={0}
            value={draft.misfire_grace_s}
            onChange={(e) => set({ misfire_grace_s: e.target.value })}
            hint="After downtime, an instant missed by more than this is skipped (unless coalesced)."
            error={errorOf("misfire_grace_s")}
            data-testid="trigger-misfire-grace"
          />
          <Check
            label="Coalesce missed fires"
            checked={draft.coalesce}
            onChange={(v) => set({ coalesce: v })}
            hint="After downtime, fire once for all the instants missed."
            testId="trigger-coalesce"
          />
        </div>
      ) : null}

      {CONFIG_FIELDS[draft.trigger_type].length > 0 ? (
        <fieldset className="rounded-md border border-slate-200 p-3 dark:border-slate-700" disabled={fromCkp}>
          <legend className="px-1 text-sm font-semibold">{TRIGGER_TYPE_LABELS[draft.trigger_type]} settings</legend>
          <div className="grid gap-3 md:grid-cols-2">
            {CONFIG_FIELDS[draft.trigger_type].map((f) =>
              f.kind === "json" ? (
                <TextAreaField
                  key={f.name}
                  label={f.label}
                  required={f.required}
                  rows={3}
                  value={draft.config[f.name] ?? ""}
                  onChange={(e) => setConfig(f.name, e.target.value)}
                  placeholder={f.placeholder}
                  hint={f.hint}
                  error={errorOf(f.name)}
                  data-testid={`trigger-config-${f.name}`}
                />
              ) : (
                <TextField
                  key={f.name}
                  label={f.label}
                  required={f.required}
                  value={draft.config[f.name] ?? ""}
                  onChange={(e) => setConfig(f.name, e.target.value)}
                  placeholder={f.placeholder}
                  hint={f.hint}
                  error={errorOf(f.name)}
                  data-testid={`trigger-config-${f.name}`}
                />
              ),
            )}
          </div>
        </fieldset>
      ) : null}

      <fieldset className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
        <legend className="px-1 text-sm font-semibold">Runs</legend>
        <div className="grid gap-3 md:grid-cols-3">
          <SelectField
            label="While a run is going"
            value={draft.overlap}
            onChange={(e) => {
              const value = OVERLAPS.find((o) => o === e.target.value);
              if (value) set({ overlap: value });
            }}
            hint={OVERLAP_HELP[draft.overlap]}
            error={errorOf("overlap")}
            data-testid="trigger-overlap"
          >
            {OVERLAPS.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </SelectField>
          <TextField
            label="Max concurrent runs"
            type="number"
            min={0}
            value={draft.max_concurrent}
            onChange={(e) => set({ max_concurrent: e.target.value })}
            hint={draft.trigger_type === "webhook" ? "0: no limit. Beyond it a delivery gets 429." : "0: no limit."}
            error={errorOf("max_concurrent")}
            data-testid="trigger-max-concurrent"
          />
          {!scheduled ? (
            <TextField
              label="Dedupe window (seconds)"
              type="number"
              min={0}
              value={draft.dedupe_window_s}
              onChange={(e) => set({ dedupe_window_s: e.target.value })}
              hint="The same Idempotency-Key (else the same payload) within it starts no second run."
              error={errorOf("dedupe_window_s")}
              data-testid="trigger-dedupe"
            />
          ) : null}
        </div>
        <div className="mt-3">
          <TextAreaField
            label="Input mapping"
            rows={3}
            value={draft.input_mapping}
            onChange={(e) => set({ input_mapping: e.target.value })}
            placeholder='{"order_id": "{{payload.order.id}}"}'
            hint="The run's inputs as templates over {payload, trigger, fired_at}; empty: a JSON-object payload is the inputs."
            error={errorOf("input_mapping")}
          />
        </div>
        <div className="mt-3">
          <Check label="Enabled" checked={draft.enabled} onChange={(v) => set({ enabled: v })} hint="Unchecked: saved paused; nothing fires until resumed." />
        </div>
      </fieldset>

      <FormActions
        serverError={server.other}
        fieldsMarked={tried && Object.keys(local).length > 0}
        onCancel={onCancel}
        pending={save.isPending}
        submitLabel={editing ? "Save trigger" : "Create trigger"}
        submitTestId="save-trigger"
      />
    </form>
  );
}


/** The server's words and next 10 fire times for the schedule as it stands in the form. */
function SchedulePreviewBox({ draft, atInstant }: { draft: TriggerDraft; atInstant: string | null }) {
  const input =
    draft.scheduleKind === "cron" && draft.cron.trim()
      ? { cron: draft.cron.trim(), timezone: draft.timezone }
      : draft.scheduleKind === "rrule" && draft.rrule.trim()
        ? { rrule: draft.rrule.trim(), timezone: draft.timezone }
        : draft.scheduleKind === "at" && atInstant
          ? { at: atInstant, timezone: draft.timezone }
          : null;
  const preview = useSchedulePreview(input);
  if (input === null) return <p className="mt-3 text-xs text-slate-600 dark:text-slate-400">Enter a schedule to see when it fires.</p>;
  if (preview.isPending) return <p className="mt-3 text-xs text-slate-600 dark:text-slate-400">Computing the next fire times…</p>;
  if (preview.isError) return <p className="mt-3 text-xs text-red-700 dark:text-red-300" data-testid="schedule-preview-error">{errorMessage(preview.error)}</p>;
  return (
    <div className="mt-3 text-sm" data-testid="schedule-preview">
      <p className="mb-1">
        Fires <strong data-testid="schedule-preview-description">{preview.data.description}</strong>. Next {preview.data.fires.length}:
      </p>
      <ol className="grid gap-0.5 text-xs sm:grid-cols-2">
        {preview.data.fires.map((f) => (
          <li key={f.utc} data-testid="schedule-preview-fire">
            <time dateTime={f.local}>{formatInZone(f.utc, preview.data.timezone)}</time>
          </li>
        ))}
      </ol>
    </div>
  );
}
