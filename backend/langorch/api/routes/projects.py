"""/api routes: projects and their cost summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from langorch.api.deps import Session
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.api.schemas.projects import CostSummary, ProjectCreate, ProjectRead, ProjectUpdate
from langorch.services import projects as service

router = APIRouter(prefix="/projects", tags=["projects"])


@router.post("", response_model=ProjectRead, status_code=status.HTTP_201_CREATED,
             responses=error_responses(409, 422))
async def create_project(body: ProjectCreate, session: Session) -> Any:
    """Create a project; a name already in use → 409."""
    return await service.create(session, name=body.name, description=body.description,
                                allowed_hosts=body.allowed_hosts)


@router.get("", response_model=list[ProjectRead], responses=error_responses(422))
async def list_projects(session: Session, response: Response, limit: Limit = 100, offset: Offset = 0,
                        search: Annotated[str | None, Query(max_length=200)] = None) -> Any:
    """Projects by name; ``X-Total-Count`` carries the total."""
    rows, total = await service.list_projects(session, search=search, limit=limit, offset=offset)
    set_total(response, total)
    return rows


@router.get("/{project_id}", response_model=ProjectRead, responses=error_responses(404))
async def get_project(project_id: str, session: Session) -> Any:
    return await service.get(session, project_id)


@router.put("/{project_id}", response_model=ProjectRead, responses=error_responses(404, 409, 422))
async def update_project(project_id: str, body: ProjectUpdate, session: Session) -> Any:
    """Change the fields sent (name, description)."""
    return await service.update(session, project_id, body.model_dump(exclude_unset=True))


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_project(project_id: str, session: Session) -> Response:
    """Delete a project; its procedures and runs remain, unassigned."""
    await service.delete(session, project_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{project_id}/cost-summary", response_model=CostSummary, responses=error_responses(404))
async def cost_summary(project_id: str, session: Session) -> Any:
    """Tokens and estimated LLM cost of the project's runs, in total and per procedure."""
    return await service.cost_summary(session, project_id)
