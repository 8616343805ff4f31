"""Local users: sign-in with a password, the admin created on first start, and the
identity a session cookie stands for."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.auth.identity import Identity
from langorch.auth.passwords import generate_password, hash_password, password_problem, verify_password
from langorch.auth.roles import ROLES, RoleName, is_role
from langorch.store.models import User

log = logging.getLogger("langorch.auth")
ADMIN = "admin"


class UserProblem(ValueError):
    """A user that cannot be created or changed as asked; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def identity_of(user: User, *, via_cookie: bool = False) -> Identity:
    project_roles: dict[str, RoleName] = {str(p): r for p, r in (user.project_roles or {}).items() if is_role(r)}
    return Identity(subject=f"user:{user.user_id}", name=user.username, kind="user",
                    role=user.role if is_role(user.role) else None,  # type: ignore[arg-type]
                    project_roles=project_roles, groups=frozenset(str(g) for g in user.groups or ()),
                    email=user.email, via_cookie=via_cookie, must_change_password=user.password_is_initial)


def _check(field: str, problem: str | None) -> None:
    if problem:
        raise UserProblem(field, problem)


def _check_roles(role: str | None, project_roles: Mapping[str, Any] | None) -> None:
    if role is not None and not is_role(role):
        raise UserProblem("role", f"must be one of {', '.join(ROLES)}")
    for project, value in (project_roles or {}).items():
        if not is_role(value):
            raise UserProblem("project_roles", f"{project}: must be one of {', '.join(ROLES)}")


async def create_user(session: AsyncSession, *, username: str, password: str | None, role: str,
                      display_name: str | None = None, email: str | None = None,
                      groups: Sequence[str] | None = None, project_roles: Mapping[str, str] | None = None,
                      initial: bool = False) -> User:
    username = username.strip()
    if not username or len(username) > 200 or any(c.isspace() for c in username):
        raise UserProblem("username", "must be 1 to 200 characters without spaces")
    if password is not None:
        _check("password", password_problem(password))
    _check_roles(role, project_roles)
    if await session.scalar(select(User.user_id).where(User.username == username)) is not None:
        raise UserProblem("username", f"{username!r} already exists")
    user = User(username=username, password_hash=hash_password(password) if password else None, role=role,
                display_name=display_name, email=email, groups=list(groups or []),
                project_roles=dict(project_roles or {}), password_is_initial=initial)
    session.add(user)
    await session.flush()
    return user


async def update_user(session: AsyncSession, user: User, changes: Mapping[str, Any]) -> User:
    _check_roles(changes.get("role"), changes.get("project_roles"))
    for field in ("display_name", "email", "role", "groups", "project_roles"):
        if field in changes and changes[field] is not None:
            setattr(user, field, changes[field])
    if changes.get("password") is not None:
        _check("password", password_problem(changes["password"]))
        user.password_hash = hash_password(changes["password"])
        user.password_is_initial = False
        user.session_version += 1
    if changes.get("disabled") is not None and bool(changes["disabled"]) != user.disabled:
        user.disabled = bool(changes["disabled"])
        user.session_version += 1
    await session.flush()
    return user


async def authenticate(session: AsyncSession, username: str, password: str) -> User | None:
    user = await session.scalar(select(User).where(User.username == username.strip()))
    ok = verify_password(password, user.password_hash if user is not None else None)
    if user is None or not ok or user.disabled:
        return None
    user.last_login_at = datetime.now(UTC)
    await session.flush()
    return user


async def change_password(session: AsyncSession, user: User, current: str, new: str) -> None:
    if not verify_password(current, user.password_hash):
        raise UserProblem("current_password", "is not the current password")
    _check("new_password", password_problem(new))
    user.password_hash = hash_password(new)
    user.password_is_initial = False
    user.session_version += 1
    await session.flush()


async def sign_in_external(session: AsyncSession, identity: Identity) -> User:
    """The user row of someone who signed in through OIDC: created on first sign-in, its role,
    groups and email refreshed from the token every time. A local user's name is never taken
    over: a clash gets ``name#<subject>``."""
    external_id = identity.subject.removeprefix("token:")
    user = await session.scalar(select(User).where(User.external_id == external_id))
    if user is None:
        username = identity.name
        if await session.scalar(select(User.user_id).where(User.username == username)) is not None:
            username = f"{identity.name}#{external_id.rsplit('|', 1)[-1][:12]}"
        user = User(username=username[:200], external_id=external_id, password_hash=None, role="viewer")
        session.add(user)
    if user.disabled:
        raise UserProblem("username", "is disabled")
    user.role = identity.role or ""
    user.groups = sorted(identity.groups)
    user.email = identity.email
    user.display_name = identity.name
    user.last_login_at = datetime.now(UTC)
    await session.flush()
    return user


async def reset_password(session: AsyncSession, username: str) -> str | None:
    """Give ``username`` a new one-time password (returned) and end their sessions; None if no such user."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        return None
    password = generate_password()
    await update_user(session, user, {"password": password, "disabled": False})
    user.password_is_initial = True
    await session.flush()
    return password


async def ensure_admin(session: AsyncSession, password: str | None) -> str | None:
    """Create the local admin when there are no users at all. Returns the one-time password
    it generated (None when a password was given or users already exist)."""
    if (await session.scalar(select(func.count()).select_from(User))) or 0:
        return None
    generated = None if password else generate_password()
    try:
        await create_user(session, username=ADMIN, password=password or generated, role="admin",
                          display_name="Administrator", initial=generated is not None)
        await session.commit()
    except IntegrityError:  # another replica created it at the same moment
        await session.rollback()
        return None
    return generated


async def initial_admin_pending(session: AsyncSession) -> bool:
    found = await session.scalar(select(User.user_id).where(User.username == ADMIN, User.password_is_initial))
    return found is not None
