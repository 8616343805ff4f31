// Alerts in a real browser against a real LangOrch server that has a notification webhook:
// the admin makes an alert rule on a procedure through the form, sees it listed, disables
// and enables it, sends a test alert (the signed POST reaches the webhook), makes a run of
// the procedure fail and sees its alert delivered (on the Alerts page and on the run's
// page), and deletes the rule. A viewer reads the rules with no controls.
//
// The webhook is a loopback HTTP receiver this file starts; the server it talks to is this
// file's own (the `server` fixture overridden below, so other specs keep a server without a
// webhook). E-mail is left out: receiving SMTP would need a new dependency, and the
// backend's tests cover the SMTP channel; this server has none, so the form says so.
//
// With UPDATE_DOC_SCREENSHOTS=1 the screenshot docs/alerts.md shows is written to
// docs/images/ as well as to test-artifacts/.
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import type { AlertRuleRead } from "../src/components/alerts/types";
import { startServer } from "./server";
import { axeSerious, ensureProcedure, expect, screenshot, signIn, startRun, test as base, watchConsole } from "./support";

const SECRET = "e2e-alert-webhook-secret-0001";
const RULE_NAME = "Ledger failures (e2e)";
const VIEWER = { username: "e2e-alerts-viewer", password: "viewer-password-0001" };
const DOC_IMAGES = join(import.meta.dirname, "..", "..", "docs", "images");

/** A screenshot for the scenario's artifacts and, when asked, for docs/alerts.md. */
async function docShot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  if (process.env.UPDATE_DOC_SCREENSHOTS === "1") {
    mkdirSync(DOC_IMAGES, { recursive: true });
    await page.screenshot({ path: join(DOC_IMAGES, `${name}.png`) });
  }
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
}

interface Receiver {
  url: string;
  received: Received[];
  close: () => Promise<void>;
}

