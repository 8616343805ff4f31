// The triggers page, the procedure's Triggers tab and the trigger form, rendered as several
// identities: what each role sees, and what the schedule editor and webhook panel show.
import { describe, expect, it, vi } from "vitest";
import { visibleNav } from "@/components/layout/nav";
import { keys } from "@/lib/api/keys";
import type { ProcedureDetail, TriggerNextFires, TriggerRead } from "@/lib/api/models";
import { can } from "@/lib/auth/roles";
import { identity, renderAs } from "@/test/renderAs";
import { ProcedureTriggersTab } from "./ProcedureTriggersTab";
import { TriggerForm } from "./TriggerForm";
import { TriggersView } from "./TriggersView";

const search = { value: "" };
vi.mock("next/navigation", () => ({
  useSearchParams: () => new URLSearchParams(search.value),
  useRouter: () => ({ replace: () => undefined, push: () => undefined }),
  usePathname: () => "/triggers",
}));

const T = "2026-12-07T10:00:00Z";

function trigger(changes: Partial<TriggerRead>): TriggerRead {
  return {
    id: "t-sched-1",
    procedure_id: "invoice",
    version: null,
    source: "api",
    name: "Every minute",
    trigger_type: "scheduled",
    enabled: true,
    cron: "* * * * *",
    rrule: null,
    at: null,
    timezone: "Europe/Berlin",
    schedule_description: "every minute (Europe/Berlin)",
    misfire_grace_s: 300,
    coalesce: true,
    overlap: "allow",
    max_concurrent: 0,
    dedupe_window_s: 86400,
    input_mapping: null,
    config: null,
    webhook_url: null,
    next_fire_at: "2026-12-07T10:01:00Z",
    last_fired_at: "2026-12-07T09:59:00Z",
    last_run_id: "run-0123456789abcdef",
    fire_count: 3,
    created_by: "admin",
    created_at: T,
    updated_at: T,
    has_secret: false,
    previous_secret_until: null,
    ...changes,
  };
}

const SCHEDULE = trigger({});
const HOOK = trigger({ id: "t-hook-1", name: "Shop orders", trigger_type: "webhook", cron: null, timezone: null, schedule_description: null, next_fire_at: null, has_secret: true, webhook_url: "/api/triggers/webhook/invoice" });
const FROM_CKP = trigger({ id: "t-ckp-1", name: "scheduled (from the procedure)", source: "ckp", cron: "0 9 * * 1-5", schedule_description: "every weekday at 09:00 (Europe/Berlin)" });

const PROCEDURE: ProcedureDetail = {
  ckp_json: { procedure_id: "invoice", variables_schema: { invoice_id: { type: "string", required: true } } },
  created_at: T,
  id: "row1",
  ir_hash: "abc",
  procedure_id: "invoice",
  project_id: "p1",
  run_count: 0,
  status: "active",
  unchanged: false,
  updated_at: T,
  version: "1.0.0",
};

const NEXT: TriggerNextFires = {
  trigger_id: SCHEDULE.id,
  enabled: true,
  timezone: "Europe/Berlin",
  description: "every minute (Europe/Berlin)",
  fires: [
    { utc: "2026-12-07T10:01:00Z", local: "2026-12-07T11:01:00+01:00" },
    { utc: "2026-12-07T10:02:00Z", local: "2026-12-07T11:02:00+01:00" },
  ],
};

const all: [readonly unknown[], unknown] = [keys.triggerList({ trigger_type: "", enabled: null }), { items: [SCHEDULE, HOOK], total: 2 }];

function tabCache(list: TriggerRead[]): [readonly unknown[], unknown][] {
  return [
    [keys.triggerList({ procedure_id: "invoice" }), { items: list, total: list.length }],
    [keys.triggerNextFires(SCHEDULE.id, 10), NEXT],
    [keys.triggerNextFires(FROM_CKP.id, 10), { ...NEXT, trigger_id: FROM_CKP.id }],
    [keys.triggerHistory(SCHEDULE.id), { items: [{ id: 7, trigger_id: SCHEDULE.id, fired_at: T, scheduled_for: T, outcome: "queued", run_id: "run-from-history-1", payload_hash: null, detail: null }], total: 1 }],
    [keys.triggerHistory(HOOK.id), { items: [], total: 0 }],
    [keys.triggerHistory(FROM_CKP.id), { items: [], total: 0 }],
  ];
}

