"""The dependency every /api route runs first: who is calling (cookie session, bearer JWT,
API key), whether their role allows this route on this resource, CSRF for cookie sessions,
and the per-identity rate limit. The caller ends up in ``request.state.identity``."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.auth import api_keys, tokens
from langorch.auth.identity import LOCAL_ADMIN, Identity
from langorch.auth.policy import PRODUCTION_RUN_ROLE, required_role
from langorch.auth.ratelimit import TokenBuckets
from langorch.auth.roles import RoleName, at_least
from langorch.auth.users import identity_of
from langorch.services.errors import Forbidden, RateLimited, Unauthenticated
from langorch.settings import AuthSettings
from langorch.store.models import Approval, Procedure, Run, StoredSecret, TriggerRegistration, User

SESSION_COOKIE = "langorch_session"
CSRF_COOKIE = "langorch_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class AuthRuntime:
    """Process-wide auth state, kept in ``AppContext.extras["auth"]``."""

    settings: AuthSettings
    key: bytes
    verifier: tokens.TokenVerifier
    requests: TokenBuckets | None
    login_failures: TokenBuckets
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: AuthSettings, key: bytes) -> AuthRuntime:
        per_minute = settings.rate_limit_per_minute
        return cls(settings=settings, key=key, verifier=tokens.TokenVerifier(settings, key),
                   requests=TokenBuckets(per_minute, max(10, per_minute / 4)) if per_minute else None,
                   login_failures=TokenBuckets(settings.login_failures_per_5min / 5, settings.login_failures_per_5min))


def auth_runtime(request: Request) -> AuthRuntime:
    runtime: AuthRuntime = request.app.state.ctx.extras["auth"]
    return runtime


def current_identity(request: Request) -> Identity:
    """The identity :func:`authorize` established (routes call this after the guard ran)."""
    identity: Identity | None = getattr(request.state, "identity", None)
    if identity is None:
        raise Unauthenticated("sign in, or send a bearer token or an API key")
    return identity


async def authorize(request: Request) -> None:
    route = request.scope.get("route")
    path = request.app.state.route_paths.get(id(route), request.url.path)
    known, needed = required_role(request.method, path)
    if not known:
        raise Forbidden(f"{request.method} {path} has no role in the policy table; refused")
    auth = auth_runtime(request)
    if not auth.settings.enabled:
        request.state.identity = LOCAL_ADMIN
        return
    sessions: async_sessionmaker[AsyncSession] = request.app.state.ctx.sessions
    if needed is None:  # public: a stale cookie must not stop anyone from signing in again
        try:
            identity = await _authenticate(request, auth, sessions)
        except Unauthenticated:
            identity = None
        if identity is not None:
            request.state.identity = identity
        return
    try:
        identity = await _authenticate(request, auth, sessions)
    except Unauthenticated:
        rate_limit_address(request, auth)
        raise
    if identity is None:
        rate_limit_address(request, auth)
        raise Unauthenticated("sign in, or send a bearer token (Authorization: Bearer …) or an API key (X-API-Key)")
    request.state.identity = identity
    _rate_limit(auth, identity)
    if identity.via_cookie and request.method not in SAFE_METHODS:
        _check_csrf(request, auth)
    role = identity.role
    if not at_least(role, needed) and identity.project_roles:
        project = await _project_of(request, sessions)
        role = identity.role_for(project)
    if not at_least(role, needed):
        raise Forbidden(f"this needs the {needed} role; {identity.name} has {_describe(identity, role)}",
                        details={"required_role": needed, "role": role})


def may_start_run(request: Request, mode: str, project_id: str | None) -> None:
    """Production runs need the operator role; test and dry_run runs only author."""
    if mode != "production":
        return
    identity = current_identity(request)
    role = identity.role_for(project_id)
    if not at_least(role, PRODUCTION_RUN_ROLE):
        raise Forbidden(f"starting a production run needs the {PRODUCTION_RUN_ROLE} role; {identity.name} has "
                        f"{_describe(identity, role)} (test and dry_run runs need author)",
                        details={"required_role": PRODUCTION_RUN_ROLE, "role": role})


def _describe(identity: Identity, role: RoleName | None) -> str:
    return f"the {role} role" if role else "no role here"


def _rate_limit(auth: AuthRuntime, identity: Identity) -> None:
    if auth.requests is None:
        return
    wait = auth.requests.take(identity.subject)
    if wait:
        raise RateLimited(f"too many requests from {identity.name}; retry in {wait:.1f} s", retry_after=wait)


def rate_limit_address(request: Request, auth: AuthRuntime) -> None:
    """Callers without a valid credential share one bucket per address: a flood of bad
    credentials gets 429 (not recorded) instead of one audited 401 each."""
    if auth.requests is None:
        return
    address = request.client.host if request.client else "?"
    wait = auth.requests.take(f"anonymous:{address}")
    if wait:
        raise RateLimited(f"too many unauthenticated requests from {address}; retry in {wait:.1f} s",
                          retry_after=wait)


def _check_csrf(request: Request, auth: AuthRuntime) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    expected = tokens.csrf_token(auth.key, getattr(request.state, "session_id", ""))
    if not sent or not hmac.compare_digest(sent, expected):
        raise Forbidden("this request needs the X-CSRF-Token header (the value of the langorch_csrf cookie)",
                        code="csrf_failed")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


async def _authenticate(request: Request, auth: AuthRuntime,
                        sessions: async_sessionmaker[AsyncSession]) -> Identity | None:
    credential = _bearer(request)
    if credential is not None:
        if api_keys.looks_like_key(credential):
            async with sessions() as session:
                identity = await api_keys.identify_key(session, credential)
            if identity is None:
                raise Unauthenticated("the API key is unknown, revoked or expired")
            return identity
        try:
            return await auth.verifier.verify(credential)
        except tokens.TokenRejected as exc:
            raise Unauthenticated(str(exc)) from exc
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        found = tokens.read_session(auth.key, cookie)
    except tokens.TokenRejected as exc:
        raise Unauthenticated(str(exc)) from exc
    async with sessions() as session:
        user = await session.get(User, found.user_id)
    if user is None or user.disabled or user.session_version != found.version:
        raise Unauthenticated("the session has ended; sign in again")
    request.state.session_id = found.session_id
    return identity_of(user, via_cookie=True)


async def _project_of(request: Request, sessions: async_sessionmaker[AsyncSession]) -> str | None:
    """The project of the resource a request names (path, query, or JSON body)."""
    params = request.path_params
    async with sessions() as session:
        if "project_id" in params:
            return str(params["project_id"])
        if "run_id" in params:
            return await session.scalar(select(Run.project_id).where(Run.run_id == params["run_id"]))
        if "approval_id" in params:
            return await session.scalar(select(Run.project_id).join(Approval, Approval.run_id == Run.run_id)
                                        .where(Approval.approval_id == params["approval_id"]))
        if "secret_id" in params:
            scope = await session.scalar(select(StoredSecret.scope)
                                         .where(StoredSecret.secret_id == params["secret_id"]))
            return scope or None
        if "trigger_id" in params:
            trigger = await session.get(TriggerRegistration, str(params["trigger_id"]))
            return await _procedure_project(session, trigger.procedure_id, trigger.version) if trigger else None
        if "procedure_id" in params:
            return await _procedure_project(session, str(params["procedure_id"]), params.get("version"))
        if request.query_params.get("project_id"):
            return request.query_params["project_id"]
        body = await _json_body(request)
        if isinstance(body.get("project_id"), str):
            return str(body["project_id"])
        if isinstance(body.get("procedure_id"), str):
            return await _procedure_project(session, body["procedure_id"], body.get("version"))
    return None


async def _procedure_project(session: AsyncSession, procedure_id: str, version: Any) -> str | None:
    query = select(Procedure.project_id).where(Procedure.procedure_id == procedure_id)
    if isinstance(version, str):
        query = query.where(Procedure.version == version)
    projects = set((await session.scalars(query)).all())
    return projects.pop() if len(projects) == 1 else None


async def _json_body(request: Request) -> dict[str, Any]:
    if request.method in SAFE_METHODS or "json" not in request.headers.get("content-type", ""):
        return {}
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}
