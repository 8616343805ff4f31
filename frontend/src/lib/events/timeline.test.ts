import { describe, expect, it } from "vitest";
import { ITEM_STATUS_LABEL, buildTimeline, failingNode, mergeEvents, runOutcome, runOverlay, type NodeGroup, type RunEvent } from "./timeline";

let seq = 0;
function ev(type: string, node_id: string | null = null, step_id: string | null = null, payload: unknown = {}): RunEvent {
  seq += 1;
  return { seq, type, node_id, step_id, payload, created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString() };
}

describe("buildTimeline", () => {
  it("groups steps under node visits with durations and errors", () => {
    seq = 0;
    const events = [
      ev("run_started"),
      ev("node_started", "a"),
      ev("step_started", "a", "s1"),
      ev("step_completed", "a", "s1", { duration_ms: 12 }),
      ev("node_completed", "a"),
      ev("node_started", "b"),
      ev("step_started", "b", "s2"),
      ev("step_retry", "b", "s2", { error: { type: "Timeout", message: "slow" } }),
      ev("step_started", "b", "s2"),
      ev("step_failed", "b", "s2", { error: "boom" }),
      ev("node_failed", "b", null, { error: { type: "FileError", message: "missing" } }),
      ev("run_failed", null, null, { error: "missing", node_id: "b" }),
    ];
    const items = buildTimeline(events);
    expect(items.map((i) => (i.kind === "run" ? i.event.type : `${i.nodeId}:${i.status}`))).toEqual([
      "run_started",
      "a:completed",
      "b:failed",
      "run_failed",
    ]);
    const a = items[1] as NodeGroup;
    expect(a.steps.map((s) => [s.stepId, s.status, s.durationMs])).toEqual([["s1", "completed", 12]]);
    expect(a.durationMs).toBe(3000);
    const b = items[2] as NodeGroup;
    expect(b.steps).toHaveLength(1);
    expect(b.steps[0]?.attempts).toBe(2);
    expect(b.steps[0]?.status).toBe("failed");
    expect(b.steps[0]?.error).toBe("boom");
    expect(b.error).toBe("FileError: missing");
  });

  it("starts a new group for each visit of a loop body", () => {
    seq = 0;
    const events = [
      ev("node_started", "body"),
      ev("node_completed", "body"),
      ev("loop_iteration", "loop"),
      ev("node_started", "body"),
      ev("node_completed", "body"),
    ];
    const groups = buildTimeline(events).filter((i) => i.kind === "node");
    expect(groups.map((g) => g.nodeId)).toEqual(["body", "loop", "body"]);
  });

  it("marks a node waiting for approval", () => {
    seq = 0;
    const items = buildTimeline([ev("node_started", "ask"), ev("approval_requested", "ask")]);
    expect((items[0] as NodeGroup).status).toBe("waiting");
  });
});

