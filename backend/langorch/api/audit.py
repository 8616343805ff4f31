"""Every mutating request, recorded in the audit log from one place.

:class:`AuditMiddleware` is a pure ASGI middleware (server-sent event streams pass through
untouched). For a request whose method is not GET/HEAD/OPTIONS and that matched a route,
once the route has answered, it appends one entry (``services.audit``): the action named
by :data:`ACTIONS` (unknown routes: ``"<METHOD> <path template>"``), the subject from the
path (or, for a create, from the fields of the answer the table names), the caller from
``scope["state"]["identity"]`` (set by the auth dependency; ``anonymous`` without one),
the request id and the status. Routes add details through ``request.state.audit_details``.

Recorded: 2xx, 401 and 403 (denied attempts matter) and 5xx (the change may have been made
in part); other 4xx are the caller's mistakes and are not. A JSON answer is held until its
entry is committed, so whoever reads the answer finds the entry. Every HTTP response
carries ``X-Request-ID``: the caller's (when it is 1-64 characters of ``[A-Za-z0-9._:-]``)
or a new one, also in ``scope["state"]["request_id"]``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from langorch.services import audit as audit_service

__all__ = ["ACTIONS", "AuditMiddleware", "AuditRoute", "install_audit"]

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_HELD_BYTES = 1024 * 1024
"""A JSON answer larger than this is sent on without its fields in the entry."""
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_PARAM = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class AuditRoute:
    """How one route is recorded. The subject id is the route's first path parameter; the
    other path parameters go into the details under their names."""

    action: str
    subject_type: str | None = None
    subject_from_answer: str | None = None
    """For a route without path parameters (a create): the answer's field that names the subject."""
    from_answer: Mapping[str, str] = field(default_factory=dict)
    """details key → field of the JSON answer copied there (only fields listed: never a key or secret)."""
    from_query: tuple[str, ...] = ()
    """Query parameters copied into the details."""
    actor_from_details: str | None = None
    """Without an identity, the actor is this details value (the username a sign-in named)."""
    skip: bool = False
    """A POST that changes nothing (validate, explain): not recorded."""


def _route(action: str, subject_type: str | None = None, **kw: Any) -> AuditRoute:
    return AuditRoute(action, subject_type, **kw)


