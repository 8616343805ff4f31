/**
 * The trigger form's logic, apart from React: the draft a form edits, what it takes from
 * a registration, the client-side checks (the server has the last word and answers a 422
 * naming the field), and the request body it sends.
 */
import type { Overlap, TriggerCreate, TriggerRead, TriggerType, TriggerUpdate } from "@/lib/api/models";
import { isTimezone, utcToWall, wallToUtc } from "./zones";

export const TRIGGER_TYPES: readonly TriggerType[] = ["scheduled", "webhook", "event", "file_watch", "run_completed"];

export const TRIGGER_TYPE_LABELS: Readonly<Record<TriggerType, string>> = {
  scheduled: "Schedule",
  webhook: "Webhook",
  event: "Event",
  file_watch: "File watch",
  run_completed: "Run completed",
};

export const OVERLAPS: readonly Overlap[] = ["allow", "skip", "queue"];

export function isTriggerType(value: string): value is TriggerType {
  return (TRIGGER_TYPES as readonly string[]).includes(value);
}

/** The type's label; an unknown name as it is. */
export function typeLabel(value: string): string {
  return isTriggerType(value) ? TRIGGER_TYPE_LABELS[value] : value;
}

function asOverlap(value: string): Overlap {
  return (OVERLAPS as readonly string[]).includes(value) ? (value as Overlap) : "allow";
}

export const OVERLAP_HELP: Readonly<Record<Overlap, string>> = {
  allow: "start a run every time (up to Max concurrent runs, when set)",
  skip: "skip the fire while a run of this trigger is still going",
  queue: "wait for the running one to finish, then start",
};

export type ScheduleKind = "cron" | "rrule" | "at";

export const SCHEDULE_KIND_LABELS: Readonly<Record<ScheduleKind, string>> = {
  cron: "Cron (5 fields)",
  rrule: "RRULE (RFC 5545)",
  at: "Once, at a time",
};

/** A plain field of `config`: where it lives (section.key), how it is edited. */
export interface ConfigField {
  name: string;
  /** The object of `config` holding the key; "" for `config` itself. */
  section: string;
  /** Where a registration derived from a CKP keeps the same key, when elsewhere. */
  altSection?: string;
  key: string;
  label: string;
  kind: "text" | "list" | "json";
  hint?: string;
  placeholder?: string;
  required?: boolean;
}

/** The settings of each kind of trigger kept in `config`, one plain field each. */
export const CONFIG_FIELDS: Readonly<Record<TriggerType, readonly ConfigField[]>> = {
  scheduled: [],
  webhook: [
    {
      name: "allowed_sources",
      section: "webhook_config",
      key: "allowed_sources",
      label: "Allowed sources",
      kind: "list",
      hint: "Addresses or networks deliveries may come from, comma-separated; empty: any.",
      placeholder: "10.0.0.0/8, 203.0.113.7",
    },
  ],
  event: [
    { name: "event_source", section: "event_config", key: "event_source", label: "Event source", kind: "text", hint: "The broker address: redis://host:6379/0?stream=NAME or amqp://host/?queue=NAME.", placeholder: "redis://127.0.0.1:6379/0?stream=orders", required: true },
    { name: "event_type", section: "event_config", key: "event_type", label: "Event types", kind: "list", hint: "Patterns, comma-separated; empty: every type.", placeholder: "order.paid, order.*" },
    { name: "event_filter", section: "event_config", key: "event_filter", label: "Event filter", kind: "json", hint: "Conditions over the message body, all of which must hold; empty: every message.", placeholder: '{"status": "paid", "amount": {">=": 100}}' },
  ],
  file_watch: [
    { name: "path", section: "file_watch_config", key: "path", label: "Folder", kind: "text", hint: "Inside one of the server's LANGORCH_TRIGGERS__WATCH_ROOTS.", placeholder: "/data/inbox", required: true },
    { name: "pattern", section: "file_watch_config", key: "pattern", label: "File pattern", kind: "text", hint: "A glob over file names; empty: every file.", placeholder: "*.csv" },
    { name: "event_types", section: "file_watch_config", key: "event_types", label: "Events", kind: "list", hint: "created, modified (comma-separated); empty: created.", placeholder: "created, modified" },
  ],
  run_completed: [
    { name: "source_procedure_id", section: "", altSection: "run_completed_config", key: "source_procedure_id", label: "After procedure", kind: "text", hint: "The procedure whose finished runs start this one (with their outputs as inputs, unless an input mapping says otherwise).", required: true },
    { name: "on", section: "", altSection: "run_completed_config", key: "on", label: "When its run", kind: "list", hint: "completed, failed (comma-separated); empty: completed.", placeholder: "completed" },
    { name: "filter", section: "", altSection: "run_completed_config", key: "filter", label: "Filter", kind: "text", hint: "A condition over the finished run (run_id, status, outputs, error); empty: every run.", placeholder: "outputs.amount > 100" },
  ],
};

