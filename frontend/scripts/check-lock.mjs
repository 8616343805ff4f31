#!/usr/bin/env node
// Fails with a clear message when package-lock.json holds an entry npm will refuse.
//
// npm ci stops with a bare "Invalid Version:" when a lock entry has no version (a lock
// edited by hand or by a script, not written by npm). This runs before npm ci in
// `make run` and `make test`, so the cause is named instead. Fix: `npm install` in
// frontend/ and commit the lock file npm writes.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const lockPath = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "package-lock.json");
let lock;
try {
  lock = JSON.parse(readFileSync(lockPath, "utf8"));
} catch (err) {
  console.error(`check-lock: cannot read ${lockPath}: ${String(err?.message ?? err)}`);
  process.exit(1);
}
const bad = Object.entries(lock.packages ?? {})
  .filter(([location, entry]) => location !== "" && !entry.link && (typeof entry.version !== "string" || entry.version === ""))
  .map(([location]) => location);
if (bad.length > 0) {
  console.error(`check-lock: ${lockPath} has ${String(bad.length)} entr${bad.length === 1 ? "y" : "ies"} without a version, which npm ci refuses:`);
  for (const location of bad.slice(0, 20)) console.error(`  ${location}`);
  if (bad.length > 20) console.error(`  … and ${String(bad.length - 20)} more`);
  console.error("Regenerate the lock with `npm install` in frontend/ (never edit it by hand) and commit it.");
  process.exit(1);
}
