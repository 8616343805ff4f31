"""Actions the orchestrator runs itself: log, wait, set_variable, http_request, files, and
``notify_webhook`` and ``notify_email`` (a notification for the process-wide webhook or SMTP
server, see runtime/notify.py)."""

from __future__ import annotations

import json
import logging
import mimetypes
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.trace import SpanKind

from langorch.runtime import tracing
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError, StepTimeout
from langorch.runtime.netguard import guarded_client
from langorch.runtime.redaction import display

_LOG = logging.getLogger("langorch.procedure")


async def run_internal(action: str, params: Mapping[str, Any], ctx: RunContext, *, node_id: str,
                       step_id: str, timeout_s: float | None, idempotency_key: str | None = None) -> Any:
    """Run one internal action with rendered ``params``; returns its result."""
    if action == "log":
        message = params.get("message", params.get("value", params.get("text", "")))
        level = str(params.get("level", "INFO")).upper()
        await ctx.emit("log", {"level": level, "message": message}, node_id=node_id, step_id=step_id)
        # Also a process log line (the run, node and step ids come with it): the event shows the
        # message as the timeline does, secrets as references.
        _LOG.log(logging.getLevelNamesMapping().get(level, logging.INFO), "%s", display(str(message)))
        return message
    if action == "wait":
        seconds = float(params.get("duration_ms", params.get("value", 0)) or 0) / 1000
        remaining = await _wait_remaining(ctx, idempotency_key, seconds)
        await ctx.services.sleep(remaining)
        result: dict[str, Any] = {"waited_ms": seconds * 1000}
        if remaining < seconds:
            result["resumed_with_ms"] = round(remaining * 1000)
        return result
    if action == "set_variable":
        return params.get("value")
    if action == "noop":
        return None
    if action in ("set_checkpoint", "restore_checkpoint"):  # the executor saves or restores (runtime/savepoints.py)
        from langorch.runtime.savepoints import checkpoint_name

        name = checkpoint_name(params)
        if action == "set_checkpoint":
            await ctx.emit("checkpoint_saved", {"label": name}, node_id=node_id, step_id=step_id)
        return {"checkpoint": name}
    if action == "http_request":
        async with ctx.limiter.slot():
            return await _http(params, ctx, timeout_s, idempotency_key)
    if action == "notify_webhook":
        from langorch.runtime.notify import deliver_to_webhook

        return await deliver_to_webhook(params, ctx, node_id=node_id, step_id=step_id, timeout_s=timeout_s,
                                        idempotency_key=idempotency_key)
    if action == "notify_email":
        from langorch.runtime.notify import deliver_by_email

        return await deliver_by_email(params, ctx, node_id=node_id, step_id=step_id, timeout_s=timeout_s,
                                      idempotency_key=idempotency_key)
    result = _file_action(action, params, ctx)
    if action == "write_file" and isinstance(result, dict):
        path = Path(result["path"])
        await ctx.emit("artifact_created", {"name": path.name, "path": str(path.resolve()), "size": result["bytes"],
                                            "mime_type": mimetypes.guess_type(path.name)[0] or "text/plain"},
                       node_id=node_id, step_id=step_id)
    return result


