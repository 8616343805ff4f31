/**
 * Run events → the timeline the run page draws: one group per node visit (a loop body
 * visited three times is three groups), step rows inside, run-level events between,
 * and the graph overlay (visited / current / failed nodes).
 *
 * Once the run has finished nothing in it is still running: a node visit or step that
 * never reported its end is shown as "interrupted" (the run failed or was canceled
 * under it) or "ended" (the run completed past it).
 */

export interface RunEvent {
  seq: number;
  type: string;
  node_id?: string | null;
  step_id?: string | null;
  payload?: unknown;
  created_at: string;
}

export type ItemStatus =
  | "running"
  | "completed"
  | "failed"
  | "skipped"
  | "waiting"
  | "retrying"
  /** Test mode: the step answered from the procedure's test_data_overrides. */
  | "test_data"
  /** Test mode: the step answered with a mock result. */
  | "mocked"
  /** The run failed or was canceled while this was unfinished. */
  | "interrupted"
  /** The run completed without this reporting its own end. */
  | "ended";

/** What the timeline shows for each status (the data-status attribute keeps the value). */
export const ITEM_STATUS_LABEL: Readonly<Record<ItemStatus, string>> = {
  running: "running",
  completed: "completed",
  failed: "failed",
  skipped: "skipped (dry run)",
  waiting: "waiting",
  retrying: "retrying",
  test_data: "answered from test data",
  mocked: "mocked",
  interrupted: "interrupted",
  ended: "ended",
};

const UNFINISHED: ReadonlySet<ItemStatus> = new Set<ItemStatus>(["running", "waiting", "retrying"]);

export interface StepRow {
  key: string;
  stepId: string;
  status: ItemStatus;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  attempts: number;
  events: RunEvent[];
  error: string | null;
}

export interface NodeGroup {
  kind: "node";
  key: string;
  nodeId: string;
  nodeType: string | null;
  status: ItemStatus;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  steps: StepRow[];
  events: RunEvent[];
  error: string | null;
}

export interface RunItem {
  kind: "run";
  key: string;
  event: RunEvent;
}

export type TimelineItem = NodeGroup | RunItem;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function payloadOf(event: RunEvent): Json {
  return isObject(event.payload) ? event.payload : {};
}

/** A readable error text from an event payload: `error` as text or `{type, message}`. */
export function errorText(payload: Json): string | null {
  const error = payload.error ?? payload.message;
  if (typeof error === "string") return error;
  if (isObject(error)) {
    const type = typeof error.type === "string" ? error.type : typeof error.error_type === "string" ? error.error_type : "";
    const message = typeof error.message === "string" ? error.message : JSON.stringify(error);
    return type ? `${type}: ${message}` : message;
  }
  return null;
}

function millis(a: string, b: string): number | null {
  const d = Date.parse(b) - Date.parse(a);
  return Number.isFinite(d) ? Math.max(0, d) : null;
}

function durationFrom(payload: Json, startedAt: string, endedAt: string): number | null {
  const d = payload.duration_ms;
  return typeof d === "number" && Number.isFinite(d) ? d : millis(startedAt, endedAt);
}

