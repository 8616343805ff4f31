import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api/errors";
import { ruleNameOf, summaryOf } from "./delivery";
import { createBody, draftFrom, emptyDraft, parseEmails, scopeOf, scopeText, serverErrors, updateBody, validateDraft, type RuleDraft } from "./form";
import type { AlertChannels, AlertRuleRead } from "./types";

const BOTH: AlertChannels = { webhook: true, webhook_signed: true, email: true };
const WEBHOOK_ONLY: AlertChannels = { webhook: true, webhook_signed: false, email: false };
const EMAIL_ONLY: AlertChannels = { webhook: false, webhook_signed: false, email: true };

function draft(changes: Partial<RuleDraft> = {}): RuleDraft {
  return { ...emptyDraft(BOTH), name: "On-call", ...changes };
}

const RULE: AlertRuleRead = {
  rule_id: "r1",
  name: "Invoices on-call",
  events: ["sla_breached", "run_failed"],
  project_id: null,
  procedure_id: "invoice_processing",
  webhook: true,
  email_to: ["oncall@example.com"],
  enabled: true,
  created_by: "admin",
  created_at: "2026-12-07T10:00:00Z",
  updated_at: "2026-12-07T10:00:00Z",
};

describe("a new alert rule", () => {
  it("starts on failed runs of every procedure, on the webhook when the server has one", () => {
    expect(emptyDraft(BOTH)).toMatchObject({ events: ["run_failed"], scope: "all", webhook: true, email_to: "", enabled: true });
    expect(emptyDraft(EMAIL_ONLY).webhook).toBe(false);
  });

  it("sends only the scope chosen: all, a project or a procedure", () => {
    const base = { project_id: "p1", procedure_id: "invoice" };
    expect(createBody(draft({ ...base, scope: "all" }), BOTH)).toMatchObject({ project_id: null, procedure_id: null });
    expect(createBody(draft({ ...base, scope: "project" }), BOTH)).toMatchObject({ project_id: "p1", procedure_id: null });
    expect(createBody(draft({ ...base, scope: "procedure" }), BOTH)).toMatchObject({ project_id: null, procedure_id: "invoice" });
  });

  it("sends the events in the documented order, the name trimmed", () => {
    const body = createBody(draft({ name: "  On-call  ", events: ["step_error", "run_failed"] }), BOTH);
    expect(body.name).toBe("On-call");
    expect(body.events).toEqual(["run_failed", "step_error"]);
  });

  it("sends e-mail addresses as a list, each once, and null for none", () => {
    expect(createBody(draft({ email_to: "a@x.org, b@y.org;a@x.org\nc@z.org " }), BOTH).email_to).toEqual(["a@x.org", "b@y.org", "c@z.org"]);
    expect(createBody(draft({ email_to: " , " }), BOTH).email_to).toBeNull();
  });

  it("never names a channel the server lacks", () => {
    const d = draft({ webhook: true, email_to: "a@x.org" });
    expect(createBody(d, WEBHOOK_ONLY)).toMatchObject({ webhook: true, email_to: null });
    expect(createBody(d, EMAIL_ONLY)).toMatchObject({ webhook: false, email_to: ["a@x.org"] });
  });
});

describe("checks before sending", () => {
  it("passes a complete draft", () => {
    expect(validateDraft(draft(), BOTH)).toEqual({});
  });

  it("asks for a name, an event, the project or procedure of its scope", () => {
    const errors = validateDraft(draft({ name: " ", events: [], scope: "project" }), BOTH);
    expect(Object.keys(errors).sort()).toEqual(["events", "name", "project_id"]);
    expect(validateDraft(draft({ scope: "procedure" }), BOTH).procedure_id).toBe("Choose a procedure.");
  });

  it("names the addresses that are not addresses", () => {
    expect(validateDraft(draft({ email_to: "ok@x.org, nope, also@" }), BOTH).email_to).toBe("Not an e-mail address: nope, also@");
  });

  it("asks for a channel, offering only those the server has", () => {
    expect(validateDraft(draft({ webhook: false }), BOTH).channels).toBe("Choose where alerts go: tick the webhook or enter e-mail addresses.");
    expect(validateDraft(draft({ webhook: false }), WEBHOOK_ONLY).channels).toBe("Choose where alerts go: tick the webhook.");
    // A ticked webhook the server lacks is no channel.
    expect(validateDraft(draft({ webhook: true }), EMAIL_ONLY).channels).toBe("Choose where alerts go: enter e-mail addresses.");
  });

  it("reads addresses the way they are sent", () => {
    expect(parseEmails("")).toEqual([]);
    expect(parseEmails(" a@x.org  b@y.org ")).toEqual(["a@x.org", "b@y.org"]);
  });
});

