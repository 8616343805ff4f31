"""What an LLM call costs: a price table (USD per million tokens) and how model names match it.

The table comes from the process's settings (``LANGORCH_LLM__PRICES``, default
:data:`DEFAULT_PRICES`) through :class:`~langorch.runtime.context.Services`. A model
the table does not list has an *unknown* cost (``None``): it is never charged a made-up
default price, so a run's cost is the sum of the calls that could be priced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEFAULT_PRICES", "Pricing"]

DEFAULT_PRICES: Mapping[str, tuple[float, float]] = {
    "gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6), "gpt-4": (30.0, 60.0),
    "gpt-4.1": (2.0, 8.0), "gpt-4.1-mini": (0.4, 1.6), "gpt-3.5-turbo": (0.5, 1.5),
}
"""USD per 1M tokens, model → (prompt, completion): OpenAI's list prices of these models."""

_DATED = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")
"""A release suffix: ``gpt-4o-2024-08-06``, ``claude-3-5-sonnet-20241022``, ``gpt-4-0613``."""


@dataclass(frozen=True)
class Pricing:
    """USD per 1M tokens by model: ``table`` maps a model name to (prompt, completion)."""

    table: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_PRICES))

    def price(self, model: str) -> tuple[float, float] | None:
        """The (prompt, completion) price of ``model``, or None when it is not listed.

        Tried in order: the exact name, the name in any case, then the name without a
        release-date suffix (``gpt-4o-2024-08-06`` is priced as ``gpt-4o``).
        """
        found = self.table.get(model)
        if found is not None:
            return found
        folded = {name.casefold(): price for name, price in self.table.items()}
        name = model.strip().casefold()
        found = folded.get(name)
        if found is None and _DATED.search(name):
            found = folded.get(_DATED.sub("", name))
        return found

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD for one call, or None when the model's price is unknown."""
        price = self.price(model)
        if price is None:
            return None
        prompt, completion = price
        return (prompt_tokens * prompt + completion_tokens * completion) / 1_000_000
