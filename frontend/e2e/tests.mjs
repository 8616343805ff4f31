// The e2e scenarios. Each test gets {browserContext, base, api, artifacts}.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assert, axeSerious, watchConsole } from "./harness.mjs";

async function apiJson(api, path, init) {
  const res = await fetch(`${api}${path}`, { ...init, headers: { "content-type": "application/json", ...(init?.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The computed border colour of an element as [r, g, b] (browsers may report lab()/oklch()). */
async function borderRgb(locator) {
  return locator.evaluate((el) => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = getComputedStyle(el).borderTopColor;
    ctx.fillRect(0, 0, 1, 1);
    return [...ctx.getImageData(0, 0, 1, 1).data.slice(0, 3)];
  });
}

async function setEditorText(page, text) {
  const editor = page.locator(".cm-content");
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await editor.fill(text);
  const got = await page.evaluate(() => document.querySelector(".cm-content")?.cmView?.view?.state.doc.toString() ?? null);
  if (got !== null) assert(got === text, "the editor holds the pasted document");
}

export function defineTests(h, { fixtures }) {
  const shared = {};
  const fixture = (name) => readFileSync(join(fixtures, name), "utf8");

  h.test("import a procedure by file upload; its graph is coloured by tier and a node shows its config", async ({ browserContext, artifacts }) => {
    const page = await browserContext.newPage();
    const errors = watchConsole(page);
    await page.goto("/procedures/import");
    await page.setInputFiles("#ckp-file", join(fixtures, "approval.ckp.json"));
    await page.getByText("No errors found by the schema or the compiler.").waitFor();
    await page.screenshot({ path: join(artifacts, "import-valid.png"), fullPage: true });
    await page.getByTestId("import-submit").click();
    await page.waitForURL(/\/procedures\/view\?id=ui_e2e_payment/);
    await page.getByRole("tab", { name: "Graph" }).click();
    const approval = page.getByTestId("graph-node-ask_manager");
    await approval.waitFor();
    assert((await approval.getAttribute("data-tier")) === "control", "human_approval is control (orange)");
    assert((await page.getByTestId("graph-node-record").getAttribute("data-tier")) === "deterministic", "sequence is deterministic (blue)");
    const [r, g, b] = await borderRgb(approval);
    assert(r > 200 && g > 60 && g < 140 && b < 60, `control nodes have an orange border (got rgb ${String([r, g, b])})`);
    const [br, bg, bb] = await borderRgb(page.getByTestId("graph-node-record"));
    assert(bb > 180 && br < 80, `deterministic nodes have a blue border (got rgb ${String([br, bg, bb])})`);
    await page.getByTestId("graph-node-record").click();
    await page.getByTestId("node-inspector").getByText("log_request").first().waitFor();
    await page.screenshot({ path: join(artifacts, "procedure-graph.png"), fullPage: true });
    await page.getByRole("tab", { name: "CKP JSON" }).click();
    await page.locator(".cm-content").waitFor();
    await page.screenshot({ path: join(artifacts, "procedure-ckp.png"), fullPage: true });
    assert(errors.length === 0, `no console errors: ${errors.join(" | ")}`);
    await page.close();
  });

  h.test("start a run with inputs checked by the form's rules; the timeline shows it waiting for approval", async ({ browserContext, artifacts }) => {
    const page = await browserContext.newPage();
    const errors = watchConsole(page);
    await page.goto("/procedures/view?id=ui_e2e_payment&version=1.0.0&tab=run");
    await page.locator("#input-vendor").fill("acme");
    await page.locator("#input-amount").fill("0");
    await page.getByTestId("run-submit").click();
    await page.getByTestId("error-vendor").getByText("does not match the pattern").waitFor();
    await page.getByTestId("error-amount").getByText("must be ≥ 1").waitFor();
    assert((await page.locator("#input-currency").inputValue()) === "EUR", "the default currency is preselected");
    await page.screenshot({ path: join(artifacts, "run-form-errors.png"), fullPage: true });
    assert(page.url().includes("/procedures/view"), "an invalid form is not submitted");
    await page.locator("#input-vendor").fill("Acme Corp");
    await page.locator("#input-amount").fill("250");
    await page.locator("#input-currency").selectOption("USD");
    await page.getByTestId("run-submit").click();
    await page.waitForURL(/\/runs\/view\?id=/);
    shared.runId = new URL(page.url()).searchParams.get("id");
    await page.locator('[data-testid=timeline-node][data-node=record][data-status=completed]').waitFor();
    await page.locator('[data-testid=timeline-node][data-node=ask_manager][data-status=waiting]').waitFor();
    await page.locator('[data-testid=run-status] [data-status=waiting_approval]').waitFor();
    await page.screenshot({ path: join(artifacts, "run-waiting.png"), fullPage: true });
    shared.runPage = page;
    shared.runErrors = errors;
  });

  h.test("approve in the inbox; the open run page updates live to completed", async ({ browserContext, artifacts, api }) => {
    assert(shared.runId, "a run was started");
    const runPage = shared.runPage;
    const before = await runPage.getByTestId("timeline-event").count();
    const inbox = await browserContext.newPage();
    const errors = watchConsole(inbox);
    await inbox.goto("/approvals");
    const item = inbox.locator(`[data-testid=approval-item][data-run="${shared.runId}"]`);
    await item.waitFor();
    await item.getByText("Pay 250 USD to Acme Corp?").waitFor();
    await inbox.locator("[data-testid=approvals-live][data-live=true]").waitFor();
    await inbox.screenshot({ path: join(artifacts, "approvals-inbox.png"), fullPage: true });
    await item.getByTestId("approve-button").click();
    await inbox.getByTestId("toast-success").waitFor();
    await inbox.locator(`[data-testid=approval-item][data-run="${shared.runId}"][data-status=approved]`).waitFor();
    // The run page was not reloaded: the new events arrive over SSE.
    await runPage.locator('[data-testid=run-status] [data-status=completed]').waitFor();
    await runPage.locator('[data-testid=timeline-event][data-type=run_completed]').waitFor();
    await runPage.locator('[data-testid=timeline-node][data-node=pay][data-status=completed]').waitFor();
    const after = await runPage.getByTestId("timeline-event").count();
    assert(after > before, `the timeline grew live (${String(before)} → ${String(after)} events)`);
    await runPage.screenshot({ path: join(artifacts, "run-completed.png"), fullPage: true });
    const run = await apiJson(api, `/api/runs/${shared.runId}`);
    assert(run.body.status === "completed", "the server agrees the run completed");
    assert(run.body.output_vars?.paid_to === "Acme Corp", "the run's outputs carry the input");
    const approvals = await apiJson(api, `/api/approvals?run_id=${shared.runId}`);
    assert(approvals.body[0]?.decision === "approve", "the decision is recorded");
    assert(errors.length === 0, `no console errors in the inbox: ${errors.join(" | ")}`);
    assert(shared.runErrors.length === 0, `no console errors on the run page: ${shared.runErrors.join(" | ")}`);
    await inbox.close();
    await runPage.close();
  });

  h.test("a broken CKP shows the server's diagnostics at their JSON path and is not saved", async ({ browserContext, artifacts, api }) => {
    const page = await browserContext.newPage();
    const errors = watchConsole(page);
    await page.goto("/procedures/import");
    await setEditorText(page, fixture("broken.ckp.json"));
    const diag = page.locator('[data-testid=diagnostic][data-path="/workflow_graph/nodes/first/next_node"]');
    await diag.waitFor();
    const text = await diag.innerText();
    assert(text.includes("CKP202") && text.includes("missing_node"), `the dangling reference is explained: ${text}`);
    await page.locator('[data-testid=diagnostic][data-path="/workflow_graph/nodes/orphan"][data-severity=warning]').waitFor();
    await page.locator(".cm-lintRange-error").first().waitFor();
    const marked = await page.locator(".cm-lintRange-error").first().innerText();
    assert(marked.includes("missing_node"), `the editor underlines the bad value (got ${marked})`);
    await page.screenshot({ path: join(artifacts, "import-diagnostics.png"), fullPage: true });
    await page.getByTestId("import-submit").click();
    await page.getByTestId("toast-error").waitFor();
    const saved = await apiJson(api, "/api/procedures/ui_e2e_broken");
    assert(saved.status === 404, "the broken procedure was not saved");
    // Fix it in the editor: the error goes away.
    await setEditorText(page, fixture("broken.ckp.json").replace('"missing_node"', '"orphan"'));
    await page.getByText("No errors found by the schema or the compiler.").waitFor();
    const consoleErrors = errors.filter((e) => !e.includes("422"));
    assert(consoleErrors.length === 0, `no console errors beyond the refused import: ${consoleErrors.join(" | ")}`);
    await page.close();
  });

  h.test("a failed run shows the failing node in red with its error; retry with changed inputs", async ({ browserContext, artifacts, api }) => {
    const created = await apiJson(api, "/api/procedures", { method: "POST", body: JSON.stringify({ ckp_json: JSON.parse(fixture("failing.ckp.json")), project_id: null }) });
    assert(created.status === 201, `the failing fixture imports (${String(created.status)})`);
    const run = await apiJson(api, "/api/runs", { method: "POST", body: JSON.stringify({ procedure_id: "ui_e2e_failing", input_vars: { label: "weekly" } }) });
    assert(run.status === 201, "the run starts");
    const runId = run.body.run_id;
    shared.failedRunId = runId; // the main-pages check shows this run even if a later assertion here fails
    const page = await browserContext.newPage();
    const errors = watchConsole(page);
    await page.goto(`/runs/view?id=${runId}&tab=graph`);
    const node = page.locator('[data-testid=graph-node-load_ledger][data-overlay=failed]');
    await node.waitFor();
    // The overlay can turn red a moment before the error text arrives: wait for the text.
    await page.getByTestId("graph-node-error-load_ledger").filter({ hasText: /no such file/i }).waitFor();
    const [r, g, b] = await borderRgb(node);
    assert(r > 180 && g < 80 && b < 80, `the failed node is red (got rgb ${String([r, g, b])})`);
    // The run's row (failed node, error) can land before the event stream that marks the
    // earlier nodes visited: wait for that overlay rather than reading it once.
    await page.locator("[data-testid=graph-node-prepare][data-overlay=visited]").waitFor({ timeout: 10_000 })
      .catch(() => { throw new Error("assertion failed: the node before it is marked visited"); });
    assert((await page.locator("[data-testid=graph-node-done]").getAttribute("data-overlay")) === "pending", "the node after it was not reached");
    await page.getByTestId("run-error").getByText("load_ledger").waitFor();
    await page.screenshot({ path: join(artifacts, "run-failed-graph.png"), fullPage: true });
    await page.getByRole("tab", { name: "Timeline" }).click();
    await page.locator('[data-testid=timeline-node][data-node=load_ledger][data-status=failed] [data-testid=node-error]').waitFor();
    await page.screenshot({ path: join(artifacts, "run-failed-timeline.png"), fullPage: true });
    await page.getByRole("tab", { name: "Diagnostics" }).click();
    await page.getByTestId("diag-failed-node").getByText("load_ledger").waitFor();
    // Retry with a changed input.
    await page.getByRole("button", { name: "Retry…" }).click();
    await page.locator("#retry-label").fill("monthly");
    await page.getByRole("button", { name: "Retry run" }).click();
    await page.waitForURL((url) => url.searchParams.get("id") !== runId && url.pathname.startsWith("/runs/view"));
    const retryId = new URL(page.url()).searchParams.get("id");
    const retried = await apiJson(api, `/api/runs/${retryId}`);
    assert(retried.body.retry_of === runId, "the new run retries the failed one");
    assert(retried.body.input_vars.label === "monthly", "the changed input was sent");
    shared.failedRunId = runId;
    assert(errors.length === 0, `no console errors: ${errors.join(" | ")}`);
    await page.close();
  });

  const MAIN_PAGES = [
    ["dashboard", "/"],
    ["procedures", "/procedures"],
    ["procedure-overview", "/procedures/view?id=invoice_processing"],
    ["procedure-graph-contract", "/procedures/view?id=contract_review&tab=graph"],
    ["procedure-versions", "/procedures/view?id=ui_e2e_payment&tab=versions"],
    ["import", "/procedures/import"],
    ["runs", "/runs"],
    ["run-detail", () => `/runs/view?id=${shared.runId}`],
    ["run-graph-failed", () => `/runs/view?id=${shared.failedRunId}&tab=graph`],
    ["approvals", "/approvals"],
    ["agents", "/agents"],
    ["projects", "/projects"],
    ["leases", "/leases"],
  ];

  for (const dark of [false, true]) {
    h.test(`main pages${dark ? " in dark mode" : ""}: no console errors, no serious axe violations, screenshots`, async ({ browserContext, artifacts }) => {
      const problems = [];
      for (const [name, path] of MAIN_PAGES) {
        const page = await browserContext.newPage();
        if (dark) await page.addInitScript(() => localStorage.setItem("langorch-theme", "dark"));
        const errors = watchConsole(page);
        await page.goto(typeof path === "function" ? path() : path);
        await page.locator("main h1").first().waitFor();
        // Let queries settle (SSE keeps the network busy, so no networkidle).
        await page.waitForFunction(() => !document.querySelector('main [role=status]')?.textContent?.includes("Loading"), null, { timeout: 10_000 }).catch(() => undefined);
        await page.waitForTimeout(700);
        await page.screenshot({ path: join(artifacts, `page-${name}${dark ? "-dark" : ""}.png`), fullPage: true });
        const violations = await axeSerious(page);
        for (const v of violations) problems.push(`${name}: axe ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(", ")}`);
        for (const e of errors) problems.push(`${name}: console ${e}`);
        await page.close();
      }
      assert(problems.length === 0, `\n${problems.join("\n")}`);
    });
  }
}