ACTIONS: dict[tuple[str, str], AuditRoute] = {
    ("POST", "/api/procedures/validate"): _route("procedure.validate", skip=True),
    ("POST", "/api/procedures/{}/{}/explain"): _route("procedure.explain", skip=True),
    ("POST", "/api/triggers/preview"): _route("trigger.preview", skip=True),
    ("POST", "/api/procedures"): _route("procedure.import", "procedure", subject_from_answer="procedure_id",
                                        from_answer={"version": "version", "status": "status",
                                                     "unchanged": "unchanged"}),
    ("PUT", "/api/procedures/{}/{}"): _route("procedure.update", "procedure", from_answer={"status": "status"}),
    ("DELETE", "/api/procedures/{}/{}"): _route("procedure.delete", "procedure", from_query=("force",)),
    ("PATCH", "/api/procedures/{}/{}/status"): _route("procedure.status", "procedure",
                                                      from_answer={"status": "status"}),
    ("POST", "/api/procedures/{}/{}/status"): _route("procedure.status", "procedure",
                                                     from_answer={"status": "status"}),
    ("POST", "/api/runs"): _route("run.start", "run", subject_from_answer="run_id",
                                  from_answer={"procedure_id": "procedure_id", "version": "procedure_version",
                                               "mode": "mode"}),
    ("DELETE", "/api/runs/cleanup/history"): _route("run.cleanup", "run", from_query=("before", "status"),
                                                    from_answer={"deleted": "deleted"}),
    ("DELETE", "/api/runs/{}"): _route("run.delete", "run"),
    ("POST", "/api/runs/{}/cancel"): _route("run.cancel", "run", from_answer={"status": "status"}),
    ("POST", "/api/runs/{}/retry"): _route("run.retry", "run", from_answer={"new_run_id": "run_id"}),
    ("POST", "/api/approvals/{}/decision"): _route("approval.decide", "approval",
                                                   from_answer={"decision": "decision", "status": "status",
                                                                "run_id": "run_id"}),
    ("POST", "/api/agents"): _route("agent.create", "agent", subject_from_answer="agent_id",
                                    from_answer={"channel": "channel", "base_url": "base_url"}),
    ("PUT", "/api/agents/{}"): _route("agent.update", "agent", from_answer={"status": "status"}),
    ("DELETE", "/api/agents/{}"): _route("agent.delete", "agent"),
    ("POST", "/api/agents/{}/health"): _route("agent.health_check", "agent", from_answer={"ok": "ok"}),
    ("POST", "/api/projects"): _route("project.create", "project", subject_from_answer="id",
                                      from_answer={"name": "name"}),
    ("PUT", "/api/projects/{}"): _route("project.update", "project", from_answer={"name": "name"}),
    ("DELETE", "/api/projects/{}"): _route("project.delete", "project"),
    ("DELETE", "/api/leases/{}"): _route("lease.release", "lease"),
    ("POST", "/api/alert-rules"): _route("alert_rule.create", "alert_rule", subject_from_answer="rule_id",
                                         from_answer={"name": "name"}),
    ("PATCH", "/api/alert-rules/{}"): _route("alert_rule.update", "alert_rule", from_answer={"enabled": "enabled"}),
    ("DELETE", "/api/alert-rules/{}"): _route("alert_rule.delete", "alert_rule"),
    ("POST", "/api/alert-rules/{}/test"): _route("alert_rule.test", "alert_rule"),
    ("POST", "/api/auth/login"): _route("auth.login", "user", actor_from_details="username"),
    ("POST", "/api/auth/logout"): _route("auth.logout", "user"),
    ("POST", "/api/auth/password"): _route("auth.password_change", "user"),
    ("POST", "/api/users"): _route("user.create", "user", subject_from_answer="user_id",
                                   from_answer={"username": "username", "role": "role"}),
    ("PUT", "/api/users/{}"): _route("user.update", "user", from_answer={"username": "username", "role": "role",
                                                                        "disabled": "disabled"}),
    ("DELETE", "/api/users/{}"): _route("user.delete", "user"),
    ("POST", "/api/keys"): _route("key.create", "api_key", subject_from_answer="key_id",
                                  from_answer={"name": "name", "role": "role"}),
    ("DELETE", "/api/keys/{}"): _route("key.revoke", "api_key"),
    ("POST", "/api/secrets"): _route("secret.create", "secret", subject_from_answer="secret_id",
                                     from_answer={"name": "name", "version": "version"}),
    ("PUT", "/api/secrets/{}"): _route("secret.rotate", "secret", from_answer={"name": "name", "version": "version"}),
    ("POST", "/api/secrets/{}/rotate"): _route("secret.rotate", "secret",
                                               from_answer={"name": "name", "version": "version"}),
    ("DELETE", "/api/secrets/{}"): _route("secret.delete", "secret"),
    ("POST", "/api/triggers"): _route("trigger.create", "trigger", subject_from_answer="id",
                                      from_answer={"procedure_id": "procedure_id", "trigger_type": "trigger_type"}),
    ("PUT", "/api/triggers/{}"): _route("trigger.update", "trigger", from_answer={"enabled": "enabled"}),
    ("DELETE", "/api/triggers/{}"): _route("trigger.delete", "trigger"),
    ("POST", "/api/triggers/{}/enable"): _route("trigger.enable", "trigger"),
    ("POST", "/api/triggers/{}/disable"): _route("trigger.disable", "trigger"),
    ("POST", "/api/triggers/{}/fire"): _route("trigger.fire", "trigger", from_answer={"outcome": "outcome",
                                                                                     "run_id": "run_id"}),
    ("POST", "/api/triggers/{}/rotate-secret"): _route("trigger.rotate_secret", "trigger"),
    ("POST", "/api/triggers/webhook/{}"): _route("trigger.webhook", "procedure", from_answer={
        "trigger_id": "trigger_id", "run_id": "run_id", "outcome": "outcome"}),
}
"""(method, path template with ``{}`` for each parameter) → how it is recorded."""


