"""Single sign-on through the UI: the authorization code flow with PKCE against a loopback
OpenID provider — the browser is sent there, comes back with a code, and ends up signed in
with the role and groups its ID token names; a forged state, a replayed code or a person
without a role does not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from langorch.api.app import create_app
from langorch.settings import ApiSettings, AuthSettings, DatabaseSettings, Settings, WorkerSettings
from tests.auth_support import TEST_JWT_SECRET
from tests.fakes.oidc_issuer import Issuer

pytestmark = pytest.mark.asyncio


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    found = Issuer(client_secret="s3cret")
    yield found
    found.close()


@pytest_asyncio.fixture
async def browser(db_path: Path, issuer: Issuer) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(db=DatabaseSettings(url=f"sqlite+aiosqlite:///{db_path}"),
                        worker=WorkerSettings(embedded=False), api=ApiSettings(),
                        auth=AuthSettings(jwt_secret=SecretStr(TEST_JWT_SECRET), oidc_issuer=issuer.url,
                                          oidc_client_id="langorch-ui", oidc_client_secret=SecretStr("s3cret")),
                        admin_password=SecretStr("an admin password"))
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        yield http


async def _to_provider(browser: httpx.AsyncClient, next_path: str = "/runs") -> dict[str, str]:
    started = await browser.get("/api/auth/oidc/login", params={"next": next_path})
    assert started.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}


def _provider_answer(location_query: dict[str, str], issuer: Issuer) -> str:
    """What the provider's authorization endpoint redirects to (the person signs in there)."""
    with httpx.Client() as idp:
        answer = idp.get(f"{issuer.url}/authorize", params=location_query)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert back.netloc == "localhost" and back.path == "/api/auth/oidc/callback"
    return f"{back.path}?{back.query}"


async def test_sso_signs_the_person_in_with_the_tokens_role_and_groups(browser: httpx.AsyncClient,
                                                                       issuer: Issuer) -> None:
    status = (await browser.get("/api/auth/status")).json()
    assert status["oidc_login_url"] == "/api/auth/oidc/login"
    query = await _to_provider(browser)
    assert query["code_challenge_method"] == "S256" and query["client_id"] == "langorch-ui"
    assert query["redirect_uri"] == "http://localhost/api/auth/oidc/callback" and "openid" in query["scope"]
    back = await browser.get(_provider_answer(query, issuer))
    assert back.status_code == 302 and back.headers["location"] == "/runs"
    me = (await browser.get("/api/auth/me")).json()
    assert me["name"] == "grace" and me["kind"] == "user" and me["role"] == "approver"
    assert me["groups"] == ["finance"]
    assert issuer.token_requests[0]["code_verifier"]  # PKCE: the verifier went with the code

    # signing in again reuses the same user and refreshes what the provider says
    issuer.person["langorch_role"] = "operator"
    browser.cookies.clear()
    await browser.get(_provider_answer(await _to_provider(browser), issuer))
    assert (await browser.get("/api/auth/me")).json()["role"] == "operator"
    users = await browser.get("/api/users", headers={"X-CSRF-Token": browser.cookies["langorch_csrf"]})
    assert users.status_code == 403  # an operator is not an admin


def _failed(answer: httpx.Response) -> str:
    assert answer.status_code == 302, answer.text
    target = urlsplit(answer.headers["location"])
    assert target.path == "/login"
    return parse_qs(target.query)["sso_error"][0]


async def test_a_callback_with_another_state_or_a_used_code_does_not_sign_in(browser: httpx.AsyncClient,
                                                                            issuer: Issuer) -> None:
    callback = _provider_answer(await _to_provider(browser), issuer)
    forged = callback.replace("state=", "state=x")
    assert "does not belong" in _failed(await browser.get(forged))
    assert (await browser.get("/api/auth/me")).status_code == 401

    other_browser = httpx.AsyncClient(transport=browser._transport, base_url="http://localhost")
    assert "another browser" in _failed(await other_browser.get(callback))

    assert (await browser.get(callback)).status_code == 302  # the flow cookie was cleared by the failure
    assert (await browser.get("/api/auth/me")).status_code == 401


async def test_a_person_without_a_langorch_role_is_turned_away(browser: httpx.AsyncClient, issuer: Issuer) -> None:
    issuer.person.pop("langorch_role")
    message = _failed(await browser.get(_provider_answer(await _to_provider(browser), issuer)))
    assert "no LangOrch role" in message
    assert (await browser.get("/api/auth/me")).status_code == 401


async def test_next_never_leaves_the_server(browser: httpx.AsyncClient, issuer: Issuer) -> None:
    for hostile in ("https://evil.example/x", "//evil.example", "/\\evil.example"):
        back = await browser.get(_provider_answer(await _to_provider(browser, hostile), issuer))
        assert back.headers["location"] == "/", hostile
        browser.cookies.clear()


async def test_without_configuration_sso_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/auth/status")).json()["oidc_login_url"] is None
    answer: Any = await client.get("/api/auth/oidc/login")
    assert answer.status_code == 404
