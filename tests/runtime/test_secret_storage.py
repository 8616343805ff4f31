"""A secret's value lives only in the call that sends it: one test per place a run keeps or
shows something — state variables and outputs, checkpoint files, stored step results,
errors, approval prompts, events — across a pause and a "restart" (a new Runner with new
services on the same checkpoint file), and references that cannot be forged.

Real parts: a loopback echo server for http_request, the loopback fake agent and LLM,
the env secrets provider, the SQLite checkpointer on a tmp file."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from langorch.connectors.llm import OpenAICompatibleLlm
from langorch.connectors.secrets import EnvSecrets, RoutingSecrets
from langorch.runtime.checkpointer import open_checkpointer
from langorch.runtime.redaction import MASK, Redactor, display, reference
from tests.fakes.agent_server import FakeAgentServer
from tests.fakes.echo_server import EchoServer
from tests.fakes.llm_server import FakeLlmServer
from tests.runtime.harness import DictResolver, EventLog, Harness, MemoryStepStore, ckp, compile_ok, end, seq

VALUE = "s3cr3t-Vq8ZkT2mWx9Lp4Rn7Yb1Hc6Jd0Fg5Se"
"""A long random-looking secret value; its every form is searched for."""
SHOWN = "<<secret:api_key>>"
FORMS = (VALUE, base64.b64encode(VALUE.encode()).decode(), base64.urlsafe_b64encode(VALUE.encode()).decode(),
         json.dumps(VALUE)[1:-1])
SECRETS_CONFIG = {"secrets_config": {"provider": "env_vars", "secret_references": {"api_key": "API_KEY"}}}


def _provider(value: str = VALUE) -> RoutingSecrets:
    return RoutingSecrets({"env_vars": EnvSecrets({"LANGORCH_SECRET_API_KEY": value})})


def _leaks(*blobs: Any) -> list[str]:
    text = "\n".join(b.decode("utf-8", "replace") if isinstance(b, bytes) else
                     json.dumps(b, default=str) if not isinstance(b, str) else b for b in blobs)
    return [form for form in FORMS if form in text]


def _files(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()]


def _events(log: EventLog) -> list[Any]:
    return [{"type": e.type, "node": e.node_id, "payload": e.payload} for e in log.events]


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"WEB": fake_agent.url}) as client:
        yield client


def _everywhere(echo_url: str) -> dict[str, Any]:
    """The secret in a log line, set_variable, an http_request's URL, header and body, an agent
    step, an approval prompt, a failing request's error and terminate outputs."""
    return ckp({
        "prep": seq(
            {"step_id": "say", "action": "log", "message": "using {{secrets.api_key}}"},
            {"step_id": "auth", "action": "set_variable", "variable": "auth", "value": "Bearer {{secrets.api_key}}"},
            {"step_id": "call", "action": "http_request", "method": "POST",
             "url": echo_url + "/echo?key={{secrets.api_key}}",
             "headers": {"Authorization": "{{auth}}", "X-Key": "{{secrets.api_key}}"},
             "body": {"key": "{{secrets.api_key}}", "auth": "{{auth}}"}, "output_variable": "echoed"},
            {"step_id": "agent", "action": "lookup", "agent": "WEB", "token": "{{auth}}",
             "output_variable": "agent_result"},
            next_node="gate"),
        "gate": {"type": "human_approval", "prompt": "Send with {{secrets.api_key}} ({{auth}})?",
                 "context_data": {"key": "{{secrets.api_key}}"}, "on_approve": "after", "on_reject": "after"},
        "after": seq(
            {"step_id": "again", "action": "http_request", "method": "POST", "url": echo_url + "/echo",
             "headers": {"Authorization": "{{auth}}"}, "body": {"key": "{{secrets.api_key}}"},
             "output_variable": "second"},
            {"step_id": "boom", "action": "http_request", "url": echo_url + "/fail?key={{secrets.api_key}}"},
            next_node="ok"),
        "ok": end(),
        "failed_end": end("failed", outputs={"key": "{{secrets.api_key}}", "auth": "{{auth}}",
                                             "echoed_header": "{{echoed.body.headers['x-key']}}",
                                             "error": "{{error.message}}"}),
    }, global_config={**SECRETS_CONFIG, "on_failure": "failed_end", "max_retries": 0})


