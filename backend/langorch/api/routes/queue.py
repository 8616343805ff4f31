"""/api routes: queue statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from langorch.api.deps import Ctx, Session
from langorch.api.schemas.queue import QueueStats
from langorch.services import queue as service

router = APIRouter(prefix="/queue", tags=["queue"])


@router.get("/stats", response_model=QueueStats)
async def queue_stats(session: Session, ctx: Ctx) -> dict[str, Any]:
    """Jobs by status, the oldest queued job's age, and the workers seen with their last heartbeat."""
    return await service.queue_stats(session, stale_after_s=ctx.settings.worker.stale_after_s)
