// The operator UI in a real browser against a real LangOrch server (see support.ts).
import type { Locator, Page } from "@playwright/test";
import type { ApprovalRead } from "../src/lib/api/models";
import { axeSerious, ensureProcedure, expect, fixturePath, getRun, readFixture, screenshot, startRun, test, watchConsole } from "./support";

// The scenarios build on each other (the run started in one is approved in the next, the
// main pages show both runs), so they run in order and a failure skips the rest; a retry
// reruns them all in a new worker, with a new server and an empty database. Run alone
// (--grep), a scenario creates what it needs through the API instead.
test.describe.configure({ mode: "serial" });

/** What earlier scenarios left on this worker's server. */
const shared: { runId?: string; failedRunId?: string } = {};

const PAYMENT_INPUTS = { vendor: "Acme Corp", amount: 250, currency: "USD" };

/** A run of the approval fixture waiting for its approval: the one the run form started, or a new one. */
async function waitingRun(request: Parameters<typeof ensureProcedure>[0]): Promise<string> {
  return shared.runId ?? startRun(request, await ensureProcedure(request, "approval.ckp.json"), PAYMENT_INPUTS, "waiting_approval");
}

type Rgb = [number, number, number];
interface Colour {
  name: string;
  is: (rgb: Rgb) => boolean;
}
const ORANGE: Colour = { name: "orange", is: ([r, g, b]) => r > 200 && g > 60 && g < 140 && b < 60 };
const BLUE: Colour = { name: "blue", is: ([r, , b]) => b > 180 && r < 80 };
const RED: Colour = { name: "red", is: ([r, g, b]) => r > 180 && g < 80 && b < 80 };

/**
 * The colour's name when the element's computed border is that colour, else its rgb()
 * (browsers may report lab()/oklch(), so the colour is painted on a canvas and read back).
 */
async function borderColour(locator: Locator, colour: Colour): Promise<string> {
  const rgb = await locator.evaluate((el): Rgb => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2d canvas context");
    ctx.fillStyle = getComputedStyle(el).borderTopColor;
    ctx.fillRect(0, 0, 1, 1);
    const [r = 0, g = 0, b = 0] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b];
  });
  return colour.is(rgb) ? colour.name : `rgb(${rgb.join(", ")})`;
}

async function setEditorText(page: Page, text: string): Promise<void> {
  const editor = page.locator(".cm-content");
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await editor.fill(text);
  const got = await page.evaluate(() => {
    const content = document.querySelector<HTMLElement & { cmView?: { view?: { state: { doc: { toString: () => string } } } } }>(".cm-content");
    return content?.cmView?.view?.state.doc.toString() ?? null;
  });
  if (got !== null) expect(got, "the editor holds the pasted document").toBe(text);
}

test("import a procedure by file upload; its graph is coloured by tier and a node shows its config", async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto("/procedures/import");
  await page.setInputFiles("#ckp-file", fixturePath("approval.ckp.json"));
  await expect(page.getByText("No errors found by the schema or the compiler.")).toBeVisible();
  await screenshot(page, "import-valid");
  await page.getByTestId("import-submit").click();
  await page.waitForURL(/\/procedures\/view\?id=ui_e2e_payment/);
  await page.getByRole("tab", { name: "Graph" }).click();
  const approval = page.getByTestId("graph-node-ask_manager");
  const record = page.getByTestId("graph-node-record");
  await expect(approval, "human_approval is control (orange)").toHaveAttribute("data-tier", "control");
  await expect(record, "sequence is deterministic (blue)").toHaveAttribute("data-tier", "deterministic");
  await expect.poll(() => borderColour(approval, ORANGE), { message: "control nodes have an orange border" }).toBe("orange");
  await expect.poll(() => borderColour(record, BLUE), { message: "deterministic nodes have a blue border" }).toBe("blue");
  await record.click();
  await expect(page.getByTestId("node-inspector").getByText("log_request").first()).toBeVisible();
  await screenshot(page, "procedure-graph");
  await page.getByRole("tab", { name: "CKP JSON" }).click();
  await expect(page.locator(".cm-content")).toBeVisible();
  await screenshot(page, "procedure-ckp");
  expect(errors, "no console errors").toEqual([]);
});