@pytest.mark.asyncio
async def test_no_place_a_run_keeps_or_shows_holds_the_value_across_a_pause_and_a_restart(
        tmp_path: Path, echo: EchoServer, fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    ir = compile_ok(_everywhere(echo.url))
    store = MemoryStepStore()  # the step_idempotency table: it outlives a process
    folder = tmp_path / "checkpoints"

    async with AsyncExitStack() as stack:  # the first process: start, pause at the approval
        first = Harness(agents=agents, secrets=_provider(), step_store=store,
                        checkpointer=await stack.enter_async_context(open_checkpointer(str(folder / "cp.db"))))
        paused = await first.run(ir)
    assert paused.status == "waiting_approval", paused.error
    assert paused.pending[0].request["prompt"] == f"Send with {SHOWN} (Bearer {SHOWN})?"
    assert paused.pending[0].request["context_data"] == {"key": SHOWN}
    assert paused.vars["auth"] == f"Bearer {SHOWN}"

    async with AsyncExitStack() as stack:  # another process: new services, same checkpoint file
        second = Harness(agents=agents, secrets=_provider(), step_store=store,
                         checkpointer=await stack.enter_async_context(open_checkpointer(str(folder / "cp.db"))))
        out = await second.resume(ir, decision="approve")

    # the calls were sent the value, wherever it was written
    first_call, again, boom = echo.seen
    assert first_call["path"] == f"/echo?key={VALUE}"
    assert first_call["headers"]["authorization"] == f"Bearer {VALUE}" and first_call["headers"]["x-key"] == VALUE
    assert first_call["body"] == {"key": VALUE, "auth": f"Bearer {VALUE}"}
    assert again["headers"]["authorization"] == f"Bearer {VALUE}", "a reference set before the restart resolves"
    assert again["body"] == {"key": VALUE}
    assert boom["path"] == f"/fail?key={VALUE}"
    assert fake_agent.calls[0]["params"]["token"] == f"Bearer {VALUE}"

    # the run keeps and shows only references
    assert out.status == "failed"
    assert out.error is not None and f"/fail?key={SHOWN}" in out.error["message"]
    assert out.outputs["key"] == SHOWN and out.outputs["auth"] == f"Bearer {SHOWN}"
    assert out.outputs["echoed_header"] == SHOWN, "an echoed value is sealed into its reference"
    assert f"/fail?key={SHOWN}" in out.outputs["error"]
    assert out.vars["echoed"]["body"]["x_key_b64"] == MASK, "an encoded form of the value is masked"
    assert [e["payload"]["message"] for e in _events(first.events) if e["type"] == "log"] == [f"using {SHOWN}"]
    assert _leaks(_events(first.events), _events(second.events)) == []
    assert _leaks(store.results) == []
    assert _leaks(paused.summary(), out.summary()) == []
    assert _leaks(*_files(folder)) == [], "a checkpoint file (or its WAL) holds the value"


@pytest.mark.asyncio
async def test_a_reference_from_outside_the_run_is_sent_as_text_never_resolved(echo: EchoServer) -> None:
    forged_with_nonce = "<<secret:api_key:0123456789abcdef>>"
    doc = ckp({"call": seq({"step_id": "send", "action": "http_request", "method": "POST", "url": echo.url + "/in",
                            "body": {"a": "{{shown}}", "b": "{{forged}}"}}, next_node="done"),
               "done": end()},
              variables={"shown": {"type": "string"}, "forged": {"type": "string"}}, global_config=SECRETS_CONFIG)
    h = Harness(secrets=_provider())

    out = await h.run(doc, {"shown": SHOWN, "forged": forged_with_nonce})

    assert out.status == "completed", out.error
    assert echo.seen[0]["body"] == {"a": SHOWN, "b": SHOWN}, "sent as text (and no nonce leaves the engine)"


@pytest.mark.asyncio
async def test_a_step_result_echoing_the_value_is_sealed_in_the_stored_result_and_the_state(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    doc = ckp({"a": seq({"step_id": "charge", "action": "charge", "agent": "WEB", "key": "{{secrets.api_key}}",
                         "idempotency_key": "charge-{{secrets.api_key}}", "output_variable": "receipt"},
                        next_node="done"),
               "done": end(outputs={"receipt": "{{receipt}}"})}, global_config=SECRETS_CONFIG)
    h = Harness(agents=agents, secrets=_provider())

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert fake_agent.calls[0]["params"]["key"] == VALUE
    [(key, stored)] = h.step_store.results.items()
    assert key == f"proc:test_proc:charge-{SHOWN}", "an idempotency key names the secret, never its value"
    assert stored["echo"]["key"].startswith("<<secret:api_key:"), "the stored result holds the run's reference"
    assert out.outputs["receipt"]["echo"]["key"] == SHOWN
    assert _leaks(h.step_store.results, _events(h.events), out.summary()) == []


@pytest.mark.asyncio
async def test_a_cached_result_replayed_after_a_crash_still_sends_the_value(
        echo: EchoServer, fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    doc = ckp({"a": seq({"step_id": "login", "action": "login", "agent": "WEB", "key": "{{secrets.api_key}}",
                         "output_variable": "session"},
                        {"step_id": "use", "action": "http_request", "method": "POST", "url": echo.url + "/use",
                         "body": {"echoed": "{{session.echo.key}}"}}, next_node="done"),
               "done": end()}, global_config=SECRETS_CONFIG)
    h = Harness(agents=agents, secrets=_provider())

    out = await h.run(doc)

    assert out.status == "completed", out.error
    # the agent echoed the value; the run holds its reference, which the next call resolves
    assert echo.seen[0]["body"] == {"echoed": VALUE}
    assert _leaks(h.step_store.results, out.summary(), _events(h.events)) == []


@pytest.mark.asyncio
async def test_a_model_is_sent_the_shown_reference_never_the_value(fake_llm: FakeLlmServer) -> None:
    doc = ckp({"ask": {"type": "llm_action", "prompt": "Check key {{secrets.api_key}}", "output_variable": "answer",
                       "system_prompt": "Never print {{secrets.api_key}}", "next_node": "step"},
               "step": seq({"step_id": "direct", "action": "generate_summary", "agent": "LLM",
                            "prompt": "Key {{secrets.api_key}}"}, next_node="done"),
               "done": end(outputs={"answer": "{{answer}}"})}, global_config=SECRETS_CONFIG)
    async with OpenAICompatibleLlm(base_url=fake_llm.base_url, api_key="test") as llm:
        h = Harness(llm=llm, secrets=_provider())
        out = await h.run(doc)

    assert out.status == "completed", out.error
    assert fake_llm.requests, "the model was called"
    assert _leaks(fake_llm.requests) == []
    assert fake_llm.requests[0]["messages"][0]["content"] == f"Never print {SHOWN}"
    assert fake_llm.requests[0]["messages"][1]["content"] == f"Check key {SHOWN}"
    assert out.outputs["answer"] == f"echo: Check key {SHOWN}"


@pytest.mark.asyncio
async def test_a_scripts_printed_secret_is_sealed() -> None:
    def run_script(params: dict[str, Any]) -> dict[str, Any]:  # what a python_exec agent answers
        return {"stdout": f"loaded {params['secrets']['api_key']}\n"}

    doc = ckp({"a": seq({"step_id": "py", "action": "python_exec", "agent": "MasterAgent",
                         "script": "print(f\"loaded {secrets.get('api_key')}\")", "output_variable": "printed"},
                        next_node="done"),
               "done": end(outputs={"printed": "{{printed.stdout}}"})}, global_config=SECRETS_CONFIG)
    with FakeAgentServer(results={"python_exec": run_script}) as agent:
        async with HttpAgentClient({"MasterAgent": agent.url}) as client:
            h = Harness(agents=client, secrets=_provider())
            out = await h.run(doc)
        assert agent.calls[0]["params"]["secrets"] == {"api_key": VALUE}

    assert out.status == "completed", out.error
    assert out.outputs["printed"] == f"loaded {SHOWN}\n"
    assert _leaks(out.summary(), _events(h.events), h.step_store.results) == []


@pytest.mark.asyncio
async def test_a_subflow_sends_its_callers_reference_and_seals_its_own_echo(echo: EchoServer) -> None:
    child = ckp({"send": seq({"step_id": "send", "action": "http_request", "method": "POST", "url": echo.url + "/c",
                              "headers": {"Authorization": "{{token}}"}, "output_variable": "reply"},
                             next_node="done"),
                 "done": end(outputs={"seen": "{{reply.body.headers.authorization}}"})},
                procedure_id="child", variables={"token": {"type": "string"}}, global_config=SECRETS_CONFIG)
    parent = ckp({"call": {"type": "subflow", "procedure_id": "child", "input_mapping": {
                      "token": "Bearer {{secrets.api_key}}"}, "output_mapping": {"seen": "outputs.seen"},
                      "next_node": "done"},
                  "done": end(outputs={"seen": "{{seen}}"})}, global_config=SECRETS_CONFIG)
    resolver = DictResolver(child)
    h = Harness(secrets=_provider(), resolver=resolver)

    out = await h.run(parent)

    assert out.status == "completed", out.error
    assert echo.seen[0]["headers"]["authorization"] == f"Bearer {VALUE}"
    assert out.outputs["seen"] == f"Bearer {SHOWN}"
    assert _leaks(out.summary(), _events(h.events)) == []


@pytest.mark.asyncio
async def test_a_field_of_a_json_secret_is_referenced_and_sent() -> None:
    class JsonVault:  # a vault holding one JSON secret (the SecretsProvider port)
        async def get(self, ref: Any, *, run_id: str | None = None) -> Any:
            return {"username": "portal-user-7781", "password": VALUE}

    with EchoServer() as echo:
        doc = ckp({"a": seq({"step_id": "login", "action": "http_request", "method": "POST", "url": echo.url + "/l",
                             "body": {"user": "{{secrets.portal.username}}", "pw": "{{ secrets['portal'].password }}"},
                             "output_variable": "reply"}, next_node="done"),
                   "done": end(outputs={"pw": "{{reply.body.body.pw}}", "user": "{{secrets.portal.username}}"})},
                  global_config={"secrets_config": {"provider": "env_vars",
                                                    "secret_references": {"portal": "PORTAL"}}})
        h = Harness(secrets=JsonVault())
        out = await h.run(doc)

    assert out.status == "completed", out.error
    assert echo.seen[0]["body"] == {"user": "portal-user-7781", "pw": VALUE}
    assert out.outputs == {"pw": "<<secret:portal.password>>", "user": "<<secret:portal.username>>"}
    assert _leaks(out.summary(), _events(h.events)) == []


def test_the_redactor_seals_values_into_references_and_shows_them_without_the_nonce() -> None:
    redactor = Redactor()
    redactor.add_secret(VALUE, name="api_key")
    nonce = "00112233aabbccdd"

    sealed = redactor.seal({"url": f"https://x/?k={VALUE}", "b64": FORMS[1], "n": 3}, nonce)

    assert sealed == {"url": f"https://x/?k={reference('api_key', nonce)}", "b64": MASK, "n": 3}
    assert display(sealed) == {"url": f"https://x/?k={SHOWN}", "b64": MASK, "n": 3}
    assert redactor.redact({"note": f"v={VALUE}", "token": "anything"}) == {"note": f"v={MASK}", "token": MASK}
    assert Redactor().seal({"v": VALUE}, nonce) == {"v": VALUE}, "nothing to seal without a known secret"
    # a quote of an answer cut inside the value keeps none of it, whether or not the quote is closed
    assert redactor.seal_cut_text(f"answered: '{VALUE[:12]}'", nonce) == "answered: '***'"
    assert redactor.seal_cut_text(f"answered: {VALUE[:7]}", nonce) == "answered: ***"


@pytest.mark.asyncio
async def test_after_a_restart_a_value_returned_unasked_is_still_sealed(tmp_path: Path) -> None:
    # No step after the pause names the secret: only the provider, read again on resume, knows it.
    doc = ckp({"gate": {"type": "human_approval", "prompt": "go?", "on_approve": "ask", "on_reject": "ask"},
               "ask": seq({"step_id": "whoami", "action": "whoami", "agent": "WEB", "output_variable": "me"},
                          next_node="done"),
               "done": end(outputs={"me": "{{me}}"})}, global_config=SECRETS_CONFIG)
    ir = compile_ok(doc)
    with FakeAgentServer(results={"whoami": {"user": "svc", "key": VALUE}}) as agent:
        async with HttpAgentClient({"WEB": agent.url}) as client, AsyncExitStack() as stack:
            first = Harness(agents=client, secrets=_provider(),
                            checkpointer=await stack.enter_async_context(open_checkpointer(str(tmp_path / "cp.db"))))
            assert (await first.run(ir)).status == "waiting_approval"
        async with HttpAgentClient({"WEB": agent.url}) as client, AsyncExitStack() as stack:
            second = Harness(agents=client, secrets=_provider(), step_store=first.step_store,
                             checkpointer=await stack.enter_async_context(open_checkpointer(str(tmp_path / "cp.db"))))
            out = await second.resume(ir, decision="approve")

    assert out.status == "completed", out.error
    assert out.outputs["me"] == {"user": "svc", "key": SHOWN}
    assert _leaks(out.summary(), _events(second.events), first.step_store.results, *_files(tmp_path)) == []


@pytest.mark.asyncio
async def test_an_error_quoting_the_answer_cut_inside_the_value_keeps_no_part_of_it(echo: EchoServer) -> None:
    # The answer is quoted up to 300 characters: pad it so that the cut falls inside the echoed value.
    head = "{'method': 'POST', 'path': '/fail', 'body': {'pad': '"
    pad = "x" * (290 - len(head) - len("', 'key': '"))
    doc = ckp({"a": seq({"step_id": "send", "action": "http_request", "method": "POST", "url": echo.url + "/fail",
                         "body": {"pad": pad, "key": "{{secrets.api_key}}"}}, next_node="done"),
               "done": end()}, global_config={**SECRETS_CONFIG, "max_retries": 0})
    h = Harness(secrets=_provider())

    out = await h.run(doc)

    assert out.status == "failed" and out.error is not None
    assert "'key': '" in out.error["message"], "the quote reaches the value"
    assert VALUE[:6] not in json.dumps(out.summary()) + json.dumps(_events(h.events))


@pytest.mark.asyncio
async def test_a_file_the_run_writes_names_the_secret_by_its_shown_reference(tmp_path: Path) -> None:
    doc = ckp({"a": seq({"step_id": "w", "action": "write_file", "file_path": "out/note.txt",
                         "value": "key={{secrets.api_key}}"}, next_node="done"),
               "done": end()}, global_config=SECRETS_CONFIG)
    h = Harness(secrets=_provider(), workdir=str(tmp_path))

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert (tmp_path / "run-1" / "out" / "note.txt").read_text() == f"key={SHOWN}"


@pytest.mark.asyncio
async def test_the_whole_secrets_map_is_a_map_of_references() -> None:
    doc = ckp({"a": seq({"step_id": "all", "action": "set_variable", "variable": "every", "value": "{{secrets}}"},
                        {"step_id": "some", "action": "set_variable", "variable": "pair",
                         "value": "{{ [secrets.api_key, 'x'] }}"}, next_node="done"),
               "done": end(outputs={"every": "{{every}}", "pair": "{{pair}}"})}, global_config=SECRETS_CONFIG)
    h = Harness(secrets=_provider())

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.outputs == {"every": {"api_key": SHOWN}, "pair": [SHOWN, "x"]}
    assert _leaks(out.summary(), _events(h.events)) == []


@pytest.mark.asyncio
async def test_a_text_the_runtime_did_not_produce_is_hidden_before_a_worker_logs_it() -> None:
    ir = compile_ok(ckp({"a": seq({"action": "log", "message": "{{secrets.api_key}}"}, next_node="done"),
                         "done": end()}, global_config=SECRETS_CONFIG))
    hide = await Harness(secrets=_provider()).runner().secret_text_filter(ir, "run-1")

    assert hide(f"Traceback ... ValueError: bad token {VALUE}") == f"Traceback ... ValueError: bad token {SHOWN}"
