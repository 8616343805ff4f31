"""Schemathesis over the app's OpenAPI schema: no generated request gets a 5xx.

The app runs under uvicorn on a loopback port, once on a migrated SQLite file and once on
PostgreSQL (a schema of its own; it refuses NUL bytes and NaN that SQLite stores); the streaming
endpoints (SSE, which never end by design) are left out. A few examples per operation
keep the run short; raise ``LANGORCH_FUZZ_EXAMPLES`` for a deeper search.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import SecretStr
from schemathesis import GenerationMode

from langorch.api.app import create_app
from langorch.settings import ApiSettings, AuthSettings, DatabaseSettings, Settings, WorkerSettings
from langorch.store.migrations import upgrade
from tests.api.conftest import MAX_BODY, LiveServer, ckp, pg_admin, pg_schema_url
from tests.auth_support import TEST_JWT_SECRET, bearer

EXAMPLES = int(os.environ.get("LANGORCH_FUZZ_EXAMPLES", "15"))
STREAMING = r"/stream$"
ADMIN = bearer("admin", "fuzzer")


def _openapi() -> dict[str, Any]:
    # The schema does not depend on the database: read it from an app that never starts.
    document: dict[str, Any] = create_app(Settings()).openapi()
    return document


schema = schemathesis.openapi.from_dict(_openapi()).exclude(path_regex=STREAMING)


@pytest.fixture(scope="module")
def fuzz_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            migrated_template: Path) -> Iterator[str]:
    """The database URL the fuzzed server runs on: a SQLite copy, or a migrated PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "langorch.db"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin = pg_admin()
    name = f"lo_fuzz_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
        try:
            url = pg_schema_url(name)
            upgrade(url)
            yield url
        finally:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(scope="module")
def fuzz_server(fuzz_db: str) -> Iterator[LiveServer]:
    """One server for every operation; seeded with a procedure, a project and an agent so
    that generated ids sometimes hit real rows."""
    # As an admin with no rate limit: every route's code is reached, not the guard's 401/403/429.
    app_settings = Settings(db=DatabaseSettings(url=fuzz_db),
                            worker=WorkerSettings(embedded=False), api=ApiSettings(max_body_bytes=MAX_BODY),
                            auth=AuthSettings(jwt_secret=SecretStr(TEST_JWT_SECRET), rate_limit_per_minute=0))
    with LiveServer(create_app(app_settings)) as server:
        with httpx.Client(base_url=server.url, headers=ADMIN) as http:
            http.post("/api/procedures", json={"ckp_json": ckp()}).raise_for_status()
            http.post("/api/projects", json={"name": "fuzz"}).raise_for_status()
            http.post("/api/agents", json={"agent_id": "fuzz", "name": "fuzz", "channel": "WEB",
                                           "base_url": "http://127.0.0.1:9"}).raise_for_status()
        yield server


def _cases() -> list[Any]:
    """(label, mode) pairs: valid requests for every operation; invalid ones where there is
    something to get wrong (a body or query parameters — free-form path ids have no invalid value)."""
    out = []
    for result in schema.get_all_operations():
        operation = result.ok()
        out.append(pytest.param(operation.label, GenerationMode.POSITIVE, id=f"{operation.label} valid"))
        if len(operation.body) or len(operation.query):
            out.append(pytest.param(operation.label, GenerationMode.NEGATIVE, id=f"{operation.label} invalid"))
    return sorted(out, key=lambda p: str(p.id))


def _check(case: Any, server: LiveServer) -> None:
    response = case.call(base_url=server.url, timeout=30, headers=ADMIN)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:500]}")
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), response.text


DATABASES = pytest.mark.parametrize("fuzz_db", ["sqlite", "postgres"], indirect=True, scope="module")


@DATABASES
@pytest.mark.parametrize(("label", "mode"), _cases())
def test_no_generated_request_gets_a_server_error(label: str, mode: GenerationMode, fuzz_server: LiveServer) -> None:
    operation = schema.find_operation_by_label(label)
    assert operation is not None

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    def probe(case: Any) -> None:
        _check(case, fuzz_server)

    probe()


@DATABASES
def test_schemathesis_cli_run_finds_no_server_error(fuzz_server: LiveServer, tmp_path: Path) -> None:
    """The `st run` command as an operator would use it: coverage, fuzzing and stateful
    phases over every non-streaming operation, checking only that nothing answers 5xx."""
    import subprocess
    import sys

    st = Path(sys.executable).with_name("st")
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(_openapi()))
    result = subprocess.run(
        [str(st), "run", str(schema), "--url", fuzz_server.url, "-H", f"Authorization: {ADMIN['Authorization']}",
         "--checks", "not_a_server_error", "--max-examples", "5", "--exclude-path-regex", "stream", "--seed", "1"],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
