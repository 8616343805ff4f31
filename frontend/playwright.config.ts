// The browser suite (e2e/): Playwright Test driving Debian's Chromium against a real
// LangOrch server. `npm run e2e` runs it; e2e/global-setup.ts installs Chromium (apt-get,
// never a browser download) and rebuilds out/ when needed, and each worker starts its own
// server (the `server` fixture in e2e/support.ts), so `npx playwright test --grep …`
// works on its own too.
import { defineConfig } from "@playwright/test";
import { CHROMIUM } from "./e2e/server";

export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/global-setup.ts",
  // Screenshots the scenarios take and the server log go to test-artifacts/ itself.
  outputDir: "test-artifacts/results",
  reporter: [["list"], ["html", { outputFolder: "test-artifacts/report", open: "never" }]],
  // The scenarios share one server and build on each other: one worker, in file order.
  workers: 1,
  fullyParallel: false,
  retries: process.env.CI ? 1 : 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 20_000 },
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: CHROMIUM,
      // The network here is closed: without the background-networking flags Chromium
      // keeps trying (and failing) to reach Google's services.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    viewport: { width: 1440, height: 900 },
    actionTimeout: 20_000,
    navigationTimeout: 20_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
});
