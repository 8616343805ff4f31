// A newcomer's first hour: after `make run` (the examples loaded, no agents, no LLM key),
// the three showcase workflows run to completion in test mode from the UI, their
// approvals decided in the inbox; and a production run that cannot reach its agents says
// in its header which node failed and where the run ended.
import type { ApprovalRead } from "../src/lib/api/models";
import { expect, getRun, screenshot, test, watchConsole } from "./support";

const SHOWCASE: { procedure: string; approvals: number; output: [key: string, value: unknown] }[] = [
  { procedure: "invoice_processing", approvals: 1, output: ["erp_document_id", "5100004471"] },
  { procedure: "customer_support_triage", approvals: 1, output: ["resolution", "replied"] },
  { procedure: "contract_review", approvals: 3, output: ["outcome", "sent_for_signature"] },
];

for (const { procedure, approvals, output } of SHOWCASE) {
  test(`showcase ${procedure} runs to completion in test mode, approvals decided in the inbox`, async ({ page, context, request }) => {
    const errors = watchConsole(page);
    await page.goto(`/procedures/view?id=${procedure}&tab=run`);
    await expect(page.getByTestId("run-mode-test-data"), "the run form says Test uses the procedure's test data").toBeVisible();
    await page.getByTestId("run-mode-test").check();
    await page.getByTestId("run-submit").click();
    await page.waitForURL(/\/runs\/view\?id=/);
    const runId = new URL(page.url()).searchParams.get("id") ?? "";
    expect(runId, "the run page names the new run").not.toBe("");
    await expect(page.locator("[data-testid=run-mode-badge][data-mode=test]"), "the header says the run is in test mode").toBeVisible();
    await expect(page.locator("[data-testid=run-status] [data-status=waiting_approval]")).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId("run-last-node"), "the header names the gate the run waits at").not.toContainText("—");
    await screenshot(page, `showcase-${procedure}-waiting`);

    const inbox = await context.newPage();
    const inboxErrors = watchConsole(inbox);
    await inbox.goto("/approvals");
    for (let decided = 0; decided < approvals; decided++) {
      // Parallel gates (contract review) open together; each is decided on its own.
      const pending = inbox.locator(`[data-testid=approval-item][data-run="${runId}"][data-status=pending]`);
      await expect(pending.first(), `approval ${String(decided + 1)} of ${String(approvals)} is in the inbox`).toBeVisible({ timeout: 30_000 });
      await pending.first().getByTestId("approve-button").click();
      await expect(inbox.locator(`[data-testid=approval-item][data-run="${runId}"][data-status=approved]`)).toHaveCount(decided + 1);
    }
    await screenshot(inbox, `showcase-${procedure}-inbox`);

    await expect(page.locator("[data-testid=run-status] [data-status=completed]"), "the run page follows the run to its end").toBeVisible({ timeout: 30_000 });
    await screenshot(page, `showcase-${procedure}-completed`);
    const run = await getRun(request, runId);
    expect(run.status).toBe("completed");
    expect(run.mode).toBe("test");
    expect(run.output_vars?.[output[0]], `the run's outputs come from the test data (${output[0]})`).toEqual(output[1]);
    const decided = (await (await request.get(`/api/approvals?run_id=${runId}`)).json()) as ApprovalRead[];
    expect(decided.map((a) => a.decision)).toEqual(Array<string>(approvals).fill("approve"));
    const events = (await (await request.get(`/api/runs/${runId}/events`)).json()) as { payload: { mode?: string } }[];
    expect(events.every((e) => e.payload.mode === "test"), "every event says the run was in test mode").toBe(true);
    expect(errors, "no console errors on the run page").toEqual([]);
    expect(inboxErrors, "no console errors in the inbox").toEqual([]);
  });
}

test("a production run with no agents fails; its header names the failing node and where the run ended", async ({ page, request }) => {
  const errors = watchConsole(page);
  await page.goto("/procedures/view?id=invoice_processing&tab=run");
  await page.getByTestId("run-mode-production").check();
  await page.getByTestId("run-submit").click();
  await page.waitForURL(/\/runs\/view\?id=/);
  const runId = new URL(page.url()).searchParams.get("id") ?? "";
  await expect(page.locator("[data-testid=run-status] [data-status=failed]")).toBeVisible({ timeout: 30_000 });
  // OCR (ingest_document) needs the DOCUMENT agent; its failure goes to the on_failure handler,
  // whose e-mail notification needs the EMAIL agent and fails too.
  await expect(page.getByTestId("run-failed-node")).toHaveText("ingest_document");
  await expect(page.getByTestId("run-ended-node"), "its on_failure handler could not notify either: the run ended there").toHaveText("handle_failure");
  await expect(page.getByTestId("run-error")).toContainText("DOCUMENT");
  await expect(page.getByTestId("run-mode-badge"), "a production run has no mode badge").toHaveCount(0);
  await screenshot(page, "run-failed-header");
  const run = await getRun(request, runId);
  expect(run.error?.node_id).toBe("ingest_document");
  expect(run.last_node_id).toBe("handle_failure");
  await page.getByRole("button", { name: "Retry…" }).click();
  await expect(page.getByRole("dialog"), "the retry dialog names the node that failed").toContainText("ingest_document");
  expect(errors, "no console errors").toEqual([]);
});
