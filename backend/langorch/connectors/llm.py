"""LLM connector: any OpenAI-compatible chat-completions endpoint, through the ``openai`` SDK.

Errors raised, all :class:`~langorch.runtime.errors.LlmError` re-raised ``from`` the SDK error:

    openai.APIStatusError      → error_type = SDK class name (``RateLimitError``, ...),
                                 ``status_code`` set; retryable for 408, 429 and 5xx
    openai.APITimeoutError     → error_type ``TimeoutException``, retryable
    openai.APIConnectionError  → error_type ``LlmUnavailable``, retryable
    other openai.OpenAIError   → error_type = SDK class name, not retryable
    a refusal / no text        → error_type ``LlmRefusal`` / ``EmptyCompletion``, not retryable

The SDK's own retries are off by default (``max_retries=0``): the runtime's retry policy
decides, so a retried call shows up on the run's timeline.

:class:`PriceTable` turns token counts into USD for budgets and cost reporting.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

import httpx
import openai
from openai import AsyncOpenAI
from opentelemetry.trace import SpanKind

from langorch.runtime import tracing
from langorch.runtime.errors import LlmError
from langorch.runtime.ports import LlmRequest, LlmResponse

__all__ = [
    "DEFAULT_PRICES",
    "OpenAICompatibleLlm",
    "PriceTable",
    "estimate_prompt_tokens",
]

_DUMMY_API_KEY = "not-needed"
"""Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) ignore the key but the SDK wants one."""

_RETRYABLE_STATUS = frozenset({408, 429})

DEFAULT_PRICES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        # model: (USD per 1M prompt tokens, USD per 1M completion tokens)
        "gpt-4o": (2.50, 10.00),
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4": (30.00, 60.00),
        "gpt-4-turbo": (10.00, 30.00),
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
        "gpt-3.5-turbo": (0.50, 1.50),
    }
)


@dataclass(frozen=True)
class PriceTable:
    """USD prices per million tokens, by model, for budgets and cost reports.

    A model is priced by its exact name, else by the longest table entry it extends with
    a ``-`` (``gpt-4o-2024-08-06`` → ``gpt-4o``), else at :attr:`default_price`. A
    provider prefix (``openai/gpt-4o``) is ignored.
    """

    prices: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    """model → (USD per 1M prompt tokens, USD per 1M completion tokens)."""
    default_price: tuple[float, float] = (2.50, 10.00)
    """Price of a model the table does not know. Deliberately not zero, so a budget still
    bounds spending on an unknown paid model; set ``(0.0, 0.0)`` for free local models."""
    default_max_completion_tokens: int = 4096
    """Completion tokens assumed by :meth:`estimate_max_cost` when a call sets no max_tokens."""

    def __post_init__(self) -> None:
        for model, (prompt, completion) in self.prices.items():
            if prompt < 0 or completion < 0:
                raise ValueError(f"price of {model!r} must not be negative")
        # Keep the table immutable like the dataclass around it.
        normalized = {model.strip().lower(): price for model, price in self.prices.items()}
        object.__setattr__(self, "prices", MappingProxyType(normalized))

    def with_prices(self, overrides: Mapping[str, tuple[float, float]]) -> PriceTable:
        """A copy of this table with ``overrides`` added or replacing entries."""
        return PriceTable(
            prices={**self.prices, **overrides},
            default_price=self.default_price,
            default_max_completion_tokens=self.default_max_completion_tokens,
        )

    def price_for(self, model: str) -> tuple[float, float]:
        """(USD per 1M prompt tokens, USD per 1M completion tokens) for ``model``."""
        name = model.rsplit("/", 1)[-1].strip().lower()
        if name in self.prices:
            return self.prices[name]
        matches = [key for key in self.prices if name.startswith(key + "-")]
        if matches:
            return self.prices[max(matches, key=len)]
        return self.default_price

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        """USD cost of one call."""
        prompt_price, completion_price = self.price_for(model)
        return (
            max(prompt_tokens, 0) * prompt_price + max(completion_tokens, 0) * completion_price
        ) / 1_000_000

    def estimate_max_cost(self, model: str, prompt_tokens_estimate: int, max_tokens: int | None) -> float:
        """The most a call can cost: its prompt plus a completion of ``max_tokens``.

        Used before a call to check it fits the run's remaining budget.
        """
        completion = self.default_max_completion_tokens if max_tokens is None else max_tokens
        return self.cost(model, prompt_tokens_estimate, completion)


def estimate_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """A rough, deliberately high count of the tokens ``messages`` will cost.

    About four characters per token for text, four tokens of framing per message, and
    765 tokens per image (a high-detail 512px-tiled image), so budget checks err on the
    side of stopping.
    """
    total = 3
    for message in messages:
        total += 4
        content = message.get("content")
        if isinstance(content, str):
            total += len(content) // 4 + 1
        elif isinstance(content, list):
            for part in content:
                if not isinstance(part, Mapping):
                    continue
                if part.get("type") == "text":
                    total += len(str(part.get("text", ""))) // 4 + 1
                elif part.get("type") in ("image_url", "input_image", "image"):
                    total += 765
    return total


class OpenAICompatibleLlm:
    """:class:`~langorch.runtime.ports.LlmClient` for any OpenAI-compatible endpoint.

    ``base_url`` and ``api_key`` default to ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``;
    with neither key given nor set, a dummy key is sent (local servers accept it).
    ``http_client`` is a seam for proxies, TLS settings or tests; ``client`` replaces the
    SDK client altogether.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 0,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        client: AsyncOpenAI | None = None,
    ) -> None:
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        owns_client = client is None and http_client is None
        if client is None:
            client = AsyncOpenAI(
                base_url=self.base_url,
                api_key=api_key or os.environ.get("OPENAI_API_KEY") or _DUMMY_API_KEY,
                timeout=timeout_s,
                max_retries=max_retries,
                default_headers=dict(default_headers) if default_headers else None,
                # The SDK accepts an httpx.AsyncClient as well as its own httpx2 one;
                # its annotation names only the latter.
                http_client=cast(Any, http_client),
            )
        # An injected http_client or SDK client belongs to the caller, who closes it.
        self._owns_client = owns_client
        self._client = client

    async def aclose(self) -> None:
        """Close the SDK client's connections, unless the caller supplied the client."""
        if self._owns_client:
            await self._client.close()

    async def __aenter__(self) -> OpenAICompatibleLlm:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """One chat completion; raises :class:`~langorch.runtime.errors.LlmError`."""
        kwargs: dict[str, Any] = {"model": request.model, "messages": list(request.messages)}
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        response_format = _response_format(request)
        if response_format is not None:
            kwargs["response_format"] = response_format

        kwargs["extra_headers"] = dict(tracing.inject({}))  # the LLM gateway may join the run's trace
        started = time.perf_counter()
        try:
            with tracing.span(f"llm {request.model}", kind=SpanKind.CLIENT, model=request.model):
                completion = await self._client.chat.completions.create(**kwargs)
        except openai.OpenAIError as exc:
            raise _convert(exc, request.model) from exc
        duration_ms = (time.perf_counter() - started) * 1000

        if not completion.choices:
            raise LlmError(
                f"model {request.model!r} returned no choices", error_type="EmptyCompletion", retryable=False
            )
        choice = completion.choices[0]
        message = choice.message
        if message.content is None:
            if message.refusal:
                raise LlmError(
                    f"model {request.model!r} refused: {message.refusal}",
                    error_type="LlmRefusal",
                    retryable=False,
                )
            raise LlmError(
                f"model {request.model!r} returned no text (finish_reason={choice.finish_reason})",
                error_type="EmptyCompletion",
                retryable=False,
            )
        usage = completion.usage
        return LlmResponse(
            text=message.content,
            model=completion.model or request.model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            duration_ms=duration_ms,
        )


