"""llm_action against a loopback OpenAI-compatible server (FakeLlmServer) through the
real OpenAICompatibleLlm connector."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from langorch.connectors.llm import OpenAICompatibleLlm
from tests.fakes.llm_server import FakeLlmServer, _default_reply
from tests.runtime.harness import Harness, RecordingSleep, ckp, end, run_folder

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


@pytest_asyncio.fixture
async def llm(fake_llm: FakeLlmServer) -> AsyncIterator[OpenAICompatibleLlm]:
    async with OpenAICompatibleLlm(base_url=fake_llm.base_url, api_key="test-key") as client:
        yield client


def _llm_doc(**node: Any) -> dict[str, Any]:
    return ckp({
        "ask": {"type": "llm_action", "prompt": "Summarise ticket {{ticket}}", "next_node": "done", **node},
        "done": end(),
    }, variables={"ticket": {"type": "string", "default": "T-1"}})


def _user_text(request: dict[str, Any]) -> str:
    content = request["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "\n".join(p["text"] for p in content if p["type"] == "text")


@pytest.mark.asyncio
async def test_prompt_is_templated_and_sent_with_the_system_prompt(fake_llm: FakeLlmServer,
                                                                   llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_llm_doc(system_prompt="You are terse. Run {{run_id}}.", model="gpt-4o",
                               temperature=0.2, output_variable="summary"), {"ticket": "T-42"})

    assert out.status == "completed", out.error
    [request] = fake_llm.requests
    assert request["model"] == "gpt-4o" and request["temperature"] == 0.2
    assert request["messages"][0] == {"role": "system", "content": "You are terse. Run run-1."}
    assert request["messages"][1] == {"role": "user", "content": "Summarise ticket T-42"}
    assert out.vars["summary"] == "echo: Summarise ticket T-42"


@pytest.mark.asyncio
async def test_usage_and_cost_are_reported_in_the_event_and_the_outcome(fake_llm: FakeLlmServer,
                                                                        llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_llm_doc(model="gpt-4o"), {"ticket": "T-1"})

    [usage] = h.events.payloads("llm_usage")
    assert usage["model"] == "gpt-4o"
    assert usage["prompt_tokens"] == 3  # the fake counts words: "Summarise ticket T-1"
    assert usage["completion_tokens"] == 4  # "echo: Summarise ticket T-1"
    expected_cost = (3 * 2.5 + 4 * 10.0) / 1_000_000
    assert usage["cost_usd"] == pytest.approx(expected_cost)
    assert out.usage == {"prompt_tokens": 3, "completion_tokens": 4, "cost_usd": pytest.approx(expected_cost),
                         "llm_calls": 1}
    assert h.events.payloads("run_completed")[0]["usage"]["llm_calls"] == 1


@pytest.mark.asyncio
async def test_json_mode_parses_the_answer_into_the_output_variable(fake_llm: FakeLlmServer,
                                                                   llm: OpenAICompatibleLlm) -> None:
    fake_llm.script([{"category": "billing", "urgent": True}])
    h = Harness(llm=llm)

    out = await h.run(_llm_doc(json_mode=True, output_variable="triage"))

    assert out.vars["triage"] == {"category": "billing", "urgent": True}
    assert fake_llm.requests[0]["response_format"] == {"type": "json_object"}


@pytest.mark.asyncio
async def test_output_schema_violation_gets_one_repair_retry(fake_llm: FakeLlmServer,
                                                             llm: OpenAICompatibleLlm) -> None:
    schema = {"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}
    fake_llm.script(['{"score": "high"}', '{"score": 7}'])
    h = Harness(llm=llm)

    out = await h.run(_llm_doc(output_schema=schema, output_variable="rating"))

    assert out.status == "completed", out.error
    assert out.vars["rating"] == {"score": 7}
    assert len(fake_llm.requests) == 2
    repair = fake_llm.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"score": "high"}'}
    assert "score" in repair[-1]["content"]
    assert len(h.events.of("llm_repair")) == 1
    assert out.usage["llm_calls"] == 2


@pytest.mark.asyncio
async def test_output_still_invalid_after_the_repair_fails_the_node(fake_llm: FakeLlmServer,
                                                                    llm: OpenAICompatibleLlm) -> None:
    schema = {"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}
    fake_llm.script(["not json at all", "still not json"])
    h = Harness(llm=llm)

    out = await h.run(_llm_doc(output_schema=schema))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "LlmOutputInvalid"
    assert len(fake_llm.requests) == 2


@pytest.mark.asyncio
async def test_outputs_json_extract_maps_fields_into_variables(fake_llm: FakeLlmServer,
                                                               llm: OpenAICompatibleLlm) -> None:
    fake_llm.script(['```json\n{"customer": {"name": "Ann"}, "lines": [{"sku": "A1"}, {"sku": "B2"}]}\n```'])
    h = Harness(llm=llm)

    out = await h.run(_llm_doc(outputs={"who": "json_extract:customer.name", "second": "json_extract:lines[1].sku",
                                        "raw": "llm_response"}))

    assert out.status == "completed", out.error
    assert out.vars["who"] == "Ann" and out.vars["second"] == "B2"
    assert out.vars["raw"].startswith("```json")


@pytest.mark.asyncio
async def test_attachments_text_json_and_image_are_sent_as_content_parts(
        fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm, tmp_path: Path) -> None:
    h = Harness(llm=llm, workdir=str(tmp_path))
    (run_folder(h) / "notes.txt").write_text("the printer is on fire", encoding="utf-8")
    (run_folder(h) / "shots").mkdir()
    (run_folder(h) / "shots" / "shot.png").write_bytes(PNG_1PX)
    doc = _llm_doc(attachments=[
        {"type": "text", "source": "notes.txt", "description": "notes"},
        {"type": "json", "source": "{{record}}", "description": "record"},
        {"type": "image", "source": "shots/shot.png"},
    ])
    doc["variables_schema"]["record"] = {"type": "object"}

    out = await h.run(doc, {"ticket": "T-9", "record": {"id": 9, "state": "open"}})

    assert out.status == "completed", out.error
    parts = fake_llm.requests[0]["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "text", "text", "image_url"]
    assert parts[0]["text"] == "Summarise ticket T-9"
    assert "the printer is on fire" in parts[1]["text"]
    assert json.loads(parts[2]["text"].split("\n", 1)[1]) == {"id": 9, "state": "open"}
    assert parts[3]["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.asyncio
async def test_fallback_model_is_used_on_the_retry_after_a_server_error(fake_llm: FakeLlmServer,
                                                                        llm: OpenAICompatibleLlm) -> None:
    fake_llm.fail_next(500)
    h = Harness(llm=llm, sleep=RecordingSleep())

    out = await h.run(_llm_doc(model="gpt-4o", fallback_model="gpt-4o-mini", retry={"max_retries": 1,
                                                                                   "delay_ms": 10}))

    assert out.status == "completed", out.error
    assert [r["model"] for r in fake_llm.requests] == ["gpt-4o", "gpt-4o-mini"]
    assert h.events.payloads("step_retry")[0]["next_model"] == "gpt-4o-mini"
    assert [u["model"] for u in h.events.payloads("llm_usage")] == ["gpt-4o-mini"]


@pytest.mark.asyncio
async def test_llm_error_without_retries_fails_the_run(fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm) -> None:
    fake_llm.fail_next(500)
    h = Harness(llm=llm)

    out = await h.run(_llm_doc())

    assert out.status == "failed"
    assert out.error is not None and out.error["status_code"] == 500


@pytest.mark.asyncio
async def test_sequence_step_on_the_llm_channel_completes_a_prompt(fake_llm: FakeLlmServer,
                                                                   llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    doc = ckp({"s": {"type": "sequence", "next_node": "done", "steps": [
        {"action": "llm_prompt", "value": "classify {{ticket}}", "output_variable": "answer"}]},
        "done": end()}, variables={"ticket": {"type": "string"}})

    out = await h.run(doc, {"ticket": "T-3"})

    assert out.status == "completed", out.error
    assert out.vars["answer"]["text"] == "echo: classify T-3"
    assert out.usage["llm_calls"] == 1


@pytest.mark.asyncio
async def test_mock_external_calls_answers_llm_nodes_without_calling_the_endpoint(
        fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    doc = _llm_doc(output_variable="summary")
    doc["global_config"] = {"mock_external_calls": True}

    out = await h.run(doc)

    assert out.status == "completed"
    assert out.vars["summary"] == "[mocked LLM response]"
    assert fake_llm.requests == []
    assert h.events.of("step_mock_applied")


@pytest.mark.asyncio
async def test_test_mode_gives_an_llm_node_its_answer_from_test_data(fake_llm: FakeLlmServer,
                                                                     llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    doc = _llm_doc(json_mode=True, outputs={"category": "json_extract: category"})
    doc["global_config"] = {"test_data_overrides": {"ask": {"category": "billing"}}}

    out = await h.run(doc, mode="test")

    assert out.vars["category"] == "billing"
    assert fake_llm.requests == []


@pytest.mark.asyncio
async def test_production_mode_calls_the_llm_despite_test_data(fake_llm: FakeLlmServer,
                                                               llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    doc = _llm_doc(json_mode=True, outputs={"category": "json_extract: category"})
    doc["global_config"] = {"test_data_overrides": {"ask": {"category": "billing"}}}

    await h.run(doc, mode="production")

    assert len(fake_llm.requests) == 1


# ----------------------------------------------------------------------------- attachments that are not there
@pytest.mark.asyncio
async def test_a_missing_image_attachment_fails_the_node_instead_of_being_dropped(
        fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm, tmp_path: Path) -> None:
    h = Harness(llm=llm, workdir=str(tmp_path))
    missing = run_folder(h).resolve() / "screens" / "portal.png"

    out = await h.run(_llm_doc(attachments=[{"type": "image", "source": "screens/portal.png",
                                             "description": "portal"}]))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "AttachmentNotFound"
    assert "attachment 0 (portal, image)" in out.error["message"] and str(missing) in out.error["message"]
    assert out.error["details"]["path"] == str(missing)
    assert out.error["retryable"] is False
    assert fake_llm.requests == [], "nothing is sent without the attachment"


@pytest.mark.asyncio
@pytest.mark.parametrize("source", ["notes/missing.txt", "{{notes_path}}", "missing-report.csv"])
async def test_a_missing_text_attachment_fails_instead_of_sending_its_path_as_content(
        fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm, tmp_path: Path, source: str) -> None:
    h = Harness(llm=llm)
    doc = _llm_doc(attachments=[{"type": "text", "source": source, "description": "notes"}])
    doc["variables_schema"]["notes_path"] = {"type": "string", "default": "gone/notes.txt"}

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "AttachmentNotFound"
    assert "attachment 0 (notes, text)" in out.error["message"]
    assert fake_llm.requests == []


@pytest.mark.asyncio
async def test_an_attachment_that_renders_to_nothing_fails_the_node(fake_llm: FakeLlmServer,
                                                                   llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    doc = _llm_doc(attachments=[{"type": "csv", "source": "{{export}}", "description": "export"}])
    doc["variables_schema"]["export"] = {"type": "string", "default": ""}

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "AttachmentNotFound"
    assert "source is empty" in out.error["message"]
    assert fake_llm.requests == []


@pytest.mark.asyncio
async def test_an_attachment_that_is_a_folder_is_unreadable(fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm,
                                                            tmp_path: Path) -> None:
    h = Harness(llm=llm, workdir=str(tmp_path))
    (run_folder(h) / "exports").mkdir()

    out = await h.run(_llm_doc(attachments=[{"type": "text", "source": "exports/"}]))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "AttachmentUnreadable"
    assert fake_llm.requests == []


@pytest.mark.asyncio
async def test_text_content_in_a_variable_is_sent_as_the_attachment(fake_llm: FakeLlmServer,
                                                                     llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    doc = _llm_doc(attachments=[{"type": "text", "source": "{{body}}", "description": "mail"},
                                {"type": "text", "source": "{{subject}}", "description": "subject"}])
    doc["variables_schema"]["body"] = {"type": "string", "default": "Hello,\nthe invoice total is 3.5 EUR."}
    doc["variables_schema"]["subject"] = {"type": "string", "default": "Refund for order 12/2024 please"}

    out = await h.run(doc)

    assert out.status == "completed", out.error
    parts = fake_llm.requests[0]["messages"][-1]["content"]
    assert parts[1]["text"] == "[text attachment: mail]\nHello,\nthe invoice total is 3.5 EUR."
    assert parts[2]["text"] == "[text attachment: subject]\nRefund for order 12/2024 please"


@pytest.mark.asyncio
async def test_attachments_are_not_read_when_test_mode_answers_for_the_model(fake_llm: FakeLlmServer,
                                                                             llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_llm_doc(attachments=[{"type": "image", "source": "shots/not-taken.png"}]), mode="test")

    assert out.status == "completed", out.error
    assert fake_llm.requests == []


@pytest.mark.asyncio
@pytest.mark.parametrize("source", ["/etc/hostname", "../../../../etc/hostname", "~/.ssh/id_rsa"])
async def test_an_attachment_outside_the_runs_work_folder_is_refused(fake_llm: FakeLlmServer,
                                                                     llm: OpenAICompatibleLlm, source: str) -> None:
    h = Harness(llm=llm)

    out = await h.run(_llm_doc(attachments=[{"type": "text", "source": source, "description": "secrets"}]))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "PathNotAllowed", out.error
    assert fake_llm.requests == []


@pytest.mark.asyncio
async def test_an_llm_endpoint_that_times_out_is_retried_on_the_fallback_model(fake_llm: FakeLlmServer) -> None:
    def slow_primary(body: dict[str, Any]) -> Any:
        if body["model"] == "gpt-4o":
            time.sleep(4)  # past the client's timeout: the call times out
        return _default_reply(body)

    fake_llm.script(slow_primary)
    async with OpenAICompatibleLlm(base_url=fake_llm.base_url, api_key="test-key", timeout_s=2.0,
                                   max_retries=0) as llm:
        h = Harness(llm=llm, sleep=RecordingSleep())
        out = await h.run(_llm_doc(model="gpt-4o", fallback_model="gpt-4o-mini",
                                   retry={"max_retries": 1, "delay_ms": 10}))

    assert out.status == "completed", out.error
    assert [r["model"] for r in fake_llm.requests] == ["gpt-4o", "gpt-4o-mini"]
    retry = h.events.payloads("step_retry")[0]
    assert retry["next_model"] == "gpt-4o-mini" and "tim" in json.dumps(retry["error"]).lower()
    assert [u["model"] for u in h.events.payloads("llm_usage")] == ["gpt-4o-mini"]