def template_key(method: str, path: str) -> tuple[str, str]:
    """``("PUT", "/api/agents/{agent_id}")`` → ``("PUT", "/api/agents/{}")``."""
    return method.upper(), _PARAM.sub("{}", path)


def recorded_status(status: int) -> bool:
    return 200 <= status < 300 or status in (401, 403) or status >= 500


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = str(value.decode("latin-1")).strip()
            if _REQUEST_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _query(scope: Scope, names: tuple[str, ...]) -> dict[str, str]:
    if not names:
        return {}
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return {k: v[:200] for k, v in pairs if k in names}


@dataclass(frozen=True)
class _Template:
    """A route of the app as the audit log names it: full path template, methods, matcher."""

    path: str
    methods: frozenset[str]
    regex: re.Pattern[str]
    convertors: dict[str, Any]


def route_templates(app: Any) -> list[_Template]:
    """Every route of ``app`` with its full path (routers included under a prefix too)."""
    out: list[_Template] = []
    for context in iter_route_contexts(getattr(app, "routes", [])):
        path, methods = context.path, context.methods
        if isinstance(path, str) and methods:  # mounts (the UI) have no methods
            regex, _, convertors = compile_path(path)
            out.append(_Template(path, frozenset(m.upper() for m in methods), regex, convertors))
    return out


