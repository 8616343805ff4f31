// The visual builder in a real browser against a real LangOrch server: an author builds a
// four-node procedure from an empty canvas by drag and drop, sees the validation error for
// the approval node's missing reject edge, fixes it by connecting the handle, saves, runs
// it in test mode, approves and sees it complete; opens the invoice template and renames a
// node (every edge follows). The live-validation latency is in builder-latency.spec.ts.
//
// With UPDATE_DOC_SCREENSHOTS=1 the screenshots docs/builder.md shows are written to
// docs/images/ as well as to test-artifacts/.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Locator, Page } from "@playwright/test";
import { expect, screenshot, test, watchConsole } from "./support";

const DOC_IMAGES = join(import.meta.dirname, "..", "..", "docs", "images");
const PROCEDURE = `e2e_builder_${String(Date.now() % 100000)}`;

test.describe.configure({ mode: "serial" });

/** A screenshot for the scenario's artifacts and, when asked, for docs/builder.md. */
async function docShot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  if (process.env.UPDATE_DOC_SCREENSHOTS === "1") {
    mkdirSync(DOC_IMAGES, { recursive: true });
    await page.screenshot({ path: join(DOC_IMAGES, `${name}.png`) });
  }
}

/** Drops a palette item on the canvas at (x, y) relative to the canvas's top-left corner. */
async function drop(page: Page, type: string, x: number, y: number): Promise<void> {
  const before = await page.locator("[data-testid^='builder-node-']").count();
  await page.getByTestId(`palette-${type}`).dragTo(page.getByTestId("builder-canvas"), { targetPosition: { x, y } });
  await expect(page.locator("[data-testid^='builder-node-']")).toHaveCount(before + 1);
}

/** Drags from a node's output handle to another node's input handle. */
async function connect(page: Page, source: string, port: string, target: string): Promise<void> {
  const from = page.getByTestId(`handle-${source}-${port}`);
  const to = page.getByTestId(`handle-${target}-in`);
  await from.hover();
  await page.mouse.down();
  const box = await to.boundingBox();
  if (!box) throw new Error(`no input handle on ${target}`);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await expect(from).toHaveAttribute("data-connected", "true");
}

async function waitValidated(page: Page): Promise<void> {
  const root = page.getByTestId("builder");
  await expect(async () => {
    const revision = await root.getAttribute("data-revision");
    expect(await root.getAttribute("data-validated-revision")).toBe(revision);
  }).toPass({ timeout: 15_000 });
}

function node(page: Page, id: string): Locator {
  return page.getByTestId(`builder-node-${id}`);
}

