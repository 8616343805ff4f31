// Fixtures and helpers for the browser suite: a LangOrch server per worker (tests reach
// it through baseURL) with its local admin signed in (pages and `request` carry the
// session), the console-error watch, the axe-core check, screenshots into test-artifacts/,
// and API shortcuts for preparing data when a test runs on its own.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test as base, expect, request as playwrightRequest, type APIRequestContext, type BrowserContext, type Page } from "@playwright/test";
import type { RunRead, RunStatus } from "../src/lib/api/models";
import { ADMIN_PASSWORD, ADMIN_USER, ARTIFACTS, startServer, type Server } from "./server";

export { expect, ADMIN_PASSWORD, ADMIN_USER };

/** A signed-in session: its cookies (a storage-state file) and the CSRF token writes must echo. */
export interface Session {
  storageState: string;
  csrf: string;
}

/**
 * Signs `username` in through POST /api/auth/login and saves the session's cookies to
 * `file`; null when the server has no authentication (no /api/auth routes).
 */
export async function signIn(base: string, username: string, password: string, file: string): Promise<Session | null> {
  const ctx = await playwrightRequest.newContext({ baseURL: base });
  try {
    const status = await ctx.get("/api/auth/status");
    if (status.status() === 404) return null;
    const res = await ctx.post("/api/auth/login", { data: { username, password } });
    expect(res.status(), `${username} signs in`).toBe(200);
    const { csrf_token: csrf } = (await res.json()) as { csrf_token: string };
    await ctx.storageState({ path: file });
    return { storageState: file, csrf };
  } finally {
    await ctx.dispose();
  }
}

/** The CSRF header for API calls made with a browser context's cookies (context.request). */
export async function csrfHeaders(context: BrowserContext): Promise<Record<string, string>> {
  const cookie = (await context.cookies()).find((c) => c.name === "langorch_csrf");
  return cookie ? { "X-CSRF-Token": cookie.value } : {};
}

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const FIXTURES = join(import.meta.dirname, "fixtures");

// eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- extend() takes test fixtures first; the new ones are the worker's.
export const test = base.extend<Record<never, never>, { server: Server; adminSession: Session | null }>({
  // One server (and database) per worker: the tests of a worker share it, and a retry,
  // which Playwright runs in a new worker, starts from an empty one.
  server: [
    async ({}, provide, workerInfo) => {
      const server = await startServer(`worker ${String(workerInfo.workerIndex)}`);
      try {
        await provide(server);
      } finally {
        await server.stop();
      }
    },
    { scope: "worker", timeout: 120_000 },
  ],
  // Auth is on by default: the worker's server creates the local admin with
  // ADMIN_PASSWORD at first start, and the admin signs in once per worker.
  adminSession: [
    async ({ server }, provide, workerInfo) => {
      const dir = join(workerInfo.project.outputDir, ".auth");
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `admin-${String(workerInfo.workerIndex)}.json`);
      writeFileSync(file, JSON.stringify({ cookies: [], origins: [] }));
      await provide(await signIn(server.base, ADMIN_USER, ADMIN_PASSWORD, file));
    },
    { scope: "worker" },
  ],
  baseURL: async ({ server }, provide) => {
    await provide(server.base);
  },
  // Every page starts signed in as the admin (a test that needs another identity opens its own context).
  storageState: async ({ adminSession }, provide) => {
    await provide(adminSession?.storageState);
  },
  // The API shortcuts run as the admin too, echoing the CSRF token as the server requires.
  request: async ({ server, adminSession }, provide) => {
    const ctx = await playwrightRequest.newContext({
      baseURL: server.base,
      storageState: adminSession?.storageState,
      extraHTTPHeaders: adminSession ? { "X-CSRF-Token": adminSession.csrf } : {},
    });
    await provide(ctx);
    await ctx.dispose();
  },
});

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

export function readFixture(name: string): string {
  return readFileSync(fixturePath(name), "utf8");
}

/** A full-page screenshot as test-artifacts/<name>.png, also attached to the report. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const body = await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  await test.info().attach(name, { body, contentType: "image/png" });
}

/** Collects a page's console errors and uncaught exceptions from now on. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`${msg.text()} @ ${msg.location().url}`);
  });
  page.on("pageerror", (err) => errors.push(`uncaught: ${err.message}`));
  return errors;
}

export interface AxeViolation {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: string[];
}

/** axe-core on the current page; returns the serious and critical violations. */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE_PATH });
  const violations = await page.evaluate(async () => {
    const { axe } = window as unknown as { axe: typeof import("axe-core") };
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

// The API shortcuts go through `request`, so they show in the trace.

/** Imports a fixture CKP unless its procedure exists; returns the procedure id. */
export async function ensureProcedure(request: APIRequestContext, file: string): Promise<string> {
  const ckp = JSON.parse(readFixture(file)) as { procedure_id: string };
  const found = await request.get(`/api/procedures/${ckp.procedure_id}`);
  if (found.status() === 404) {
    const created = await request.post("/api/procedures", { data: { ckp_json: ckp, project_id: null } });
    expect(created.status(), `${file} imports`).toBe(201);
  } else {
    expect(found.status(), `GET /api/procedures/${ckp.procedure_id}`).toBe(200);
  }
  return ckp.procedure_id;
}

export async function getRun(request: APIRequestContext, runId: string): Promise<RunRead> {
  const res = await request.get(`/api/runs/${runId}`);
  expect(res.status(), `GET /api/runs/${runId}`).toBe(200);
  return (await res.json()) as RunRead;
}

/** Starts a run through the API (and waits until it reaches `until`, if given); returns its id. */
export async function startRun(request: APIRequestContext, procedureId: string, inputs: Record<string, unknown>, until?: RunStatus): Promise<string> {
  const res = await request.post("/api/runs", { data: { procedure_id: procedureId, input_vars: inputs } });
  expect(res.status(), `a run of ${procedureId} starts`).toBe(201);
  const { run_id: runId } = (await res.json()) as RunRead;
  if (until === undefined) return runId;
  await expect.poll(async () => (await getRun(request, runId)).status, { message: `run ${runId} reaches ${until}`, timeout: 30_000 }).toBe(until);
  return runId;
}