describe("mergeEvents", () => {
  it("dedupes by seq and keeps order", () => {
    const a = { seq: 1, type: "x", created_at: "" };
    const b = { seq: 2, type: "y", created_at: "" };
    const c = { seq: 3, type: "z", created_at: "" };
    const merged = mergeEvents([a, c], [b, c]);
    expect(merged.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(mergeEvents(merged, [a])).toBe(merged);
  });
});

describe("runOverlay", () => {
  it("marks visited, current and failed nodes", () => {
    seq = 0;
    const events = [
      ev("node_started", "a"),
      ev("node_completed", "a"),
      ev("node_started", "b"),
      ev("step_failed", "b", "s", { error: "first" }),
    ];
    const live = runOverlay(events, { status: "running" });
    expect([...live.visited]).toEqual(["a", "b"]);
    expect([...live.current]).toEqual(["b"]);
    expect(live.failed.size).toBe(0);
    const failed = runOverlay([...events, ev("node_failed", "b", null, { error: "final" })], { status: "failed" });
    expect([...failed.failed]).toEqual(["b"]);
    expect(failed.current.size).toBe(0);
    expect(failed.errors.get("b")).toBe("final");
  });

  it("uses run_failed and the run row when no node_failed arrived", () => {
    seq = 0;
    const overlay = runOverlay([ev("run_failed", null, null, { error: "budget", node_id: "llm" })], { status: "failed" });
    expect([...overlay.failed]).toEqual(["llm"]);
    expect(overlay.errors.get("llm")).toBe("budget");
    const fromRow = runOverlay([], { status: "failed", last_node_id: "x", error_message: "bad" });
    expect(fromRow.errors.get("x")).toBe("bad");
  });
});

describe("approval resume", () => {
  it("keeps a node resumed after its approval in the same group", () => {
    seq = 0;
    const items = buildTimeline([
      ev("node_started", "ask"),
      ev("approval_requested", "ask"),
      ev("run_resumed"),
      ev("node_started", "ask"),
      ev("approval_decided", "ask", null, { decision: "approve" }),
      ev("node_completed", "ask"),
    ]);
    const groups = items.filter((i) => i.kind === "node");
    expect(groups).toHaveLength(1);
    expect(groups[0]?.status).toBe("completed");
    expect(groups[0]?.kind === "node" ? groups[0].durationMs : null).toBe(5000);
  });
});

describe("finished runs", () => {
  it("never shows a node or step running once the run has failed", () => {
    seq = 0;
    const events = [
      ev("run_started"),
      ev("node_started", "a"),
      ev("step_started", "a", "s1"),
      ev("step_retry", "a", "s1", { error: "slow" }),
      ev("run_failed", null, null, { error: { type: "RunTimeout", message: "run exceeded timeout_ms" }, node_id: null }),
    ];
    const items = buildTimeline(events);
    const a = items.find((i): i is NodeGroup => i.kind === "node");
    expect(a?.status).toBe("interrupted");
    expect(a?.steps[0]?.status).toBe("interrupted");
  });

  it("uses the run's status when the terminal event has not arrived", () => {
    seq = 0;
    const events = [ev("node_started", "a"), ev("step_started", "a", "s")];
    expect((buildTimeline(events)[0] as NodeGroup).status).toBe("running");
    expect((buildTimeline(events, "running")[0] as NodeGroup).status).toBe("running");
    expect((buildTimeline(events, "canceled")[0] as NodeGroup).status).toBe("interrupted");
    expect((buildTimeline(events, "completed")[0] as NodeGroup).status).toBe("ended");
    const waiting = [ev("node_started", "ask"), ev("approval_requested", "ask")];
    expect((buildTimeline(waiting, "waiting_approval")[0] as NodeGroup).status).toBe("waiting");
    expect((buildTimeline(waiting, "canceled")[0] as NodeGroup).status).toBe("interrupted");
  });

  it("keeps finished items as they were", () => {
    seq = 0;
    const items = buildTimeline(
      [ev("node_started", "a"), ev("node_completed", "a"), ev("node_started", "b"), ev("node_failed", "b", null, { error: "x" }), ev("run_failed")],
      "failed",
    );
    expect(items.flatMap((i) => (i.kind === "node" ? [`${i.nodeId}:${i.status}`] : []))).toEqual(["a:completed", "b:failed"]);
  });

  it("a run resumed after its last failure event is not finished by it", () => {
    seq = 0;
    expect(runOutcome([ev("run_failed"), ev("run_resumed")])).toBeNull();
    expect(runOutcome([ev("run_started"), ev("run_completed")])).toBe("completed");
    expect(runOutcome([], "cancelled")).toBe("canceled");
    expect(runOutcome([ev("run_completed")], "running")).toBeNull();
  });

  it("attaches an event a node sends after it completed to that visit", () => {
    seq = 0;
    const items = buildTimeline(
      [ev("node_started", "save"), ev("node_completed", "save"), ev("checkpoint_saved", "save"), ev("run_completed")],
      "completed",
    );
    const groups = items.filter((i): i is NodeGroup => i.kind === "node");
    expect(groups.map((g) => `${g.nodeId}:${g.status}`)).toEqual(["save:completed"]);
    expect(groups[0]?.events.map((e) => e.type)).toEqual(["node_started", "node_completed", "checkpoint_saved"]);
  });
});

describe("run modes", () => {
  it("ends a step answered from test data, mocked or skipped in a dry run", () => {
    seq = 0;
    const items = buildTimeline([
      ev("node_started", "fetch", null, { type: "sequence", mode: "test" }),
      ev("step_test_override_applied", "fetch", "get_po", { action: "http_request", mode: "test" }),
      ev("step_mock_applied", "fetch", "notify", { mocked: true, mode: "test" }),
      ev("step_skipped_dry_run", "fetch", "post", { dry_run: true }),
      ev("node_completed", "fetch"),
      ev("node_started", "llm"),
      ev("step_test_override_applied", "llm", null, { action: "llm_action", binding: "llm" }),
      ev("node_completed", "llm"),
    ]);
    const [fetch, llm] = items.filter((i): i is NodeGroup => i.kind === "node");
    expect(fetch?.steps.map((s) => [s.stepId, s.status])).toEqual([
      ["get_po", "test_data"],
      ["notify", "mocked"],
      ["post", "skipped"],
    ]);
    expect(ITEM_STATUS_LABEL.test_data).toBe("answered from test data");
    expect(ITEM_STATUS_LABEL.mocked).toBe("mocked");
    expect(ITEM_STATUS_LABEL.skipped).toBe("skipped (dry run)");
    expect(llm?.status).toBe("completed");
    expect(llm?.events.map((e) => e.type)).toContain("step_test_override_applied");
  });
});

describe("failingNode", () => {
  it("is the error's node, not the node the run ended at", () => {
    expect(failingNode({ error: { node_id: "extract_fields", message: "x" } })).toBe("extract_fields");
    expect(failingNode({ error: { type: "RunTimeout", node_id: null } })).toBeNull();
    expect(failingNode(null)).toBeNull();
    const overlay = runOverlay([], { status: "failed", last_node_id: "workflow_failed", error: { node_id: "extract_fields" }, error_message: "boom" });
    expect([...overlay.failed]).toEqual(["extract_fields"]);
    expect(overlay.errors.get("extract_fields")).toBe("boom");
  });
});
