"use client";

import { useId, useState, type SyntheticEvent } from "react";
import { FormActions } from "@/components/ui/FormActions";
import { SelectField, TextField } from "@/components/ui/Field";
import { useProcedures } from "@/hooks/useProcedures";
import { useProjects } from "@/hooks/useProjects";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import { createBody, draftFrom, emptyDraft, serverErrors, updateBody, validateDraft, type RuleDraft, type RuleField, type ScopeKind } from "./form";
import { ALERT_EVENT_HELP, ALERT_EVENTS, type AlertChannels, type AlertRuleRead } from "./types";
import { useSaveAlertRule } from "./useSaveAlertRule";

const SCOPES: { kind: ScopeKind; label: string }[] = [
  { kind: "all", label: "All procedures" },
  { kind: "project", label: "The procedures of a project" },
  { kind: "procedure", label: "One procedure (every version)" },
];

function FieldError({ id, error }: { id: string; error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p id={id} className="text-xs font-medium text-red-700 dark:text-red-400" role="alert">
      {error}
    </p>
  );
}

function Note({ children, testId }: { children: React.ReactNode; testId?: string }) {
  return (
    <p className="text-sm text-slate-600 dark:text-slate-400" data-testid={testId}>
      {children}
    </p>
  );
}

/**
 * Creates an alert rule, or edits `rule`: its name, the events it hears, the procedures it
 * covers, and where alerts go. Only the channels the server has are offered; the server's
 * 422 is shown at the field it names.
 */
