"""What every request can reach: settings, the session factory and the process-wide context.

Routes depend on these ``Annotated`` aliases; services own transactions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
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
    async with get_context(request).sessions() as session:
        yield session


Ctx = Annotated[AppContext, Depends(get_context)]
Session = Annotated[AsyncSession, Depends(get_session)]
