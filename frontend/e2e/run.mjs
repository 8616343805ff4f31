#!/usr/bin/env node
// End-to-end test of the operator UI in a real browser against a real LangOrch server.
//
// 1. Makes sure Debian's Chromium is installed (apt-get, never a browser download) and
//    that the static export in out/ is up to date (npm run build when src/ changed).
// 2. Starts `langorch serve --load-examples ckp_examples` on a free port with a
//    throw-away SQLite database. If that server serves the UI (LANGORCH_API__STATIC_DIR
//    is wired), the browser talks to it alone; otherwise e2e/serve-ui.mjs serves out/
//    and forwards /api to it, so UI and API still share an origin.
// 3. Drives /usr/bin/chromium with playwright-core through the flows in e2e/tests.mjs,
//    writing screenshots to test-artifacts/.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Harness } from "./harness.mjs";
import { serveUi } from "./serve-ui.mjs";
import { defineTests } from "./tests.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, "..");
const repo = resolve(frontend, "..");
const artifacts = join(frontend, "test-artifacts");
const CHROMIUM = "/usr/bin/chromium";
const LANGORCH = process.env.LANGORCH_BIN ?? join(repo, ".venv", "bin", "langorch");

function log(message) {
  console.log(`[e2e] ${message}`);
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  log("installing Debian's chromium with apt-get (no browser download)");
  const apt = (args) => execFileSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  try {
    apt(["install", "-y", "-q", "chromium"]);
  } catch {
    apt(["update", "-q"]);
    apt(["install", "-y", "-q", "chromium"]);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is still missing after apt-get install chromium`);
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function ensureBuild() {
  const index = join(frontend, "out", "index.html");
  const stale = !existsSync(index) || newestMtime(join(frontend, "src")) > statSync(index).mtimeMs || process.env.E2E_BUILD === "1";
  if (!stale) return;
  log("building the static export (npm run build)");
  execFileSync("npm", ["run", "build"], { cwd: frontend, stdio: "inherit", env: { ...process.env, NEXT_PUBLIC_API_BASE: "" } });
}

function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  let last = "";
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${String(res.status)}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${String(ms)} ms (${last})`);
}

async function startBackend() {
  if (!existsSync(LANGORCH)) throw new Error(`${LANGORCH} not found: run \`make install\` first`);
  const dir = mkdtempSync(join(tmpdir(), "langorch-e2e-"));
  const port = await freePort();
  const logFile = openSync(join(artifacts, "backend.log"), "w");
  const child = spawn(LANGORCH, ["serve", "--port", String(port), "--load-examples", "ckp_examples"], {
    cwd: repo,
    stdio: ["ignore", logFile, logFile],
    env: {
      ...process.env,
      LANGORCH_DB__URL: `sqlite+aiosqlite:///${join(dir, "e2e.db")}`,
      LANGORCH_API__STATIC_DIR: join(frontend, "out"),
    },
  });
  const exited = new Promise((ok) => child.on("exit", (code) => ok(code)));
  const api = `http://127.0.0.1:${String(port)}`;
  await Promise.race([
    waitFor(`${api}/api/health`, 90_000),
    exited.then((code) => {
      throw new Error(`langorch serve exited with ${String(code)}; see test-artifacts/backend.log`);
    }),
  ]);
  return {
    api,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function servesUi(api) {
  try {
    const res = await fetch(`${api}/procedures`);
    return res.ok && (res.headers.get("content-type") ?? "").includes("text/html");
  } catch {
    return false;
  }
}

async function main() {
  rmSync(artifacts, { recursive: true, force: true });
  ensureChromium();
  ensureBuild();
  const harness = new Harness({ artifacts });
  const backend = await startBackend();
  let ui = null;
  let base = backend.api;
  if (await servesUi(backend.api)) log(`the server serves the UI itself at ${base}`);
  else {
    ui = await serveUi({ root: join(frontend, "out"), api: backend.api });
    base = `http://127.0.0.1:${String(ui.port)}`;
    log(`the server does not serve the UI; serving out/ at ${base} with /api forwarded to ${backend.api}`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const browserContext = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: base });
  browserContext.setDefaultTimeout(20_000);
  let results = [];
  try {
    defineTests(harness, { fixtures: join(here, "fixtures"), api: backend.api });
    results = await harness.run({ browserContext, base, api: backend.api, artifacts });
  } finally {
    await browser.close().catch(() => undefined);
    await ui?.close();
    await backend.stop();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  log(`screenshots and logs in ${artifacts}`);
  console.log(`${String(passed)} passed, ${String(failed)} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
