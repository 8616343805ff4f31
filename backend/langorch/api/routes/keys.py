"""/api routes: API keys for services and agents (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from langorch.api.deps import Session
from langorch.api.guard import current_identity
from langorch.api.schemas.auth import KeyCreate, KeyCreated, KeyRead
from langorch.api.schemas.common import error_responses
from langorch.auth import api_keys as service
from langorch.services.errors import Invalid, NotFound

router = APIRouter(prefix="/keys", tags=["keys"])


@router.get("", response_model=list[KeyRead])
async def list_keys(session: Session) -> Any:
    """Every key, newest first; never the key itself (only its id)."""
    return await service.list_keys(session)


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED, responses=error_responses(422))
async def create_key(body: KeyCreate, request: Request, session: Session) -> KeyCreated:
    """A new key, returned in this answer only: store it now."""
    try:
        created = await service.create_key(session, name=body.name, role=body.role, project_id=body.project_id,
                                           created_by=current_identity(request).name, groups=body.groups)
    except service.KeyProblem as exc:
        raise Invalid(str(exc)) from exc
    await session.commit()
    request.state.audit_details = {"key_name": body.name, "role": body.role, "project_id": body.project_id}
    return KeyCreated.model_validate({**KeyRead.model_validate(created.row).model_dump(), "key": created.key})


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def revoke_key(key_id: str, session: Session) -> Response:
    """Revoke a key: it stops working at once (the row stays for the audit trail)."""
    if await service.revoke_key(session, key_id) is None:
        raise NotFound(f"key {key_id!r} not found", details={"key_id": key_id})
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
