"""Short transactions done again when the database connection broke under them.

A PostgreSQL that restarts, fails over or drops idle connections breaks the transactions
in flight with an ``OperationalError`` (or a DBAPI error that invalidated the connection);
the pool then hands out a fresh connection. Work that is safe to repeat — an upsert, a
read, a conditional update — is run again a few times with a growing pause; anything else
(a constraint violation, a bad statement) passes through at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

__all__ = ["again_on_lost_connection", "lost_connection"]

T = TypeVar("T")


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection broke (rather than the statement being wrong)."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


async def again_on_lost_connection(work: Callable[[], Awaitable[T]], *, attempts: int = 3,
                                   first_pause_s: float = 0.05, longest_pause_s: float = 1.0) -> T:
    """``await work()``, again (up to ``attempts`` in all) while it fails on a lost connection."""
    pause = first_pause_s
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except DBAPIError as exc:
            if attempt == attempts or not lost_connection(exc):
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 4, longest_pause_s)
    raise AssertionError("unreachable")
