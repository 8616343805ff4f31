"""Wires authentication into the app: the auth state and the local admin at start-up, the
host/origin gate and optional CORS in front, and the guard on every /api router."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from contextlib import AsyncExitStack

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from langorch.api.deps import AppContext
from langorch.api.guard import AuthRuntime
from langorch.api.hosts import HostOriginMiddleware
from langorch.auth.keyfile import signing_key
from langorch.auth.policy import check_covered
from langorch.auth.users import ADMIN, UserProblem, ensure_admin
from langorch.settings import Settings

log = logging.getLogger("langorch.auth")


async def start_auth(ctx: AppContext, stack: AsyncExitStack) -> None:
    settings = ctx.settings
    ctx.extras["auth"] = AuthRuntime.create(settings.auth, signing_key(settings.auth))
    if not settings.auth.enabled:
        log.warning("authentication is switched off (LANGORCH_AUTH__ENABLED=false): every caller is an admin")
        return
    if not settings.auth.bootstrap_admin:
        return
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    async with ctx.sessions() as session:
        try:
            generated = await ensure_admin(session, password)
        except UserProblem as exc:
            raise SystemExit(f"LANGORCH_ADMIN_PASSWORD is not usable: the password {exc.message}") from None
    if generated:
        banner = (f"\n  LangOrch created the local admin user {ADMIN!r}.\n"
                  f"  One-time password: {generated}\n"
                  "  Sign in with it and choose a new password (or set LANGORCH_ADMIN_PASSWORD before the first "
                  "start).\n")
        print(banner, file=sys.stderr, flush=True)


def install_security(app: FastAPI, settings: Settings, routers: Iterable[tuple[APIRouter, str]]) -> None:
    """Call with the (router, prefix) pairs included: records each route's full path for the
    guard (``app.state.route_paths``) and checks every route has a role."""
    paths: dict[int, str] = {}
    methods: list[tuple[str, str]] = []
    for router, prefix in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                paths[id(route)] = prefix + route.path
                methods.extend((method, prefix + route.path) for method in route.methods or ())
    app.state.route_paths = paths
    check_covered(methods)
    if settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"], expose_headers=["X-Total-Count", "X-Request-ID"])
    hosts = list(settings.api.allowed_hosts)
    if settings.api.host not in ("0.0.0.0", "::", ""):
        hosts.append(settings.api.host)
    app.add_middleware(HostOriginMiddleware, allowed_hosts=hosts, cors_origins=settings.api.cors_origins)
