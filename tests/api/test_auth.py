"""Authentication: the local admin and password sign-in with session cookies and CSRF,
API keys (shown once, revocable, project-scoped), HS256 and OIDC (JWKS) bearer tokens,
the host/origin gate, rate limits, and decisions recorded under the caller's name."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from pydantic import SecretStr

from langorch.api.app import create_app
from langorch.settings import ApiSettings, AuthSettings, DatabaseSettings, Settings, WorkerSettings
from tests.api.conftest import assert_error, ckp, create_procedure
from tests.auth_support import TEST_JWT_SECRET, bearer, token
from tests.fakes.oidc_issuer import Issuer

pytestmark = pytest.mark.asyncio
ADMIN_PASSWORD = "correct horse battery staple"


def _settings(db_path: Path, **auth: Any) -> Settings:
    return Settings(db=DatabaseSettings(url=f"sqlite+aiosqlite:///{db_path}"), worker=WorkerSettings(embedded=False),
                    api=ApiSettings(), auth=AuthSettings(jwt_secret=SecretStr(TEST_JWT_SECRET), **auth),
                    admin_password=SecretStr(ADMIN_PASSWORD))


@pytest_asyncio.fixture
async def anon(db_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client of an app whose local admin has ADMIN_PASSWORD."""
    async with _client(_settings(db_path)) as http:
        yield http


class _client:
    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        self.app: FastAPI = create_app(settings)
        self.kwargs = kwargs

    async def __aenter__(self) -> httpx.AsyncClient:
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://localhost",
                                      **self.kwargs)
        return self.http

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
        await self.lifespan.__aexit__(None, None, None)


