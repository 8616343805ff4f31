// Sign-in, roles and the admin pages in a real browser against a real LangOrch server
// with authentication on (the default). The worker's pages start signed in as the local
// admin (support.ts); the anonymous and viewer scenarios open contexts of their own.
import type { Browser, BrowserContext, Page } from "@playwright/test";
import type { ApprovalRead, ProjectRead } from "../src/lib/api/models";
import { ADMIN_PASSWORD, ADMIN_USER, axeSerious, csrfHeaders, expect, readFixture, screenshot, startRun, test, watchConsole } from "./support";

const VIEWER = { username: "e2e-viewer", password: "viewer-password-0001" };

/** A browser context with no session at all. */
async function anonymous(browser: Browser, baseURL: string): Promise<BrowserContext> {
  return browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
}

async function signInWithForm(page: Page, username: string, password: string): Promise<void> {
  await page.locator("#login-username").fill(username);
  await page.locator("#login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

test.beforeEach(({ adminSession }) => {
  test.skip(adminSession === null, "this server has no authentication");
});

test("an anonymous visit lands on the login page; a wrong password is refused, the right one goes back", async ({ browser, baseURL }) => {
  const context = await anonymous(browser, baseURL ?? "");
  const page = await context.newPage();
  const errors = watchConsole(page);
  await page.goto("/runs?status=failed");
  await page.waitForURL(/\/login\?next=/);
  expect(new URL(page.url()).searchParams.get("next"), "the login page knows the way back").toBe("/runs?status=failed");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }), "no navigation before signing in").toHaveCount(0);
  await expect(page.getByTestId("oidc-login"), "no single sign-on without an OIDC issuer").toHaveCount(0);
  await screenshot(page, "login");
  expect((await axeSerious(page)).map((v) => `${v.id} at ${v.nodes.join(", ")}`), "no serious axe violations on the login page").toEqual([]);

  await signInWithForm(page, ADMIN_USER, "not-the-password");
  await expect(page.getByTestId("login-error")).toHaveText("Wrong username or password.");
  expect(new URL(page.url()).pathname, "still on the login page").toMatch(/^\/login/);

  await signInWithForm(page, ADMIN_USER, ADMIN_PASSWORD);
  await page.waitForURL(/\/runs\?status=failed$/);
  await expect(page.getByTestId("user-name")).toHaveText(ADMIN_USER);
  await expect(page.getByTestId("user-role")).toHaveText("Admin");

  await page.getByTestId("sign-out").click();
  await page.waitForURL(/\/login$/);
  await page.goto("/procedures");
  await page.waitForURL(/\/login\?next=%2Fprocedures/);
  expect(errors.filter((e) => !/401|Unauthorized/i.test(e)), "no console errors besides the refused requests").toEqual([]);
  await context.close();
});

