"""/api routes: local users (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select

from langorch.api.deps import Session
from langorch.api.guard import current_identity
from langorch.api.schemas.auth import UserCreate, UserRead, UserUpdate
from langorch.api.schemas.common import error_responses
from langorch.auth import users as service
from langorch.services.errors import Conflict, Invalid, NotFound
from langorch.store.models import User

router = APIRouter(prefix="/users", tags=["users"])


def _invalid(exc: service.UserProblem) -> Exception:
    if "already exists" in exc.message:
        return Conflict(f"{exc.field} {exc.message}", details={"field": exc.field})
    return Invalid(f"{exc.field} {exc.message}", details=[{"field": exc.field, "message": exc.message}])


async def _get(session: Session, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} not found", details={"user_id": user_id})
    return user


@router.get("", response_model=list[UserRead])
async def list_users(session: Session) -> Any:
    return (await session.scalars(select(User).order_by(User.username))).all()


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED, responses=error_responses(409, 422))
async def create_user(body: UserCreate, session: Session) -> Any:
    try:
        user = await service.create_user(session, username=body.username, password=body.password, role=body.role,
                                         display_name=body.display_name, email=body.email, groups=body.groups,
                                         project_roles=body.project_roles)
    except service.UserProblem as exc:
        raise _invalid(exc) from exc
    await session.commit()
    return user


@router.get("/{user_id}", response_model=UserRead, responses=error_responses(404))
async def get_user(user_id: str, session: Session) -> Any:
    return await _get(session, user_id)


@router.put("/{user_id}", response_model=UserRead, responses=error_responses(404, 409, 422))
async def update_user(user_id: str, body: UserUpdate, request: Request, session: Session) -> Any:
    """Change the fields sent; a new password, or disabling, ends the user's sessions."""
    user = await _get(session, user_id)
    if current_identity(request).subject == f"user:{user_id}" and (body.disabled or body.role not in (None, "admin")):
        raise Conflict("you cannot disable yourself or lower your own role")
    try:
        await service.update_user(session, user, body.model_dump(exclude_unset=True))
    except service.UserProblem as exc:
        raise _invalid(exc) from exc
    await session.commit()
    return user


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409))
async def delete_user(user_id: str, request: Request, session: Session) -> Response:
    user = await _get(session, user_id)
    if current_identity(request).subject == f"user:{user_id}":
        raise Conflict("you cannot delete yourself")
    await session.delete(user)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
