"""OpenAICompatibleLlm against a real loopback OpenAI-compatible server; PriceTable maths."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest

from langorch.connectors.llm import DEFAULT_PRICES, OpenAICompatibleLlm, PriceTable, estimate_prompt_tokens
from langorch.runtime.errors import LlmError
from langorch.runtime.ports import LlmRequest
from tests.fakes.llm_server import FakeLlmServer


def _client(server: FakeLlmServer, timeout_s: float = 60.0) -> OpenAICompatibleLlm:
    return OpenAICompatibleLlm(base_url=server.base_url, api_key="test-key", timeout_s=timeout_s)


def _ask(text: str = "hello there", **kwargs: Any) -> LlmRequest:
    return LlmRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **kwargs)


@pytest.mark.asyncio
async def test_complete_returns_text_model_usage_and_duration(fake_llm: FakeLlmServer) -> None:
    async with _client(fake_llm) as llm:
        response = await llm.complete(_ask("summarise the invoice"))

    assert response.text == "echo: summarise the invoice"
    assert response.model == "gpt-4o-mini"
    assert response.prompt_tokens == 3
    assert response.completion_tokens == 4
    assert response.duration_ms > 0
    assert fake_llm.request_headers[0]["authorization"] == "Bearer test-key"


@pytest.mark.asyncio
async def test_complete_passes_temperature_and_max_tokens(fake_llm: FakeLlmServer) -> None:
    async with _client(fake_llm) as llm:
        await llm.complete(_ask(temperature=0.2, max_tokens=50))

    sent = fake_llm.requests[0]
    assert sent["temperature"] == 0.2
    assert sent["max_tokens"] == 50
    assert "response_format" not in sent


@pytest.mark.asyncio
async def test_complete_omits_unset_sampling_options(fake_llm: FakeLlmServer) -> None:
    async with _client(fake_llm) as llm:
        await llm.complete(_ask())

    assert "temperature" not in fake_llm.requests[0]
    assert "max_tokens" not in fake_llm.requests[0]


@pytest.mark.asyncio
async def test_json_mode_asks_for_a_json_object(fake_llm: FakeLlmServer) -> None:
    async with _client(fake_llm) as llm:
        response = await llm.complete(_ask("classify this", json_mode=True))

    assert fake_llm.requests[0]["response_format"] == {"type": "json_object"}
    assert json.loads(response.text) == {"echo": "classify this", "model": "gpt-4o-mini"}


@pytest.mark.asyncio
async def test_json_schema_is_sent_strict_and_named_after_its_title(fake_llm: FakeLlmServer) -> None:
    schema = {
        "title": "Invoice total",
        "type": "object",
        "properties": {"total": {"type": "number"}, "currency": {"type": "string", "enum": ["EUR", "USD"]}},
        "required": ["total", "currency"],
        "additionalProperties": False,
    }
    async with _client(fake_llm) as llm:
        response = await llm.complete(_ask("extract", json_schema=schema, json_mode=True))

    fmt = fake_llm.requests[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"] == {"name": "Invoice_total", "schema": schema, "strict": True}
    assert json.loads(response.text) == {"total": 1.0, "currency": "EUR"}


@pytest.mark.asyncio
async def test_json_schema_accepts_openai_name_and_schema_wrapper(fake_llm: FakeLlmServer) -> None:
    wrapped = {"name": "verdict", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}
    async with _client(fake_llm) as llm:
        response = await llm.complete(_ask(json_schema=wrapped))

    fmt = fake_llm.requests[0]["response_format"]["json_schema"]
    assert fmt["name"] == "verdict"
    assert fmt["schema"] == wrapped["schema"]
    assert json.loads(response.text) == {"ok": True}


@pytest.mark.asyncio
async def test_scripted_replies_are_returned_in_order() -> None:
    with FakeLlmServer(script=["first", {"n": 2}, lambda body: body["model"]]) as server:
        async with _client(server) as llm:
            texts = [(await llm.complete(_ask())).text for _ in range(4)]

    assert texts == ["first", '{"n": 2}', "gpt-4o-mini", "echo: hello there"]


@pytest.mark.asyncio
async def test_image_content_parts_are_sent_as_given(fake_llm: FakeLlmServer) -> None:
    content = [
        {"type": "text", "text": "what is on this receipt"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    async with _client(fake_llm) as llm:
        response = await llm.complete(
            LlmRequest(model="gpt-4o", messages=[{"role": "user", "content": content}])
        )

    assert fake_llm.requests[0]["messages"][0]["content"] == content
    assert response.text == "echo: what is on this receipt"
    assert response.prompt_tokens == 5 + 85


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_and_rate_limits_become_retryable_llm_errors(
    fake_llm: FakeLlmServer, status: int
) -> None:
    fake_llm.fail_next(status)
    async with _client(fake_llm) as llm:
        with pytest.raises(LlmError) as caught:
            await llm.complete(_ask())

    assert caught.value.retryable is True
    assert caught.value.status_code == status
    assert str(status) in caught.value.message
    assert caught.value.__cause__ is not None


@pytest.mark.asyncio
@pytest.mark.parametrize(("status", "error_type"), [(400, "BadRequestError"), (401, "AuthenticationError")])
async def test_client_errors_are_not_retryable(fake_llm: FakeLlmServer, status: int, error_type: str) -> None:
    fake_llm.fail_next(status, message="bad things")
    async with _client(fake_llm) as llm:
        with pytest.raises(LlmError) as caught:
            await llm.complete(_ask())

    error = caught.value
    assert (error.retryable, error.status_code, error.error_type) == (False, status, error_type)
    assert "bad things" in error.message


@pytest.mark.asyncio
async def test_sdk_does_not_retry_by_itself(fake_llm: FakeLlmServer) -> None:
    fake_llm.fail_next(503, times=1)
    async with _client(fake_llm) as llm:
        with pytest.raises(LlmError):
            await llm.complete(_ask())
        second = await llm.complete(_ask())

    assert len(fake_llm.requests) == 2
    assert second.text == "echo: hello there"


@pytest.mark.asyncio
async def test_connection_refused_is_a_retryable_unavailable_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = OpenAICompatibleLlm(base_url=f"http://127.0.0.1:{port}/v1", api_key="x")
    with pytest.raises(LlmError) as caught:
        await llm.complete(_ask())

    assert caught.value.error_type == "LlmUnavailable"
    assert caught.value.retryable is True
    assert caught.value.status_code is None


@pytest.mark.asyncio
async def test_slow_endpoint_times_out_as_retryable_error() -> None:
    with FakeLlmServer(delay_s=1.0) as server:
        async with _client(server, timeout_s=0.2) as llm:
            with pytest.raises(LlmError) as caught:
                await llm.complete(_ask())

    assert caught.value.error_type == "TimeoutException"
    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_injected_httpx_client_is_used_and_left_open(fake_llm: FakeLlmServer) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        async with OpenAICompatibleLlm(base_url=fake_llm.base_url, api_key="x", http_client=http) as llm:
            await llm.complete(_ask())
        assert not http.is_closed

    assert seen == [f"{fake_llm.base_url}/chat/completions"]


@pytest.mark.asyncio
async def test_base_url_and_key_default_from_environment(
    fake_llm: FakeLlmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    async with OpenAICompatibleLlm() as llm:
        await llm.complete(_ask())

    assert fake_llm.request_headers[0]["authorization"] == "Bearer from-env"


@pytest.mark.asyncio
async def test_missing_key_sends_a_dummy_for_local_endpoints(
    fake_llm: FakeLlmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    async with OpenAICompatibleLlm(base_url=fake_llm.base_url) as llm:
        await llm.complete(_ask())

    assert fake_llm.request_headers[0]["authorization"] == "Bearer not-needed"


@pytest.mark.asyncio
async def test_reply_truncated_at_max_tokens_still_returns_text(fake_llm: FakeLlmServer) -> None:
    async with _client(fake_llm) as llm:
        response = await llm.complete(_ask("one two three four five six", max_tokens=3))

    assert response.text == "echo: one two"
    assert response.completion_tokens == 3


def test_price_table_costs_known_models_per_million_tokens() -> None:
    table = PriceTable()
    assert table.cost("gpt-4o", 1_000_000, 0) == pytest.approx(2.50)
    assert table.cost("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert table.cost("gpt-4.1-mini", 500_000, 250_000) == pytest.approx(0.20 + 0.40)
    assert set(DEFAULT_PRICES) >= {
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-3.5-turbo",
    }


def test_price_table_matches_dated_versions_and_provider_prefixes() -> None:
    table = PriceTable()
    assert table.price_for("gpt-4o-2024-08-06") == DEFAULT_PRICES["gpt-4o"]
    assert table.price_for("gpt-4o-mini-2024-07-18") == DEFAULT_PRICES["gpt-4o-mini"]
    assert table.price_for("openai/GPT-4.1") == DEFAULT_PRICES["gpt-4.1"]


def test_unknown_models_use_the_configurable_default_price() -> None:
    assert PriceTable().price_for("llama3.1:8b") == (2.50, 10.00)
    free = PriceTable(default_price=(0.0, 0.0))
    assert free.cost("llama3.1:8b", 10_000, 10_000) == 0.0


def test_price_overrides_replace_entries_and_keep_the_rest() -> None:
    table = PriceTable().with_prices({"my-model": (1.0, 2.0), "gpt-4o": (5.0, 5.0)})
    assert table.cost("my-model", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert table.price_for("gpt-4o") == (5.0, 5.0)
    assert table.price_for("gpt-4") == DEFAULT_PRICES["gpt-4"]


def test_negative_prices_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        PriceTable(prices={"x": (-1.0, 0.0)})


def test_estimate_max_cost_assumes_the_full_completion_budget() -> None:
    table = PriceTable(default_max_completion_tokens=1000)
    assert table.estimate_max_cost("gpt-4", 1000, 500) == pytest.approx((1000 * 30 + 500 * 60) / 1e6)
    assert table.estimate_max_cost("gpt-4", 1000, None) == pytest.approx((1000 * 30 + 1000 * 60) / 1e6)


def test_prompt_token_estimate_counts_text_and_images_generously() -> None:
    text_only = estimate_prompt_tokens([{"role": "user", "content": "x" * 400}])
    with_image = estimate_prompt_tokens(
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "x" * 400}, {"type": "image_url", "image_url": {}}],
            }
        ]
    )
    assert text_only >= 100
    assert with_image - text_only >= 765
