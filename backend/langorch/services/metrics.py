"""Prometheus metrics a process records as it works (``GET /api/metrics`` serves them).

Counters and histograms live in the process-wide registry: each process (API server with
its embedded worker, or a ``langorch worker``) exports what it did, and Prometheus sums
the processes. Gauges of the shared state (runs by status, queue depth and the oldest
queued job's age, agent circuits) are read from the database at scrape time
(``api/routes/health.py``).

Most of it comes from the run events every process writes (:func:`observe_event`, called
by the event sink), so the runtime needs no metric code of its own. Labels are chosen to
stay few: node *types*, step *bindings*, LLM *models*, procedure ids, HTTP *route
templates* — never run ids or node ids.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

from langorch.runtime.ports import RunEvent

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_LONG = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800, 604800)

RUNS_STARTED = Counter("langorch_runs_started_total", "Runs created, by procedure and how they were started.",
                       ["procedure_id", "trigger_type"])
RUNS_FINISHED = Counter("langorch_runs_finished_total", "Runs that ended or paused, by procedure and status "
                        "(completed, failed, canceled, waiting_approval).", ["procedure_id", "status"])
RUN_DURATION = Histogram("langorch_run_duration_seconds", "From a run's start to its end, by procedure and status.",
                         ["procedure_id", "status"], buckets=_LONG)
NODE_DURATION = Histogram("langorch_node_duration_seconds", "One node's execution, by node type and outcome.",
                          ["node_type", "outcome"], buckets=_SECONDS)
STEP_DURATION = Histogram("langorch_step_duration_seconds", "One step attempt, by binding (agent, internal, mcp, "
                          "llm) and outcome.", ["binding", "outcome"], buckets=_SECONDS)
STEP_RETRIES = Counter("langorch_step_retries_total", "Step attempts retried.", [])
LLM_TOKENS = Counter("langorch_llm_tokens_total", "LLM tokens, by model and kind (prompt, completion).",
                     ["model", "kind"])
LLM_COST = Counter("langorch_llm_cost_usd_total", "Estimated LLM cost in USD, by model.", ["model"])
LLM_DURATION = Histogram("langorch_llm_call_duration_seconds", "One LLM call, by model.", ["model"],
                         buckets=_SECONDS)
APPROVAL_WAIT = Histogram("langorch_approval_wait_seconds", "From an approval's request to its decision, by "
                          "decision.", ["decision"], buckets=_LONG)
SCHEDULER_LAG = Histogram("langorch_scheduler_lag_seconds", "From a schedule's due instant to its run's creation.",
                          [], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))
HTTP_REQUESTS = Histogram("langorch_http_request_duration_seconds", "API requests, by method, route template and "
                          "status class.", ["method", "route", "status"], buckets=_SECONDS)
ALERTS_SENT = Counter("langorch_alerts_total", "Alert and notification deliveries, by channel and outcome.",
                      ["channel", "outcome"])
POOL_SATURATED = Counter("langorch_pool_saturated_total", "Agent calls that found every agent of their channel "
                         "at its concurrency limit and had to wait (pool_saturated events), by channel.",
                         ["channel"])

_STEP_STARTS: dict[tuple[str, str | None, str | None], str] = {}
"""(run, node, step) → binding of the running attempt: step_failed events do not carry it."""


def _seconds(payload: dict[str, Any], key: str = "duration_ms") -> float | None:
    value = payload.get(key)
    return float(value) / 1000 if isinstance(value, int | float) and not isinstance(value, bool) else None


def observe_event(event: RunEvent) -> None:
    """Record what one run event says (durations, tokens, costs, retries)."""
    kind = event.type
    payload = event.payload if isinstance(event.payload, dict) else {}
    if kind == "node_completed" or kind == "node_failed":
        seconds = _seconds(payload)
        if seconds is not None:
            NODE_DURATION.labels(str(payload.get("type") or "unknown"),
                                 "completed" if kind == "node_completed" else "failed").observe(seconds)
    elif kind == "step_started":
        _STEP_STARTS[(event.run_id, event.node_id, event.step_id)] = str(payload.get("binding") or "unknown")
        if len(_STEP_STARTS) > 10_000:  # steps of processes that died mid-step: forget the oldest
            for stale in list(_STEP_STARTS)[:5_000]:
                _STEP_STARTS.pop(stale, None)
    elif kind in ("step_completed", "step_failed"):
        binding = _STEP_STARTS.pop((event.run_id, event.node_id, event.step_id), None)
        seconds = _seconds(payload)
        if binding is not None and seconds is not None:
            STEP_DURATION.labels(binding, "completed" if kind == "step_completed" else "failed").observe(seconds)
    elif kind == "step_retry":
        STEP_RETRIES.inc()
    elif kind == "pool_saturated":
        POOL_SATURATED.labels(str(payload.get("channel") or "unknown").upper()).inc()
    elif kind == "llm_usage":
        model = str(payload.get("model") or "unknown")
        for token_kind in ("prompt", "completion"):
            tokens = payload.get(f"{token_kind}_tokens")
            if isinstance(tokens, int) and tokens > 0:
                LLM_TOKENS.labels(model, token_kind).inc(tokens)
        cost = payload.get("cost_usd")
        if isinstance(cost, int | float) and cost > 0:
            LLM_COST.labels(model).inc(cost)
        seconds = _seconds(payload)
        if seconds is not None:
            LLM_DURATION.labels(model).observe(seconds)


def run_started(procedure_id: str, trigger_type: str) -> None:
    RUNS_STARTED.labels(procedure_id, trigger_type or "manual").inc()


def run_finished(procedure_id: str, status: str, duration_s: float | None) -> None:
    RUNS_FINISHED.labels(procedure_id, status).inc()
    if duration_s is not None and status != "waiting_approval":
        RUN_DURATION.labels(procedure_id, status).observe(max(0.0, duration_s))


def approval_decided(decision: str, waited_s: float) -> None:
    APPROVAL_WAIT.labels(decision).observe(max(0.0, waited_s))


def schedule_fired(lag_s: float) -> None:
    SCHEDULER_LAG.observe(max(0.0, lag_s))


def alert_sent(channel: str, ok: bool) -> None:
    ALERTS_SENT.labels(channel, "sent" if ok else "failed").inc()
