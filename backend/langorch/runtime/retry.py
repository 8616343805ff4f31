"""Retry delays: fixed, linear, fibonacci or exponential backoff, with optional jitter."""

from __future__ import annotations

import random

from langorch.ckp.ir import ErrorHandlerIR, RetryPolicy
from langorch.runtime.errors import StepError


def delay_ms(policy: RetryPolicy, attempt: int, rng: random.Random | None = None) -> float:
    """Delay before retry number ``attempt`` (1-based)."""
    base = policy.delay_ms
    if policy.strategy == "fixed":
        value = base
    elif policy.strategy == "linear":
        value = base * attempt
    elif policy.strategy == "fibonacci":
        a, b = 1, 1
        for _ in range(attempt - 1):
            a, b = b, a + b
        value = base * a
    else:
        value = base * (policy.multiplier ** (attempt - 1))
    value = min(value, policy.max_delay_ms)
    if policy.jitter:
        value = value * (0.5 + (rng or random).random() * 0.5)
    return max(0.0, value)


def handler_matches(handler: ErrorHandlerIR, exc: StepError) -> bool:
    """A handler matches by error type (or wildcard), and by every trigger it sets."""
    if handler.error_type not in (None, "", "*", "any", "Exception", exc.error_type):
        return False
    if handler.text_contains and handler.text_contains.lower() not in exc.message.lower():
        return False
    if handler.error_code and handler.error_code != str(exc.error_code or exc.status_code or ""):
        return False
    return not (handler.http_status_codes and exc.status_code not in handler.http_status_codes)
