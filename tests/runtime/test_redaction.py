"""Sensitive variables, secret-looking keys and the values of secrets the run reads are
masked in every event, while the agent still receives the real values."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from langorch.connectors.secrets import EnvSecrets, RoutingSecrets
from langorch.runtime.redaction import MASK
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import EventLog, Harness, ckp, compile_ok, end, seq

PASSWORD = "hunter2-correct-horse"
CRM_TOKEN = "crm-tok-9f8e7d6c5b4a"
API_KEY = "sk-live-0123456789"


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"WEB": fake_agent.url}) as client:
        yield client


def _all_event_text(events: EventLog) -> str:
    return json.dumps([{"type": e.type, "payload": e.payload} for e in events.events], default=str)


def _doc() -> dict[str, object]:
    return ckp({
        "login": seq(
            {"step_id": "open", "action": "type", "target": "#password", "value": "{{password}}"},
            {"step_id": "auth", "action": "navigate", "target": "https://crm.test",
             "headers": {"X-Trace": "Bearer {{secrets.crm_token}}"}, "output_variable": "session"},
            {"step_id": "say", "action": "log", "agent": "MasterAgent",
             "message": "logged in as {{user}} with {{password}} and {{secrets.crm_token}}"},
            {"step_id": "key", "action": "set_variable", "agent": "MasterAgent", "variable": "api_key",
             "value": API_KEY},
            agent="WEB", next_node="gate"),
        "gate": {"type": "human_approval", "prompt": "Approve login of {{user}} ({{password}})?",
                 "context_data": {"user": "{{user}}", "password": "{{password}}", "note": "tok {{api_key}}"},
                 "on_approve": "done", "on_reject": "done"},
        "done": end(outputs={"who": "{{user}}", "secret_echo": "{{password}}"}),
    }, variables={"user": {"type": "string"}, "password": {"type": "string", "sensitive": True}},
        global_config={"secrets_config": {"provider": "env_vars",
                                          "secret_references": {"crm_token": "CRM_TOKEN"}}})


@pytest.mark.asyncio
async def test_sensitive_variables_and_secrets_are_masked_in_every_event(
        fake_agent: FakeAgentServer, agents: HttpAgentClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGORCH_SECRET_CRM_TOKEN", CRM_TOKEN)
    h = Harness(agents=agents, secrets=RoutingSecrets({"env_vars": EnvSecrets()}))
    ir = compile_ok(_doc())

    paused = await h.run(ir, {"user": "ann", "password": PASSWORD})
    assert paused.status == "waiting_approval", paused.error
    out = await h.resume(ir, decision="approve")

    assert out.status == "completed", out.error
    text = _all_event_text(h.events)
    for secret in (PASSWORD, CRM_TOKEN, API_KEY):
        assert secret not in text, f"{secret!r} leaked into an event"
    assert h.events.payloads("run_started")[0]["inputs"] == {"user": "ann", "password": MASK}
    # a secret is named by its reference; a sensitive variable's value is masked
    assert h.events.payloads("log")[0]["message"] == f"logged in as ann with {MASK} and <<secret:crm_token>>"
    request = h.events.payloads("approval_requested")[0]
    assert request["context_data"]["password"] == MASK
    assert request["prompt"] == f"Approve login of ann ({MASK})?"
    # the agent got the real values
    assert fake_agent.calls[0]["params"]["value"] == PASSWORD
    assert fake_agent.calls[1]["params"]["headers"] == {"X-Trace": f"Bearer {CRM_TOKEN}"}


@pytest.mark.asyncio
async def test_a_sensitive_value_in_state_stays_masked_after_resume(
        fake_agent: FakeAgentServer, agents: HttpAgentClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGORCH_SECRET_CRM_TOKEN", CRM_TOKEN)
    h = Harness(agents=agents, secrets=RoutingSecrets({"env_vars": EnvSecrets()}))
    ir = compile_ok(_doc())
    await h.run(ir, {"user": "ann", "password": PASSWORD})
    after_pause = len(h.events.events)

    await h.resume(ir, decision="approve")

    resumed = EventLog()
    resumed.events = h.events.events[after_pause:]
    text = _all_event_text(resumed)
    assert PASSWORD not in text
    assert h.events.payloads("run_completed")[0]["outputs"]["secret_echo"] == MASK


@pytest.mark.asyncio
async def test_secret_looking_keys_are_masked_but_token_counts_are_not() -> None:
    h = Harness()
    doc = ckp({"a": seq({"step_id": "v", "action": "set_variable", "variable": "resp",
                         "value": {"access_token": "abc", "apiKey": "k", "prompt_tokens": 12,
                                   "nested": {"client_secret": "s", "ok": "visible"}}},
                        next_node="done"),
               "done": end()})

    out = await h.run(doc)

    [done] = [e.payload for e in h.events.of("step_completed") if e.step_id == "v"]
    assert done["result"] == {"access_token": MASK, "apiKey": MASK, "prompt_tokens": 12,
                              "nested": {"client_secret": MASK, "ok": "visible"}}
    assert out.vars["resp"]["access_token"] == "abc"  # only events are masked, not the run's data


@pytest.mark.asyncio
async def test_a_missing_env_secret_fails_the_step_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANGORCH_SECRET_CRM_TOKEN", raising=False)
    h = Harness(secrets=RoutingSecrets())
    doc = ckp({"a": seq({"action": "log", "message": "{{secrets.crm_token}}"}, next_node="done"), "done": end()},
              global_config={"secrets_config": {"provider": "env_vars",
                                                "secret_references": {"crm_token": "CRM_TOKEN"}}})

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "SecretNotFound"
    assert "LANGORCH_SECRET_CRM_TOKEN" in out.error["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["HOME", "LANGORCH_DB__URL"])
async def test_an_undeclared_secret_is_refused_and_no_environment_variable_is_read(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, "server-private")
    h = Harness(secrets=RoutingSecrets())
    doc = ckp({"a": seq({"action": "log", "message": f"{{{{secrets.{name}}}}}"}, next_node="done"),
               "done": end(outputs={"leak": f"{{{{secrets.{name}}}}}"})})

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "SecretNotDeclared"
    assert "secret_references" in out.error["message"]
    assert "server-private" not in json.dumps([e.payload for e in h.events.events]) + json.dumps(out.outputs)
