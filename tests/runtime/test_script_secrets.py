"""A script parameter that reads ``secrets`` as a mapping (``secrets.get("name")``) gets the
procedure's declared secrets, and only those; templates still fetch exactly the names they
mention. The reference ``test_secrets_workflow.ckp.json`` runs as its author meant."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from langorch.ckp import compile_text
from langorch.connectors.agents import HttpAgentClient
from langorch.connectors.secrets import RoutingSecrets
from langorch.runtime.secret_refs import script_uses_secrets, template_secret_names
from tests.conftest import SHARED_DIR
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import EventLog, Harness, ckp, compile_ok, end, seq

API_KEY = "sk-script-5f4e3d2c1b"
REFERENCE = SHARED_DIR / "ckp-reference" / "test_secrets_workflow.ckp.json"


PRINTED: list[str] = []


def run_script(params: dict[str, Any]) -> dict[str, Any]:
    """What a python_exec agent does: run the script with the ``secrets`` it was sent."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        script = params.get("script") or params["parameters"]["script"]
        exec(script, {"secrets": params.get("secrets", {})})  # test agent only
    PRINTED.append(out.getvalue())
    return {"stdout": out.getvalue()}


@pytest_asyncio.fixture
async def master_agent() -> AsyncIterator[tuple[FakeAgentServer, HttpAgentClient]]:
    PRINTED.clear()
    with FakeAgentServer(results={"python_exec": run_script}) as agent:
        async with HttpAgentClient({"MasterAgent": agent.url}) as client:
            yield agent, client


def _events_text(events: EventLog) -> str:
    return json.dumps([{"type": e.type, "payload": e.payload} for e in events.events], default=str)


def test_template_names_come_only_from_template_blocks() -> None:
    assert template_secret_names("Bearer {{secrets.crm_token}}") == {"crm_token"}
    assert template_secret_names({"h": ["{{ secrets['api-key'] }}", "{% if secrets.flag %}x{% endif %}"]}) == {
        "api-key", "flag"}
    assert template_secret_names("print(secrets.get('x'))  # rotate secrets.daily") == set()
    assert template_secret_names("{{ secrets.get('x') }}") == set()  # a method call is not a secret named get


def test_a_script_reading_the_secrets_mapping_is_recognised() -> None:
    assert script_uses_secrets({"script": "print(secrets.get('k', 'NOT_FOUND'))"})
    assert script_uses_secrets({"code": "token = secrets['k']"})
    assert not script_uses_secrets({"script": "print('no mapping used: mysecrets.get')"})
    assert not script_uses_secrets({"message": "secrets.get('k')"})  # not a script parameter
    assert not script_uses_secrets({"script": "x = '{{ secrets.k }}'"})  # a template, rendered instead
    assert script_uses_secrets({"parameters": {"script": "print(secrets.get('k'))"}})  # step-graph files


@pytest.mark.asyncio
async def test_a_script_gets_the_declared_secrets_and_only_those(
        master_agent: tuple[FakeAgentServer, HttpAgentClient], monkeypatch: pytest.MonkeyPatch) -> None:
    agent, client = master_agent
    monkeypatch.setenv("LANGORCH_SECRET_API_KEY", API_KEY)
    monkeypatch.setenv("LANGORCH_SECRET_NOT_DECLARED", "never-sent")
    monkeypatch.delenv("LANGORCH_SECRET_ABSENT_KEY", raising=False)
    script = "print(secrets.get('api', 'NOT_FOUND'), secrets.get('absent', 'NOT_FOUND'), sorted(secrets))"
    doc = ckp({"work": seq({"step_id": "py", "action": "python_exec", "script": script, "output_variable": "out"},
                           agent="MasterAgent", next_node="done"),
               "done": end(outputs={"printed": "{{out.stdout}}"})},
              global_config={"secrets_config": {"provider": "env_vars", "secret_references": {
                  "api": "API_KEY", "absent": "ABSENT_KEY"}}})
    h = Harness(agents=client, secrets=RoutingSecrets())

    out = await h.run(compile_ok(doc))

    assert out.status == "completed", out.error
    assert [f"{API_KEY} NOT_FOUND ['api']\n"] == PRINTED
    sent = agent.calls[0]["params"]
    assert sent["secrets"] == {"api": API_KEY}  # declared and set; the unset one is left out
    assert sent["script"] == script  # the script itself is not rendered or changed
    assert agent.calls[0]["action"] == "python_exec"
    assert API_KEY not in _events_text(h.events)


@pytest.mark.asyncio
async def test_a_script_step_fails_when_a_declared_secret_cannot_be_read(
        master_agent: tuple[FakeAgentServer, HttpAgentClient], monkeypatch: pytest.MonkeyPatch) -> None:
    _, client = master_agent
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    doc = ckp({"work": seq({"step_id": "py", "action": "python_exec", "script": "print(secrets['k'])"},
                           agent="MasterAgent", next_node="done"), "done": end()},
              global_config={"secrets_config": {"provider": "hashicorp_vault", "vault_url": "http://127.0.0.1:9",
                                                "secret_references": {"k": "apps/k#v"}}})
    out = await Harness(agents=client, secrets=RoutingSecrets()).run(compile_ok(doc))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "SecretAccessDenied"  # no Vault credentials here


@pytest.mark.asyncio
async def test_the_reference_secrets_workflow_runs_as_its_author_meant(
        master_agent: tuple[FakeAgentServer, HttpAgentClient], monkeypatch: pytest.MonkeyPatch) -> None:
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is absent")
    agent, client = master_agent
    monkeypatch.setenv("LANGORCH_SECRET_TEST_API_KEY", API_KEY)
    result = compile_text(REFERENCE.read_bytes())
    assert result.ir is not None, [d.message for d in result.errors]
    h = Harness(agents=client, secrets=RoutingSecrets())

    out = await h.run(result.ir)

    assert out.status == "completed", out.error
    assert agent.calls[0]["params"]["secrets"] == {"test_api_key": API_KEY}
    assert [f"Secret loaded: {API_KEY}\n"] == PRINTED  # the script saw the value, not NOT_FOUND
    assert API_KEY not in _events_text(h.events)