_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]+")


def _response_format(request: LlmRequest) -> dict[str, Any] | None:
    if request.json_schema is not None:
        schema = dict(request.json_schema)
        # Accept both a bare JSON Schema and OpenAI's {"name", "schema"} wrapper.
        if isinstance(schema.get("schema"), Mapping) and "name" in schema:
            name, body = str(schema["name"]), dict(schema["schema"])
        else:
            name, body = str(schema.get("title") or "result"), schema
        name = _SCHEMA_NAME.sub("_", name).strip("_")[:64] or "result"
        return {"type": "json_schema", "json_schema": {"name": name, "schema": body, "strict": True}}
    if request.json_mode:
        return {"type": "json_object"}
    return None


def _convert(exc: openai.OpenAIError, model: str) -> LlmError:
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retryable = status in _RETRYABLE_STATUS or status >= 500
        code = getattr(exc, "code", None)
        return LlmError(
            f"LLM endpoint answered HTTP {status} for model {model!r}: {exc.message}",
            error_type=type(exc).__name__,
            retryable=retryable,
            status_code=status,
            error_code=str(code) if code is not None else None,
        )
    if isinstance(exc, openai.APITimeoutError):
        return LlmError(
            f"LLM call to model {model!r} timed out", error_type="TimeoutException", retryable=True
        )
    if isinstance(exc, openai.APIConnectionError):
        return LlmError(
            f"cannot reach the LLM endpoint for model {model!r}: {exc.message} "
            "(check OPENAI_BASE_URL and that the server is up)",
            error_type="LlmUnavailable",
            retryable=True,
        )
    return LlmError(
        f"LLM call to model {model!r} failed: {exc}", error_type=type(exc).__name__, retryable=False
    )
