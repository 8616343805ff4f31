"""/api/secrets: the built-in encrypted secret store. Write-only: no route returns a value."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from langorch.api.deps import Ctx, Session
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.api.schemas.secrets import SecretCreate, SecretRead, SecretUpdate
from langorch.services import secret_store as service

router = APIRouter(prefix="/secrets", tags=["secrets"])


def _actor(request: Request) -> str | None:
    identity = getattr(request.state, "identity", None)
    name = getattr(identity, "name", None)
    return name if isinstance(name, str) else None


@router.get("", response_model=list[SecretRead], responses=error_responses(422))
async def list_secrets(session: Session, response: Response, limit: Limit = 100, offset: Offset = 0,
                       project_id: Annotated[str | None, Query(max_length=64, description=(
                           "Only this project's secrets; empty: only the global ones; absent: all."))] = None) -> Any:
    """Secrets by scope and name (metadata only); ``X-Total-Count`` carries the total."""
    rows, total = await service.list_secrets(session, project_id=project_id, limit=limit, offset=offset)
    set_total(response, total)
    return [SecretRead.of(row) for row in rows]


@router.post("", response_model=SecretRead, status_code=status.HTTP_201_CREATED,
             responses=error_responses(409, 422, 503))
async def create_secret(body: SecretCreate, session: Session, ctx: Ctx, request: Request) -> Any:
    """Store a secret, encrypted; the name taken in that scope → 409, an unknown project → 422."""
    row = await service.create(session, service.keyring_for(ctx.settings.secrets), name=body.name,
                               value=body.value, project_id=body.project_id, description=body.description,
                               created_by=_actor(request))
    return SecretRead.of(row)


@router.get("/{secret_id}", response_model=SecretRead, responses=error_responses(404))
async def get_secret(secret_id: str, session: Session) -> Any:
    return SecretRead.of(await service.get(session, secret_id))


@router.put("/{secret_id}", response_model=SecretRead, responses=error_responses(404, 422, 503))
async def update_secret(secret_id: str, body: SecretUpdate, session: Session, ctx: Ctx) -> Any:
    """A new ``value`` rotates the secret (version + 1; the next read gets it); ``description`` is only text."""
    row = await service.update(session, service.keyring_for(ctx.settings.secrets), secret_id,
                               body.model_dump(exclude_unset=True))
    return SecretRead.of(row)


@router.delete("/{secret_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_secret(secret_id: str, session: Session) -> Response:
    await service.delete(session, secret_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
