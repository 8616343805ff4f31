/**
 * Human labels for the values the API speaks in snake_case: run event types, approval
 * decisions and decision types, run modes. One table each; anything the server adds
 * later still reads as words ("foo_bar_baz" → "Foo bar baz").
 */

/** snake_case (or kebab-case) → "Sentence case". */
export function humanize(value: string): string {
  const words = value.replace(/[_-]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : value;
}

export const EVENT_LABELS: Readonly<Record<string, string>> = {
  run_started: "Run started",
  run_resumed: "Run resumed",
  run_completed: "Run completed",
  run_failed: "Run failed",
  run_canceled: "Run canceled",
  node_started: "Node started",
  node_completed: "Node completed",
  node_failed: "Node failed",
  step_started: "Step started",
  step_completed: "Step completed",
  step_failed: "Step failed",
  step_retry: "Retrying step",
  step_timeout: "Step timed out",
  step_test_override_applied: "Answered from test data",
  step_mock_applied: "Mocked",
  step_skipped_dry_run: "Skipped (dry run)",
  recovery_step_failed: "Recovery step failed",
  approval_requested: "Approval requested",
  approval_decided: "Approval decided",
  llm_usage: "LLM usage",
  llm_repair: "LLM answer repaired",
  log: "Log",
  audit_log: "Audit log",
  artifact_created: "Artifact created",
  checkpoint_saved: "Checkpoint saved",
  route_selected: "Route selected",
  check_evaluated: "Check evaluated",
  loop_iteration: "Loop iteration",
  loop_iteration_failed: "Loop iteration failed",
  loop_completed: "Loop completed",
  loop_max_iterations: "Loop hit its iteration limit",
  branch_started: "Branch started",
  branch_completed: "Branch completed",
  branch_retry: "Retrying branch",
  parallel_joined: "Branches joined",
  subflow_started: "Subflow started",
  subflow_completed: "Subflow completed",
  budget_warning: "Budget warning",
  budget_exceeded: "Budget exceeded",
  sla_breached: "SLA breached",
  step_error_notification: "Error notification",
  pool_saturated: "Agent pool saturated",
  error_escalated: "Error escalated",
  terminate_action_failed: "Terminate action failed",
  validation_warning: "Validation warning",
  verification_warning: "Verification warning",
};

/** "run_started" → "Run started"; an unknown type in words. */
export function eventLabel(type: string): string {
  return EVENT_LABELS[type] ?? humanize(type);
}

/** An approval's decision (approve | reject | timeout | a chosen option) as a past-tense outcome. */
export const DECISION_LABELS: Readonly<Record<string, string>> = {
  approve: "Approved",
  approved: "Approved",
  reject: "Rejected",
  rejected: "Rejected",
  timeout: "Timed out",
  timed_out: "Timed out",
  canceled: "Canceled",
  provide_input: "Input provided",
};

/** "approve" → "Approved"; a chosen option is shown as it is ("Option “{value}”" reads worse than the value). */
export function decisionLabel(decision: string): string {
  return DECISION_LABELS[decision] ?? decision;
}

/** What a gate asks of its approver. */
export const DECISION_TYPE_LABELS: Readonly<Record<string, string>> = {
  approve_reject: "Approve or reject",
  select_option: "Choose an option",
  provide_input: "Provide input",
};

export function decisionTypeLabel(type: string): string {
  return DECISION_TYPE_LABELS[type] ?? humanize(type);
}

export type RunMode = "production" | "dry_run" | "test";

export const RUN_MODES: readonly RunMode[] = ["production", "dry_run", "test"];

export const RUN_MODE_LABELS: Readonly<Record<RunMode, string>> = {
  production: "Production",
  dry_run: "Dry run",
  test: "Test",
};

/** One line each: what a run in this mode does to the world outside. */
export const RUN_MODE_HELP: Readonly<Record<RunMode, string>> = {
  production: "Every step does what it says: agents, APIs and LLMs are really called.",
  dry_run: "Steps with side effects (agent and MCP actions that change things, HTTP other than GET) are skipped; reads still run.",
  test: "Nothing outside is reached: agent, MCP, HTTP and LLM calls answer from test data, else a mock result.",
};

/** The badge text of a non-production run (null for production). */
export function runModeBadge(mode: string | null | undefined): string | null {
  if (mode === "test") return "Test mode — no agent or LLM reached";
  if (mode === "dry_run") return "Dry run — side effects skipped";
  return null;
}

export function runModeLabel(mode: string | null | undefined): string {
  return mode && mode in RUN_MODE_LABELS ? RUN_MODE_LABELS[mode as RunMode] : humanize(mode ?? "production");
}
