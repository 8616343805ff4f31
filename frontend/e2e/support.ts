// Fixtures and helpers for the browser suite: a LangOrch server per worker (tests reach
// it through baseURL), the console-error watch, the axe-core check, screenshots into
// test-artifacts/, and API shortcuts for preparing data when a test runs on its own.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";
import type { RunRead, RunStatus } from "../src/lib/api/models";
import { ARTIFACTS, startServer, type Server } from "./server";

export { expect };

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const FIXTURES = join(import.meta.dirname, "fixtures");

// eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- extend() takes test fixtures first; there are none, only the worker's server.
export const test = base.extend<Record<never, never>, { server: Server }>({
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
  baseURL: async ({ server }, provide) => {
    await provide(server.base);
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
