"""`langorch keys` and `langorch users`: credentials written straight into the database, with
no server running, that a server on that database then accepts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from langorch.api.app import create_app
from langorch.cli import main
from langorch.settings import DatabaseSettings, Settings, WorkerSettings


def _db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"


def _call(url: str, *requests: tuple[str, str, dict[str, str]]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        app = create_app(Settings(db=DatabaseSettings(url=url), worker=WorkerSettings(embedded=False)))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
            return [await http.request(method, path, headers=headers) for method, path, headers in requests]

    return asyncio.run(go())


def test_a_key_created_from_the_shell_works_until_revoked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _db(tmp_path)
    assert main(["keys", "create", "--name", "ci", "--role", "operator", "--group", "manager", "--db", url]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("lok_") and "\n" not in key and "shown only this once" in err
    [me] = _call(url, ("GET", "/api/auth/me", {"X-API-Key": key}))
    assert me.json()["name"] == "ci" and me.json()["role"] == "operator" and me.json()["groups"] == ["manager"]

    assert main(["keys", "list", "--db", url]) == 0
    listed = capsys.readouterr().out
    key_id = key.split("_")[1]
    assert key_id in listed and "operator" in listed and key not in listed
    assert main(["keys", "revoke", key_id, "--db", url]) == 0
    [refused] = _call(url, ("GET", "/api/auth/me", {"X-API-Key": key}))
    assert refused.status_code == 401
    assert main(["keys", "revoke", "nope", "--db", url]) == 1


def test_users_get_one_time_passwords_from_the_shell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _db(tmp_path)
    assert main(["users", "create", "ann", "--role", "approver", "--db", url]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["users", "reset-password", "ann", "--db", url]) == 0
    second = capsys.readouterr().out.strip()
    assert first != second and len(second) >= 12

    async def login(password: str) -> httpx.Response:
        app = create_app(Settings(db=DatabaseSettings(url=url), worker=WorkerSettings(embedded=False)))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
            return await http.post("/api/auth/login", json={"username": "ann", "password": password})

    assert asyncio.run(login(first)).status_code == 401
    answer = asyncio.run(login(second))
    assert answer.status_code == 200 and answer.json()["identity"]["must_change_password"] is True
    assert main(["users", "create", "ann", "--role", "viewer", "--db", url]) == 1
    assert main(["users", "reset-password", "bob", "--db", url]) == 1


def test_an_unknown_role_is_refused_by_the_parser(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["keys", "create", "--name", "x", "--role", "root", "--db", _db(tmp_path)])
    assert stopped.value.code == 2
