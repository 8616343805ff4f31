"""/api routes: the action catalog."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from langorch.api.deps import Session
from langorch.api.schemas.agents import ActionCatalog
from langorch.services.catalog import action_catalog

router = APIRouter(tags=["actions"])


@router.get("/actions", response_model=ActionCatalog)
async def get_actions(session: Session) -> Any:
    """Actions by channel: the compiler's catalog plus what registered agents declare."""
    return await action_catalog(session)
