"""File-watch triggers with real watchfiles watchers on a real folder, on SQLite and
PostgreSQL: a dropped file starts one run with its payload; a restart fires nothing for
files already handled but catches up on files that arrived while nobody watched; a new
version of a file fires again only when modified events are watched; the glob is honoured;
a folder outside the watch roots is refused."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from langorch.scheduling.file_watch import FileWatchLoop, check_watch_config
from langorch.services import triggers
from langorch.services.errors import Invalid
from langorch.services.runtime_wiring import ServerRuntime
from langorch.settings import Settings, TriggersSettings, get_settings
from langorch.store.models import Run, RunEvent
from tests.api.conftest import assert_error, ckp, create_procedure

pytestmark = pytest.mark.asyncio
WAIT_S = 15.0


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The one folder file watches may use (the server's setting, read by registration checks)."""
    root = tmp_path / "drop"
    monkeypatch.setenv("LANGORCH_TRIGGERS__WATCH_ROOTS", str(root))
    get_settings.cache_clear()
    yield root
    monkeypatch.delenv("LANGORCH_TRIGGERS__WATCH_ROOTS")
    get_settings.cache_clear()


@pytest.fixture
def settings(roots: Path, settings: Settings) -> Settings:
    return settings.model_copy(update={"triggers": TriggersSettings(watch_roots=[str(roots)])})


@pytest.fixture
def inbox(roots: Path) -> Path:
    folder = roots / "inbox"
    folder.mkdir(parents=True)
    return folder


def _rt(app: FastAPI) -> ServerRuntime:
    rt: ServerRuntime = app.state.ctx.extras["runtime"]
    return rt


@pytest_asyncio.fixture
async def watchers(app: FastAPI) -> AsyncIterator[list[FileWatchLoop]]:
    """Watch loops a test starts (each a fresh process as far as the database knows); all stopped at the end."""
    started: list[FileWatchLoop] = []
    yield started
    for loop in started:
        await loop.stop()


async def _watch(app: FastAPI, started: list[FileWatchLoop], trigger_id: str) -> FileWatchLoop:
    """A new watch loop, returned once its folder scan is done and its watcher runs."""
    loop = FileWatchLoop(_rt(app), None, interval_s=0.2, debounce_ms=150, step_ms=20, poll_ms=100)
    started.append(loop)
    await loop.start()
    await _until(lambda: trigger_id in loop.scanned)
    return loop