/** Insert `incoming` into `known` (sorted by seq), dropping duplicates; returns a new array only when something changed. */
export function mergeEvents(known: RunEvent[], incoming: RunEvent[]): RunEvent[] {
  if (incoming.length === 0) return known;
  const bySeq = new Map<number, RunEvent>();
  for (const e of known) bySeq.set(e.seq, e);
  let changed = false;
  for (const e of incoming) {
    if (!bySeq.has(e.seq)) {
      bySeq.set(e.seq, e);
      changed = true;
    }
  }
  if (!changed) return known;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

const STEP_END: Record<string, ItemStatus> = {
  step_completed: "completed",
  step_failed: "failed",
  step_timeout: "failed",
  step_skipped_dry_run: "skipped",
  step_test_override_applied: "test_data",
  step_mock_applied: "mocked",
};

const RUN_END: Readonly<Record<string, string>> = {
  run_completed: "completed",
  run_failed: "failed",
  run_canceled: "canceled",
  run_cancelled: "canceled",
};

const TERMINAL = new Set(["completed", "failed", "canceled", "cancelled"]);

/**
 * How the run ended ("completed" | "failed" | "canceled"), or null while it has not:
 * the run's own status when known, else its last run_completed / run_failed /
 * run_canceled event.
 */
export function runOutcome(events: readonly RunEvent[], status?: string | null): string | null {
  if (status) return TERMINAL.has(status) ? (status === "cancelled" ? "canceled" : status) : null;
  for (let i = events.length - 1; i >= 0; i--) {
    const type = events[i]?.type ?? "";
    if (type in RUN_END) return RUN_END[type] ?? null;
    if (type === "run_resumed" || type === "run_started") return null;
  }
  return null;
}

/** In a finished run an unfinished item shows what became of it, never "running". */
function settle(status: ItemStatus, outcome: string | null): ItemStatus {
  if (outcome === null || !UNFINISHED.has(status)) return status;
  return outcome === "completed" ? "ended" : "interrupted";
}

/**
 * The timeline of `events`. `runStatus` is the run's status when known (the run row
 * can say "failed" before the run_failed event arrives); without it the events decide.
 */
export function buildTimeline(events: RunEvent[], runStatus?: string | null): TimelineItem[] {
  const items: TimelineItem[] = [];
  const open = new Map<string, NodeGroup>();
  // The latest visit of each node: an event a node sends after it completed (checkpoint_saved,
  // a parallel fork's branch_completed) belongs to that visit, not to a new one.
  const latest = new Map<string, NodeGroup>();
  // Groups that paused for a person: their duration is wall time, not the node's own run time.
  const waited = new Set<NodeGroup>();
  const groupFor = (event: RunEvent, nodeId: string): NodeGroup => {
    let group = open.get(nodeId);
    const previous = latest.get(nodeId);
    if (!group && previous && event.type !== "node_started") return previous;
    // A node resumed after an approval starts again: it is the same visit, not a new one.
    const resumed = group?.status === "waiting" && event.type === "node_started";
    if (resumed && group) {
      group.status = "running";
      waited.add(group);
    }
    if (!group || (event.type === "node_started" && !resumed)) {
      group = {
        kind: "node",
        key: `node-${nodeId}-${String(event.seq)}`,
        nodeId,
        nodeType: null,
        status: "running",
        startedAt: event.created_at,
        endedAt: null,
        durationMs: null,
        steps: [],
        events: [],
        error: null,
      };
      open.set(nodeId, group);
      latest.set(nodeId, group);
      items.push(group);
    }
    return group;
  };
  for (const event of events) {
    const nodeId = event.node_id ?? null;
    if (nodeId === null || nodeId === "") {
      items.push({ kind: "run", key: `run-${String(event.seq)}`, event });
      continue;
    }
    const group = groupFor(event, nodeId);
    const payload = payloadOf(event);
    if (event.type === "node_started" && typeof payload.node_type === "string") group.nodeType = payload.node_type;
    if (event.type === "node_started" && typeof payload.type === "string") group.nodeType = payload.type;
    const stepId = event.step_id ?? null;
    if (stepId !== null && stepId !== "") {
      let step = [...group.steps].reverse().find((s) => s.stepId === stepId);
      if (!step || (event.type === "step_started" && step.status !== "retrying")) {
        step = {
          key: `step-${stepId}-${String(event.seq)}`,
          stepId,
          status: "running",
          startedAt: event.created_at,
          endedAt: null,
          durationMs: null,
          attempts: 1,
          events: [],
          error: null,
        };
        group.steps.push(step);
      }
      step.events.push(event);
      if (event.type === "step_retry") {
        step.status = "retrying";
        step.attempts += 1;
        step.error = errorText(payload);
      } else if (event.type === "step_started") {
        step.status = "running";
      } else if (event.type in STEP_END) {
        step.status = STEP_END[event.type] ?? "completed";
        step.endedAt = event.created_at;
        step.durationMs = durationFrom(payload, step.startedAt, event.created_at);
        if (step.status === "failed") step.error = errorText(payload) ?? (event.type === "step_timeout" ? "timed out" : null);
      }
      continue;
    }
    group.events.push(event);
    if (event.type === "node_completed") {
      group.status = "completed";
      group.endedAt = event.created_at;
      group.durationMs = waited.has(group) ? millis(group.startedAt, event.created_at) : durationFrom(payload, group.startedAt, event.created_at);
      open.delete(nodeId);
    } else if (event.type === "node_failed") {
      group.status = "failed";
      group.endedAt = event.created_at;
      group.durationMs = durationFrom(payload, group.startedAt, event.created_at);
      group.error = errorText(payload);
      open.delete(nodeId);
    } else if (event.type === "approval_requested") {
      group.status = "waiting";
    } else if (event.type === "approval_decided" && group.status === "waiting") {
      group.status = "running";
    }
  }
  const outcome = runOutcome(events, runStatus);
  if (outcome !== null) {
    for (const item of items) {
      if (item.kind !== "node") continue;
      item.status = settle(item.status, outcome);
      for (const step of item.steps) step.status = settle(step.status, outcome);
    }
  }
  return items;
}

export interface RunOverlay {
  visited: Set<string>;
  failed: Set<string>;
  current: Set<string>;
  errors: Map<string, string>;
}

/** Which nodes a run has visited, which failed (with the error), and where it is now. */
export function runOverlay(
  events: RunEvent[],
  run?: { status?: string | null; last_node_id?: string | null; error_message?: string | null; error?: Record<string, unknown> | null },
): RunOverlay {
  const visited = new Set<string>();
  const failed = new Set<string>();
  const errors = new Map<string, string>();
  const running = new Set<string>();
  for (const event of events) {
    const node = event.node_id;
    const payload = payloadOf(event);
    if (event.type === "run_failed") {
      const at = typeof payload.node_id === "string" ? payload.node_id : node;
      if (at) {
        failed.add(at);
        visited.add(at);
        const text = errorText(payload);
        if (text !== null && !errors.has(at)) errors.set(at, text);
      }
      continue;
    }
    if (!node) continue;
    if (event.type === "node_started") {
      visited.add(node);
      running.add(node);
    } else if (event.type === "node_completed") {
      running.delete(node);
      failed.delete(node);
    } else if (event.type === "node_failed") {
      running.delete(node);
      failed.add(node);
      const text = errorText(payload);
      if (text !== null) errors.set(node, text);
    } else if (event.type === "step_failed" || event.type === "step_timeout") {
      const text = errorText(payload);
      if (text !== null && !errors.has(node)) errors.set(node, text);
    }
  }
  const status = run?.status ?? "";
  // The run row: error.node_id is the node whose step failed (last_node_id may be the
  // terminate node the failure was routed to).
  const failedAt = failingNode(run) ?? run?.last_node_id;
  if (status === "failed" && failedAt && failed.size === 0) {
    failed.add(failedAt);
    visited.add(failedAt);
    if (run?.error_message) errors.set(failedAt, run.error_message);
  }
  const current = TERMINAL.has(status) ? new Set<string>() : running;
  return { visited, failed, current, errors };
}

/**
 * The node whose step failed: the run's `error.node_id` (not `last_node_id`, which is
 * where the run ended — e.g. the terminate node the failure was routed to). Null when
 * the error names no node (a run timeout) or there is no error.
 */
export function failingNode(run?: { error?: Record<string, unknown> | null } | null): string | null {
  const at = run?.error?.node_id;
  return typeof at === "string" && at !== "" ? at : null;
}
