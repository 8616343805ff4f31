// The Alerts page, the rule form and the run page's Alerts panel, rendered as several
// identities and against servers with different channels: what each sees and is offered.
import { describe, expect, it, vi } from "vitest";
import { visibleNav } from "@/components/layout/nav";
import { keys } from "@/lib/api/keys";
import { can } from "@/lib/auth/roles";
import { identity, renderAs } from "@/test/renderAs";
import { AlertRuleForm } from "./AlertRuleForm";
import { AlertsView } from "./AlertsView";
import { RunAlertsPanel } from "./RunAlertsPanel";
import { alertKeys, type AlertChannels, type AlertDeliveryRead, type AlertRuleRead } from "./types";

const search = { value: "" };
vi.mock("next/navigation", () => ({
  useSearchParams: () => new URLSearchParams(search.value),
  useRouter: () => ({ replace: () => undefined, push: () => undefined }),
  usePathname: () => "/alerts",
}));

const T = "2026-12-07T10:00:00Z";
const BOTH: AlertChannels = { webhook: true, webhook_signed: true, email: true };
const NONE: AlertChannels = { webhook: false, webhook_signed: false, email: false };

const RULE: AlertRuleRead = {
  rule_id: "r1",
  name: "Invoices on-call",
  events: ["run_failed", "sla_breached"],
  project_id: null,
  procedure_id: "invoice_processing",
  webhook: true,
  email_to: ["oncall@example.com"],
  enabled: true,
  created_by: "admin",
  created_at: T,
  updated_at: T,
};
const PROJECT_RULE: AlertRuleRead = { ...RULE, rule_id: "r2", name: "Finance", procedure_id: null, project_id: "p1", email_to: [], enabled: false };

const DELIVERY: AlertDeliveryRead = {
  delivery_id: "d1",
  rule_id: "r1",
  run_id: "run-0123456789abcdef",
  seq: 12,
  event_type: "run_failed",
  channel: "webhook",
  status: "delivered",
  attempts: 1,
  last_error: null,
  next_attempt_at: T,
  created_at: T,
  delivered_at: T,
  payload: { summary: "Run run-0123 of invoice_processing v1 failed", rule: { rule_id: "r1", name: "Invoices on-call" } },
};

function page(channels: AlertChannels, rules: AlertRuleRead[] = [RULE, PROJECT_RULE]): [readonly unknown[], unknown][] {
  return [
    [alertKeys.channels, channels],
    [alertKeys.ruleList({ limit: 1000 }), { items: rules, total: rules.length }],
    [keys.projects, { items: [{ id: "p1", name: "Finance team", created_at: T, updated_at: T }], total: 1 }],
    [alertKeys.deliveryList({ status: "", limit: 50, offset: 0 }), { items: [DELIVERY, { ...DELIVERY, delivery_id: "d2", status: "failed", attempts: 8, last_error: "HTTP 500", delivered_at: null }], total: 2 }],
  ];
}

const FORM_CACHE: [readonly unknown[], unknown][] = [
  [keys.projects, { items: [{ id: "p1", name: "Finance team", created_at: T, updated_at: T }], total: 1 }],
  [keys.procedureList({ limit: 1000, offset: 0 }), { items: [], total: 0 }],
];

describe("alerts page", () => {
  it("is in the navigation for a viewer", () => {
    const viewer = identity("viewer");
    expect(visibleNav((role) => can(viewer, role)).map((n) => n.href)).toContain("/alerts");
  });

  it("shows every role the rules: events, scope, channels and state", () => {
    search.value = "";
    for (const role of ["viewer", "operator"] as const) {
      const html = renderAs(identity(role), <AlertsView />, page(BOTH));
      expect(html, role).toContain("Invoices on-call");
      expect(html, role).toContain("Procedure invoice_processing");
      expect(html, role).toContain("Project Finance team");
      expect(html, role).toContain("oncall@example.com");
      expect(html, role).toContain("sla_breached");
      expect(html, role).toContain("the notification webhook (signed) and e-mail through the SMTP server");
    }
  });

  it("gives operators New rule, the enabled switch, test, edit and delete; viewers none of them", () => {
    search.value = "";
    const operator = renderAs(identity("operator"), <AlertsView />, page(BOTH));
    for (const control of ["new-alert-rule", "alert-rule-enabled", "test-alert-rule", "edit-alert-rule", "delete-alert-rule"]) expect(operator).toContain(`data-testid="${control}"`);
    for (const me of [identity("viewer"), identity("author"), identity("viewer", { p1: "operator" }), "unknown" as const]) {
      const html = renderAs(me, <AlertsView />, page(BOTH));
      for (const control of ["new-alert-rule", "alert-rule-enabled", "test-alert-rule", "edit-alert-rule", "delete-alert-rule"]) expect(html).not.toContain(control);
    }
    expect(renderAs(identity("viewer"), <AlertsView />, page(BOTH))).toContain(">disabled<");
  });

  it("explains that alerts need a channel and offers no New rule on a server without one", () => {
    search.value = "";
    const html = renderAs(identity("admin"), <AlertsView />, page(NONE, []));
    expect(html).toContain('data-testid="no-alert-channels"');
    expect(html).toContain("LANGORCH_NOTIFY__WEBHOOK_URL");
    expect(html).toContain("LANGORCH_NOTIFY__SMTP_HOST");
    expect(html).not.toContain("new-alert-rule");
  });

  it("lists deliveries with their status, channel, event, run link, attempts and last error", () => {
    search.value = "tab=deliveries";
    const html = renderAs(identity("viewer"), <AlertsView />, page(BOTH));
    expect(html.match(/data-testid="delivery-row"/g)).toHaveLength(2);
    expect(html).toContain('data-status="delivered"');
    expect(html).toContain('data-status="failed"');
    expect(html).toContain('href="/runs/view?id=run-0123456789abcdef"');
    expect(html).toContain("HTTP 500");
    expect(html).toContain("rule Invoices on-call");
    expect(html).toContain("1–2 of 2");
  });
});

