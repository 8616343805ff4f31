"""Agent connector: the LangOrch agent HTTP protocol (docs/agents.md), over httpx.

A step bound to an agent channel (``WEB``, ``EMAIL``, ...) becomes
``POST {base_url}/execute`` with ``{action, params, run_id, node_id, step_id}``.

Errors raised:

    no agent for the channel   → AgentError  NoAgentForChannel, not retryable
    agent unreachable          → AgentError  AgentUnavailable, retryable
    no answer within timeout   → StepTimeout TimeoutException, retryable
    HTTP 4xx/5xx               → AgentError  body.error.type or ``HTTP{status}``, ``status_code``
                                 set; retryable for 408, 429 and 5xx
    2xx with ``{"error": ...}``→ AgentError  the agent's error type/message/code; retryable
                                 unless the agent says ``"retryable": false``
    2xx that is not JSON       → AgentError  InvalidAgentResponse, not retryable

httpx errors are converted here and re-raised ``from`` the original.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry.trace import SpanKind

from langorch.runtime import tracing
from langorch.runtime.errors import AgentError, StepTimeout

__all__ = ["AgentHealth", "HttpAgentClient"]

_RETRYABLE_STATUS = frozenset({408, 429})
_BODY_EXCERPT = 500


@dataclass(frozen=True)
class AgentHealth:
    """The answer of ``GET {base_url}/health``."""

    ok: bool
    """True when the agent answered 2xx."""
    base_url: str
    status_code: int | None = None
    """None when the agent could not be reached."""
    body: Any = None
    """The parsed JSON body (or its text when not JSON)."""
    error: str | None = None
    """Why the check failed, when it did."""
    latency_ms: float = 0.0


class HttpAgentClient:
    """:class:`~langorch.runtime.ports.AgentClient` that calls agents over HTTP.

    ``agents`` maps a channel name (case-insensitive) to the agent's base URL.
    ``http_client`` is injectable (tests, proxies, TLS); when not given the client makes
    and owns one. ``timeout_s`` applies when a call passes none.
    """

    def __init__(
        self,
        agents: Mapping[str, str] | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        timeout_s: float = 30.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._agents: dict[str, tuple[str, str]] = {}
        for channel, base_url in (agents or {}).items():
            self.register(channel, base_url)
        self._owns_client = http_client is None
        self._http = http_client or httpx.AsyncClient()
        self._timeout_s = timeout_s
        self._headers = dict(headers or {})

    def register(self, channel: str, base_url: str) -> None:
        """Route ``channel`` to the agent at ``base_url`` (replacing any previous one)."""
        if not channel.strip():
            raise ValueError("agent channel must not be empty")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"agent URL for channel {channel!r} must start with http:// or https://: {base_url!r}"
            )
        self._agents[_key(channel)] = (channel.strip(), base_url.rstrip("/"))

    @property
    def channels(self) -> dict[str, str]:
        """Registered channel → base URL."""
        return dict(self._agents.values())

    def base_url_for(self, channel: str) -> str:
        """The base URL serving ``channel``; raises AgentError ``NoAgentForChannel``."""
        entry = self._agents.get(_key(channel))
        if entry is None:
            known = ", ".join(sorted(name for name, _ in self._agents.values())) or "none"
            upper = channel.strip().upper() or "CHANNEL"
            raise AgentError(
                f"no agent is registered for channel {channel!r} (registered: {known}); "
                f"register one, e.g. `langorch run --agent {upper}=http://host:port`",
                error_type="NoAgentForChannel",
                retryable=False,
                details={"channel": channel},
            )
        return entry[1]

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            await self._http.aclose()

    async def __aenter__(self) -> HttpAgentClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def execute(
        self,
        channel: str,
        action: str,
        params: Mapping[str, Any],
        *,
        run_id: str,
        node_id: str,
        step_id: str,
        timeout_s: float | None = None,
        idempotency_key: str | None = None,
        attempt: int = 1,
    ) -> Any:
        """Run ``action`` on the agent of ``channel``; returns its JSON result. With an
        ``idempotency_key``, the request carries it as ``Idempotency-Key`` and in the body."""
        url = f"{self.base_url_for(channel)}/execute"
        payload: dict[str, Any] = {
            "action": action,
            "params": dict(params),
            "run_id": run_id,
            "node_id": node_id,
            "step_id": step_id,
        }
        headers = dict(self._headers)
        if idempotency_key is not None:
            payload["idempotency_key"] = idempotency_key
            payload["attempt"] = attempt
            headers = {**headers, "Idempotency-Key": idempotency_key}
        timeout = self._timeout_s if timeout_s is None else timeout_s
        details = {"channel": channel, "action": action, "url": url}
        try:
            # httpx's timeout bounds each read; the outer one bounds the whole call.
            async with asyncio.timeout(timeout):
                with tracing.span(f"agent {channel}.{action}", kind=SpanKind.CLIENT, channel=channel, action=action,
                                  run_id=run_id, node_id=node_id, step_id=step_id):
                    headers.update(tracing.inject({}))  # this span is the agent's parent
                    response = await self._http.post(url, json=payload, headers=headers, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise AgentError(
                f"agent for channel {channel!r} at {url} is unreachable: {exc or type(exc).__name__}",
                error_type="AgentUnavailable",
                retryable=True,
                details=details,
            ) from exc
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise StepTimeout(
                f"agent for channel {channel!r} did not answer action {action!r} within {timeout:g}s",
                details=details,
            ) from exc
        except httpx.InvalidURL as exc:
            raise AgentError(
                f"agent for channel {channel!r} has an unusable URL {url!r}: {exc}",
                error_type="InvalidAgentUrl",
                retryable=False,
                details=details,
            ) from exc
        except httpx.HTTPError as exc:
            raise AgentError(
                f"HTTP call to agent for channel {channel!r} at {url} failed: {exc or type(exc).__name__}",
                error_type="AgentUnavailable",
                retryable=True,
                details=details,
            ) from exc
        return _result(response, channel, action, details)

    async def health(self, base_url: str, *, timeout_s: float = 5.0) -> AgentHealth:
        """``GET {base_url}/health``; never raises for an unhealthy or absent agent."""
        base_url = base_url.rstrip("/")
        started = time.perf_counter()
        try:
            response = await self._http.get(f"{base_url}/health", timeout=timeout_s)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return AgentHealth(
                ok=False,
                base_url=base_url,
                error=f"{type(exc).__name__}: {exc}",
                latency_ms=(time.perf_counter() - started) * 1000,
            )
        latency_ms = (time.perf_counter() - started) * 1000
        body = _json_or_text(response)
        ok = response.is_success
        return AgentHealth(
            ok=ok,
            base_url=base_url,
            status_code=response.status_code,
            body=body,
            error=None if ok else f"HTTP {response.status_code}: {response.text[:_BODY_EXCERPT]}",
            latency_ms=latency_ms,
        )


def _key(channel: str) -> str:
    return channel.strip().casefold()


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _result(response: httpx.Response, channel: str, action: str, details: dict[str, Any]) -> Any:
    status = response.status_code
    if not response.is_success:
        body = _json_or_text(response)
        error = body.get("error") if isinstance(body, dict) else None
        error_type = f"HTTP{status}"
        error_code: str | None = None
        if isinstance(error, dict):
            error_type = str(error.get("type") or error_type)
            error_code = str(error["code"]) if error.get("code") is not None else None
        retry_after = response.headers.get("retry-after")
        extra = {"retry_after": retry_after} if retry_after else {}
        raise AgentError(
            f"agent for channel {channel!r} answered HTTP {status} to action {action!r}: "
            f"{response.text[:_BODY_EXCERPT]}",
            error_type=error_type,
            retryable=status in _RETRYABLE_STATUS or status >= 500,
            status_code=status,
            error_code=error_code,
            details={**details, **extra},
        )
    if not response.content:
        return None
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise AgentError(
            f"agent for channel {channel!r} answered action {action!r} with a body that is not JSON: "
            f"{response.text[:_BODY_EXCERPT]!r}",
            error_type="InvalidAgentResponse",
            retryable=False,
            details=details,
        ) from exc
    if isinstance(body, dict):
        if body.get("error") is not None:
            raise _reported_error(body["error"], channel, action, details)
        if "result" in body:
            return body["result"]
    return body


def _reported_error(error: Any, channel: str, action: str, details: dict[str, Any]) -> AgentError:
    """An error the agent reported inside a 2xx answer (no ``status_code``: HTTP went fine)."""
    if isinstance(error, dict):
        message = str(error.get("message") or error.get("type") or "agent reported an error")
        code = error.get("code")
        retryable = error.get("retryable")
        extra = error.get("details")
        return AgentError(
            f"agent for channel {channel!r} failed action {action!r}: {message}",
            error_type=str(error.get("type") or "AgentError"),
            retryable=retryable if isinstance(retryable, bool) else True,
            error_code=str(code) if code is not None else None,
            details={**details, **extra} if isinstance(extra, dict) else details,
        )
    return AgentError(
        f"agent for channel {channel!r} failed action {action!r}: {error}",
        error_type="AgentError",
        retryable=True,
        details=details,
    )
