#!/usr/bin/env node
// Makes `npm ci` accept package-lock.json on this workplace's npm registry.
//
// The registry serves only the platform packages this kind of machine uses: the
// optional native builds for other platforms (@next/swc-darwin-*, @tailwindcss/oxide-
// win32-*, lightningcss-*, …) answer 404. `npm install` then leaves them out of the lock
// file, while `npm ci` still puts them, as failed optional nodes with version "", in the
// tree it compares against the lock, and refuses ("Missing: …@ from lock file").
// This script records exactly those nodes in the lock (same location, version "",
// optional), so the comparison passes; installing them still fails quietly, as optional
// dependencies do. Run it after any `npm install` that changes the lock:
//   npm install && node scripts/lock-optional.mjs
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const npmRoot = execFileSync("npm", ["root", "-g"], { encoding: "utf8" }).trim();
const require = createRequire(join(npmRoot, "npm", "package.json"));
const Arborist = require("@npmcli/arborist");

const lockPath = join(root, "package-lock.json");
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
// Snapshot the lock's locations first, as `npm ci` does: building the ideal tree reuses the loaded nodes.
const locked = new Set((await new Arborist({ path: root }).loadVirtual()).inventory.keys());
const ideal = await new Arborist({ path: root }).buildIdealTree();
let added = 0;
for (const [location, node] of ideal.inventory.entries()) {
  if (!location || locked.has(location)) continue;
  if (!node.optional || node.version) {
    console.error(`lock-optional: ${location} is missing from the lock and is not a failed optional package; run npm install`);
    process.exitCode = 1;
    continue;
  }
  lock.packages[location] = { version: "", dev: node.dev || undefined, optional: true };
  added++;
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-optional: recorded ${String(added)} unavailable optional package(s)`);
