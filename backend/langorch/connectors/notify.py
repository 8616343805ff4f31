"""Notification connector: a process-wide webhook that receives ``notify`` operations.

``WebhookNotifier`` POSTs each notification as JSON to one URL (a chat-ops relay, an
incident tool, a mail gateway), for notifications whose channel is ``webhook`` or names
no agent channel (see :mod:`langorch.runtime.notify`). The body::

    {"channel", "recipients", "subject", "message", "run_id", "procedure_id", "node_id", "step_id"}

(alerts send their own body, see services/alerts.py). With a ``secret``, every POST is
signed the way webhook triggers check deliveries (:mod:`langorch.signing`):
``X-LangOrch-Timestamp`` (unix seconds) and ``X-LangOrch-Signature: sha256=<hex>`` over
``"{timestamp}.{body}"``. ``Idempotency-Key`` carries the delivery's key when there is one:
the same across retries, so the receiver can drop a repeat.

Errors raised (httpx errors are converted here and re-raised ``from`` the original):

    no answer within the timeout → StepTimeout  TimeoutException, retryable
    webhook unreachable          → StepError    NotifierUnavailable, retryable
    HTTP 4xx/5xx                 → StepError    ``HTTP{status}``, ``status_code`` set; retryable
                                                for 408, 429 and 5xx
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from langorch.runtime.errors import StepError, StepTimeout
from langorch.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

__all__ = ["WebhookNotifier"]

_BODY_EXCERPT = 300


class WebhookNotifier:
    """:class:`~langorch.runtime.ports.Notifier` that POSTs JSON to ``url``.

    ``http_client`` is injectable (the server shares its pool; tests pass a loopback
    client); when not given the notifier makes and owns one. ``headers`` are sent with
    every request (an authorization token, for instance); ``secret`` signs every body.
    """

    def __init__(self, url: str, *, http_client: httpx.AsyncClient | None = None, timeout_s: float = 10.0,
                 headers: Mapping[str, str] | None = None, secret: str | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"notification webhook URL must start with http:// or https://: {url!r}")
        self.url = url
        self._owns_client = http_client is None
        self._http = http_client or httpx.AsyncClient()
        self._timeout_s = timeout_s
        self._headers = dict(headers or {})
        self._secret = secret or None

    @property
    def signed(self) -> bool:
        return self._secret is not None

    async def send(self, notification: Mapping[str, Any], *, timeout_s: float | None = None,
                   idempotency_key: str | None = None) -> Any:
        """POST ``notification``; returns ``{"status_code", "body"}`` of a 2xx answer."""
        timeout = self._timeout_s if timeout_s is None else timeout_s
        body = json.dumps(dict(notification), separators=(",", ":"), default=str).encode()
        headers = {**self._headers, "Content-Type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if self._secret is not None:
            stamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = stamp
            headers[SIGNATURE_HEADER] = sign(self._secret, body, stamp)
        try:
            response = await self._http.post(self.url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise StepTimeout(f"notification webhook did not answer within {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise StepError(f"notification webhook unreachable: {exc}", error_type="NotifierUnavailable",
                            retryable=True) from exc
        try:
            answer: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            answer = response.text
        if response.status_code >= 400:
            raise StepError(f"notification webhook answered HTTP {response.status_code}: "
                            f"{str(answer)[:_BODY_EXCERPT]}", error_type=f"HTTP{response.status_code}",
                            status_code=response.status_code,
                            retryable=response.status_code in (408, 429) or response.status_code >= 500)
        return {"status_code": response.status_code, "body": answer}

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            await self._http.aclose()

    async def __aenter__(self) -> WebhookNotifier:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