test("an author builds sequence → llm_action → human_approval → terminate by drag and drop, fixes the missing reject edge, saves, runs it in test mode, approves and sees it complete", async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto("/procedures/builder");
  await expect(page.getByTestId("builder-canvas")).toBeVisible();
  await expect(page.getByTestId("builder-palette")).toContainText("Deterministic");

  await test.step("drag four nodes from the palette", async () => {
    await drop(page, "sequence", 260, 60);
    await drop(page, "llm_action", 260, 200);
    await drop(page, "human_approval", 260, 340);
    await drop(page, "terminate", 260, 500);
    await expect(node(page, "sequence")).toHaveAttribute("data-start", "true");
  });

  await test.step("connect them by their handles, all but the approval's reject", async () => {
    await connect(page, "sequence", "next", "llm_action");
    await connect(page, "llm_action", "next", "human_approval");
    await connect(page, "human_approval", "approve", "terminate");
  });

  await test.step("fill the prompts in the inspector", async () => {
    await node(page, "llm_action").click();
    const prompt = page.getByTestId("node-inspector").getByTestId("template-editor").first().locator(".cm-content");
    await prompt.click();
    await page.keyboard.type("Summarise the request of run {{run_id}}");
    await node(page, "human_approval").click();
    const ask = page.getByTestId("node-inspector").getByTestId("template-editor").first().locator(".cm-content");
    await ask.click();
    await page.keyboard.type("Approve the summary?");
  });

  await test.step("the approval node shows the missing reject edge, on the node and in the problems", async () => {
    await waitValidated(page);
    await expect(page.getByTestId("node-badge-human_approval")).toHaveAttribute("data-severity", "error");
    const problem = page.getByTestId("builder-problems").getByTestId("diagnostic").filter({ hasText: "on_reject" });
    await expect(problem).toHaveAttribute("data-node", "human_approval");
    await docShot(page, "builder-missing-reject");
    await page.getByTestId("builder-save").click();
    const dialog = page.getByTestId("builder-save-dialog");
    await expect(dialog.getByTestId("save-blocked")).toBeVisible();
    await expect(dialog.getByTestId("save-submit")).toBeDisabled();
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });

  await test.step("connecting the reject handle clears it", async () => {
    await connect(page, "human_approval", "reject", "terminate");
    await waitValidated(page);
    await expect(page.getByTestId("node-badge-human_approval")).toHaveCount(0);
    await expect(page.getByTestId("builder")).toHaveAttribute("data-errors", "0");
    await docShot(page, "builder-four-nodes");
  });

  await test.step("save as a draft version with a change note", async () => {
    await page.getByTestId("builder-save").click();
    const dialog = page.getByTestId("builder-save-dialog");
    await dialog.getByTestId("save-procedure-id").fill(PROCEDURE);
    await expect(dialog.getByTestId("save-version")).toHaveValue("1.0.0");
    await dialog.getByTestId("save-change-note").fill("First version, built on the canvas");
    await dialog.getByTestId("save-submit").click();
    await expect(page.getByTestId("builder-saved")).toBeVisible();
    const saved = await page.request.get(`/api/procedures/${PROCEDURE}/1.0.0`);
    expect(saved.status()).toBe(200);
    const body = (await saved.json()) as { status: string; change_note: string | null };
    expect(body.status).toBe("draft");
    expect(body.change_note).toBe("First version, built on the canvas");
  });

  await test.step("run it in test mode, approve on the canvas and see it complete", async () => {
    await page.getByTestId("builder-test-run").click();
    const panel = page.getByTestId("builder-run-panel");
    await panel.getByTestId("run-mode-test").check();
    await panel.getByTestId("run-submit").click();
    await expect(page.getByTestId("builder-run-approve")).toBeVisible({ timeout: 30_000 });
    await expect(node(page, "human_approval")).toHaveAttribute("data-overlay", "current");
    await page.getByTestId("builder-run-approve").click();
    await expect(page.getByTestId("builder-run-status")).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
    for (const id of ["sequence", "llm_action", "human_approval", "terminate"]) {
      await expect(node(page, id)).toHaveAttribute("data-overlay", "visited");
    }
    await docShot(page, "builder-test-run");
  });
  expect(errors.filter((e) => !/404/.test(e)), "no console errors").toEqual([]);
});

test("an author opens the invoice workflow, renames a node and every edge follows", async ({ page }) => {
  await page.goto("/procedures/builder?template=invoice_processing");
  await expect(node(page, "validate_extraction")).toBeVisible();
  const edges = page.locator(".react-flow__edge");
  const total = await edges.count();
  expect(total).toBeGreaterThanOrEqual(25);
  const outgoing = await page.locator(".react-flow__edge[data-id^='validate_extraction::']").count();
  expect(outgoing).toBeGreaterThan(0);

  await node(page, "validate_extraction").click();
  const rename = page.getByTestId("rename-node").locator("input");
  await rename.fill("check_extraction");
  await rename.press("Enter");

  await expect(node(page, "check_extraction")).toBeVisible();
  await expect(node(page, "validate_extraction")).toHaveCount(0);
  await expect(edges).toHaveCount(total);
  await expect(page.locator(".react-flow__edge[data-id^='check_extraction::']")).toHaveCount(outgoing);
  await docShot(page, "builder-invoice");
  // Saved, the document names the new id everywhere the old one was (the edge into it included).
  await waitValidated(page);
  await page.getByTestId("builder-save").click();
  const dialog = page.getByTestId("builder-save-dialog");
  await expect(dialog.getByTestId("save-version")).not.toHaveValue(/^(1\.0\.0)?$/); // the next free version
  await dialog.getByTestId("save-change-note").fill("Renamed validate_extraction");
  await dialog.getByTestId("save-submit").click();
  await expect(page.getByTestId("builder-saved")).toBeVisible();
  await expect(page).toHaveURL(/version=/);
  const version = new URL(page.url()).searchParams.get("version") ?? "";
  const answer = await page.request.get(`/api/procedures/invoice_processing/${version}`);
  expect(answer.status(), `version ${version} is saved`).toBe(200);
  const saved = (await answer.json()) as { ckp_json: unknown };
  const text = JSON.stringify(saved.ckp_json);
  expect(text).not.toContain('"validate_extraction"');
  const nodes = (saved.ckp_json as { workflow_graph: { nodes: Record<string, Record<string, unknown>> } }).workflow_graph.nodes;
  expect(nodes.extract_fields?.next_node).toBe("check_extraction");
  expect(Object.keys(nodes)).toContain("check_extraction");
});
