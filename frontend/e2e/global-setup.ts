// Once per `playwright test` run, before any worker starts: Debian's Chromium, a fresh
// static export, and an artifacts folder without the previous run's screenshots. The
// LangOrch servers are per worker (the `server` fixture in support.ts), so a retry in a
// new worker starts from an empty database.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, BACKEND_LOG, ensureBuild, ensureChromium } from "./server";

export default function globalSetup(): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  // results/ and report/ belong to Playwright; the files next to them are ours.
  for (const entry of readdirSync(ARTIFACTS, { withFileTypes: true })) {
    if (entry.isFile()) rmSync(join(ARTIFACTS, entry.name), { force: true });
  }
  writeFileSync(BACKEND_LOG, "");
  ensureChromium();
  ensureBuild();
}
