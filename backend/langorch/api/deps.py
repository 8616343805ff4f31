"""What every request can reach: settings, the session factory and the process-wide context.

Routes depend on these ``Annotated`` aliases; services own transactions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from langorch.settings import Settings


@dataclass
class AppContext:
    """Process-wide objects, created in the app's lifespan."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    extras: dict[str, Any] = field(default_factory=dict)
    """Subsystems started in the lifespan (worker, hub, checkpointer), by name."""


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    session = get_context(request).sessions()
    try:
        yield session
    finally:
        try:
            await session.close()
        except DBAPIError:
            # Closing rolls back, which fails on a connection the database dropped meanwhile;
            # the answer may already be on its way, so this must not raise: the connection
            # is discarded instead of going back to the pool.
            await session.invalidate()


Ctx = Annotated[AppContext, Depends(get_context)]
Session = Annotated[AsyncSession, Depends(get_session)]
