/**
 * The alert rule form's logic, apart from React: the draft the form edits, what it takes
 * from a rule, the checks made before sending (the server has the last word and answers a
 * 422 naming the field), the request bodies, and which field a 422 belongs to.
 *
 * A channel the server lacks (GET /api/alert-channels) is never part of a body: the form
 * does not offer it, and a rule saved from the form cannot name it.
 */
import { ApiError, errorMessage } from "@/lib/api/errors";
import { ALERT_EVENTS, type AlertChannels, type AlertEvent, type AlertRuleCreate, type AlertRuleRead, type AlertRuleUpdate } from "./types";

export type ScopeKind = "all" | "project" | "procedure";

export interface RuleDraft {
  name: string;
  events: AlertEvent[];
  scope: ScopeKind;
  project_id: string;
  procedure_id: string;
  webhook: boolean;
  /** Addresses as typed: separated by commas, semicolons, spaces or new lines. */
  email_to: string;
  enabled: boolean;
}

/** The form's fields; `channels` is the channel group as a whole ("needs a channel"). */
export type RuleField = "name" | "events" | "project_id" | "procedure_id" | "channels" | "email_to";
export type RuleErrors = Partial<Record<RuleField, string>>;

/** The server's pattern for one address (AlertRuleCreate.email_to). */
const EMAIL = /^[^@\s<>,;]{1,64}@[^@\s<>,;]{1,253}$/;
const MAX_EMAILS = 50;

/** A new rule: failed runs of every procedure, on the webhook when the server has one. */
export function emptyDraft(channels: AlertChannels): RuleDraft {
  return { name: "", events: ["run_failed"], scope: "all", project_id: "", procedure_id: "", webhook: channels.webhook, email_to: "", enabled: true };
}

export function scopeOf(rule: Pick<AlertRuleRead, "project_id" | "procedure_id">): ScopeKind {
  return rule.procedure_id ? "procedure" : rule.project_id ? "project" : "all";
}

export function draftFrom(rule: AlertRuleRead): RuleDraft {
  return {
    name: rule.name,
    events: ALERT_EVENTS.filter((e) => rule.events.includes(e)),
    scope: scopeOf(rule),
    project_id: rule.project_id ?? "",
    procedure_id: rule.procedure_id ?? "",
    webhook: rule.webhook,
    email_to: (rule.email_to ?? []).join(", "),
    enabled: rule.enabled,
  };
}

/** The addresses of a typed list, in order, each once. */
export function parseEmails(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((a) => a !== ""))];
}

/** Problems to fix before sending, by field (empty when there are none). */
export function validateDraft(d: RuleDraft, channels: AlertChannels): RuleErrors {
  const errors: RuleErrors = {};
  if (d.name.trim() === "") errors.name = "Give the rule a name: people see it in the alert.";
  else if (d.name.trim().length > 200) errors.name = "At most 200 characters.";
  if (d.events.length === 0) errors.events = "Choose at least one event.";
  if (d.scope === "project" && d.project_id === "") errors.project_id = "Choose a project.";
  if (d.scope === "procedure" && d.procedure_id === "") errors.procedure_id = "Choose a procedure.";
  const emails = channels.email ? parseEmails(d.email_to) : [];
  const wrong = emails.filter((a) => !EMAIL.test(a) || a.length > 320);
  if (wrong.length > 0) errors.email_to = `Not an e-mail address: ${wrong.join(", ")}`;
  else if (emails.length > MAX_EMAILS) errors.email_to = `At most ${String(MAX_EMAILS)} addresses.`;
  if (!(channels.webhook && d.webhook) && emails.length === 0) {
    const ways = [channels.webhook ? "tick the webhook" : "", channels.email ? "enter e-mail addresses" : ""].filter((w) => w !== "");
    errors.channels = ways.length > 0 ? `Choose where alerts go: ${ways.join(" or ")}.` : "This server has no channel for alerts.";
  }
  return errors;
}

/** POST /api/alert-rules from the draft: only the chosen scope, only channels the server has. */
export function createBody(d: RuleDraft, channels: AlertChannels): AlertRuleCreate {
  const emails = channels.email ? parseEmails(d.email_to) : [];
  return {
    name: d.name.trim(),
    events: ALERT_EVENTS.filter((e) => d.events.includes(e)),
    project_id: d.scope === "project" ? d.project_id : null,
    procedure_id: d.scope === "procedure" ? d.procedure_id : null,
    webhook: channels.webhook && d.webhook,
    email_to: emails.length > 0 ? emails : null,
    enabled: d.enabled,
  };
}

function sameList(a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * PATCH /api/alert-rules/{id}: the fields the draft changes (null clears a scope or the
 * addresses). A channel the server no longer has is dropped from the rule.
 */
export function updateBody(d: RuleDraft, rule: AlertRuleRead, channels: AlertChannels): AlertRuleUpdate {
  const next = createBody(d, channels);
  const body: AlertRuleUpdate = {};
  if (next.name !== rule.name) body.name = next.name;
  if (!sameList(next.events, ALERT_EVENTS.filter((e) => rule.events.includes(e)))) body.events = next.events;
  if ((next.project_id ?? null) !== (rule.project_id ?? null)) body.project_id = next.project_id;
  if ((next.procedure_id ?? null) !== (rule.procedure_id ?? null)) body.procedure_id = next.procedure_id;
  if (next.webhook !== rule.webhook) body.webhook = next.webhook;
  if (!sameList(next.email_to, rule.email_to)) body.email_to = next.email_to;
  if (next.enabled !== rule.enabled) body.enabled = next.enabled;
  return body;
}

/** Where a field of the request body is shown in the form. */
function fieldOf(path: string): RuleField | null {
  const top = path.split(".")[0] ?? "";
  if (top === "name" || top === "events" || top === "project_id" || top === "procedure_id" || top === "email_to") return top;
  if (top === "webhook") return "channels";
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A failed save, by field: request validation names its fields in `details` (a list of
 * {loc, message}); the rule service names one with `details.loc` and says why in the
 * message. What belongs to no field comes back as `other`.
 */
export function serverErrors(error: unknown): { fields: RuleErrors; other: string | null } {
  if (!error) return { fields: {}, other: null };
  if (!(error instanceof ApiError)) return { fields: {}, other: errorMessage(error) };
  const fields: RuleErrors = {};
  const rest: string[] = [];
  const details = error.details;
  if (isObject(details) && Array.isArray(details.loc)) {
    const field = fieldOf(details.loc.map(String).filter((p) => p !== "body").join("."));
    if (field) fields[field] = error.message;
    else rest.push(error.message);
  } else if (error.fieldErrors.length > 0) {
    for (const f of error.fieldErrors) {
      const field = fieldOf(f.field);
      if (field === null) rest.push(`${f.field}: ${f.message}`);
      else fields[field] ??= f.message;
    }
  } else {
    rest.push(error.message);
  }
  return { fields, other: rest.length > 0 ? rest.join("; ") : null };
}

/** Which procedures a rule covers, in words (a project by its name when known). */
export function scopeText(rule: Pick<AlertRuleRead, "project_id" | "procedure_id">, projectName?: (id: string) => string | undefined): string {
  if (rule.procedure_id) return `Procedure ${rule.procedure_id}`;
  if (rule.project_id) return `Project ${projectName?.(rule.project_id) ?? rule.project_id}`;
  return "All procedures";
}
