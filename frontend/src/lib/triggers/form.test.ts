import { describe, expect, it } from "vitest";
import type { TriggerRead } from "@/lib/api/models";
import { configOf, createBody, cronProblem, draftFields, draftFrom, emptyDraft, formFieldOf, rruleProblem, summary, updateBody, validateDraft, type TriggerDraft } from "./form";

const T = "2026-12-07T10:00:00Z";
const NOW = Date.parse(T);

function draft(changes: Partial<TriggerDraft>): TriggerDraft {
  return { ...emptyDraft("scheduled", "Europe/Berlin"), name: "nightly", cron: "30 2 * * *", ...changes };
}

const READ: TriggerRead = {
  id: "t1",
  procedure_id: "invoice",
  version: null,
  source: "api",
  name: "events",
  trigger_type: "event",
  enabled: true,
  cron: null,
  rrule: null,
  at: null,
  timezone: null,
  schedule_description: null,
  misfire_grace_s: 60,
  coalesce: false,
  overlap: "skip",
  max_concurrent: 2,
  dedupe_window_s: 600,
  input_mapping: { invoice_id: "{{ payload.id }}" },
  config: { event_config: { event_source: "orders", event_type: ["order.created"], broker: "redis" }, other: { kept: true } },
  webhook_url: null,
  next_fire_at: null,
  last_fired_at: null,
  last_run_id: null,
  fire_count: 0,
  has_secret: false,
  created_by: "admin",
  created_at: T,
  updated_at: T,
};

describe("cron and RRULE shape", () => {
  it("takes five cron fields and names a wrong count or a wrong field", () => {
    expect(cronProblem("* * * * *")).toBeNull();
    expect(cronProblem("*/15 9-17 * * MON-FRI")).toBeNull();
    expect(cronProblem("")).toMatch(/Give a cron expression/);
    expect(cronProblem("0 * * * * *")).toBe("Five fields (minute hour day-of-month month day-of-week), not 6.");
    expect(cronProblem("0 $ * * *")).toBe('The hour field "$" is not cron syntax.');
  });

  it("wants FREQ in a rule and no DTSTART", () => {
    expect(rruleProblem("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0")).toBeNull();
    expect(rruleProblem("RRULE:FREQ=DAILY")).toBeNull();
    expect(rruleProblem("BYDAY=MO")).toMatch(/needs FREQ=/);
    expect(rruleProblem("DTSTART:20260101T000000\nRRULE:FREQ=DAILY")).toMatch(/Leave out DTSTART/);
    expect(rruleProblem("FREQ=DAILY;BYHOUR")).toBe('"BYHOUR" is not NAME=value.');
  });
});

describe("validating a draft", () => {
  it("accepts a complete cron schedule", () => {
    expect(validateDraft(draft({}), NOW)).toEqual({});
  });

  it("checks only the schedule kind chosen", () => {
    expect(validateDraft(draft({ scheduleKind: "rrule", cron: "nonsense", rrule: "FREQ=HOURLY" }), NOW)).toEqual({});
    expect(validateDraft(draft({ scheduleKind: "rrule", rrule: "" }), NOW).rrule).toMatch(/Give a rule/);
  });

  it("refuses an unknown timezone, a one-off time in the past and a negative or fractional number", () => {
    const errors = validateDraft(draft({ timezone: "Mars/Olympus", misfire_grace_s: "-1", max_concurrent: "1.5" }), NOW);
    expect(errors.timezone).toMatch(/not an IANA timezone/);
    expect(errors.misfire_grace_s).toBe("Misfire grace is a whole number of 0 or more.");
    expect(errors.max_concurrent).toBe("Max concurrent runs is a whole number of 0 or more.");
    expect(validateDraft(draft({ scheduleKind: "at", at: "2026-12-07T10:59" }), NOW).at).toMatch(/has passed/);
    expect(validateDraft(draft({ scheduleKind: "at", at: "2026-12-07T11:01" }), NOW).at).toBeUndefined();
    expect(validateDraft(draft({ scheduleKind: "at", at: "" }), NOW).at).toBe("Give a date and time.");
  });

  it("needs a name, the required config fields and JSON objects where JSON is asked", () => {
    const errors = validateDraft({ ...emptyDraft("event"), config: { event_filter: "[1, 2]" }, input_mapping: "{oops" }, NOW);
    expect(errors.name).toBe("Give the trigger a name.");
    expect(errors.event_source).toBe("Event source is required.");
    expect(errors.event_filter).toMatch(/A JSON object/);
    expect(errors.input_mapping).toMatch(/^Not JSON/);
    expect(errors.cron, "no schedule checks for an event trigger").toBeUndefined();
  });
});

