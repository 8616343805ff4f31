"""Projects: create, read, rename, delete, and the cost of their runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.services.errors import Conflict, Invalid, NotFound
from langorch.store.models import Project, Run, utcnow


class UnknownProject(Invalid):
    """422: a request body names a project that does not exist."""

    code = "unknown_project"


class DuplicateProject(Conflict):
    code = "duplicate_project"


async def get(session: AsyncSession, project_id: str, *, field: str | None = None) -> Project:
    """The project, or 404 — or 422 when ``field`` says the id came from a request body."""
    row = await session.get(Project, project_id)
    if row is None:
        if field is not None:
            raise UnknownProject(f"project {project_id!r} does not exist",
                                 details=[{"field": field, "value": project_id}])
        raise NotFound(f"project {project_id!r} not found", details={"project_id": project_id})
    return row


async def _ensure_name_free(session: AsyncSession, name: str, *, other_than: str | None = None) -> None:
    stmt = select(Project.id).where(Project.name == name)
    existing = (await session.execute(stmt)).scalar_one_or_none()
    if existing is not None and existing != other_than:
        raise DuplicateProject(f"a project named {name!r} already exists", details={"id": existing, "name": name})


async def create(session: AsyncSession, *, name: str, description: str | None = None,
                 allowed_hosts: list[str] | None = None) -> Project:
    await _ensure_name_free(session, name)
    row = Project(name=name, description=description, allowed_hosts=list(allowed_hosts or []))
    session.add(row)
    await session.commit()
    return row


async def list_projects(session: AsyncSession, *, search: str | None = None, limit: int = 100,
                        offset: int = 0) -> tuple[list[Project], int]:
    stmt = select(Project)
    if search and search.strip():
        stmt = stmt.where(func.lower(Project.name).contains(search.strip().lower(), autoescape=True))
    total = int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
    rows = (await session.execute(stmt.order_by(Project.name).limit(limit).offset(offset))).scalars()
    return list(rows), total


async def update(session: AsyncSession, project_id: str, changes: dict[str, Any]) -> Project:
    """Apply the fields present in ``changes`` (name, description, allowed_hosts)."""
    row = await get(session, project_id)
    if changes.get("name") is not None and changes["name"] != row.name:
        await _ensure_name_free(session, changes["name"], other_than=row.id)
        row.name = changes["name"]
    if "description" in changes:
        row.description = changes["description"]
    if changes.get("allowed_hosts") is not None:
        row.allowed_hosts = list(changes["allowed_hosts"])
    row.updated_at = utcnow()
    await session.commit()
    return row


async def delete(session: AsyncSession, project_id: str) -> None:
    """Delete a project; its procedures and runs stay, without a project."""
    row = await get(session, project_id)
    await session.delete(row)
    await session.commit()


async def cost_summary(session: AsyncSession, project_id: str) -> dict[str, Any]:
    await get(session, project_id)
    stmt = (select(Run.procedure_id, func.count(), func.coalesce(func.sum(Run.total_prompt_tokens), 0),
                   func.coalesce(func.sum(Run.total_completion_tokens), 0),
                   func.coalesce(func.sum(Run.estimated_cost_usd), 0.0))
            .where(Run.project_id == project_id).group_by(Run.procedure_id).order_by(Run.procedure_id))
    lines: list[dict[str, Any]] = []
    for procedure_id, count, prompt, completion, cost in (await session.execute(stmt)).all():
        lines.append({"procedure_id": procedure_id, "run_count": int(count), "total_prompt_tokens": int(prompt),
                      "total_completion_tokens": int(completion), "total_tokens": int(prompt) + int(completion),
                      "estimated_cost_usd": round(float(cost), 6)})
    totals = {key: sum(int(line[key]) for line in lines)
              for key in ("run_count", "total_prompt_tokens", "total_completion_tokens", "total_tokens")}
    return {"project_id": project_id, **totals,
            "estimated_cost_usd": round(sum(float(line["estimated_cost_usd"]) for line in lines), 6),
            "by_procedure": lines}