describe("alert rule form", () => {
  it("offers the events with what each means, the scopes, the webhook and e-mail", () => {
    const html = renderAs(identity("operator"), <AlertRuleForm channels={BOTH} onDone={() => undefined} />, FORM_CACHE);
    for (const id of ["alert-event-run_failed", "alert-event-sla_breached", "alert-event-step_error", "alert-scope-all", "alert-scope-project", "alert-scope-procedure", "alert-webhook", "alert-email-to"]) {
      expect(html).toContain(`data-testid="${id}"`);
    }
    expect(html).toContain("a node took longer than its sla.max_duration_ms");
    expect(html).toContain("signed with X-LangOrch-Signature");
  });

  it("shows no webhook checkbox without a webhook, and no e-mail field without an SMTP server", () => {
    const emailOnly = renderAs(identity("operator"), <AlertRuleForm channels={{ webhook: false, webhook_signed: false, email: true }} onDone={() => undefined} />, FORM_CACHE);
    expect(emailOnly).not.toContain('data-testid="alert-webhook"');
    expect(emailOnly).toContain("No notification webhook on this server (LANGORCH_NOTIFY__WEBHOOK_URL)");
    const webhookOnly = renderAs(identity("operator"), <AlertRuleForm channels={{ webhook: true, webhook_signed: false, email: false }} onDone={() => undefined} />, FORM_CACHE);
    expect(webhookOnly).not.toContain('data-testid="alert-email-to"');
    expect(webhookOnly).toContain("No SMTP server for e-mail on this server (LANGORCH_NOTIFY__SMTP_HOST)");
    expect(webhookOnly).toContain("unsigned");
  });

  it("edits a rule from what it is, and says when saving drops a channel the server lost", () => {
    const html = renderAs(identity("operator"), <AlertRuleForm channels={{ webhook: true, webhook_signed: true, email: false }} rule={RULE} onDone={() => undefined} />, FORM_CACHE);
    expect(html).toContain('aria-label="Edit alert rule Invoices on-call"');
    expect(/<input[^>]*data-testid="alert-scope-procedure"[^>]*>/.exec(html)?.[0]).toContain("checked");
    expect(html).toContain("This rule e-mailed oncall@example.com; saving it here stops that.");
  });
});

describe("run page Alerts panel", () => {
  const runCache = (items: AlertDeliveryRead[]): [readonly unknown[], unknown][] => [[alertKeys.deliveryList({ run_id: "run-1", limit: 20, offset: 0 }), { items, total: items.length }]];

  it("is absent when the run raised no alert", () => {
    expect(renderAs(identity("viewer"), <RunAlertsPanel runId="run-1" />, runCache([]))).not.toContain("Alerts");
  });

  it("shows each delivery's status, event and channel, and links to the Alerts page", () => {
    const html = renderAs(identity("viewer"), <RunAlertsPanel runId="run-1" />, runCache([DELIVERY, { ...DELIVERY, delivery_id: "d2", channel: "email", status: "pending", delivered_at: null, attempts: 2, last_error: "421 try later" }]));
    expect(html.match(/data-testid="run-alert"/g)).toHaveLength(2);
    expect(html).toContain('data-channel="email"');
    expect(html).toContain("run_failed");
    expect(html).toContain("421 try later");
    expect(html).toContain('href="/alerts?tab=deliveries"');
  });
});