describe("triggers page", () => {
  it("is in the navigation for a viewer", () => {
    const viewer = identity("viewer");
    expect(visibleNav((role) => can(viewer, role)).map((n) => n.href)).toContain("/triggers");
  });

  it("shows every role the triggers, their procedure, state, next and last fire with its run", () => {
    for (const role of ["viewer", "author", "operator"] as const) {
      const html = renderAs(identity(role), <TriggersView />, [all]);
      expect(html, role).toContain("Every minute");
      expect(html, role).toContain("every minute (Europe/Berlin)");
      expect(html, role).toContain('href="/procedures/view?id=invoice&amp;tab=triggers"');
      expect(html, role).toContain('href="/runs/view?id=run-0123456789abcdef"');
      expect(html, role).toContain(">enabled<");
    }
  });

  it("offers pause and fire now to an operator only", () => {
    const operator = renderAs(identity("operator"), <TriggersView />, [all]);
    expect(operator).toContain('data-testid="pause-trigger"');
    expect(operator).toContain('data-testid="fire-trigger"');
    for (const me of [identity("viewer"), identity("author"), identity("viewer", { p1: "operator" }), "unknown" as const]) {
      const html = renderAs(me, <TriggersView />, [all]);
      expect(html).not.toContain("pause-trigger");
      expect(html).not.toContain("fire-trigger");
    }
  });

  it("offers resume on a paused trigger", () => {
    const html = renderAs(identity("admin"), <TriggersView />, [[all[0], { items: [trigger({ enabled: false })], total: 1 }]]);
    expect(html).toContain(">paused<");
    expect(html).toContain('data-testid="resume-trigger"');
  });
});

describe("procedure Triggers tab", () => {
  it("gives an operator New trigger, and edit, pause, fire and delete on the selected trigger", () => {
    search.value = "";
    const html = renderAs(identity("operator"), <ProcedureTriggersTab procedure={PROCEDURE} />, tabCache([SCHEDULE, HOOK]));
    expect(html).toContain('data-testid="new-trigger"');
    expect(html).toContain('data-testid="edit-trigger"');
    expect(html).toContain('data-testid="delete-trigger"');
    expect(html).toContain('data-testid="fire-trigger"');
  });

  it("lets a viewer read the schedule, its next fires in its zone and the history, with no controls", () => {
    search.value = "";
    const html = renderAs(identity("viewer"), <ProcedureTriggersTab procedure={PROCEDURE} />, tabCache([SCHEDULE, HOOK]));
    expect(html).toContain('data-testid="schedule-description">every minute (Europe/Berlin)<');
    expect(html.match(/data-testid="next-fire"/g)).toHaveLength(2);
    expect(html).toContain("11:01");
    expect(html).toContain("2026-12-07T10:01:00Z");
    expect(html).toContain('href="/runs/view?id=run-from-history-1"');
    for (const control of ["new-trigger", "edit-trigger", "delete-trigger", "fire-trigger", "pause-trigger"]) expect(html).not.toContain(control);
  });

  it("lets an operator of the procedure's project create, change and fire its triggers", () => {
    search.value = "";
    const html = renderAs(identity("viewer", { p1: "operator" }), <ProcedureTriggersTab procedure={PROCEDURE} />, tabCache([SCHEDULE]));
    expect(html).toContain('data-testid="new-trigger"');
    expect(html).toContain("edit-trigger");
    expect(html).toContain("fire-trigger");
  });

  it("gives an operator of another project nothing to change", () => {
    search.value = "";
    const html = renderAs(identity("viewer", { p2: "operator" }), <ProcedureTriggersTab procedure={PROCEDURE} />, tabCache([SCHEDULE]));
    for (const control of ["new-trigger", "edit-trigger", "fire-trigger"]) expect(html).not.toContain(control);
  });

  it("shows a webhook's URL and a signing curl example without the secret; rotation for an operator", () => {
    search.value = `trigger=${HOOK.id}`;
    const operator = renderAs(identity("operator"), <ProcedureTriggersTab procedure={PROCEDURE} />, tabCache([SCHEDULE, HOOK]));
    expect(operator).toContain("/api/triggers/webhook/invoice?trigger=t-hook-1</code>");
    expect(operator).toContain("openssl dgst -sha256 -hmac &quot;$SECRET&quot;");
    expect(operator).toContain("SECRET=&#x27;&lt;the webhook secret&gt;&#x27;");
    expect(operator).toContain("BODY=&#x27;{&quot;invoice_id&quot;:&quot;example&quot;}&#x27;");
    expect(operator).toContain('data-testid="rotate-webhook-secret"');
    expect(operator).not.toContain('data-testid="webhook-secret"');
    const viewer = renderAs(identity("viewer"), <ProcedureTriggersTab procedure={PROCEDURE} />, tabCache([SCHEDULE, HOOK]));
    expect(viewer).toContain('data-testid="curl-example"');
    expect(viewer).not.toContain("rotate-webhook-secret");
  });

  it("never offers to delete a trigger that comes from the CKP", () => {
    search.value = `trigger=${FROM_CKP.id}`;
    const html = renderAs(identity("admin"), <ProcedureTriggersTab procedure={PROCEDURE} />, tabCache([FROM_CKP]));
    expect(html).toContain("from the CKP");
    expect(html).toContain('data-testid="edit-trigger"');
    expect(html).not.toContain("delete-trigger");
  });
});