test("start a run with inputs checked by the form's rules; the timeline shows it waiting for approval", async ({ page, request }) => {
  await ensureProcedure(request, "approval.ckp.json"); // imported by the previous scenario, unless run alone
  const errors = watchConsole(page);
  await page.goto("/procedures/view?id=ui_e2e_payment&version=1.0.0&tab=run");
  await page.locator("#input-vendor").fill("acme");
  await page.locator("#input-amount").fill("0");
  await page.getByTestId("run-submit").click();
  await expect(page.getByTestId("error-vendor")).toContainText("does not match the pattern");
  await expect(page.getByTestId("error-amount")).toContainText("must be ≥ 1");
  await expect(page.locator("#input-currency"), "the default currency is preselected").toHaveValue("EUR");
  await screenshot(page, "run-form-errors");
  expect(page.url(), "an invalid form is not submitted").toContain("/procedures/view");
  await page.locator("#input-vendor").fill("Acme Corp");
  await page.locator("#input-amount").fill("250");
  await page.locator("#input-currency").selectOption("USD");
  await page.getByTestId("run-submit").click();
  await page.waitForURL(/\/runs\/view\?id=/);
  const runId = new URL(page.url()).searchParams.get("id");
  expect(runId, "the run page names the new run").toBeTruthy();
  await expect(page.locator("[data-testid=timeline-node][data-node=record][data-status=completed]")).toBeVisible();
  await expect(page.locator("[data-testid=timeline-node][data-node=ask_manager][data-status=waiting]")).toBeVisible();
  await expect(page.locator("[data-testid=run-status] [data-status=waiting_approval]")).toBeVisible();
  await screenshot(page, "run-waiting");
  shared.runId = runId ?? undefined;
  expect(errors, "no console errors").toEqual([]);
});

test("approve in the inbox; the open run page updates live to completed", async ({ page: runPage, context, request }) => {
  const runId = await waitingRun(request);
  const runErrors = watchConsole(runPage);
  await runPage.goto(`/runs/view?id=${runId}`);
  await expect(runPage.locator("[data-testid=timeline-node][data-node=ask_manager][data-status=waiting]")).toBeVisible();
  await expect(runPage.locator("[data-testid=stream-state][data-state=live]"), "the run page follows the event stream").toBeVisible();
  const before = await runPage.getByTestId("timeline-event").count();

  const inbox = await context.newPage();
  const errors = watchConsole(inbox);
  await inbox.goto("/approvals");
  const item = inbox.locator(`[data-testid=approval-item][data-run="${runId}"]`);
  await expect(item).toContainText("Pay 250 USD to Acme Corp?");
  await expect(inbox.locator("[data-testid=approvals-live][data-live=true]")).toBeVisible();
  await screenshot(inbox, "approvals-inbox");
  await item.getByTestId("approve-button").click();
  await expect(inbox.getByTestId("toast-success")).toBeVisible();
  await expect(inbox.locator(`[data-testid=approval-item][data-run="${runId}"][data-status=approved]`)).toBeVisible();

  // The run page is not reloaded: the new events arrive over SSE.
  await expect(runPage.locator("[data-testid=run-status] [data-status=completed]")).toBeVisible();
  await expect(runPage.locator("[data-testid=timeline-event][data-type=run_completed]")).toBeVisible();
  await expect(runPage.locator("[data-testid=timeline-node][data-node=pay][data-status=completed]")).toBeVisible();
  await expect.poll(() => runPage.getByTestId("timeline-event").count(), { message: `the timeline grew live (from ${String(before)} events)` }).toBeGreaterThan(before);
  await screenshot(runPage, "run-completed");

  const run = await getRun(request, runId);
  expect(run.status, "the server agrees the run completed").toBe("completed");
  expect(run.output_vars?.paid_to, "the run's outputs carry the input").toBe("Acme Corp");
  const approvals = (await (await request.get(`/api/approvals?run_id=${runId}`)).json()) as ApprovalRead[];
  expect(approvals[0]?.decision, "the decision is recorded").toBe("approve");
  expect(errors, "no console errors in the inbox").toEqual([]);
  expect(runErrors, "no console errors on the run page").toEqual([]);
});

test("a broken CKP shows the server's diagnostics at their JSON path and is not saved", async ({ page, request }) => {
  const errors = watchConsole(page);
  await page.goto("/procedures/import");
  await setEditorText(page, readFixture("broken.ckp.json"));
  const diag = page.locator('[data-testid=diagnostic][data-path="/workflow_graph/nodes/first/next_node"]');
  await expect(diag, "the dangling reference is explained").toContainText("CKP202");
  await expect(diag, "the dangling reference is explained").toContainText("missing_node");
  await expect(page.locator('[data-testid=diagnostic][data-path="/workflow_graph/nodes/orphan"][data-severity=warning]')).toBeVisible();
  await expect(page.locator(".cm-lintRange-error").first(), "the editor underlines the bad value").toContainText("missing_node");
  await screenshot(page, "import-diagnostics");
  // Import is refused while errors remain: aria-disabled (still focusable), with the reason
  // beside it and again in a toast when pressed anyway.
  const submit = page.getByTestId("import-submit");
  await expect(submit, "Import is refused while errors remain").toHaveAttribute("aria-disabled", "true");
  await expect(page.getByTestId("import-blocked")).toBeVisible();
  await submit.press("Enter");
  await expect(page.getByTestId("toast-error")).toContainText("Not imported");
  expect((await request.get("/api/procedures/ui_e2e_broken")).status(), "the broken procedure was not saved").toBe(404);
  // Fix it in the editor: the error goes away.
  await setEditorText(page, readFixture("broken.ckp.json").replace('"missing_node"', '"orphan"'));
  await expect(page.getByText("No errors found by the schema or the compiler.")).toBeVisible();
  expect(errors.filter((e) => !e.includes("422")), "no console errors beyond the refused import").toEqual([]);
});

