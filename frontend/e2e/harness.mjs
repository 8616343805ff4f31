// A small test harness for the e2e run: sequential tests, per-page console capture,
// axe-core checks and screenshots. (playwright-core has no test runner of its own.)
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export class Harness {
  constructor({ artifacts }) {
    this.artifacts = artifacts;
    mkdirSync(artifacts, { recursive: true });
    this.tests = [];
    this.results = [];
  }

  test(name, fn) {
    this.tests.push({ name, fn });
  }

  async run(context) {
    for (const t of this.tests) {
      const started = Date.now();
      try {
        await t.fn(context);
        this.results.push({ name: t.name, ok: true, ms: Date.now() - started });
        console.log(`  ✓ ${t.name} (${String(Date.now() - started)} ms)`);
      } catch (err) {
        this.results.push({ name: t.name, ok: false, ms: Date.now() - started, error: err });
        console.log(`  ✗ ${t.name}\n    ${String(err?.stack ?? err).split("\n").slice(0, 6).join("\n    ")}`);
        for (const page of context.browserContext.pages()) {
          try {
            await page.screenshot({ path: join(this.artifacts, `FAILED-${slug(t.name)}-${String(context.browserContext.pages().indexOf(page))}.png`), fullPage: true });
          } catch {
            // The page may be gone.
          }
        }
      }
    }
    return this.results;
  }
}

export function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** Collects console errors and uncaught exceptions of a page. */
export function watchConsole(page) {
  const errors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`${msg.text()} @ ${msg.location()?.url ?? ""}`);
  });
  page.on("pageerror", (err) => errors.push(`uncaught: ${err.message}`));
  return errors;
}

/** axe-core on the current page; returns the serious and critical violations. */
export async function axeSerious(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}
