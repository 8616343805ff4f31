"""GET /api/runs/{id}/stream: replay then follow, ordered by seq, no gaps, no duplicates;
a reconnect with Last-Event-ID gets exactly the missing events; the stream ends after the
run's terminal event."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.conftest import assert_error
from tests.api.run_support import (
    approval_doc,
    events,
    gates_doc,
    import_procedure,
    log_doc,
    pending_approvals,
    start_run,
    stream_run,
    wait_status,
)

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio


async def test_stream_follows_a_run_live_to_its_end(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    follower = asyncio.create_task(stream_run(api, run["run_id"]))
    [approval] = await pending_approvals(api, run["run_id"])

    await api.post(f"/api/approvals/{approval['approval_id']}/decision", json={"decision": "approve"})
    messages = await follower

    *timeline, last = messages
    assert last.event == "end" and last.json["status"] == "completed"
    seqs = [int(m.id or 0) for m in timeline]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [m.json["seq"] for m in timeline] == seqs
    assert timeline[-1].json["event_type"] == "run_completed"
    stored = await events(api, run["run_id"])
    assert [m.json for m in timeline] == stored


async def test_reconnect_with_last_event_id_gets_exactly_the_missing_events(api: httpx.AsyncClient) -> None:
    await import_procedure(api, gates_doc())
    run = await start_run(api, "three_gates")
    gates = await pending_approvals(api, run["run_id"], 3)
    first = await stream_run(api, run["run_id"], stop_after=4)  # then the client goes away
    assert [int(m.id or 0) for m in first] == [1, 2, 3, 4]

    for gate in gates:  # the run moves on while nobody listens
        await api.post(f"/api/approvals/{gate['approval_id']}/decision", json={"decision": "approve"})
    await wait_status(api, run["run_id"], "completed")
    rest = await stream_run(api, run["run_id"], last_event_id=4)

    *replayed, end = rest
    assert end.event == "end"
    stored = await events(api, run["run_id"])
    assert [m.json for m in first + replayed] == stored
    assert [int(m.id or 0) for m in replayed] == list(range(5, len(stored) + 1))


async def test_reconnect_mid_run_then_follow_live(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    [approval] = await pending_approvals(api, run["run_id"])
    seen = await stream_run(api, run["run_id"], stop_after=2)
    resumed = asyncio.create_task(stream_run(api, run["run_id"], last_event_id=int(seen[-1].id or 0)))
    await asyncio.sleep(0.2)

    await api.post(f"/api/approvals/{approval['approval_id']}/decision", json={"decision": "approve"})
    *rest, end = await resumed

    assert end.event == "end" and end.json["status"] == "completed"
    assert [m.json for m in seen + rest] == await events(api, run["run_id"])


async def test_query_last_event_id_works_like_the_header(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())
    run = await start_run(api, "hello")
    await wait_status(api, run["run_id"], "completed")
    stored = await events(api, run["run_id"])

    async with api.stream("GET", f"/api/runs/{run['run_id']}/stream", params={"last_event_id": 2}) as response:
        body = (await response.aread()).decode()

    ids = [int(line[4:]) for line in body.splitlines() if line.startswith("id: ")]
    assert ids == list(range(3, len(stored) + 1))
    assert "event: end" in body


async def test_a_finished_stream_answers_204_and_unknown_runs_404(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())
    run = await start_run(api, "hello")
    await wait_status(api, run["run_id"], "completed")
    last = len(await events(api, run["run_id"]))

    done = await api.get(f"/api/runs/{run['run_id']}/stream", headers={"Last-Event-ID": str(last)})

    assert done.status_code == 204  # EventSource stops reconnecting
    assert_error(await api.get("/api/runs/nope/stream"), 404)
    assert_error(await api.get(f"/api/runs/{run['run_id']}/stream", headers={"Last-Event-ID": "x"}), 422)


async def test_many_concurrent_streams_each_get_every_event_once(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())
    runs = [await start_run(api, "hello") for _ in range(4)]

    streams = await asyncio.gather(*(stream_run(api, r["run_id"]) for r in runs for _ in range(2)))

    for index, messages in enumerate(streams):
        run_id = runs[index // 2]["run_id"]
        *timeline, end = messages
        assert end.event == "end"
        assert [m.json for m in timeline] == await events(api, run_id)
