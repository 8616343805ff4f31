"""LLM prices come from settings; a model without a price has an unknown cost, never a made-up one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from langorch.connectors.llm import OpenAICompatibleLlm
from langorch.runtime.pricing import DEFAULT_PRICES, Pricing
from langorch.settings import Settings
from tests.fakes.llm_server import FakeLlmServer
from tests.runtime.harness import Harness, ckp, end, server_services


@pytest_asyncio.fixture
async def llm(fake_llm: FakeLlmServer) -> AsyncIterator[OpenAICompatibleLlm]:
    async with OpenAICompatibleLlm(base_url=fake_llm.base_url, api_key="test-key") as client:
        yield client


def _ask(model: str, next_node: str, variable: str) -> dict[str, Any]:
    return {"type": "llm_action", "prompt": "Summarise ticket T-1", "model": model, "max_tokens": 10,
            "output_variable": variable, "next_node": next_node}


def _calls(*models: str, **global_config: Any) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for i, model in enumerate(models):
        nodes[f"ask{i}"] = _ask(model, f"ask{i + 1}" if i + 1 < len(models) else "done", f"answer{i}")
    nodes["done"] = end()
    return ckp(nodes, global_config=global_config)


# ----------------------------------------------------------------------------- matching
def test_a_model_is_priced_by_its_exact_name_then_without_its_release_date() -> None:
    pricing = Pricing({"gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6)})
    assert pricing.price("gpt-4o") == (2.5, 10.0)
    assert pricing.price("GPT-4o-Mini") == (0.15, 0.6)
    assert pricing.price("gpt-4o-2024-08-06") == (2.5, 10.0)
    assert pricing.price("gpt-4o-mini-2024-07-18") == (0.15, 0.6)
    assert pricing.price("gpt-4o-mini-realtime") is None  # not a date: another model
    assert pricing.cost("gpt-4o-2024-08-06", 1_000_000, 100_000) == pytest.approx(3.5)


def test_an_unlisted_or_local_model_has_an_unknown_cost() -> None:
    pricing = Pricing()
    assert pricing.cost("llama3:8b", 1000, 1000) is None
    assert pricing.cost("fake-model", 1, 1) is None


def test_the_default_table_is_todays_price_list() -> None:
    assert Pricing().table == DEFAULT_PRICES
    assert Settings().llm.prices == dict(DEFAULT_PRICES)


# ----------------------------------------------------------------------------- settings
def test_langorch_llm_prices_replaces_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGORCH_LLM__PRICES", '{"llama3": [0, 0], "my-gpt": [1.5, 3]}')
    assert Settings().llm.prices == {"llama3": (0.0, 0.0), "my-gpt": (1.5, 3.0)}


def test_a_negative_price_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGORCH_LLM__PRICES", '{"m": [-1, 2]}')
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Settings()


@pytest.mark.asyncio
async def test_the_server_prices_calls_from_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGORCH_LLM__PRICES", '{"local-llm": [0.1, 0.2]}')
    services = await server_services()
    assert services.pricing.cost("local-llm", 1_000_000, 0) == pytest.approx(0.1)
    assert services.pricing.cost("gpt-4o", 1, 1) is None


# ----------------------------------------------------------------------------- runs
@pytest.mark.asyncio
async def test_an_unknown_model_reports_its_cost_as_unknown(fake_llm: FakeLlmServer,
                                                             llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_calls("gpt-4o", "llama3:8b"))

    assert out.status == "completed", out.error
    priced, unpriced = h.events.payloads("llm_usage")
    assert priced["cost_known"] is True and priced["cost_usd"] > 0
    assert unpriced["cost_known"] is False and unpriced["cost_usd"] is None
    assert out.usage["llm_calls"] == 2 and out.usage["unpriced_calls"] == 1
    assert out.usage["cost_usd"] == pytest.approx(priced["cost_usd"]), "an unknown cost is not made up"
    assert out.usage["prompt_tokens"] == priced["prompt_tokens"] + unpriced["prompt_tokens"]
    assert h.events.payloads("run_completed")[0]["usage"]["unpriced_calls"] == 1


@pytest.mark.asyncio
async def test_known_models_leave_no_unpriced_count(fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    out = await h.run(_calls("gpt-4o-2024-08-06"))
    assert out.status == "completed", out.error
    assert "unpriced_calls" not in out.usage
    assert h.events.payloads("llm_usage")[0]["cost_known"] is True


@pytest.mark.asyncio
async def test_a_usd_budget_warns_once_when_a_call_cannot_be_priced_and_lets_it_run(
        fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_calls("llama3", "llama3", "llama3", max_cost_usd=0.000001))

    assert out.status == "completed", out.error
    assert len(fake_llm.requests) == 3
    [warning] = h.events.of("budget_warning")
    assert warning.node_id == "ask0"
    assert warning.payload["reason"] == "cost_unknown" and warning.payload["model"] == "llama3"
    assert warning.payload["limit"] == "max_cost_usd"
    assert h.events.of("budget_exceeded") == []


@pytest.mark.asyncio
async def test_a_token_budget_still_stops_calls_whose_cost_is_unknown(fake_llm: FakeLlmServer,
                                                                      llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_calls("llama3", "llama3", max_cost_usd=1.0, llm_budget={"max_tokens_per_run": 25}))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "BudgetExceeded"
    assert len(fake_llm.requests) == 1
    assert h.events.payloads("budget_exceeded")[0]["limit"] == "max_tokens_per_run"


@pytest.mark.asyncio
async def test_a_usd_budget_still_stops_priced_calls_after_an_unpriced_one(fake_llm: FakeLlmServer,
                                                                          llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_calls("llama3", "gpt-4o", max_cost_usd=0.00001))

    assert out.status == "failed"
    assert [e.payload["reason"] for e in h.events.of("budget_warning")] == ["cost_unknown"]
    assert h.events.payloads("budget_exceeded")[0]["limit"] == "max_cost_usd"
    assert len(fake_llm.requests) == 1