async def _wait_remaining(ctx: RunContext, key: str | None, seconds: float) -> float:
    """How long a ``wait`` step still has to wait: its deadline is stored when it starts (by
    its step key, the same after a crash), so a run resumed from its checkpoint waits only
    the rest of the time, not all of it again."""
    store = ctx.services.step_store
    if store is None or not key or seconds <= 0:
        return seconds
    slot = f"wait-deadline:{key}"
    found, deadline = await store.get(slot)
    if found and isinstance(deadline, int | float):
        return max(0.0, min(seconds, float(deadline) - time.time()))
    await store.put(slot, time.time() + seconds)
    return seconds


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _http(params: Mapping[str, Any], ctx: RunContext, timeout_s: float | None,
                idempotency_key: str | None = None) -> Any:
    url = params.get("url") or params.get("target")
    if not isinstance(url, str) or not url:
        raise StepError("http_request needs a url", error_type="InvalidStep", retryable=False)
    method = str(params.get("method") or "GET").upper()
    body = params.get("body", params.get("value"))
    headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
    if idempotency_key and method not in _SAFE_METHODS and not any(k.lower() == "idempotency-key" for k in headers):
        headers["Idempotency-Key"] = idempotency_key  # the same on every delivery of this step: see docs/agents.md
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, dict | list):
        kwargs["json"] = body
    elif body is not None:
        kwargs["content"] = str(body)
    if params.get("parameters"):
        kwargs["params"] = params["parameters"]
    client = ctx.services.http if ctx.net_policy is None else None
    owned = client is None
    if client is None:  # no shared client, or this run's project allows more hosts than the server
        client = guarded_client(ctx.net_policy or ctx.services.net_policy)
    try:
        with tracing.span(f"http {method}", kind=SpanKind.CLIENT, method=method):
            tracing.inject(headers)
            response = await client.request(method, url, timeout=timeout_s or 30.0, **kwargs)
    except httpx.TimeoutException as exc:
        raise StepTimeout(f"{method} {url} timed out") from exc
    except httpx.InvalidURL as exc:
        raise StepError(f"{method} {url}: invalid URL ({exc})", error_type="InvalidUrl", retryable=False) from exc
    except httpx.HTTPError as exc:
        raise StepError(f"{method} {url} failed: {exc}", error_type="ConnectionError") from exc
    finally:
        if owned:
            await client.aclose()
    try:
        payload: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = response.text
    if response.status_code >= 400:
        # seal before cutting: a secret the answer quotes must not survive as its first characters
        quoted = display(ctx.redactor.seal_text(str(payload), ctx.ref_nonce))[:300]
        raise StepError(f"{method} {url} answered HTTP {response.status_code}: {quoted}",
                        error_type=f"HTTP{response.status_code}", status_code=response.status_code,
                        retryable=response.status_code in (408, 429) or response.status_code >= 500)
    return {"status_code": response.status_code, "headers": dict(response.headers), "body": payload}


def _path(params: Mapping[str, Any], ctx: RunContext, key: str = "file_path") -> Path:
    raw = params.get(key) or params.get("path") or params.get("target")
    if not isinstance(raw, str) or not raw:
        raise StepError(f"file action needs {key}", error_type="InvalidStep", retryable=False)
    return ctx.file_path(raw)


def _file_action(action: str, params: Mapping[str, Any], ctx: RunContext) -> Any:
    try:
        if action == "read_file":
            return _path(params, ctx).read_text(encoding="utf-8")
        if action == "write_file":
            path = _path(params, ctx)
            path.parent.mkdir(parents=True, exist_ok=True)
            # a file is read by people (an artifact): a secret in it is its shown reference
            content = display(params.get("value", params.get("body", params.get("text", ""))))
            text = content if isinstance(content, str) else json.dumps(content)
            path.write_text(text, encoding="utf-8")
            return {"path": str(path), "bytes": len(text.encode())}
        if action == "delete_file":
            _path(params, ctx).unlink(missing_ok=True)
            return None
        if action == "list_directory":
            return sorted(p.name for p in _path(params, ctx).iterdir())
        if action == "create_directory":
            _path(params, ctx).mkdir(parents=True, exist_ok=True)
            return None
        if action in ("copy_file", "move_file"):
            src = _path(params, ctx)
            dst = _path(params, ctx, "destination")
            dst.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copy2 if action == "copy_file" else shutil.move)(src, dst)
            return {"path": str(dst)}
    except OSError as exc:
        raise StepError(f"{action} failed: {exc.strerror or exc}", error_type="FileError",
                        retryable=False) from exc
    raise StepError(f"unknown internal action {action!r}", error_type="UnknownAction", retryable=False)