describe("editing a rule", () => {
  it("starts from the rule", () => {
    expect(draftFrom(RULE)).toEqual({
      name: "Invoices on-call",
      events: ["run_failed", "sla_breached"],
      scope: "procedure",
      project_id: "",
      procedure_id: "invoice_processing",
      webhook: true,
      email_to: "oncall@example.com",
      enabled: true,
    });
    expect(scopeOf({ project_id: "p1", procedure_id: null })).toBe("project");
    expect(scopeOf({ project_id: null, procedure_id: null })).toBe("all");
  });

  it("sends nothing when nothing changed", () => {
    expect(updateBody(draftFrom(RULE), RULE, BOTH)).toEqual({});
  });

  it("sends only what changed, and null to clear a scope or the addresses", () => {
    const d = { ...draftFrom(RULE), scope: "project" as const, project_id: "p1", email_to: "", events: ["run_failed" as const] };
    expect(updateBody(d, RULE, BOTH)).toEqual({ events: ["run_failed"], project_id: "p1", procedure_id: null, email_to: null });
  });

  it("drops a channel the server no longer has", () => {
    expect(updateBody(draftFrom(RULE), RULE, WEBHOOK_ONLY)).toEqual({ email_to: null });
  });
});

describe("the server's 422 at its field", () => {
  it("puts a rule service error where details.loc points", () => {
    const e = new ApiError(422, "invalid", "this server has no SMTP server for e-mail alerts (set LANGORCH_NOTIFY__SMTP_HOST)", { loc: ["body", "email_to"] });
    expect(serverErrors(e)).toEqual({ fields: { email_to: e.message }, other: null });
    const none = new ApiError(422, "invalid", "an alert rule needs a channel", { loc: ["body", "webhook"] });
    expect(serverErrors(none).fields).toEqual({ channels: "an alert rule needs a channel" });
    const scope = new ApiError(422, "invalid", "procedure 'x' does not exist", { loc: ["body", "procedure_id"] });
    expect(serverErrors(scope).fields).toEqual({ procedure_id: "procedure 'x' does not exist" });
  });

  it("puts request validation errors at their fields, the first per field", () => {
    const e = new ApiError(422, "invalid_request", "the request does not match the API schema", [
      { loc: ["body", "email_to", 0], message: "String should match pattern" },
      { loc: ["body", "email_to", 1], message: "second" },
      { loc: ["body", "name"], message: "String should have at least 1 character" },
      { loc: ["body", "colour"], message: "Extra inputs are not permitted" },
    ]);
    expect(serverErrors(e)).toEqual({
      fields: { email_to: "String should match pattern", name: "String should have at least 1 character" },
      other: "colour: Extra inputs are not permitted",
    });
  });

  it("keeps other failures whole", () => {
    expect(serverErrors(new ApiError(403, "forbidden", "needs operator", null))).toEqual({ fields: {}, other: "needs operator" });
    expect(serverErrors(new Error("offline"))).toEqual({ fields: {}, other: "offline" });
    expect(serverErrors(null)).toEqual({ fields: {}, other: null });
  });
});

describe("what a rule and a delivery say", () => {
  it("names the scope in words", () => {
    expect(scopeText({ project_id: null, procedure_id: null })).toBe("All procedures");
    expect(scopeText({ project_id: "p1", procedure_id: null }, (id) => (id === "p1" ? "Finance" : undefined))).toBe("Project Finance");
    expect(scopeText({ project_id: "p9", procedure_id: null }, () => undefined)).toBe("Project p9");
    expect(scopeText({ project_id: null, procedure_id: "invoice" })).toBe("Procedure invoice");
  });

  it("reads the rule name and summary from the payload when it has them", () => {
    expect(ruleNameOf({ payload: { rule: { rule_id: "r1", name: "On-call" } } })).toBe("On-call");
    expect(ruleNameOf({ payload: { rule: "r1" } })).toBeNull();
    expect(summaryOf({ payload: { summary: "Run x failed" } })).toBe("Run x failed");
    expect(summaryOf({ payload: {} })).toBeNull();
  });
});
