"""In-process token buckets: requests per identity, and failed sign-ins per name and address."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """``rate`` tokens per minute, at most ``burst`` saved up, one bucket per key."""

    def __init__(self, per_minute: float, burst: float, *, max_keys: int = 50_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1.0, burst)
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def take(self, key: str, now: float | None = None) -> float:
        """0 when a token was taken; else the seconds until one is available (nothing taken)."""
        now = time.monotonic() if now is None else now
        bucket = self._refilled(key, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate if self.rate > 0 else 60.0

    def wait(self, key: str, now: float | None = None) -> float:
        """Like :meth:`take` without taking: 0 when a token is available."""
        now = time.monotonic() if now is None else now
        bucket = self._refilled(key, now)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate if self.rate > 0 else 60.0

    def _forget_full(self, now: float) -> None:
        for key in [k for k, b in self._buckets.items()
                    if b.tokens + (now - b.at) * self.rate >= self.burst]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
