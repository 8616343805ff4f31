// Graph layout for reading (issue #12): the 26-node invoice workflow, top to bottom, laid
// out by ELK, fits a 1440×900 window whole at a zoom where node text is legible.
import { join } from "node:path";
import { ARTIFACTS } from "./server";
import { expect, test, watchConsole } from "./support";

interface Box {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

test("the 26-node invoice workflow fits a 1440×900 window readably", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const errors = watchConsole(page);
  await page.goto("/procedures/view?id=invoice_processing&tab=graph");
  const pane = page.getByTestId("flow-graph");
  await expect(pane, "ELK has laid the graph out").toHaveAttribute("data-layout", /^(layered|wrapped)$/);
  const nodes = pane.locator(".react-flow__node");
  await expect(nodes).toHaveCount(26);

  // The fit happens once React Flow has measured the nodes: wait until the view stops moving.
  const viewport = pane.locator(".react-flow__viewport");
  let last = "";
  await expect
    .poll(async () => {
      const now = await viewport.evaluate((el) => getComputedStyle(el).transform);
      const settled = now === last && now !== "none";
      last = now;
      return settled;
    }, { message: "the view settles", intervals: [250] })
    .toBe(true);
  const zoom = await viewport.evaluate((el) => new DOMMatrixReadOnly(getComputedStyle(el).transform).a);

  const win = page.viewportSize() ?? { width: 1440, height: 900 };
  const paneBox = await pane.boundingBox();
  expect(paneBox, "the graph pane is on screen").not.toBeNull();
  if (!paneBox) return;
  expect(paneBox.y + paneBox.height, "the pane ends inside the window").toBeLessThanOrEqual(win.height);
  expect(paneBox.height, "the pane fills the window's height below the header").toBeGreaterThanOrEqual(560);

  const boxes: Box[] = await nodes.evaluateAll((els) =>
    els.map((el) => {
      const r = el.getBoundingClientRect();
      return { id: el.getAttribute("data-id") ?? "", x: r.x, y: r.y, width: r.width, height: r.height };
    }),
  );
  for (const b of boxes) {
    const inside = b.x >= paneBox.x && b.y >= paneBox.y && b.x + b.width <= paneBox.x + paneBox.width && b.y + b.height <= paneBox.y + paneBox.height;
    expect(inside, `${b.id} is inside the graph pane`).toBe(true);
    expect(b.x >= 0 && b.y >= 0 && b.x + b.width <= win.width && b.y + b.height <= win.height, `${b.id} is inside the window`).toBe(true);
  }
  // The cards are the size the layout reserved for them (NodeCard is fixed at 208×76).
  for (const b of boxes) {
    expect(Math.abs(b.width / zoom - 208), `${b.id} width`).toBeLessThan(1.5);
    expect(Math.abs(b.height / zoom - 76), `${b.id} height`).toBeLessThan(1.5);
  }
  const overlapping: string[] = [];
  boxes.forEach((a, i) => {
    for (const b of boxes.slice(i + 1)) if (overlaps(a, b)) overlapping.push(`${a.id}/${b.id}`);
  });
  expect(overlapping, "no two nodes overlap").toEqual([]);

  // Readable: the node ids (14px) draw at 7px or more.
  const idSize = await page.getByTestId("graph-node-route_by_risk").locator(".text-sm").evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  expect(zoom, "the graph opens at a readable zoom").toBeGreaterThanOrEqual(0.5);
  expect(idSize * zoom).toBeGreaterThanOrEqual(7);

  // Outcomes are written on their edges: the approval's, the logic default, the loop body.
  const labels = pane.getByTestId("edge-label");
  for (const text of ["approve", "reject", "timeout", "default", "each", "fail"]) {
    await expect(labels.filter({ hasText: new RegExp(`^${text}$`) }).first(), `an edge labelled ${text}`).toBeVisible();
  }
  // A logic rule shows its condition, cut when long, with the whole condition as its tooltip.
  const rule = labels.filter({ hasText: "{{risk_score}} > 0.6" });
  await expect(rule).toBeVisible();
  const cut = labels.filter({ hasText: "…" }).first();
  await expect(cut).toHaveAttribute("title", /\{\{/);

  const ms = Number(await pane.getAttribute("data-layout-ms"));
  test.info().annotations.push(
    { type: "layout", description: `${(await pane.getAttribute("data-layout")) ?? ""} in ${String(ms)} ms` },
    { type: "zoom", description: zoom.toFixed(3) },
  );
  process.stdout.write(`invoice graph: layout ${String(await pane.getAttribute("data-layout"))} in ${String(ms)} ms, zoom ${zoom.toFixed(3)}, pane ${String(Math.round(paneBox.width))}x${String(Math.round(paneBox.height))}\n`);
  // What the window shows (not the full page): test-artifacts/invoice-graph.png.
  const shot = await page.screenshot({ path: join(ARTIFACTS, "invoice-graph.png") });
  await test.info().attach("invoice-graph", { body: shot, contentType: "image/png" });

  // Selecting a node opens its configuration over the graph; closing it gives the corner back.
  await page.getByTestId("graph-node-manager_review").click();
  await expect(page.getByTestId("node-inspector")).toContainText("human_approval");
  await page.getByRole("button", { name: "Close the node details" }).click();
  await expect(page.getByTestId("node-inspector")).toHaveCount(0);
  expect(errors, "no console errors").toEqual([]);
});