test("the admin sees what was just done in the audit log, and the chain verifies", async ({ page, request }) => {
  const errors = watchConsole(page);
  const name = `Audit e2e ${String(Date.now())}`;
  await page.goto("/projects");
  await page.getByRole("form", { name: "New project" }).getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  const item = page.getByRole("listitem").filter({ hasText: name });
  await expect(item).toBeVisible();

  await test.step("the admin sets the project's allowed hosts; a refused entry is named at the field", async () => {
    await item.getByRole("button", { name: `Edit ${name}` }).click();
    const form = page.getByRole("form", { name: `Edit ${name}` });
    const hosts = form.getByLabel("Allowed hosts");
    await hosts.fill("erp.internal\nnot a host");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(hosts, "the 422 is shown at the field").toHaveAttribute("aria-invalid", "true");
    await expect(form.getByRole("alert")).toContainText("not a host:");

    await hosts.fill(" erp.internal \n10.20.0.0/16, 127.0.0.1");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(form).toHaveCount(0);
    const shown = page.getByRole("listitem").filter({ hasText: name }).getByTestId("project-allowed-hosts");
    await expect(shown.locator("code")).toHaveText(["erp.internal", "10.20.0.0/16", "127.0.0.1"]);

    const listed = await request.get(`/api/projects?search=${encodeURIComponent(name)}`);
    expect(listed.status()).toBe(200);
    const [project] = (await listed.json()) as ProjectRead[];
    expect(project?.name).toBe(name);
    expect(project?.allowed_hosts, "the API returns what the form set").toEqual(["erp.internal", "10.20.0.0/16", "127.0.0.1"]);
  });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await page.waitForURL(/\/audit/);
  await page.getByLabel("Action").fill("project.create");
  const row = page.locator("[data-testid=audit-row][data-action='project.create']").first();
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute("data-actor", ADMIN_USER);
  await page.getByLabel("Action").fill("");
  await expect(page.locator("[data-testid=audit-row][data-action='auth.login']").first(), "the sign-ins are recorded too").toBeVisible();

  await page.getByTestId("audit-verify").click();
  const result = page.getByTestId("audit-verify-result");
  await expect(result).toHaveAttribute("data-ok", "true");
  await expect(result).toContainText("Chain intact");
  await expect(page.getByTestId("audit-export")).toHaveAttribute("href", /\/api\/audit\/export/);
  await screenshot(page, "audit");
  expect(errors.filter((e) => !/status of 422 .*\/api\/projects\//.test(e)), "no console errors besides the refused save").toEqual([]);
});

test("an API key created in the UI is shown once, works, and is not shown again", async ({ page, playwright, baseURL }) => {
  const errors = watchConsole(page);
  await page.goto("/settings/keys");
  await page.getByRole("form", { name: "New API key" }).getByLabel("Name").fill("e2e-ci");
  await page.getByRole("form", { name: "New API key" }).getByLabel("Role").selectOption("viewer");
  await page.getByTestId("create-api-key").click();
  const shown = page.getByTestId("new-api-key");
  await expect(shown).toContainText("will not be shown again");
  const key = (await page.getByTestId("new-api-key-value").textContent()) ?? "";
  expect(key).toMatch(/^lok_/);
  await screenshot(page, "api-key-created");

  const asKey = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${key}` } });
  const me = await asKey.get("/api/auth/me");
  expect(me.status(), "the new key authenticates").toBe(200);
  expect(((await me.json()) as { name: string; role: string }).role).toBe("viewer");
  await asKey.dispose();

  await page.reload();
  await expect(page.locator("[data-testid=api-key-row][data-name=e2e-ci]")).toBeVisible();
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);
  expect(await page.content(), "the key is nowhere on the page after a reload").not.toContain(key);
  expect(errors).toEqual([]);
});

test("a secret stored and rotated in the UI is never shown back", async ({ page, request }) => {
  const errors = watchConsole(page);
  const name = `e2e_token_${String(Date.now())}`;
  const value = `s3cr3t-${String(Date.now())}-value`;
  await page.goto("/secrets");
  const form = page.getByRole("form", { name: "New secret" });
  await form.getByLabel("Name").fill(name);
  await form.getByTestId("secret-value").fill(value);
  await page.getByTestId("create-secret").click();
  const row = page.locator(`[data-testid=secret-row][data-name="${name}"]`);
  await expect(row).toContainText("v1");
  await expect(form.getByTestId("secret-value"), "the value field is emptied once sent").toHaveValue("");

  await row.getByRole("button", { name: /Rotate/ }).click();
  const dialog = page.getByRole("dialog", { name: `Rotate ${name}` });
  await expect(dialog.getByTestId("secret-value"), "never prefilled").toHaveValue("");
  await dialog.getByTestId("secret-value").fill(`${value}-2`);
  await dialog.getByTestId("rotate-secret-submit").click();
  await expect(row).toContainText("v2");

  expect(await page.content(), "the value is nowhere on the page").not.toContain(value);
  const listed = await request.get("/api/secrets");
  expect(await listed.text(), "nor in the API's answer").not.toContain(value);
  expect(errors).toEqual([]);
});

test("a viewer sees the procedures but cannot import, run, delete or decide", async ({ browser, baseURL, request }) => {
  const created = await request.post("/api/users", { data: { username: VIEWER.username, password: VIEWER.password, role: "viewer" } });
  expect([201, 409], "the viewer user exists").toContain(created.status());
  // A procedure of its own (the operator-ui scenarios import the fixture itself on this server).
  const procedureId = "ui_e2e_auth_payment";
  const ckp = { ...(JSON.parse(readFixture("approval.ckp.json")) as Record<string, unknown>), procedure_id: procedureId };
  const imported = await request.post("/api/procedures", { data: { ckp_json: ckp, project_id: null } });
  expect([201, 409], `${procedureId} is imported`).toContain(imported.status());
  const runId = await startRun(request, procedureId, { vendor: "Acme Corp", amount: 250, currency: "USD" }, "waiting_approval");

  const context = await anonymous(browser, baseURL ?? "");
  const page = await context.newPage();
  await page.goto("/procedures");
  await page.waitForURL(/\/login/);
  await signInWithForm(page, VIEWER.username, VIEWER.password);
  await page.waitForURL(/\/procedures$/);
  // From here on (the anonymous visit's refused requests are expected).
  const errors = watchConsole(page);
  await expect(page.getByTestId("user-role")).toHaveText("Viewer");
  await expect(page.getByRole("link", { name: procedureId })).toBeVisible();
  await expect(page.getByTestId("import-procedure-link"), "no import for a viewer").toHaveCount(0);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Procedures" })).toBeVisible();
  for (const admin of ["Audit log", "Users", "API keys", "Secrets"]) await expect(nav.getByRole("link", { name: admin }), `no ${admin} entry`).toHaveCount(0);

  await page.getByRole("link", { name: procedureId }).click();
  await page.waitForURL(/\/procedures\/view/);
  await expect(page.getByRole("tab", { name: "Overview" })).toBeVisible();
  await expect(page.getByTestId("run-procedure"), "no Run… for a viewer").toHaveCount(0);
  await expect(page.getByTestId("delete-procedure"), "no Delete for a viewer").toHaveCount(0);
  await expect(page.getByRole("button", { name: /Activate|Deprecate|Archive/ })).toHaveCount(0);
  await page.getByRole("tab", { name: "Run" }).click();
  await expect(page.getByTestId("run-not-allowed")).toBeVisible();
  await expect(page.getByTestId("run-submit")).toHaveCount(0);

  await page.goto(`/runs/view?id=${runId}`);
  await expect(page.locator("[data-testid=run-status] [data-status=waiting_approval]")).toBeVisible();
  await expect(page.getByRole("button", { name: /Cancel run|Retry|Delete/ }), "no run actions for a viewer").toHaveCount(0);
  await page.goto("/runs");
  await expect(page.locator(`[data-testid=run-row][data-run="${runId}"]`)).toBeVisible();
  await expect(page.getByRole("toolbar", { name: "Bulk actions" })).toHaveCount(0);

  await page.goto("/approvals");
  const item = page.locator(`[data-testid=approval-item][data-run="${runId}"][data-status=pending]`);
  await expect(item).toBeVisible();
  await expect(item.getByTestId("decision-not-allowed")).toBeVisible();
  await expect(item.getByTestId("approve-button")).toHaveCount(0);
  await expect(item.getByTestId("reject-button")).toHaveCount(0);
  await screenshot(page, "viewer-inbox");

  // The server refuses it too: a viewer's decision is a 403, whatever the UI shows.
  const approvals = await context.request.get(`/api/approvals?run_id=${runId}&status=pending`);
  const [approval] = (await approvals.json()) as ApprovalRead[];
  expect(approval, "the run's approval is pending").toBeDefined();
  const decided = await context.request.post(`/api/approvals/${approval?.approval_id ?? ""}/decision`, {
    data: { decision: "approve" },
    headers: await csrfHeaders(context),
  });
  expect(decided.status(), "a viewer may not decide").toBe(403);
  expect(errors).toEqual([]);
  await context.close();
});
