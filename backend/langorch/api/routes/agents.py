"""/api routes: agents — registry, health probe and pools."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from langorch.api.deps import Session
from langorch.api.schemas.agents import AgentCreate, AgentHealthRead, AgentPool, AgentRead, AgentUpdate
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.services import agents as service

router = APIRouter(prefix="/agents", tags=["agents"])


@router.post("", response_model=AgentRead, status_code=status.HTTP_201_CREATED, responses=error_responses(409, 422))
async def create_agent(body: AgentCreate, session: Session) -> Any:
    """Register an agent for a channel; an existing agent_id → 409."""
    return await service.create(session, body.model_dump())


@router.get("", response_model=list[AgentRead], responses=error_responses(422))
async def list_agents(
    session: Session,
    response: Response,
    limit: Limit = 100,
    offset: Offset = 0,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    pool_id: Annotated[str | None, Query(max_length=128)] = None,
) -> Any:
    """Agents by channel and name; ``X-Total-Count`` carries the total."""
    rows, total = await service.list_agents(session, channel=channel, status=status_, pool_id=pool_id,
                                            limit=limit, offset=offset)
    set_total(response, total)
    return rows


@router.get("/pools", response_model=list[AgentPool])
async def list_pools(session: Session) -> Any:
    """Agents grouped by pool_id, with the channel they serve and their capacity now."""
    return await service.pools(session)


@router.get("/{agent_id}", response_model=AgentRead, responses=error_responses(404))
async def get_agent(agent_id: str, session: Session) -> Any:
    return await service.get(session, agent_id)


@router.put("/{agent_id}", response_model=AgentRead, responses=error_responses(404, 422))
async def update_agent(agent_id: str, body: AgentUpdate, session: Session) -> Any:
    """Change the fields sent (status, base_url, capabilities, ...)."""
    return await service.update(session, agent_id, body.model_dump(exclude_unset=True))


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_agent(agent_id: str, session: Session) -> Response:
    await service.delete(session, agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{agent_id}/health", response_model=AgentHealthRead, responses=error_responses(404))
async def check_agent_health(agent_id: str, session: Session) -> Any:
    """Probe the agent's ``GET /health`` now and record online/offline."""
    row, health = await service.check_health(session, agent_id)
    return {"ok": health.ok, "status_code": health.status_code, "latency_ms": round(health.latency_ms, 3),
            "error": health.error, "agent": row}
