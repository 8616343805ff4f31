"""HttpAgentClient against a real loopback agent (FakeAgentServer)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from langorch.connectors.agents import HttpAgentClient
from langorch.runtime.errors import AgentError, StepTimeout
from tests.fakes._http import JsonReply
from tests.fakes.agent_server import FakeAgentServer

REPO_ROOT = Path(__file__).resolve().parents[2]
IDS: dict[str, Any] = {"run_id": "run-1", "node_id": "login", "step_id": "open_portal"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.asyncio
async def test_execute_posts_the_protocol_body_and_returns_the_result(fake_agent: FakeAgentServer) -> None:
    fake_agent.set_result("open_url", {"title": "Portal"})
    async with HttpAgentClient({"WEB": fake_agent.url}) as agents:
        result = await agents.execute("WEB", "open_url", {"url": "https://example.test"}, **IDS)

    assert result == {"title": "Portal"}
    call = fake_agent.calls[0]
    assert {k: call[k] for k in ("action", "params", "run_id", "node_id", "step_id")} == {
        "action": "open_url",
        "params": {"url": "https://example.test"},
        **IDS,
    }


@pytest.mark.asyncio
async def test_default_fake_result_echoes_params(fake_agent: FakeAgentServer) -> None:
    async with HttpAgentClient({"email": fake_agent.url}) as agents:
        result = await agents.execute("EMAIL", "send", {"to": "a@b.c"}, **IDS)

    assert result == {"ok": True, "action": "send", "echo": {"to": "a@b.c"}}


@pytest.mark.asyncio
async def test_channel_names_are_case_insensitive(fake_agent: FakeAgentServer) -> None:
    async with HttpAgentClient({"LLMAgent": fake_agent.url}) as agents:
        await agents.execute("llmagent", "think", {}, **IDS)
        await agents.execute("LLMAGENT", "think", {}, **IDS)

    assert len(fake_agent.calls_for("think")) == 2


@pytest.mark.asyncio
async def test_callable_results_receive_the_params(fake_agent: FakeAgentServer) -> None:
    fake_agent.set_result("add", lambda params: params["a"] + params["b"])
    async with HttpAgentClient({"API": fake_agent.url}) as agents:
        assert await agents.execute("API", "add", {"a": 2, "b": 3}, **IDS) == 5


@pytest.mark.asyncio
async def test_a_body_without_result_key_is_the_result_itself() -> None:
    class BareAgent(FakeAgentServer):
        def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
            return JsonReply(200, [1, 2, 3])

    with BareAgent() as agent:
        async with HttpAgentClient({"WEB": agent.url}) as agents:
            assert await agents.execute("WEB", "list", {}, **IDS) == [1, 2, 3]


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 503, 429, 408])
async def test_server_errors_are_retryable_agent_errors_with_status(
    fake_agent: FakeAgentServer, status: int
) -> None:
    fake_agent.fail_next(status, body={"error": {"type": "PortalDown", "message": "portal is down"}})
    async with HttpAgentClient({"WEB": fake_agent.url}) as agents:
        with pytest.raises(AgentError) as caught:
            await agents.execute("WEB", "open_url", {}, **IDS)

    error = caught.value
    assert (error.status_code, error.retryable, error.error_type) == (status, True, "PortalDown")
    assert "portal is down" in error.message


@pytest.mark.asyncio
async def test_bad_request_is_not_retryable_and_carries_the_body_text(fake_agent: FakeAgentServer) -> None:
    fake_agent.fail_next(400, body="missing selector")
    async with HttpAgentClient({"WEB": fake_agent.url}) as agents:
        with pytest.raises(AgentError) as caught:
            await agents.execute("WEB", "click", {}, **IDS)

    error = caught.value
    assert (error.status_code, error.retryable, error.error_type) == (400, False, "HTTP400")
    assert "missing selector" in error.message
    assert error.to_dict()["status_code"] == 400


@pytest.mark.asyncio
async def test_error_object_in_a_200_answer_raises_with_its_type_message_and_code(
    fake_agent: FakeAgentServer,
) -> None:
    fake_agent.error_next({"type": "ElementNotFoundException", "message": "no #submit", "code": "E42"})
    async with HttpAgentClient({"WEB": fake_agent.url}) as agents:
        with pytest.raises(AgentError) as caught:
            await agents.execute("WEB", "click", {"selector": "#submit"}, **IDS)

    error = caught.value
    assert error.error_type == "ElementNotFoundException"
    assert error.error_code == "E42"
    assert "no #submit" in error.message
    assert error.status_code is None
    assert error.retryable is True


@pytest.mark.asyncio
async def test_error_string_in_a_200_answer_raises_agent_error(fake_agent: FakeAgentServer) -> None:
    fake_agent.error_next("window vanished")
    async with HttpAgentClient({"DESKTOP": fake_agent.url}) as agents:
        with pytest.raises(AgentError, match="window vanished") as caught:
            await agents.execute("DESKTOP", "focus", {}, **IDS)

    assert caught.value.error_type == "AgentError"


@pytest.mark.asyncio
async def test_agent_can_mark_its_error_not_retryable(fake_agent: FakeAgentServer) -> None:
    fake_agent.error_next({"type": "InvalidInput", "message": "bad date", "retryable": False})
    async with HttpAgentClient({"WEB": fake_agent.url}) as agents:
        with pytest.raises(AgentError) as caught:
            await agents.execute("WEB", "fill", {}, **IDS)

    assert caught.value.retryable is False


@pytest.mark.asyncio
async def test_failures_apply_only_to_the_scripted_number_of_calls(fake_agent: FakeAgentServer) -> None:
    fake_agent.fail_next(503, times=2, action="flaky")
    async with HttpAgentClient({"WEB": fake_agent.url}) as agents:
        assert await agents.execute("WEB", "other", {}, **IDS) == {"ok": True, "action": "other", "echo": {}}
        for _ in range(2):
            with pytest.raises(AgentError):
                await agents.execute("WEB", "flaky", {}, **IDS)
        assert (await agents.execute("WEB", "flaky", {}, **IDS))["ok"] is True


@pytest.mark.asyncio
async def test_connection_refused_is_a_retryable_agent_unavailable_error() -> None:
    async with HttpAgentClient({"WEB": f"http://127.0.0.1:{_free_port()}"}) as agents:
        with pytest.raises(AgentError) as caught:
            await agents.execute("WEB", "open_url", {}, **IDS)

    error = caught.value
    assert (error.error_type, error.retryable, error.status_code) == ("AgentUnavailable", True, None)
    assert isinstance(error.__cause__, httpx.ConnectError)


@pytest.mark.asyncio
async def test_slow_agent_raises_step_timeout(fake_agent: FakeAgentServer) -> None:
    fake_agent.set_delay("slow", 2.0)
    async with HttpAgentClient({"WEB": fake_agent.url}) as agents:
        started = time.monotonic()
        with pytest.raises(StepTimeout) as caught:
            await agents.execute("WEB", "slow", {}, **IDS, timeout_s=0.3)

    assert time.monotonic() - started < 1.5
    assert caught.value.error_type == "TimeoutException"
    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_unknown_channel_names_it_and_says_how_to_register(fake_agent: FakeAgentServer) -> None:
    async with HttpAgentClient({"WEB": fake_agent.url}) as agents:
        with pytest.raises(AgentError) as caught:
            await agents.execute("database", "query", {}, **IDS)

    error = caught.value
    assert (error.error_type, error.retryable) == ("NoAgentForChannel", False)
    assert "'database'" in error.message
    assert "--agent DATABASE=http://host:port" in error.message
    assert "WEB" in error.message
    assert fake_agent.calls == []


def test_register_rejects_urls_without_a_scheme() -> None:
    with pytest.raises(ValueError, match="http"):
        HttpAgentClient({"WEB": "localhost:9000"})


@pytest.mark.asyncio
async def test_injected_http_client_is_used_and_left_open(fake_agent: FakeAgentServer) -> None:
    async with httpx.AsyncClient(headers={"X-Test": "yes"}) as http:
        async with HttpAgentClient({"WEB": fake_agent.url}, http_client=http) as agents:
            await agents.execute("WEB", "ping", {}, **IDS)
        assert not http.is_closed


@pytest.mark.asyncio
async def test_health_reports_a_live_agent(fake_agent: FakeAgentServer) -> None:
    fake_agent.set_result("login", {})
    async with HttpAgentClient() as agents:
        health = await agents.health(fake_agent.url + "/")

    assert health.ok is True
    assert health.status_code == 200
    assert health.body == {"status": "ok", "name": "fake-agent", "actions": ["login"]}


@pytest.mark.asyncio
async def test_health_reports_unhealthy_and_unreachable_agents(fake_agent: FakeAgentServer) -> None:
    fake_agent.health_status = 503
    async with HttpAgentClient() as agents:
        unhealthy = await agents.health(fake_agent.url)
        absent = await agents.health(f"http://127.0.0.1:{_free_port()}")

    assert (unhealthy.ok, unhealthy.status_code) == (False, 503)
    assert (absent.ok, absent.status_code) == (False, None)
    assert absent.error is not None and "ConnectError" in absent.error


@pytest.mark.asyncio
async def test_agent_server_runs_as_a_process_and_logs_each_call(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.agent_server", "--port", "0", "--log", str(log)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline().strip()
        assert banner.startswith("listening on http://127.0.0.1:")
        async with HttpAgentClient({"WEB": banner.removeprefix("listening on ")}) as agents:
            await agents.execute("WEB", "first", {"n": 1}, **IDS)
            await agents.execute("WEB", "second", {"n": 2}, **IDS)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["action"] for line in lines] == ["first", "second"]
    assert lines[1]["params"] == {"n": 2}
    assert proc.returncode == 0


@pytest.mark.asyncio
async def test_the_example_agent_in_the_docs_speaks_the_protocol(tmp_path: Path) -> None:
    doc = (REPO_ROOT / "docs" / "agents.md").read_text()
    example = (
        doc.split("## A complete agent in stdlib Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    )
    script = tmp_path / "echo_agent.py"
    script.write_text(example)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(script), "--port", str(port)])
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with HttpAgentClient({"WEB": base_url}) as agents:
            for _ in range(100):
                if (await agents.health(base_url)).ok:
                    break
                await asyncio.sleep(0.05)
            assert (await agents.health(base_url)).body["actions"] == ["add", "echo"]
            assert await agents.execute("web", "add", {"a": 2, "b": 3}, **IDS) == {"sum": 5}
            # A redelivery with the same key gets the first answer, even with other params.
            assert await agents.execute("WEB", "add", {"a": 1, "b": 1}, **IDS, idempotency_key="k1") == {"sum": 2}
            assert await agents.execute("WEB", "add", {"a": 5, "b": 5}, **IDS, idempotency_key="k1",
                                        attempt=2) == {"sum": 2}
            with pytest.raises(AgentError) as unknown:
                await agents.execute("WEB", "fly", {}, **IDS)
            with pytest.raises(AgentError) as failing:
                await agents.execute("WEB", "add", {"a": 1}, **IDS)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    assert (unknown.value.error_type, unknown.value.retryable) == ("UnknownAction", False)
    assert failing.value.error_type == "KeyError"


@pytest.mark.asyncio
async def test_an_unusable_agent_url_is_a_non_retryable_error_and_an_unhealthy_probe() -> None:
    from langorch.runtime.errors import AgentError

    async with HttpAgentClient({"WEB": "http://[::1"}) as client:
        with pytest.raises(AgentError) as caught:
            await client.execute("WEB", "click", {}, run_id="r", node_id="n", step_id="s")
        health = await client.health("http://[::1")

    assert caught.value.error_type == "InvalidAgentUrl" and not caught.value.retryable
    assert not health.ok and health.error