def _matched(scope: Scope, templates: list[_Template]) -> tuple[_Template | None, dict[str, Any]]:
    """The route whose path and method match the request, also for a request refused before its
    endpoint ran, with the path parameters."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    method = str(scope.get("method", "")).upper()
    for template in templates:
        if method not in template.methods:
            continue
        found = template.regex.match(path)
        if found:
            params = {k: template.convertors[k].convert(v) for k, v in found.groupdict().items()}
            return template, params
    return None, {}


def _identity(state: Mapping[str, Any]) -> tuple[str | None, str, str | None]:
    """(name, kind, role) of ``state["identity"]``, duck-typed: the API must not fail to answer
    because of the audit log."""
    identity = state.get("identity")
    if identity is None:
        return None, "anonymous", None
    name = getattr(identity, "name", None)
    kind = getattr(identity, "kind", None) or "user"
    role = getattr(identity, "role", None)
    return (str(name) if name else None), str(kind), (str(role) if role else None)


def build_entry(scope: Scope, routes: list[_Template], status: int, answer: Any,
                request_id: str) -> audit_service.AuditRecord | None:
    """The entry for an answered request, or None when the request is not recorded."""
    method = str(scope.get("method", "")).upper()
    if method in SAFE_METHODS or not recorded_status(status):
        return None
    route, params = _matched(scope, routes)
    if route is None:
        return None
    path = route.path
    spec = ACTIONS.get(template_key(method, path))
    if spec is not None and spec.skip:
        return None
    details: dict[str, Any] = {}
    values = list(params.items())
    subject_id: Any = values[0][1] if values else None
    details.update({name: value for name, value in values[1:]})
    if spec is not None:
        details.update(_query(scope, spec.from_query))
        if isinstance(answer, Mapping) and 200 <= status < 300:
            details.update({key: answer[name] for key, name in spec.from_answer.items()
                            if answer.get(name) is not None})
            if subject_id is None and spec.subject_from_answer:
                subject_id = answer.get(spec.subject_from_answer)
    if status >= 400 and isinstance(answer, Mapping) and isinstance(answer.get("error"), Mapping):
        details["error"] = answer["error"].get("code")
    client = scope.get("client")
    if client:
        details["client"] = client[0]
    state: Mapping[str, Any] = scope.get("state") or {}
    extra = state.get("audit_details")
    if isinstance(extra, Mapping):
        details.update(extra)
    name, kind, role = _identity(state)
    if name is None:
        named = details.get(spec.actor_from_details) if spec and spec.actor_from_details else None
        name = str(named) if named else "anonymous"
    subject_type = spec.subject_type if spec else None
    project_id = details.get("project_id") or params.get("project_id")
    if not project_id and subject_type == "project":
        project_id = subject_id
    if not project_id and isinstance(answer, Mapping) and isinstance(answer.get("project_id"), str):
        project_id = answer["project_id"]
    return audit_service.AuditRecord(
        actor=name, actor_kind=kind, role=role, action=spec.action if spec else f"{method} {path}",
        subject_type=subject_type, subject_id=str(subject_id) if subject_id is not None else None,
        project_id=str(project_id) if project_id else None, request_id=request_id, outcome=status,
        details=details or None)


class _Exchange:
    """One request on its way through: holds a JSON answer until its entry is written."""

    def __init__(self, routes: list[_Template], scope: Scope, send: Send, request_id: str) -> None:
        self.routes = routes
        self.scope = scope
        self.downstream = send
        self.request_id = request_id
        self.audited = scope["method"] not in SAFE_METHODS
        self.status = 0
        self.start: Message | None = None
        self.held: list[Message] = []
        self.held_bytes = 0
        self.recorded = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"]
            headers.append((b"x-request-id", self.request_id.encode("latin-1")))
            message = {**message, "headers": headers}
            self.status = int(message["status"])
            if not self.audited or not recorded_status(self.status):
                self.recorded = True  # nothing to record: everything passes straight through
            elif "json" in _header(headers, b"content-type"):
                self.start = message
                return
            else:
                await self.record(None)
            await self.downstream(message)
            return
        if self.start is None:
            await self.downstream(message)
            return
        self.held.append(message)
        if message["type"] == "http.response.body":
            self.held_bytes += len(message.get("body", b""))
            if message.get("more_body", False) and self.held_bytes <= MAX_HELD_BYTES:
                return
        await self.release()

    async def release(self) -> None:
        """Write the entry, then send what was held."""
        start, held = self.start, self.held
        if start is None:
            return
        self.start, self.held = None, []
        answer: Any = None
        if self.held_bytes <= MAX_HELD_BYTES:
            try:
                answer = json.loads(b"".join(m.get("body", b"") for m in held
                                             if m["type"] == "http.response.body") or b"null")
            except ValueError:
                answer = None
        await self.record(answer)
        await self.downstream(start)
        for message in held:
            await self.downstream(message)

    async def record(self, answer: Any, status: int | None = None) -> None:
        if self.recorded:
            return
        self.recorded = True
        try:
            entry = build_entry(self.scope, self.routes, status or self.status, answer, self.request_id)
            if entry is None:
                return
            app = self.scope.get("app")
            ctx = getattr(getattr(app, "state", None), "ctx", None)
            if ctx is None:
                log.warning("audit: no database context (the app's lifespan did not run); %s not recorded",
                            entry.action)
                return
            await audit_service.record(ctx.sessions, entry)
        except Exception:  # the action happened: answer it, and say loudly that its entry is missing
            log.exception("audit: could not record %s %s (request %s)", self.scope.get("method"),
                          self.scope.get("path"), self.request_id)


class AuditMiddleware:
    """Records mutating requests (see the module docstring); install with :func:`install_audit`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: list[_Template] | None = None

    def templates(self, scope: Scope) -> list[_Template]:
        """The app's routes, read at the first request (when every router is included)."""
        if self._templates is None:
            self._templates = route_templates(scope.get("app"))
        return self._templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        exchange = _Exchange(self.templates(scope), scope, send, request_id)
        try:
            await self.app(scope, receive, exchange.send)
        except Exception:
            if exchange.audited and not exchange.recorded:
                await exchange.record(None, status=500)
            raise
        await exchange.release()  # an answer whose last body chunk never came


def install_audit(app: FastAPI) -> None:
    """Record every mutating request of ``app``. Add it last (outermost) so that it also sees
    requests other middleware refuses, and the identity the auth dependency sets."""
    app.add_middleware(AuditMiddleware)