async def _until(condition: Any, timeout: float = WAIT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _register(app: FastAPI, client: httpx.AsyncClient, folder: Path, *, pattern: str = "*",
                    events: list[str] | None = None) -> str:
    await create_procedure(client, ckp("ingest"), status="active")
    response = await client.post("/api/triggers", json={
        "procedure_id": "ingest", "trigger_type": "file_watch",
        "config": {"file_watch_config": {"path": str(folder), "pattern": pattern,
                                         "event_types": events or ["created"]}}})
    assert response.status_code == 201, response.text
    trigger_id: str = response.json()["id"]
    return trigger_id


async def _runs(app: FastAPI) -> list[Run]:
    async with _rt(app).sessions() as session:
        return list(await session.scalars(select(Run).order_by(Run.created_at)))


async def _runs_reach(app: FastAPI, count: int) -> list[Run]:
    runs: list[Run] = []

    async def enough() -> bool:
        nonlocal runs
        runs = await _runs(app)
        return len(runs) >= count

    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not await enough():
        assert asyncio.get_running_loop().time() < deadline, f"{len(runs)} runs, expected {count}"
        await asyncio.sleep(0.05)
    assert len(runs) == count, [r.input_vars for r in runs]
    return runs


def _drop(folder: Path, name: str, text: str) -> Path:
    """Write the file elsewhere and move it in, as a well-behaved sender does."""
    staging = folder.parent / f".{name}.part"
    staging.write_text(text)
    target = folder / name
    os.replace(staging, target)
    return target


async def test_a_dropped_file_starts_one_run_with_its_payload(app: FastAPI, client: httpx.AsyncClient,
                                                              inbox: Path, watchers: list[FileWatchLoop]) -> None:
    trigger_id = await _register(app, client, inbox)
    await _watch(app, watchers, trigger_id)
    path = _drop(inbox, "invoice-1.csv", "a,b\n1,2\n")
    [run] = await _runs_reach(app, 1)
    st = path.stat()
    expected = {"path": str(path.resolve()), "name": "invoice-1.csv", "size": st.st_size,
                "modified_at": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(), "event": "created"}
    assert run.input_vars == expected
    assert run.trigger_id == trigger_id and run.trigger_type == "file_watch" and run.triggered_by == "file watch"
    async with _rt(app).sessions() as session:
        first = await session.scalar(select(RunEvent).where(RunEvent.run_id == run.run_id, RunEvent.seq == 1))
    assert first is not None and first.type == "trigger_fired" and first.payload["trigger_id"] == trigger_id
    _drop(inbox, "invoice-2.csv", "c\n")  # a later file: its run proves the first fired only once
    runs = await _runs_reach(app, 2)
    assert runs[1].input_vars["name"] == "invoice-2.csv"


async def test_a_restart_fires_nothing_for_handled_files_and_catches_up_on_new_ones(
        app: FastAPI, client: httpx.AsyncClient, inbox: Path, watchers: list[FileWatchLoop]) -> None:
    trigger_id = await _register(app, client, inbox)
    first = await _watch(app, watchers, trigger_id)
    _drop(inbox, "a.txt", "alpha")
    await _runs_reach(app, 1)
    await first.stop()
    _drop(inbox, "b.txt", "beta")  # arrives while nobody watches
    await _watch(app, watchers, trigger_id)  # the scan is done when this returns
    runs = await _runs_reach(app, 2)
    assert [r.input_vars["name"] for r in runs] == ["a.txt", "b.txt"]
    assert runs[1].input_vars["event"] == "created"
    await watchers[-1].stop()
    await _watch(app, watchers, trigger_id)  # once more: both handled, nothing fires
    assert len(await _runs(app)) == 2


async def test_a_new_version_fires_again_when_modified_events_are_watched(
        app: FastAPI, client: httpx.AsyncClient, inbox: Path, watchers: list[FileWatchLoop]) -> None:
    trigger_id = await _register(app, client, inbox, events=["created", "modified"])
    loop = await _watch(app, watchers, trigger_id)
    path = _drop(inbox, "report.json", "{}")
    await _runs_reach(app, 1)
    await asyncio.sleep(0.3)
    with path.open("a") as handle:
        handle.write("\n{\"more\": true}")
    runs = await _runs_reach(app, 2)
    assert runs[1].input_vars["event"] == "modified" and runs[1].input_vars["size"] == path.stat().st_size
    await loop.stop()
    path.write_text("changed while nobody watched")
    await _watch(app, watchers, trigger_id)
    runs = await _runs_reach(app, 3)
    assert runs[2].input_vars["event"] == "modified" and runs[2].input_vars["size"] == path.stat().st_size
    await watchers[-1].stop()
    await _watch(app, watchers, trigger_id)  # untouched since: this version already ran
    assert len(await _runs(app)) == 3


async def test_a_modified_file_fires_nothing_when_only_created_is_watched(
        app: FastAPI, client: httpx.AsyncClient, inbox: Path, watchers: list[FileWatchLoop]) -> None:
    trigger_id = await _register(app, client, inbox, events=["created"])
    loop = await _watch(app, watchers, trigger_id)
    path = _drop(inbox, "one.txt", "1")
    await _runs_reach(app, 1)
    await asyncio.sleep(0.3)
    path.write_text("11")
    await asyncio.sleep(0.3)
    _drop(inbox, "two.txt", "2")  # seen after the modification: its run means that one was passed over
    runs = await _runs_reach(app, 2)
    assert [r.input_vars["name"] for r in runs] == ["one.txt", "two.txt"]
    await loop.stop()
    path.write_text("111")
    await _watch(app, watchers, trigger_id)  # a changed file is not a new one
    assert len(await _runs(app)) == 2


async def test_a_file_not_matching_the_glob_starts_nothing(app: FastAPI, client: httpx.AsyncClient, inbox: Path,
                                                           watchers: list[FileWatchLoop]) -> None:
    (inbox / "early.txt").write_text("not a csv")
    trigger_id = await _register(app, client, inbox, pattern="*.csv")
    await _watch(app, watchers, trigger_id)
    _drop(inbox, "notes.txt", "not a csv either")
    await asyncio.sleep(0.3)
    _drop(inbox, "data.csv", "x\n")
    runs = await _runs_reach(app, 1)
    assert runs[0].input_vars["name"] == "data.csv"


async def test_registrations_are_picked_up_and_dropped_while_watching(
        app: FastAPI, client: httpx.AsyncClient, inbox: Path, watchers: list[FileWatchLoop]) -> None:
    loop = FileWatchLoop(_rt(app), None, interval_s=0.2, debounce_ms=150, step_ms=20, poll_ms=100)
    watchers.append(loop)
    await loop.start()
    trigger_id = await _register(app, client, inbox)
    await _until(lambda: trigger_id in loop.scanned)
    _drop(inbox, "first.txt", "1")
    await _runs_reach(app, 1)
    response = await client.post(f"/api/triggers/{trigger_id}/disable")
    assert response.status_code == 200, response.text
    await _until(lambda: trigger_id not in loop.watchers)
    _drop(inbox, "second.txt", "2")
    await asyncio.sleep(0.5)
    assert len(await _runs(app)) == 1


async def test_a_folder_outside_the_watch_roots_is_refused(app: FastAPI, client: httpx.AsyncClient, inbox: Path,
                                                          tmp_path: Path) -> None:
    await create_procedure(client, ckp("ingest"), status="active")
    for path in (tmp_path / "elsewhere", inbox / ".." / ".." / "escape"):
        response = await client.post("/api/triggers", json={
            "procedure_id": "ingest", "trigger_type": "file_watch",
            "config": {"file_watch_config": {"path": str(path), "pattern": "*"}}})
        error = assert_error(response, 422)
        assert error["details"][0]["field"] == "config.file_watch_config.path"
    link = inbox / "link-out"
    link.symlink_to(tmp_path)
    with pytest.raises(Invalid) as refused:
        check_watch_config({"file_watch_config": {"path": str(link)}})
    assert "LANGORCH_TRIGGERS__WATCH_ROOTS" in refused.value.message
    assert check_watch_config({"file_watch_config": {"path": str(inbox / "sub")}}).folder == inbox / "sub"
    async with _rt(app).sessions() as session:
        with pytest.raises(Invalid) as bad:
            await triggers.create(session, None, {"procedure_id": "ingest", "trigger_type": "file_watch",
                                                  "config": {"file_watch_config": {
                                                      "path": str(inbox), "event_types": ["deleted"]}}})
    assert bad.value.details[0]["field"] == "config.file_watch_config.event_types"
