"""`langorch triggers list | fire | next` against a database, with no server running: a
fired trigger's run is queued there and a server's worker on that database runs it."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from langorch.api.app import create_app
from langorch.cli import main
from langorch.settings import DatabaseSettings, Settings, WorkerSettings
from tests.api.conftest import pg_migrated, pg_url  # noqa: F401
from tests.api.run_support import doc, end
from tests.auth_support import bearer

PROCEDURE = doc("orders", {
    "take": {"type": "sequence", "next_node": "done",
             "steps": [{"step_id": "note", "action": "log", "value": "order {{order_id}}"}]},
    "done": end(outputs={"order": "{{order_id}}"}),
}, variables={"order_id": {"type": "string", "required": True}})


def _api(url: str, calls: list[tuple[str, str, Any]], *, worker: bool = False,
         until_done: str | None = None) -> list[httpx.Response]:
    """Requests to a server on ``url`` (with its worker when ``worker``); with ``until_done``,
    wait for that run to finish first."""
    async def go() -> list[httpx.Response]:
        app = create_app(Settings(db=DatabaseSettings(url=url), worker=WorkerSettings(embedded=worker)))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost", headers=bearer()) as http:
            if until_done:
                deadline = time.monotonic() + 30
                while (await http.get(f"/api/runs/{until_done}")).json()["status"] in ("queued", "running"):
                    assert time.monotonic() < deadline, "the worker did not run the fired run"
                    await asyncio.sleep(0.2)
            return [await http.request(method, path, json=body) for method, path, body in calls]

    return asyncio.run(go())


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'triggers.db'}"
    assert main(["migrate", "--db", url]) == 0
    return url


def _setup(url: str) -> tuple[str, str]:
    made = _api(url, [("POST", "/api/procedures", {"ckp_json": PROCEDURE}),
                      ("POST", "/api/triggers", {"procedure_id": "orders", "trigger_type": "scheduled",
                                                 "cron": "30 2 * * *", "timezone": "Europe/Berlin",
                                                 "name": "nightly"}),
                      ("POST", "/api/triggers", {"procedure_id": "orders", "trigger_type": "webhook"})])
    assert [r.status_code for r in made] == [201, 201, 201], [r.text for r in made]
    return made[1].json()["id"], made[2].json()["id"]


def test_list_shows_every_trigger_with_its_schedule(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    schedule, hook = _setup(url)
    capsys.readouterr()
    assert main(["triggers", "list", "--db", url]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == {schedule, hook}
    assert "every day at 02:30 (Europe/Berlin)" in lines[schedule] and "next " in lines[schedule]
    assert "webhook" in lines[hook] and "enabled" in lines[hook] and "whsec_" not in out

    assert main(["triggers", "list", "--format", "json", "--db", url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {t["id"]: t["trigger_type"] for t in listed} == {schedule: "scheduled", hook: "webhook"}


def test_next_prints_fire_times_in_utc_and_local_time(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    schedule, hook = _setup(url)
    capsys.readouterr()
    assert main(["triggers", "next", schedule, "-n", "3", "--db", url]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 3 and "every day at 02:30" in captured.err
    for line in lines:
        utc, local = line.split()
        assert utc.endswith("Z") and "T02:30:00+0" in local  # +01:00 in winter, +02:00 in summer
    assert main(["triggers", "next", hook, "--db", url]) == 1
    assert "no schedule" in capsys.readouterr().err
    assert main(["triggers", "next", "nope", "--db", url]) == 1


def test_fire_queues_a_run_that_a_servers_worker_runs(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, hook = _setup(url)
    capsys.readouterr()
    assert main(["triggers", "fire", hook, "--payload", '{"order_id": "ORD-7"}', "--db", url]) == 0
    run_id = capsys.readouterr().out.strip()
    assert run_id and "\n" not in run_id

    [run, events] = _api(url, [("GET", f"/api/runs/{run_id}", None), ("GET", f"/api/runs/{run_id}/events", None)],
                         worker=True, until_done=run_id)
    body = run.json()
    assert body["status"] == "completed", body
    assert (body["trigger_type"], body["triggered_by"], body["input_vars"]) == \
        ("webhook", "langorch triggers", {"order_id": "ORD-7"})
    assert events.json()[0]["event_type"] == "trigger_fired"


def test_fire_refuses_bad_input_and_unknown_triggers(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, hook = _setup(url)
    capsys.readouterr()
    assert main(["triggers", "fire", hook, "--db", url]) == 1
    assert "order_id" in capsys.readouterr().err
    assert main(["triggers", "fire", hook, "--payload", "[1]", "--db", url]) == 1
    assert main(["triggers", "fire", "nope", "--db", url]) == 1
    assert "not found" in capsys.readouterr().err
    [runs] = _api(url, [("GET", "/api/runs", None)])
    assert runs.json() == []
