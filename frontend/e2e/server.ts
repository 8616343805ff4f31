// What the browser suite needs outside the browser: Debian's Chromium, a fresh static
// export, and a real LangOrch server with a throw-away database. global-setup.ts calls the
// first two once per run; support.ts starts a server per Playwright worker.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serveUi } from "./serve-ui.mjs";

export const FRONTEND = resolve(import.meta.dirname, "..");
const REPO = resolve(FRONTEND, "..");
/** Screenshots, the server log, and (under results/ and report/) Playwright's own output. */
export const ARTIFACTS = join(FRONTEND, "test-artifacts");
export const BACKEND_LOG = join(ARTIFACTS, "backend.log");
export const CHROMIUM = "/usr/bin/chromium";
const OUT = join(FRONTEND, "out");
const LANGORCH = process.env.LANGORCH_BIN ?? join(REPO, ".venv", "bin", "langorch");
/** The local admin the server creates at first start (auth is on by default). */
export const ADMIN_USER = "admin";
export const ADMIN_PASSWORD = "e2e-admin-password-0001";

export function log(message: string): void {
  process.stdout.write(`[e2e] ${message}\n`);
}

/** Installs Debian's chromium with apt-get when it is missing; never downloads a browser. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  log("installing Debian's chromium with apt-get (no browser download)");
  const apt = (args: string[]) => execFileSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  try {
    apt(["install", "-y", "-q", "chromium"]);
  } catch {
    apt(["update", "-q"]);
    apt(["install", "-y", "-q", "chromium"]);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is still missing after apt-get install chromium`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when out/ is missing or older than src/ (or E2E_BUILD=1). */
export function ensureBuild(): void {
  const index = join(OUT, "index.html");
  const stale = !existsSync(index) || newestMtime(join(FRONTEND, "src")) > statSync(index).mtimeMs || process.env.E2E_BUILD === "1";
  if (!stale) return;
  log("building the static export (npm run build)");
  execFileSync("npm", ["run", "build"], { cwd: FRONTEND, stdio: "inherit", env: { ...process.env, NEXT_PUBLIC_API_BASE: "" } });
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => {
        ok(port);
      });
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
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

interface Backend {
  api: string;
  stop: () => Promise<void>;
}

/**
 * `langorch serve --load-examples ckp_examples` on a free port with a throw-away SQLite
 * database, serving out/ itself when LANGORCH_API__STATIC_DIR is wired. Its output is
 * appended to test-artifacts/backend.log under a header naming `who` started it; `env`
 * adds settings (a spec's own server, e.g. with a notification webhook).
 */
async function startBackend(who: string, env: Record<string, string>): Promise<Backend> {
  if (!existsSync(LANGORCH)) throw new Error(`${LANGORCH} not found: run \`make install\` first`);
  const dir = mkdtempSync(join(tmpdir(), "langorch-e2e-"));
  const port = await freePort();
  appendFileSync(BACKEND_LOG, `\n===== ${who}: langorch serve --port ${String(port)} (${new Date().toISOString()}) =====\n`);
  const logFd = openSync(BACKEND_LOG, "a");
  const child = spawn(LANGORCH, ["serve", "--port", String(port), "--load-examples", "ckp_examples"], {
    cwd: REPO,
    stdio: ["ignore", logFd, logFd],
    env: {
      ...process.env,
      LANGORCH_DB__URL: `sqlite+aiosqlite:///${join(dir, "e2e.db")}`,
      LANGORCH_API__STATIC_DIR: OUT,
      LANGORCH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // The session-signing key and the secret store's master key go with the throw-away database.
      LANGORCH_AUTH__SECRET_FILE: join(dir, "auth.key"),
      LANGORCH_SECRETS__KEY_FILE: join(dir, "secret.key"),
      ...env,
    },
  });
  closeSync(logFd);
  const exited = new Promise<number | null>((ok) => child.on("exit", (code) => {
    ok(code);
  }));
  // Should the worker die without tearing its fixtures down, do not leave the server behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const api = `http://127.0.0.1:${String(port)}`;
  try {
    await Promise.race([
      waitFor(`${api}/api/health`, 90_000),
      exited.then((code) => {
        throw new Error(`langorch serve exited with ${String(code)}; see test-artifacts/backend.log`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { api, stop };
}

async function servesUi(api: string): Promise<boolean> {
  try {
    const res = await fetch(`${api}/procedures`);
    return res.ok && (res.headers.get("content-type") ?? "").includes("text/html");
  } catch {
    return false;
  }
}

export interface Server {
  /** The LangOrch server. */
  api: string;
  /** Where the browser goes: the server itself, or e2e/serve-ui.mjs forwarding /api to it. */
  base: string;
  stop: () => Promise<void>;
}

/**
 * A LangOrch server for one worker. If it does not serve the UI itself, e2e/serve-ui.mjs
 * serves out/ and forwards /api to it, so UI and API still share an origin. `env` adds
 * LANGORCH_* settings to the server's environment.
 */
export async function startServer(who: string, env: Record<string, string> = {}): Promise<Server> {
  const backend = await startBackend(who, env);
  if (await servesUi(backend.api)) {
    log(`${who}: the server serves the UI itself at ${backend.api}`);
    return { api: backend.api, base: backend.api, stop: backend.stop };
  }
  try {
    const ui = await serveUi({ root: OUT, api: backend.api });
    const base = `http://127.0.0.1:${String(ui.port)}`;
    log(`${who}: the server does not serve the UI; serving out/ at ${base} with /api forwarded to ${backend.api}`);
    return {
      api: backend.api,
      base,
      stop: async () => {
        await ui.close();
        await backend.stop();
      },
    };
  } catch (err) {
    await backend.stop();
    throw err;
  }
}