describe("the request body", () => {
  it("sends only the chosen schedule field, the others null, with the timezone", () => {
    const body = createBody(draft({ cron: "  */5   *  * * * " }), "invoice");
    expect(body).toMatchObject({ procedure_id: "invoice", trigger_type: "scheduled", cron: "*/5 * * * *", rrule: null, at: null, timezone: "Europe/Berlin" });
    expect(body).toMatchObject({ misfire_grace_s: 300, coalesce: true, overlap: "allow", max_concurrent: 0, input_mapping: null, config: null });
    const rule = draftFields(draft({ scheduleKind: "rrule", rrule: "RRULE:FREQ=DAILY;BYHOUR=9" }));
    expect(rule).toMatchObject({ cron: null, rrule: "FREQ=DAILY;BYHOUR=9", at: null });
  });

  it("sends a one-off time as the UTC instant of the wall time in the chosen zone", () => {
    expect(draftFields(draft({ scheduleKind: "at", at: "2027-01-15T09:00" })).at).toBe("2027-01-15T08:00:00Z");
    expect(draftFields(draft({ scheduleKind: "at", at: "2027-07-15T09:00" })).at).toBe("2027-07-15T07:00:00Z");
    expect(draftFields(draft({ scheduleKind: "at", at: "2027-07-15T09:00", timezone: "America/New_York" })).at).toBe("2027-07-15T13:00:00Z");
  });

  it("sends no schedule at all for other kinds of trigger", () => {
    const body = createBody({ ...emptyDraft("webhook"), name: "hook", cron: "* * * * *", dedupe_window_s: "3600", max_concurrent: "3" }, "invoice");
    expect(body).toMatchObject({ trigger_type: "webhook", cron: null, rrule: null, at: null, timezone: null, dedupe_window_s: 3600, max_concurrent: 3 });
  });
});

describe("editing a registration", () => {
  it("loads its fields, its config as plain fields and its mapping as JSON text", () => {
    const d = draftFrom(READ);
    expect(d).toMatchObject({ name: "events", trigger_type: "event", overlap: "skip", max_concurrent: "2", misfire_grace_s: "60", dedupe_window_s: "600", coalesce: false });
    expect(d.config).toEqual({ event_source: "orders", event_type: "order.created", event_filter: "" });
    expect(JSON.parse(d.input_mapping)).toEqual({ invoice_id: "{{ payload.id }}" });
  });

  it("writes the fields back over the config, keeping keys it has no field for", () => {
    const d = draftFrom(READ);
    d.config = { event_source: "orders-eu", event_type: "order.created, order.paid", event_filter: '{"region": "EU"}' };
    expect(configOf(d)).toEqual({
      event_config: { event_source: "orders-eu", event_type: ["order.created", "order.paid"], event_filter: { region: "EU" }, broker: "redis" },
      other: { kept: true },
    });
    d.config = { event_source: "", event_type: "", event_filter: "" };
    expect(configOf(d), "emptied fields are removed, and an emptied section with them").toEqual({ event_config: { broker: "redis" }, other: { kept: true } });
  });

  it("shows a saved one-off time on the wall clock of its zone, and a rule as a rule", () => {
    const at = draftFrom({ ...READ, trigger_type: "scheduled", config: null, at: "2027-03-28T01:30:00Z", timezone: "Europe/Berlin" });
    expect(at.scheduleKind).toBe("at");
    expect(at.at).toBe("2027-03-28T03:30");
    expect(draftFrom({ ...READ, trigger_type: "scheduled", rrule: "FREQ=DAILY" }).scheduleKind).toBe("rrule");
  });
});