test("a failed run shows the failing node in red with its error; retry with changed inputs", async ({ page, request }) => {
  const procedureId = await ensureProcedure(request, "failing.ckp.json");
  const runId = await startRun(request, procedureId, { label: "weekly" });
  shared.failedRunId = runId; // the main pages show this run even if a later expectation here fails
  const errors = watchConsole(page);
  await page.goto(`/runs/view?id=${runId}&tab=graph`);
  const node = page.locator("[data-testid=graph-node-load_ledger][data-overlay=failed]");
  await expect(node).toBeVisible();
  // The overlay can turn red a moment before the error text arrives.
  await expect(page.getByTestId("graph-node-error-load_ledger")).toContainText(/no such file/i);
  await expect.poll(() => borderColour(node, RED), { message: "the failed node is red" }).toBe("red");
  // The run's row (failed node, error) can land before the event stream that marks the
  // earlier nodes visited.
  await expect(page.getByTestId("graph-node-prepare"), "the node before it is marked visited").toHaveAttribute("data-overlay", "visited");
  await expect(page.getByTestId("graph-node-done"), "the node after it was not reached").toHaveAttribute("data-overlay", "pending");
  await expect(page.getByTestId("run-error")).toContainText("load_ledger");
  await screenshot(page, "run-failed-graph");
  await page.getByRole("tab", { name: "Timeline" }).click();
  await expect(page.locator("[data-testid=timeline-node][data-node=load_ledger][data-status=failed] [data-testid=node-error]")).toBeVisible();
  await screenshot(page, "run-failed-timeline");
  await page.getByRole("tab", { name: "Diagnostics" }).click();
  await expect(page.getByTestId("diag-failed-node")).toContainText("load_ledger");
  // Retry with a changed input.
  await page.getByRole("button", { name: "Retry…" }).click();
  await page.locator("#retry-label").fill("monthly");
  await page.getByRole("button", { name: "Retry run" }).click();
  await page.waitForURL((url) => url.searchParams.get("id") !== runId && url.pathname.startsWith("/runs/view"));
  const retryId = new URL(page.url()).searchParams.get("id") ?? "";
  const retried = await getRun(request, retryId);
  expect(retried.retry_of, "the new run retries the failed one").toBe(runId);
  expect(retried.input_vars?.label, "the changed input was sent").toBe("monthly");
  expect(errors, "no console errors").toEqual([]);
});

const MAIN_PAGES: [name: string, path: () => string][] = [
  ["dashboard", () => "/"],
  ["procedures", () => "/procedures"],
  ["procedure-overview", () => "/procedures/view?id=invoice_processing"],
  ["procedure-graph-contract", () => "/procedures/view?id=contract_review&tab=graph"],
  ["procedure-versions", () => "/procedures/view?id=ui_e2e_payment&tab=versions"],
  ["import", () => "/procedures/import"],
  ["runs", () => "/runs"],
  ["run-detail", () => `/runs/view?id=${shared.runId ?? ""}`],
  ["run-graph-failed", () => `/runs/view?id=${shared.failedRunId ?? ""}&tab=graph`],
  ["approvals", () => "/approvals"],
  ["agents", () => "/agents"],
  ["projects", () => "/projects"],
  ["leases", () => "/leases"],
  ["secrets", () => "/secrets"],
  ["audit", () => "/audit"],
  ["users", () => "/settings/users"],
  ["api-keys", () => "/settings/keys"],
  ["account", () => "/account"],
];

for (const dark of [false, true]) {
  test(`main pages${dark ? " in dark mode" : ""}: no console errors, no serious axe violations, screenshots`, async ({ context, request }) => {
    test.setTimeout(180_000);
    // The run pages show the runs the flows above left; run alone, this test starts its own.
    shared.runId ??= await waitingRun(request);
    shared.failedRunId ??= await startRun(request, await ensureProcedure(request, "failing.ckp.json"), { label: "weekly" }, "failed");
    if (dark) {
      await context.addInitScript(() => {
        localStorage.setItem("langorch-theme", "dark");
      });
    }
    for (const [name, path] of MAIN_PAGES) {
      await test.step(name, async () => {
        const page = await context.newPage();
        const errors = watchConsole(page);
        await page.goto(path());
        await expect(page.locator("main h1").first()).toBeVisible();
        // Let queries settle (SSE keeps the network busy, so no networkidle).
        await page
          .waitForFunction(() => !document.querySelector("main [role=status]")?.textContent.includes("Loading"), null, { timeout: 10_000 })
          .catch(() => undefined);
        await page.waitForTimeout(700);
        await screenshot(page, `page-${name}${dark ? "-dark" : ""}`);
        const violations = (await axeSerious(page)).map((v) => `axe ${String(v.impact)} ${v.id} (${v.help}) at ${v.nodes.join(", ")}`);
        // Soft: every page is checked and shot even when an earlier one has problems.
        expect.soft(violations, `${name}: no serious or critical axe violations`).toEqual([]);
        expect.soft(errors, `${name}: no console errors`).toEqual([]);
        await page.close();
      });
    }
  });
}
