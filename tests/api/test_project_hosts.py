"""Per-project sandbox allowlists: a project's ``allowed_hosts`` let its runs reach hosts the
server's sandbox refuses, and only its runs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import assert_error
from tests.api.run_support import doc, end, import_procedure, start_run, wait_status
from tests.fakes.echo_server import EchoServer

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


def _fetch(procedure_id: str, url: str) -> dict[str, object]:
    return doc(procedure_id, {
        "fetch": {"type": "sequence", "next_node": "done",
                  "steps": [{"step_id": "get", "action": "http_request", "method": "POST", "url": url,
                             "body": {"hello": "erp"}, "output_variable": "got"}]},
        "done": end(outputs={"path": "{{got.body.path}}"}),
    })


async def test_a_projects_allowed_hosts_open_the_sandbox_for_its_runs_only(api: httpx.AsyncClient,
                                                                          echo: EchoServer) -> None:
    erp = (await api.post("/api/projects", json={"name": "erp", "allowed_hosts": ["127.0.0.1"]})).json()
    assert erp["allowed_hosts"] == ["127.0.0.1"]
    other = (await api.post("/api/projects", json={"name": "other"})).json()
    assert other["allowed_hosts"] == []
    await import_procedure(api, _fetch("fetch_erp", f"{echo.url}/orders"))

    allowed = await start_run(api, "fetch_erp", project_id=erp["id"])
    done = await wait_status(api, allowed["run_id"], "completed", "failed")
    assert done["status"] == "completed", done["error_message"]
    assert done["output_vars"] == {"path": "/orders"} and len(echo.seen) == 1

    refused = await start_run(api, "fetch_erp", project_id=other["id"])
    failed = await wait_status(api, refused["run_id"], "completed", "failed")
    assert failed["status"] == "failed" and "loopback" in failed["error_message"]
    assert len(echo.seen) == 1  # nothing was sent


async def test_allowed_hosts_can_be_changed_and_bad_entries_are_422(api: httpx.AsyncClient) -> None:
    project = (await api.post("/api/projects", json={"name": "p"})).json()
    changed = await api.put(f"/api/projects/{project['id']}",
                            json={"allowed_hosts": ["10.20.0.0/16", " erp.internal "]})
    assert changed.json()["allowed_hosts"] == ["10.20.0.0/16", "erp.internal"]
    assert_error(await api.put(f"/api/projects/{project['id']}", json={"allowed_hosts": ["http://x y"]}), 422)