describe("trigger form", () => {
  it("starts as a cron schedule with an IANA timezone picker and the schedule policies", () => {
    const html = renderAs(identity("operator"), <TriggerForm procedureId="invoice" onSaved={() => undefined} onCancel={() => undefined} />);
    expect(html).toContain('data-testid="trigger-cron"');
    expect(html).toContain('<option value="Europe/Berlin">');
    expect(html).toContain('<option value="America/New_York">');
    expect(html).toContain('data-testid="trigger-misfire-grace"');
    expect(html).toContain('data-testid="trigger-coalesce"');
    expect(html).toContain('data-testid="trigger-overlap"');
    expect(html).toContain('data-testid="trigger-max-concurrent"');
    expect(html).not.toContain('data-testid="trigger-dedupe"');
    expect(html).toContain("Enter a schedule to see when it fires.");
  });

  it("edits a webhook's dedupe window, concurrency and allowed sources, with its type fixed", () => {
    const html = renderAs(identity("operator"), <TriggerForm procedureId="invoice" trigger={{ ...HOOK, dedupe_window_s: 600, config: { webhook_config: { allowed_sources: ["10.0.0.0/8"] } } }} onSaved={() => undefined} onCancel={() => undefined} />);
    expect(/<input[^>]*data-testid="trigger-dedupe"[^>]*>/.exec(html)?.[0]).toContain('value="600"');
    expect(/<input[^>]*data-testid="trigger-config-allowed_sources"[^>]*>/.exec(html)?.[0]).toContain('value="10.0.0.0/8"');
    expect(/<select[^>]*data-testid="trigger-type"[^>]*>/.exec(html)?.[0]).toContain("disabled");
    expect(html).not.toContain('data-testid="trigger-cron"');
  });

  it("keeps what the CKP says read-only on a trigger from the CKP, its policies editable", () => {
    const html = renderAs(identity("operator"), <TriggerForm procedureId="invoice" trigger={FROM_CKP} onSaved={() => undefined} onCancel={() => undefined} />);
    expect(html).toContain("comes from the procedure&#x27;s CKP");
    expect(/<input[^>]*data-testid="trigger-name"[^>]*>/.exec(html)?.[0]).toContain("disabled");
    expect(html).toMatch(/<fieldset[^>]*disabled=""[^>]*><legend[^>]*>Schedule</);
    expect(/<input[^>]*data-testid="trigger-misfire-grace"[^>]*>/.exec(html)?.[0]).not.toContain("disabled");
    expect(/<select[^>]*data-testid="trigger-overlap"[^>]*>/.exec(html)?.[0]).not.toContain("disabled");
  });
});
