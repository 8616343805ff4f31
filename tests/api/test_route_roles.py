"""Every route of the OpenAPI schema × every role: anonymous callers get 401 except on the
public routes, a role below the route's gets 403, and the route's role or above passes the
guard (whatever the route then answers: 2xx, 404, 422 …). Driven over a real socket, so the
SSE routes are checked by their status line alone."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from langorch.auth.policy import POLICY
from langorch.auth.roles import ROLES, at_least
from tests.api.conftest import LiveServer
from tests.auth_support import bearer

pytestmark = pytest.mark.asyncio

CALLERS: list[str | None] = [None, *ROLES]


def _routes(document: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((method.upper(), path) for path, item in document["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete"))


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "nope", path)


async def _status(http: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> int:
    body = {} if method in ("POST", "PUT", "PATCH") else None
    async with http.stream(method, _concrete(path), json=body, headers=headers) as response:
        return response.status_code


async def test_every_route_answers_each_role_as_the_policy_says(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert (await http.get(path)).status_code == 401, f"{path} answers anonymous callers"
            assert (await http.get(path, headers=bearer("viewer"))).status_code == 200
        document = (await http.get("/openapi.json", headers=bearer("viewer"))).json()
        routes = _routes(document)
        assert len(routes) >= 70 and set(routes) <= set(POLICY), set(routes) - set(POLICY)
        wrong: list[str] = []
        for method, path in routes:
            needed = POLICY[(method, path)]
            for caller in CALLERS:
                headers = bearer(caller, name=f"role-{caller}") if caller else {}
                status = await _status(http, method, path, headers)
                if needed is None:
                    ok = status not in (401, 403)
                elif caller is None:
                    ok = status == 401
                elif not at_least(caller, needed):
                    ok = status == 403
                else:
                    ok = status not in (401, 403) and status < 500
                if not ok:
                    wrong.append(f"{method} {path} as {caller or 'anonymous'} (needs {needed}): {status}")
        assert not wrong, "\n".join(wrong)


async def test_a_token_without_a_role_is_refused_everywhere_but_public_routes(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, headers=bearer(None)) as http:
        response = await http.get("/api/procedures")
        assert response.status_code == 403 and "no role" in response.json()["error"]["message"]
        assert (await http.get("/api/health")).status_code == 200