def _without_admin(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client of the same app without the fixture's admin token."""
    return httpx.AsyncClient(transport=client._transport, base_url=client.base_url)


async def _login(http: httpx.AsyncClient, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    response = await http.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


# -- sign-in, sessions, CSRF ---------------------------------------------------------------------

async def test_anonymous_requests_get_401_with_the_error_envelope(anon: httpx.AsyncClient) -> None:
    error = assert_error(await anon.get("/api/procedures"), 401, "unauthenticated")
    assert "sign in" in error["message"]
    assert (await anon.get("/api/health")).status_code == 200
    status = (await anon.get("/api/auth/status")).json()
    assert status == {"auth_enabled": True, "local_login": True, "oidc_login_url": None,
                      "initial_admin_pending": False}


async def test_login_sets_an_httponly_lax_session_cookie_and_a_csrf_cookie(anon: httpx.AsyncClient) -> None:
    assert_error(await anon.post("/api/auth/login", json={"username": "admin", "password": "wrong password!"}),
                 401, "unauthenticated")
    response = await anon.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("langorch_session="))
    csrf = next(c for c in cookies if c.startswith("langorch_csrf="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    assert "HttpOnly" not in csrf
    body = response.json()
    assert body["identity"]["name"] == "admin" and body["identity"]["role"] == "admin"
    me = (await anon.get("/api/auth/me")).json()
    assert me["kind"] == "user" and me["name"] == "admin" and me["must_change_password"] is False


async def test_a_cookie_session_write_without_the_csrf_header_is_refused(anon: httpx.AsyncClient) -> None:
    csrf = await _login(anon)
    error = assert_error(await anon.post("/api/projects", json={"name": "p1"}), 403, "csrf_failed")
    assert "X-CSRF-Token" in error["message"]
    assert_error(await anon.post("/api/projects", json={"name": "p1"}, headers={"X-CSRF-Token": "f" * 64}),
                 403, "csrf_failed")
    created = await anon.post("/api/projects", json={"name": "p1"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text


async def test_logout_and_password_change_end_the_session(anon: httpx.AsyncClient) -> None:
    csrf = await _login(anon)
    old_cookie = anon.cookies.get("langorch_session")
    changed = await anon.post("/api/auth/password", headers={"X-CSRF-Token": csrf},
                              json={"current_password": ADMIN_PASSWORD, "new_password": "a much newer password"})
    assert changed.status_code == 204, changed.text
    assert (await anon.get("/api/auth/me")).status_code == 200  # this browser got new cookies
    anon.cookies.clear()
    anon.cookies.set("langorch_session", old_cookie or "")
    assert_error(await anon.get("/api/auth/me"), 401, "unauthenticated")  # other sessions ended
    anon.cookies.clear()
    csrf = await _login(anon, password="a much newer password")
    assert (await anon.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 204
    assert_error(await anon.get("/api/auth/me"), 401)


async def test_a_short_new_password_is_refused_at_its_field(anon: httpx.AsyncClient) -> None:
    csrf = await _login(anon)
    error = assert_error(await anon.post("/api/auth/password", headers={"X-CSRF-Token": csrf},
                                         json={"current_password": ADMIN_PASSWORD, "new_password": "short"}), 422)
    assert error["details"] == [{"field": "new_password", "message": "must be at least 12 characters"}]


async def test_repeated_failed_logins_get_429_with_retry_after(db_path: Path) -> None:
    async with _client(_settings(db_path, login_failures_per_5min=3)) as http:
        for _ in range(3):
            failed = await http.post("/api/auth/login", json={"username": "admin", "password": "nope"})
            assert failed.status_code == 401
        response = await http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) >= 1


async def test_first_start_without_a_password_prints_a_one_time_password(db_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    settings = _settings(db_path)
    settings.admin_password = None
    async with _client(settings) as http:
        printed = capsys.readouterr().err
        password = printed.split("One-time password: ", 1)[1].split()[0]
        assert (await http.get("/api/auth/status")).json()["initial_admin_pending"] is True
        login = await http.post("/api/auth/login", json={"username": "admin", "password": password})
        assert login.json()["identity"]["must_change_password"] is True
        await http.post("/api/auth/password", headers={"X-CSRF-Token": login.json()["csrf_token"]},
                        json={"current_password": password, "new_password": "my own password now"})
        assert (await http.get("/api/auth/status")).json()["initial_admin_pending"] is False
    async with _client(settings):
        assert "One-time password" not in capsys.readouterr().err  # created once only


# -- API keys ------------------------------------------------------------------------------------

async def test_an_api_key_is_shown_once_works_both_ways_and_stops_when_revoked(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/keys", json={"name": "ci", "role": "operator"})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("lok_")
    listed = (await client.get("/api/keys")).json()
    assert key not in json.dumps(listed) and listed[0]["last_used_at"] is None
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        me = await _without_admin(client).get("/api/auth/me", headers=headers)
        assert me.json()["kind"] == "api_key" and me.json()["role"] == "operator"
    assert (await client.get("/api/keys")).json()[0]["last_used_at"] is not None
    svc = _without_admin(client)
    assert_error(await svc.post("/api/projects", json={"name": "x"}, headers={"X-API-Key": key}), 403, "forbidden")
    assert (await client.delete(f"/api/keys/{created.json()['key_id']}")).status_code == 204
    error = assert_error(await svc.get("/api/auth/me", headers={"X-API-Key": key}), 401)
    assert "revoked" in error["message"]
    assert_error(await svc.get("/api/auth/me", headers={"X-API-Key": key[:-2] + "xx"}), 401)


async def test_a_project_key_acts_only_on_its_project(client: httpx.AsyncClient) -> None:
    mine = (await client.post("/api/projects", json={"name": "mine"})).json()["id"]
    other = (await client.post("/api/projects", json={"name": "other"})).json()["id"]
    await create_procedure(client, ckp("in_mine"), project_id=mine)
    await create_procedure(client, ckp("in_other"), project_id=other)
    key = (await client.post("/api/keys", json={"name": "svc", "role": "author", "project_id": mine})).json()["key"]
    svc = {"X-API-Key": key}
    client = _without_admin(client)
    started = await client.post("/api/runs", json={"procedure_id": "in_mine", "mode": "test"}, headers=svc)
    assert started.status_code == 201, started.text
    assert started.json()["triggered_by"] == "svc"
    assert_error(await client.post("/api/runs", json={"procedure_id": "in_other", "mode": "test"}, headers=svc), 403)
    assert_error(await client.post("/api/runs", json={"procedure_id": "in_mine", "mode": "production"},
                                   headers=svc), 403)
    assert_error(await client.get("/api/runs", headers=svc), 403)
    listed = await client.get("/api/runs", params={"project_id": mine}, headers=svc)
    assert listed.status_code == 200 and [r["procedure_id"] for r in listed.json()] == ["in_mine"]
    assert (await client.get(f"/api/runs/{started.json()['run_id']}", headers=svc)).status_code == 200


async def test_a_project_operator_manages_the_triggers_of_its_projects_procedures_only(
        client: httpx.AsyncClient) -> None:
    mine = (await client.post("/api/projects", json={"name": "mine"})).json()["id"]
    await create_procedure(client, ckp("in_mine"), project_id=mine, status="active")
    await create_procedure(client, ckp("elsewhere"), status="active")
    schedule = {"trigger_type": "scheduled", "cron": "0 9 * * *"}
    ours = (await client.post("/api/triggers", json={"procedure_id": "in_mine", **schedule})).json()["id"]
    theirs = (await client.post("/api/triggers", json={"procedure_id": "elsewhere", **schedule})).json()["id"]
    key = (await client.post("/api/keys", json={"name": "ops", "role": "operator", "project_id": mine})).json()["key"]
    ops = _without_admin(client)
    ops.headers["X-API-Key"] = key
    assert (await ops.post(f"/api/triggers/{ours}/disable")).status_code == 200
    assert_error(await ops.post(f"/api/triggers/{theirs}/disable"), 403)
    assert_error(await ops.delete(f"/api/triggers/{theirs}"), 403)


async def test_a_key_with_an_unknown_role_is_refused(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/api/keys", json={"name": "x", "role": "root"}), 422)


# -- bearer tokens -------------------------------------------------------------------------------

async def test_hs256_tokens_are_checked_for_signature_expiry_and_role(client: httpx.AsyncClient) -> None:
    def me(tok: str) -> httpx.Response:
        return client.get("/api/auth/me", headers={"Authorization": f"Bearer {tok}"})  # type: ignore[return-value]

    assert (await me(token("viewer", "ann"))).json() == {
        "subject": "token:hs256|ann", "name": "ann", "kind": "token", "role": "viewer", "project_roles": {},
        "groups": [], "must_change_password": False}
    assert "expired" in assert_error(await me(token("admin", ttl_s=-120)), 401)["message"]
    assert_error(await me(token("admin", secret="another key of at least thirty-two chars")), 401)
    assert_error(await me("not-a-token"), 401)
    assert (await me(token(["viewer", "operator"]))).json()["role"] == "operator"  # type: ignore[arg-type]


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    yield found
    found.close()


async def test_oidc_tokens_are_verified_against_the_issuers_jwks(db_path: Path, issuer: Issuer) -> None:
    async with _client(_settings(db_path, oidc_issuer=issuer.url, oidc_audience="langorch-ui")) as http:
        async def me(tok: str) -> httpx.Response:
            return await http.get("/api/auth/me", headers={"Authorization": f"Bearer {tok}"})

        for kid in ("r1", "e1"):
            answer = (await me(issuer.token(kid))).json()
            assert answer["name"] == "grace" and answer["role"] == "approver" and answer["groups"] == ["finance"]
        assert "audience" in assert_error(await me(issuer.token(aud="someone-else")), 401)["message"]
        assert "expired" in assert_error(await me(issuer.token(ttl_s=-300)), 401)["message"]
        assert "issuer" in assert_error(await me(issuer.token(iss="http://evil.example")), 401)["message"]
        forged = jwt.encode({"sub": "x", "exp": int(time.time()) + 60, "iss": issuer.url, "aud": "langorch-ui"},
                            rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256",
                            headers={"kid": "r1"})
        assert_error(await me(forged), 401)


# -- the door: hosts, origins, CORS, rate limits -------------------------------------------------

async def test_a_foreign_host_header_is_refused(client: httpx.AsyncClient) -> None:
    error = assert_error(await client.get("/api/health", headers={"Host": "attacker.example"}), 400,
                         "host_not_allowed")
    assert "LANGORCH_API__ALLOWED_HOSTS" in error["message"]
    assert (await client.get("/api/health", headers={"Host": "127.0.0.1:8000"})).status_code == 200


async def test_cross_origin_writes_are_refused_and_there_is_no_cors(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/projects", json={"name": "x"}, headers={"Origin": "https://evil.example"})
    assert_error(response, 403, "cross_origin_refused")
    same = await client.post("/api/projects", json={"name": "x"}, headers={"Origin": "http://localhost"})
    assert same.status_code == 201
    read = await client.get("/api/projects", headers={"Origin": "https://evil.example"})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers


async def test_configured_cors_origins_may_write(db_path: Path) -> None:
    settings = _settings(db_path)
    settings.api.cors_origins = ["https://ops.example.com"]
    async with _client(settings, headers=bearer("admin")) as http:
        response = await http.post("/api/projects", json={"name": "x"}, headers={"Origin": "https://ops.example.com"})
        assert response.status_code == 201
        assert response.headers["access-control-allow-origin"] == "https://ops.example.com"


async def test_an_identity_over_its_rate_gets_429_with_retry_after(db_path: Path) -> None:
    async with _client(_settings(db_path, rate_limit_per_minute=60), headers=bearer("viewer", "busy")) as http:
        statuses = [(await http.get("/api/projects")).status_code for _ in range(20)]
        assert statuses[:15] == [200] * 15 and statuses[-1] == 429
        limited = await http.get("/api/projects")
        assert_error(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["Retry-After"]) <= 2
        other = await http.get("/api/projects", headers=bearer("viewer", "calm"))
        assert other.status_code == 200  # buckets are per identity


async def test_a_flood_of_bad_credentials_from_one_address_gets_429(db_path: Path) -> None:
    async with _client(_settings(db_path, rate_limit_per_minute=60)) as http:
        statuses = [(await http.get("/api/projects", headers={"X-API-Key": f"lok_{i:012x}_" + "x" * 30})).status_code
                    for i in range(20)]
        assert statuses[:15] == [401] * 15 and statuses[-1] == 429


async def test_switching_auth_off_makes_every_caller_the_local_admin(db_path: Path) -> None:
    async with _client(_settings(db_path, enabled=False)) as http:
        assert (await http.get("/api/auth/me")).json()["role"] == "admin"
        assert (await http.post("/api/projects", json={"name": "x"})).status_code == 201


async def test_a_flood_of_badly_signed_webhooks_from_one_address_gets_429(db_path: Path) -> None:
    async with _client(_settings(db_path, rate_limit_per_minute=60), headers=bearer("admin")) as http:
        await create_procedure(http, ckp("hooked"), status="active")
        made = await http.post("/api/triggers", json={"procedure_id": "hooked", "trigger_type": "webhook"})
        assert made.status_code == 201, made.text
        anonymous = _without_admin(http)
        statuses = [(await anonymous.post("/api/triggers/webhook/hooked", content=b"{}",
                                          headers={"X-LangOrch-Signature": "sha256=" + "0" * 64})).status_code
                    for _ in range(20)]
        assert statuses[:15] == [401] * 15 and statuses[-1] == 429
