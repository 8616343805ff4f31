"""A TTL cache for secret values, with invalidation that reaches every live cache.

Providers that call a remote service (Vault, AWS, Azure, the built-in store's database)
keep what they fetched for ``ttl_s`` seconds, so a run does not pay a round trip per
secret, and a secret rotated on the service's side is read again once its entry is that
old — no restart needed. A rotation the process itself makes (through the built-in store)
calls :func:`invalidate_everywhere`, which drops the matching entries of every cache of
that namespace at once.

Failures are never cached: a secret created after a ``SecretNotFound`` is seen by the
next read.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

__all__ = ["DEFAULT_CACHE_TTL_S", "TtlCache", "invalidate_everywhere"]

DEFAULT_CACHE_TTL_S = 60.0

_LIVE: weakref.WeakSet[TtlCache] = weakref.WeakSet()


class TtlCache:
    """``key → value`` entries that expire ``ttl_s`` seconds after they were loaded.

    ``ttl_s`` 0 disables caching. ``namespace`` groups caches for
    :func:`invalidate_everywhere` (the built-in store's provider uses ``"langorch"``).
    ``clock`` (monotonic seconds) is replaceable for tests. At most ``max_entries`` are
    kept; the oldest go first.
    """

    def __init__(self, ttl_s: float = DEFAULT_CACHE_TTL_S, *, namespace: str = "", max_entries: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_s < 0:
            raise ValueError("ttl_s must be >= 0")
        self.ttl_s = ttl_s
        self.namespace = namespace
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        _LIVE.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value of ``key``, or ``await load()`` (cached when it returns)."""
        if self.ttl_s == 0:
            return await load()
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.ttl_s:
            return entry[1]
        value = await load()
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return value

    def invalidate(self, match: Callable[[Hashable], bool] | None = None) -> int:
        """Drop the entries whose key ``match``-es (all without ``match``); returns how many."""
        doomed = [key for key in self._entries if match is None or match(key)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        self._entries.clear()


def invalidate_everywhere(namespace: str, match: Callable[[Hashable], bool] | None = None) -> int:
    """Drop matching entries from every live cache of ``namespace`` in this process."""
    return sum(cache.invalidate(match) for cache in list(_LIVE) if cache.namespace == namespace)