describe("chains and triggers from the CKP", () => {
  it("keeps a run-completed chain's settings at the top of config, as the server reads them", () => {
    const d = { ...emptyDraft("run_completed"), name: "after invoice", config: { source_procedure_id: "invoice", on: "completed, failed", filter: "outputs.amount > 100" } };
    expect(validateDraft(d, NOW)).toEqual({});
    expect(configOf(d)).toEqual({ source_procedure_id: "invoice", on: ["completed", "failed"], filter: "outputs.amount > 100" });
    const fromCkp = draftFrom({ ...READ, trigger_type: "run_completed", config: { run_completed_config: { source_procedure_id: "a", on: ["failed"] } } });
    expect(fromCkp.config).toMatchObject({ source_procedure_id: "a", on: "failed", filter: "" });
  });

  it("sends only the policies when editing a trigger that comes from the CKP", () => {
    const d = { ...draftFrom({ ...READ, source: "ckp" }), overlap: "queue" as const, max_concurrent: "4" };
    const body = updateBody(d, "ckp");
    expect(Object.keys(body).sort()).toEqual(["coalesce", "dedupe_window_s", "enabled", "input_mapping", "max_concurrent", "misfire_grace_s", "overlap"]);
    expect(body).toMatchObject({ overlap: "queue", max_concurrent: 4 });
    expect(Object.keys(updateBody(d, "api"))).toContain("config");
  });

  it("says what fires a trigger: the server's words for a schedule, else its main setting", () => {
    expect(summary({ ...READ, trigger_type: "scheduled", cron: "* * * * *", schedule_description: "every minute (UTC)" })).toBe("every minute (UTC)");
    expect(summary(READ)).toBe("event source orders");
    expect(summary({ ...READ, trigger_type: "webhook", config: null })).toBe("signed deliveries");
    expect(summary({ ...READ, trigger_type: "webhook", config: { webhook_config: { allowed_sources: ["10.0.0.0/8"] } } })).toBe("signed deliveries from 10.0.0.0/8");
    expect(summary({ ...READ, trigger_type: "file_watch", config: { file_watch_config: { path: "/data/in" } } })).toBe("folder /data/in");
  });
});

describe("server errors at the fields", () => {
  it("puts a schedule problem at the schedule field being edited and config keys at their field", () => {
    const scheduled = { scheduleKind: "rrule" as const, trigger_type: "scheduled" as const };
    expect(formFieldOf("schedule", scheduled)).toBe("rrule");
    expect(formFieldOf("cron", { ...scheduled, scheduleKind: "cron" })).toBe("cron");
    expect(formFieldOf("body.timezone", scheduled)).toBe("timezone");
    const event = { scheduleKind: "cron" as const, trigger_type: "event" as const };
    expect(formFieldOf("config.event_config.event_source", event)).toBe("event_source");
    expect(formFieldOf("event_config.event_filter.status", event), "a key inside the filter is the filter's problem").toBe("event_filter");
    expect(formFieldOf("config.file_watch_config.path", { ...event, trigger_type: "file_watch" })).toBe("path");
    expect(formFieldOf("config.source_procedure_id", { ...event, trigger_type: "run_completed" })).toBe("source_procedure_id");
  });

  it("answers null for what the form has no field for, so the message is shown with the form", () => {
    const event = { scheduleKind: "cron" as const, trigger_type: "event" as const };
    expect(formFieldOf("trigger_type", event)).toBeNull();
    expect(formFieldOf("procedure_id", event)).toBeNull();
    expect(formFieldOf("config.file_watch_config.path", event), "not a field of an event trigger").toBeNull();
  });
});
