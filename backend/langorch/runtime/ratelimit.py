"""global_config.rate_limiting: a concurrency cap and a requests-per-minute pacer for
external calls (agents, MCP tools, HTTP, LLM)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class RateLimiter:
    def __init__(self, max_concurrent: int | None = None, per_minute: float | None = None) -> None:
        self._sem = asyncio.Semaphore(max_concurrent) if max_concurrent else None
        self._interval = 60.0 / per_minute if per_minute else 0.0
        self._next_at = 0.0
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._interval:
            async with self._lock:
                now = time.monotonic()
                wait = self._next_at - now
                self._next_at = max(now, self._next_at) + self._interval
            if wait > 0:
                await asyncio.sleep(wait)
        if self._sem is None:
            yield
            return
        async with self._sem:
            yield
