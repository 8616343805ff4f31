"""WebhookNotifier against a real loopback HTTP server; httpx errors become StepErrors."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from langorch.connectors.notify import WebhookNotifier
from langorch.runtime.errors import StepError, StepTimeout
from tests.fakes._http import JsonReply, LoopbackJsonServer

NOTE = {"channel": "webhook", "recipients": ["ops@x.test"], "subject": "down", "message": "m"}


class Hook(LoopbackJsonServer):
    def __init__(self, status: int = 200, delay_s: float = 0.0) -> None:
        super().__init__()
        self.status = status
        self.delay_s = delay_s
        self.seen: list[dict[str, Any]] = []

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        self.seen.append({"method": method, "path": path, "body": body, "headers": headers})
        time.sleep(self.delay_s)
        return JsonReply(self.status, {"ok": self.status < 400})


@pytest.fixture
def hook() -> Iterator[Hook]:
    with Hook() as server:
        yield server


@pytest.mark.asyncio
async def test_send_posts_the_notification_as_json_with_the_headers(hook: Hook) -> None:
    async with WebhookNotifier(f"{hook.url}/in", headers={"Authorization": "Bearer t"}) as notifier:
        answer = await notifier.send(NOTE)
    assert answer == {"status_code": 200, "body": {"ok": True}}
    [seen] = hook.seen
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/in", NOTE)
    assert seen["headers"]["authorization"] == "Bearer t"


@pytest.mark.asyncio
@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (400, False), (404, False)])
async def test_an_http_error_answer_is_a_step_error_with_its_status(hook: Hook, status: int, retryable: bool) -> None:
    hook.status = status
    async with WebhookNotifier(hook.url) as notifier:
        with pytest.raises(StepError) as info:
            await notifier.send(NOTE)
    assert info.value.error_type == f"HTTP{status}" and info.value.status_code == status
    assert info.value.retryable is retryable


@pytest.mark.asyncio
async def test_an_unreachable_webhook_is_a_retryable_notifier_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with WebhookNotifier(f"http://127.0.0.1:{port}/in") as notifier:
        with pytest.raises(StepError) as info:
            await notifier.send(NOTE)
    assert info.value.error_type == "NotifierUnavailable" and info.value.retryable
    assert info.value.__cause__ is not None


@pytest.mark.asyncio
async def test_a_slow_webhook_times_out(hook: Hook) -> None:
    hook.delay_s = 0.5
    async with WebhookNotifier(hook.url, timeout_s=0.05) as notifier:
        with pytest.raises(StepTimeout):
            await notifier.send(NOTE)


def test_a_webhook_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookNotifier("ftp://example.test/hook")