/** An HTTP server on a free loopback port that answers 200 to everything and keeps what it got. */
async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // kept as text: the test says what it expected
      }
      received.push({ headers: req.headers, body, json });
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${String(port)}/langorch-alerts`,
    received,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => {
          done();
        });
      }),
  };
}

/** Whether a POST carries the signature docs/alerts.md describes: HMAC-SHA256 of "{timestamp}.{body}". */
function signedBy(secret: string, r: Received): boolean {
  const stamp = String(r.headers["x-langorch-timestamp"] ?? "");
  const given = Buffer.from(String(r.headers["x-langorch-signature"] ?? ""));
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${stamp}.${r.body}`).digest("hex")}`);
  return stamp !== "" && given.length === expected.length && timingSafeEqual(given, expected);
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

// This file's server has a notification webhook (and so a worker of its own).
// eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- extend() takes test fixtures first; the new one is the worker's.
const test = base.extend<Record<never, never>, { webhook: Receiver }>({
  webhook: [
    async ({}, provide) => {
      const receiver = await startReceiver();
      try {
        await provide(receiver);
      } finally {
        await receiver.close();
      }
    },
    { scope: "worker" },
  ],
  server: [
    async ({ webhook }, provide, workerInfo) => {
      const server = await startServer(`worker ${String(workerInfo.workerIndex)} (alerts, webhook ${webhook.url})`, {
        LANGORCH_NOTIFY__WEBHOOK_URL: webhook.url,
        LANGORCH_NOTIFY__WEBHOOK_SECRET: SECRET,
      });
      try {
        await provide(server);
      } finally {
        await server.stop();
      }
    },
    { scope: "worker", timeout: 120_000 },
  ],
});

test.describe.configure({ mode: "serial" });

const shared: { ruleId?: string; runId?: string } = {};

test("an operator makes an alert rule, toggles it and sends a signed test alert", async ({ page, request, webhook }) => {
  const procedureId = await ensureProcedure(request, "failing.ckp.json");
  for (const r of (await (await request.get("/api/alert-rules")).json()) as AlertRuleRead[]) {
    if (r.name === RULE_NAME) expect((await request.delete(`/api/alert-rules/${r.rule_id}`)).status()).toBe(204);
  }
  const errors = watchConsole(page);
  await page.goto("/alerts");
  await expect(page.getByRole("heading", { level: 1, name: "Alerts" })).toBeVisible();
  await expect(page.getByTestId("alert-channels")).toHaveText("This server sends alerts to the notification webhook (signed).");

  await page.getByTestId("new-alert-rule").click();
  const form = page.getByRole("form", { name: "New alert rule" });
  await test.step("the form offers the webhook, and says the server has no SMTP server", async () => {
    await expect(form.getByTestId("alert-webhook")).toBeChecked();
    await expect(form.getByTestId("no-email-note")).toHaveText("No SMTP server for e-mail on this server (LANGORCH_NOTIFY__SMTP_HOST).");
    await expect(form.getByTestId("alert-email-to")).toHaveCount(0);
  });
  await test.step("a rule with no channel or no name is refused at its fields before sending", async () => {
    await form.getByTestId("alert-webhook").uncheck();
    await form.getByTestId("save-alert-rule").click();
    await expect(form.getByText("Choose where alerts go: tick the webhook.")).toBeVisible();
    await expect(form.getByTestId("alert-rule-name")).toHaveAttribute("aria-invalid", "true");
  });
  await form.getByTestId("alert-rule-name").fill(RULE_NAME);
  await form.getByTestId("alert-webhook").check();
  await form.getByTestId("alert-event-step_error").check();
  await form.getByTestId("alert-scope-procedure").check();
  await form.getByTestId("alert-procedure").selectOption(procedureId);
  await screenshot(page, "alerts-new-rule");
  await form.getByTestId("save-alert-rule").click();
  await expect(form).toHaveCount(0);

  const row = page.getByTestId("alert-rule-row").filter({ hasText: RULE_NAME });
  await expect(row).toHaveCount(1);
  shared.ruleId = (await row.getAttribute("data-rule-id")) ?? undefined;
  await expect(row.getByTestId("alert-rule-scope")).toHaveText(`Procedure ${procedureId}`);
  await expect(row).toContainText("run_failed");
  await expect(row).toContainText("step_error");
  await expect(row).toContainText("webhook");

  await test.step("disabling and enabling the rule is saved", async () => {
    const toggle = row.getByTestId("alert-rule-enabled");
    await expect(toggle).toBeChecked();
    await toggle.click();
    await expect(toggle).not.toBeChecked();
    await expect.poll(async () => ((await (await request.get(`/api/alert-rules/${shared.ruleId ?? ""}`)).json()) as AlertRuleRead).enabled).toBe(false);
    await toggle.click();
    await expect(toggle).toBeChecked();
    await expect.poll(async () => ((await (await request.get(`/api/alert-rules/${shared.ruleId ?? ""}`)).json()) as AlertRuleRead).enabled).toBe(true);
  });

  await test.step("a test alert is sent, its result shown inline, and the signed POST arrives", async () => {
    const before = webhook.received.length;
    await row.getByTestId("test-alert-rule").click();
    const result = row.getByTestId("alert-test-result");
    await expect(result).toHaveCount(1);
    await expect(result).toHaveAttribute("data-ok", "true");
    await expect(result).toHaveText("webhook: sent");
    const posts = webhook.received.slice(before);
    expect(posts.map((p) => p.json.alert)).toEqual(["test"]);
    const post = posts[0];
    if (!post) throw new Error("no test alert arrived");
    expect(post.headers["x-langorch-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signedBy(SECRET, post), "the test alert is signed with the server's secret").toBe(true);
    expect(field(post.json.rule, "name")).toBe(RULE_NAME);
  });
  await screenshot(page, "alerts-rules");
  const violations = await axeSerious(page);
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
  expect(errors).toEqual([]);
});

test("a run that fails raises an alert, delivered to the webhook and shown on the Alerts page and the run", async ({ page, request, webhook }) => {
  test.skip(!shared.ruleId, "needs the rule of the first test");
  const errors = watchConsole(page);
  const runId = await startRun(request, "ui_e2e_failing", { label: "alerts" }, "failed");
  shared.runId = runId;

  await page.goto("/alerts?tab=deliveries");
  const delivery = page.locator(`[data-testid=delivery-row][data-run-id="${runId}"]`);
  await expect(delivery, "the run's alert is delivered").toHaveAttribute("data-status", "delivered", { timeout: 30_000 });
  await expect(delivery).toContainText("run_failed");
  await expect(delivery).toContainText("webhook");
  await expect(delivery).toContainText(`rule ${RULE_NAME}`);
  await expect(delivery.getByTestId("delivery-run-link")).toHaveAttribute("href", `/runs/view?id=${runId}`);

  await test.step("the status filter narrows the list", async () => {
    await page.getByTestId("delivery-status-filter").selectOption("failed");
    await expect(page.getByText("No failed deliveries.")).toBeVisible();
    await page.getByTestId("delivery-status-filter").selectOption("delivered");
    await expect(delivery).toBeVisible();
    await page.getByTestId("delivery-status-filter").selectOption("");
    await expect(delivery).toBeVisible();
  });
  await docShot(page, "alerts-deliveries");

  await test.step("the webhook got one signed run_failed alert for the run", () => {
    const alerts = webhook.received.filter((r) => r.json.alert === "run_failed" && field(r.json.run, "run_id") === runId);
    expect(alerts).toHaveLength(1);
    const alert = alerts[0];
    if (!alert) throw new Error("no run_failed alert arrived");
    expect(signedBy(SECRET, alert)).toBe(true);
    expect(alert.headers["idempotency-key"], "a retried send would carry the same key").toMatch(/^alert_/);
    expect(String(alert.json.summary)).toMatch(new RegExp(`^Run ${runId} of ui_e2e_failing v1.0.0 failed`));
  });

  await test.step("the run's page shows its alert", async () => {
    await delivery.getByTestId("delivery-run-link").click();
    await page.waitForURL((url) => url.pathname.startsWith("/runs/view") && url.searchParams.get("id") === runId);
    const panel = page.getByTestId("run-alerts");
    await expect(panel.getByTestId("run-alert")).toHaveCount(1);
    await expect(panel.getByTestId("run-alert")).toHaveAttribute("data-status", "delivered");
    await expect(panel).toContainText("run_failed");
    await expect(page.getByRole("link", { name: "All alerts" })).toHaveAttribute("href", "/alerts?tab=deliveries");
    await screenshot(page, "alerts-run-panel");
  });
  expect(errors).toEqual([]);
});

test("a viewer reads the rules and deliveries with nothing to change", async ({ browser, baseURL, request }) => {
  test.skip(!shared.ruleId, "needs the rule of the first test");
  const made = await request.post("/api/users", { data: { username: VIEWER.username, password: VIEWER.password, role: "viewer" } });
  expect([201, 409], "the viewer user exists").toContain(made.status());
  const session = await signIn(baseURL ?? "", VIEWER.username, VIEWER.password, test.info().outputPath("viewer.json"));
  const context = await browser.newContext({ baseURL, storageState: session?.storageState });
  try {
    const page = await context.newPage();
    await page.goto("/alerts");
    const row = page.getByTestId("alert-rule-row").filter({ hasText: RULE_NAME });
    await expect(row).toContainText("enabled");
    await expect(page.getByTestId("new-alert-rule")).toHaveCount(0);
    for (const control of ["alert-rule-enabled", "test-alert-rule", "edit-alert-rule", "delete-alert-rule"]) await expect(row.getByTestId(control)).toHaveCount(0);
    await page.getByRole("tab", { name: "Deliveries" }).click();
    await expect(page.locator(`[data-testid=delivery-row][data-run-id="${shared.runId ?? ""}"]`)).toHaveAttribute("data-status", "delivered");
  } finally {
    await context.close();
  }
});

test("an operator edits the rule, then deletes it after confirming", async ({ page, request }) => {
  test.skip(!shared.ruleId, "needs the rule of the first test");
  const errors = watchConsole(page);
  await page.goto("/alerts");
  const row = page.getByTestId("alert-rule-row").filter({ hasText: RULE_NAME });
  await test.step("the edit form starts from the rule and saves what changed", async () => {
    await row.getByTestId("edit-alert-rule").click();
    const form = page.getByRole("form", { name: `Edit alert rule ${RULE_NAME}` });
    await expect(form.getByTestId("alert-scope-procedure")).toBeChecked();
    await expect(form.getByTestId("alert-event-step_error")).toBeChecked();
    await form.getByTestId("alert-event-step_error").uncheck();
    await form.getByTestId("alert-scope-all").check();
    await form.getByTestId("save-alert-rule").click();
    await expect(form).toHaveCount(0);
    await expect(row.getByTestId("alert-rule-scope")).toHaveText("All procedures");
    const saved = (await (await request.get(`/api/alert-rules/${shared.ruleId ?? ""}`)).json()) as AlertRuleRead;
    expect(saved).toMatchObject({ events: ["run_failed"], procedure_id: null, project_id: null, webhook: true });
  });
  await row.getByTestId("delete-alert-rule").click();
  const confirm = page.getByRole("dialog", { name: "Delete this alert rule?" });
  await expect(confirm).toContainText("its delivery history is deleted with it");
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(row).toHaveCount(0);
  expect((await request.get(`/api/alert-rules/${shared.ruleId ?? ""}`)).status(), "the rule is gone").toBe(404);
  const left = await request.get(`/api/alert-deliveries?run_id=${shared.runId ?? ""}`);
  expect(left.headers()["x-total-count"], "its deliveries went with it").toBe("0");
  expect(errors).toEqual([]);
});
