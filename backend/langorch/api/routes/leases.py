"""/api routes: resource leases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from langorch.api.deps import Session
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.api.schemas.leases import LeaseRead
from langorch.services import leases as service
from langorch.store.models import ResourceLease, utcnow

router = APIRouter(prefix="/leases", tags=["leases"])


def _read(row: ResourceLease) -> LeaseRead:
    return LeaseRead(lease_id=row.lease_id, resource_key=row.resource_key, run_id=row.run_id, node_id=row.node_id,
                     step_id=row.step_id, acquired_at=row.acquired_at, expires_at=row.expires_at,
                     released_at=row.released_at, active=service.is_active(row, utcnow()))


@router.get("", response_model=list[LeaseRead], responses=error_responses(422))
async def list_leases(
    session: Session,
    response: Response,
    limit: Limit = 100,
    offset: Offset = 0,
    all_: Annotated[bool, Query(alias="all", description="Include released and expired leases.")] = False,
    resource_key: Annotated[str | None, Query(max_length=400)] = None,
    run_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    """Active leases, newest first (``all=true`` for every lease); ``X-Total-Count`` carries the total."""
    rows, total = await service.list_leases(session, include_inactive=all_, resource_key=resource_key,
                                            run_id=run_id, limit=limit, offset=offset)
    set_total(response, total)
    return [_read(row) for row in rows]


@router.delete("/{lease_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def release_lease(lease_id: str, session: Session) -> Response:
    """Force-release a lease (sets released_at); releasing a released lease is a no-op."""
    await service.release(session, lease_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
