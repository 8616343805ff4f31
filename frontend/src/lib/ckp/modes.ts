/**
 * What a procedure's CKP says about run modes (`langorch.runtime.modes`): the mode a
 * run gets when none is asked for, and whether test mode has the procedure's own test
 * data to answer from.
 */
import type { RunMode } from "@/lib/format/labels";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function globalConfig(ckp: unknown): Json {
  return isObject(ckp) && isObject(ckp.global_config) ? ckp.global_config : {};
}

/** production unless global_config.execution_mode is dry_run or mock_external_calls is true (as the server decides). */
export function procedureDefaultMode(ckp: unknown): RunMode {
  const gc = globalConfig(ckp);
  if (gc.execution_mode === "dry_run") return "dry_run";
  if (gc.mock_external_calls === true) return "test";
  return "production";
}

/** How many answers global_config.test_data_overrides holds (0 when none). */
export function testDataCount(ckp: unknown): number {
  const overrides = globalConfig(ckp).test_data_overrides;
  return isObject(overrides) ? Object.keys(overrides).length : 0;
}