export interface TriggerDraft {
  name: string;
  trigger_type: TriggerType;
  enabled: boolean;
  scheduleKind: ScheduleKind;
  cron: string;
  rrule: string;
  /** A wall-clock time in `timezone`, as a datetime-local field holds it. */
  at: string;
  timezone: string;
  misfire_grace_s: string;
  coalesce: boolean;
  overlap: Overlap;
  max_concurrent: string;
  dedupe_window_s: string;
  /** JSON text of the input mapping (templates over payload, trigger, fired_at); empty: none. */
  input_mapping: string;
  /** Text of each plain config field, by ConfigField.name. */
  config: Record<string, string>;
  /** The registration's config as loaded: keys the form has no field for are kept. */
  baseConfig: Record<string, unknown>;
}

export function emptyDraft(type: TriggerType = "scheduled", timezone = "UTC"): TriggerDraft {
  return {
    name: "",
    trigger_type: type,
    enabled: true,
    scheduleKind: "cron",
    cron: "",
    rrule: "",
    at: "",
    timezone,
    misfire_grace_s: "300",
    coalesce: true,
    overlap: "allow",
    max_concurrent: "0",
    dedupe_window_s: "86400",
    input_mapping: "",
    config: {},
    baseConfig: {},
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldText(field: ConfigField, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (field.kind === "json") return JSON.stringify(value, null, 2);
  if (field.kind === "list") return Array.isArray(value) ? value.map(String).join(", ") : typeof value === "string" ? value : JSON.stringify(value);
  return typeof value === "string" ? value : JSON.stringify(value);
}

function sectionOf(f: ConfigField, config: Record<string, unknown>): Record<string, unknown> | undefined {
  if (f.altSection && isObject(config[f.altSection])) return config[f.altSection] as Record<string, unknown>;
  if (f.section === "") return config;
  const section = config[f.section];
  return isObject(section) ? section : undefined;
}

/** The draft that edits `t`. */
export function draftFrom(t: TriggerRead): TriggerDraft {
  const type = isTriggerType(t.trigger_type) ? t.trigger_type : "scheduled";
  const timezone = t.timezone ?? "UTC";
  const baseConfig = isObject(t.config) ? t.config : {};
  const config: Record<string, string> = {};
  for (const f of CONFIG_FIELDS[type]) config[f.name] = fieldText(f, sectionOf(f, baseConfig)?.[f.key]);
  return {
    name: t.name ?? "",
    trigger_type: type,
    enabled: t.enabled,
    scheduleKind: t.rrule ? "rrule" : t.at ? "at" : "cron",
    cron: t.cron ?? "",
    rrule: t.rrule ?? "",
    at: t.at ? utcToWall(t.at, timezone) : "",
    timezone,
    misfire_grace_s: String(t.misfire_grace_s),
    coalesce: t.coalesce,
    overlap: asOverlap(t.overlap),
    max_concurrent: String(t.max_concurrent),
    dedupe_window_s: String(t.dedupe_window_s),
    input_mapping: t.input_mapping && Object.keys(t.input_mapping).length > 0 ? JSON.stringify(t.input_mapping, null, 2) : "",
    config,
    baseConfig,
  };
}

/** Problems by field name (the names the server's 422 uses, or ConfigField.name); empty when none. */
export type DraftErrors = Partial<Record<string, string>>;

const CRON_FIELD = /^[0-9A-Za-z*?/,\-#LW]+$/;
const CRON_NAMES = ["minute", "hour", "day of month", "month", "day of week"];

/** A 5-field cron expression's shape (the server checks the values): null when fine. */
export function cronProblem(text: string): string | null {
  const fields = text.trim().split(/\s+/).filter(Boolean);
  if (fields.length === 0) return "Give a cron expression, such as */5 * * * * (every 5 minutes).";
  if (fields.length !== 5) {
    return `Five fields (minute hour day-of-month month day-of-week), not ${String(fields.length)}.`;
  }
  const bad = fields.findIndex((f) => !CRON_FIELD.test(f));
  if (bad >= 0) return `The ${CRON_NAMES[bad] ?? "field"} field "${fields[bad] ?? ""}" is not cron syntax.`;
  return null;
}

/** An RRULE's shape (the server parses it): null when fine. */
export function rruleProblem(text: string): string | null {
  const body = text.trim().replace(/^RRULE:/i, "");
  if (body === "") return "Give a rule, such as FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0.";
  if (/DTSTART/i.test(body)) return "Leave out DTSTART: the schedule starts from its registration.";
  if (!/(^|;)FREQ=(YEARLY|MONTHLY|WEEKLY|DAILY|HOURLY|MINUTELY|SECONDLY)(;|$)/i.test(body)) {
    return "The rule needs FREQ= (YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY or MINUTELY).";
  }
  const part = body.split(";").find((p) => !/^[A-Z]+=[^;=]+$/i.test(p));
  if (part !== undefined) return `"${part}" is not NAME=value.`;
  return null;
}

function wholeNumber(text: string, label: string): string | null {
  if (!/^\d+$/.test(text.trim())) return `${label} is a whole number of 0 or more.`;
  return null;
}

function jsonObjectProblem(text: string): string | null {
  if (text.trim() === "") return null;
  try {
    return isObject(JSON.parse(text)) ? null : "A JSON object, such as {\"key\": \"value\"}.";
  } catch (e) {
    return `Not JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** What is wrong with `d` before sending it (`now`: for a one-off time in the past). */
export function validateDraft(d: TriggerDraft, now: number = Date.now()): DraftErrors {
  const errors: DraftErrors = {};
  if (d.name.trim() === "") errors.name = "Give the trigger a name.";
  if (d.trigger_type === "scheduled") {
    if (!isTimezone(d.timezone)) errors.timezone = `"${d.timezone}" is not an IANA timezone (Europe/Berlin, America/New_York…).`;
    if (d.scheduleKind === "cron") {
      const p = cronProblem(d.cron);
      if (p) errors.cron = p;
    } else if (d.scheduleKind === "rrule") {
      const p = rruleProblem(d.rrule);
      if (p) errors.rrule = p;
    } else if (errors.timezone === undefined) {
      const at = wallToUtc(d.at, d.timezone);
      if (at === null) errors.at = "Give a date and time.";
      else if (Date.parse(at) <= now) errors.at = "This time has passed: a one-off schedule in the past never fires.";
    }
    const grace = wholeNumber(d.misfire_grace_s, "Misfire grace");
    if (grace) errors.misfire_grace_s = grace;
  }
  if (d.trigger_type !== "scheduled") {
    const dedupe = wholeNumber(d.dedupe_window_s, "Dedupe window");
    if (dedupe) errors.dedupe_window_s = dedupe;
  }
  const max = wholeNumber(d.max_concurrent, "Max concurrent runs");
  if (max) errors.max_concurrent = max;
  const mapping = jsonObjectProblem(d.input_mapping);
  if (mapping) errors.input_mapping = mapping;
  for (const f of CONFIG_FIELDS[d.trigger_type]) {
    const text = d.config[f.name] ?? "";
    if (f.required && text.trim() === "") errors[f.name] = `${f.label} is required.`;
    else if (f.kind === "json") {
      const p = jsonObjectProblem(text);
      if (p) errors[f.name] = p;
    }
  }
  return errors;
}

function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `config`: the loaded one with the form's fields written over it (an emptied field is removed). */
export function configOf(d: TriggerDraft): Record<string, unknown> | null {
  const out = new Map<string, unknown>(Object.entries(structuredClone(d.baseConfig)));
  for (const f of CONFIG_FIELDS[d.trigger_type]) {
    const text = (d.config[f.name] ?? "").trim();
    const value = text === "" ? undefined : f.kind === "json" ? (JSON.parse(text) as unknown) : f.kind === "list" ? splitList(text) : text;
    const where = f.altSection && isObject(out.get(f.altSection)) ? f.altSection : f.section;
    if (where === "") {
      out.set(f.key, value);
      continue;
    }
    const current = out.get(where);
    const section = new Map<string, unknown>(isObject(current) ? Object.entries(current) : []);
    if (value === undefined) section.delete(f.key);
    else section.set(f.key, value);
    out.set(where, section.size > 0 ? Object.fromEntries(section) : undefined);
  }
  const kept = [...out].filter(([, v]) => v !== undefined);
  return kept.length > 0 ? Object.fromEntries(kept) : null;
}

/** The fields a registration is created or replaced with (call validateDraft first). */
export function draftFields(d: TriggerDraft): TriggerUpdate {
  const scheduled = d.trigger_type === "scheduled";
  const kind = scheduled ? d.scheduleKind : null;
  return {
    name: d.name.trim(),
    enabled: d.enabled,
    cron: kind === "cron" ? d.cron.trim().split(/\s+/).join(" ") : null,
    rrule: kind === "rrule" ? d.rrule.trim().replace(/^RRULE:/i, "") : null,
    at: kind === "at" ? wallToUtc(d.at, d.timezone) : null,
    timezone: scheduled ? d.timezone : null,
    misfire_grace_s: Number(d.misfire_grace_s),
    coalesce: d.coalesce,
    overlap: d.overlap,
    max_concurrent: Number(d.max_concurrent),
    dedupe_window_s: Number(d.dedupe_window_s),
    input_mapping: d.input_mapping.trim() === "" ? null : (JSON.parse(d.input_mapping) as Record<string, unknown>),
    config: configOf(d),
  };
}

export function createBody(d: TriggerDraft, procedureId: string): TriggerCreate {
  return { ...draftFields(d), procedure_id: procedureId, trigger_type: d.trigger_type };
}

/**
 * The fields of a trigger derived from the CKP that may change here: its policies. Type,
 * name, schedule, timezone and config come from the CKP (the server answers 409 otherwise).
 */
export const CKP_OWNED = ["name", "trigger_type", "cron", "rrule", "at", "timezone", "config"] as const;

/** What an edit sends: everything for a trigger made here, the policies only for one from the CKP. */
export function updateBody(d: TriggerDraft, source: string): TriggerUpdate {
  const all = draftFields(d);
  if (source !== "ckp") return all;
  const owned: readonly string[] = CKP_OWNED;
  return Object.fromEntries(Object.entries(all).filter(([k]) => !owned.includes(k)));
}

/** A short text of what fires the trigger: the server's words for a schedule, else its settings. */
export function summary(t: Pick<TriggerRead, "trigger_type" | "cron" | "rrule" | "at" | "timezone" | "schedule_description" | "config">): string {
  if (t.schedule_description) return t.schedule_description;
  if (t.trigger_type === "scheduled") {
    const zone = t.timezone ? ` (${t.timezone})` : "";
    if (t.cron) return `cron '${t.cron}'${zone}`;
    if (t.rrule) return `by the rule ${t.rrule}${zone}`;
    if (t.at) return `once, at ${t.at}`;
  }
  const config = isObject(t.config) ? t.config : {};
  if (t.trigger_type === "webhook") {
    const webhook = config.webhook_config;
    const sources = isObject(webhook) && Array.isArray(webhook.allowed_sources) ? webhook.allowed_sources.map(String) : [];
    return sources.length > 0 ? `signed deliveries from ${sources.join(", ")}` : "signed deliveries";
  }
  const type = isTriggerType(t.trigger_type) ? t.trigger_type : null;
  const first = type ? CONFIG_FIELDS[type].find((f) => f.required) : undefined;
  const value = first ? sectionOf(first, config)?.[first.key] : undefined;
  if (first && typeof value === "string") return `${first.label.toLowerCase()} ${value}`;
  return typeLabel(t.trigger_type);
}

/** The form's own fields, besides the config fields: where a server error can be shown. */
export const FORM_FIELDS = ["name", "cron", "rrule", "at", "timezone", "misfire_grace_s", "coalesce", "overlap", "max_concurrent", "dedupe_window_s", "input_mapping"] as const;

/**
 * The form field a server error names ("cron", "body.timezone",
 * "config.event_config.event_filter.status"…): the last segment that is one of the form's
 * fields (a schedule problem goes to the schedule field being edited); null when none is.
 */
export function formFieldOf(serverField: string, d: Pick<TriggerDraft, "scheduleKind" | "trigger_type">): string | null {
  const known = new Set<string>([...FORM_FIELDS, ...CONFIG_FIELDS[d.trigger_type].map((f) => f.name)]);
  const segments = serverField.split(".").reverse();
  for (const segment of segments) {
    if (segment === "schedule") return d.scheduleKind;
    const hit = CONFIG_FIELDS[d.trigger_type].find((f) => f.key === segment);
    if (hit) return hit.name;
    if (known.has(segment)) return segment;
  }
  return null;
}