export function AlertRuleForm({ channels, rule, onDone }: { channels: AlertChannels; rule?: AlertRuleRead | null; onDone: () => void }) {
  const editing = rule !== null && rule !== undefined;
  const save = useSaveAlertRule();
  const toast = useToast();
  const projects = useProjects();
  const procedures = useProcedures({ limit: 1000, offset: 0 });
  const [draft, setDraft] = useState<RuleDraft>(() => (editing ? draftFrom(rule) : emptyDraft(channels)));
  const [tried, setTried] = useState(false);
  const ids = { events: useId(), scope: useId(), channels: useId() };
  const local = validateDraft(draft, channels);
  const server = serverErrors(save.error);
  const errorOf = (field: RuleField): string | null => (tried ? (local[field] ?? null) : null) ?? server.fields[field] ?? null;
  // An e-mail error with no e-mail field to show it at belongs to the channel group.
  const channelsError = errorOf("channels") ?? (channels.email ? null : errorOf("email_to"));
  const set = (changes: Partial<RuleDraft>) => {
    setDraft((d) => ({ ...d, ...changes }));
    if (save.isError) save.reset();
  };
  const projectItems = projects.data?.items ?? [];
  const procedureIds = [...new Set((procedures.data?.items ?? []).map((p) => p.procedure_id))].sort();
  // A rule saved before the server lost a channel: saving here drops it (it does nothing now).
  const lostWebhook = editing && rule.webhook && !channels.webhook;
  const lostEmail = editing && (rule.email_to ?? []).length > 0 && !channels.email;

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    setTried(true);
    if (Object.keys(local).length > 0) return;
    const request = editing ? { ruleId: rule.rule_id, update: updateBody(draft, rule, channels) } : { create: createBody(draft, channels) };
    save.mutate(request, {
      onSuccess: (saved) => {
        toast.show("success", `Alert rule ${saved.name} ${editing ? "saved" : "created"}`);
        onDone();
      },
      onError: (err) => toast.show("error", `Not saved: ${errorMessage(err)}`),
    });
  };

  return (
    <form onSubmit={submit} aria-label={editing ? `Edit alert rule ${rule.name}` : "New alert rule"} className="flex flex-col gap-4" noValidate>
      <TextField
        label="Name"
        required
        value={draft.name}
        onChange={(e) => set({ name: e.target.value })}
        placeholder="Invoices on-call"
        hint="What people see in the alert."
        error={errorOf("name")}
        data-testid="alert-rule-name"
      />

      <fieldset className="rounded-md border border-slate-200 p-3 dark:border-slate-700" aria-describedby={errorOf("events") ? ids.events : undefined}>
        <legend className="px-1 text-sm font-semibold">Events</legend>
        <div className="flex flex-col gap-2">
          {ALERT_EVENTS.map((ev) => (
            <label key={ev} className="flex items-start gap-2 text-sm">
              <input
                type="checkbox"
                className="mt-1"
                checked={draft.events.includes(ev)}
                onChange={(e) => set({ events: e.target.checked ? [...draft.events, ev] : draft.events.filter((x) => x !== ev) })}
                data-testid={`alert-event-${ev}`}
              />
              <span>
                <span className="font-mono text-xs font-semibold">{ev}</span>
                <span className="text-slate-600 dark:text-slate-400">: {ALERT_EVENT_HELP[ev]}</span>
              </span>
            </label>
          ))}
        </div>
        <FieldError id={ids.events} error={errorOf("events")} />
      </fieldset>

      <fieldset className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
        <legend className="px-1 text-sm font-semibold">Procedures</legend>
        <div className="mb-3 flex flex-wrap gap-4" role="radiogroup" aria-label="Scope">
          {SCOPES.map((s) => (
            <label key={s.kind} className="flex items-center gap-1.5 text-sm">
              <input type="radio" name={ids.scope} value={s.kind} checked={draft.scope === s.kind} onChange={() => set({ scope: s.kind })} data-testid={`alert-scope-${s.kind}`} />
              {s.label}
            </label>
          ))}
        </div>
        {draft.scope === "project" ? (
          <SelectField
            label="Project"
            required
            value={draft.project_id}
            onChange={(e) => set({ project_id: e.target.value })}
            hint={projects.data && projectItems.length === 0 ? "There are no projects yet." : undefined}
            error={errorOf("project_id")}
            data-testid="alert-project"
          >
            <option value="">Choose a project…</option>
            {projectItems.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
            {draft.project_id && !projectItems.some((p) => p.id === draft.project_id) ? <option value={draft.project_id}>{draft.project_id}</option> : null}
          </SelectField>
        ) : null}
        {draft.scope === "procedure" ? (
          <SelectField
            label="Procedure"
            required
            value={draft.procedure_id}
            onChange={(e) => set({ procedure_id: e.target.value })}
            error={errorOf("procedure_id")}
            data-testid="alert-procedure"
          >
            <option value="">Choose a procedure…</option>
            {procedureIds.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
            {draft.procedure_id && !procedureIds.includes(draft.procedure_id) ? <option value={draft.procedure_id}>{draft.procedure_id}</option> : null}
          </SelectField>
        ) : null}
      </fieldset>

      <fieldset className="flex flex-col gap-3 rounded-md border border-slate-200 p-3 dark:border-slate-700" aria-describedby={channelsError ? ids.channels : undefined}>
        <legend className="px-1 text-sm font-semibold">Send to</legend>
        {channels.webhook ? (
          <label className="flex items-start gap-2 text-sm">
            <input type="checkbox" className="mt-1" checked={draft.webhook} onChange={(e) => set({ webhook: e.target.checked })} data-testid="alert-webhook" />
            <span>
              <span className="font-medium">The notification webhook</span>
              <span className="block text-xs text-slate-600 dark:text-slate-400">
                {channels.webhook_signed
                  ? "The server POSTs the alert as JSON, signed with X-LangOrch-Signature."
                  : "The server POSTs the alert as JSON, unsigned (it has no LANGORCH_NOTIFY__WEBHOOK_SECRET)."}
              </span>
            </span>
          </label>
        ) : (
          <Note testId="no-webhook-note">No notification webhook on this server (LANGORCH_NOTIFY__WEBHOOK_URL).</Note>
        )}
        {lostWebhook ? <Note>This rule posted to the webhook; saving it here stops that.</Note> : null}
        {channels.email ? (
          <TextField
            label="E-mail recipients"
            value={draft.email_to}
            onChange={(e) => set({ email_to: e.target.value })}
            placeholder="oncall@example.com, finance@example.com"
            hint="Addresses separated by commas; empty: no e-mail."
            error={errorOf("email_to")}
            autoComplete="off"
            data-testid="alert-email-to"
          />
        ) : (
          <Note testId="no-email-note">No SMTP server for e-mail on this server (LANGORCH_NOTIFY__SMTP_HOST).</Note>
        )}
        {lostEmail ? <Note>This rule e-mailed {(rule.email_to ?? []).join(", ")}; saving it here stops that.</Note> : null}
        <FieldError id={ids.channels} error={channelsError} />
      </fieldset>

      <label className="flex items-center gap-2 text-sm font-medium">
        <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })} data-testid="alert-rule-enabled-field" />
        Enabled
        <span className="font-normal text-slate-600 dark:text-slate-400">(unchecked: kept, but sends nothing)</span>
      </label>

      <FormActions
        serverError={server.other}
        fieldsMarked={tried && Object.keys(local).length > 0}
        onCancel={onDone}
        pending={save.isPending}
        submitLabel={editing ? "Save rule" : "Create rule"}
        submitTestId="save-alert-rule"
        errorTestId="alert-rule-error"
      />
    </form>
  );
}
