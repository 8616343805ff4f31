"""API keys for services and agents: ``lok_<key_id>_<secret>``, stored as a SHA-256, shown once."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.auth.identity import Identity
from langorch.auth.roles import ROLES, RoleName, is_role
from langorch.store.models import ApiKey

PREFIX = "lok_"
_SHAPE = re.compile(r"^lok_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
LAST_USED_EVERY = timedelta(minutes=1)
"""last_used_at is written at most this often per key (not on every request)."""


class KeyProblem(ValueError):
    """A key that cannot be created as asked (unknown role, empty name)."""


@dataclass(frozen=True)
class NewKey:
    row: ApiKey
    key: str
    """The key itself: shown once, never stored."""


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(session: AsyncSession, *, name: str, role: str, project_id: str | None = None,
                     created_by: str | None = None, expires_at: datetime | None = None,
                     groups: list[str] | None = None) -> NewKey:
    name = name.strip()
    if not name or len(name) > 200:
        raise KeyProblem("name must be 1 to 200 characters")
    if not is_role(role):
        raise KeyProblem(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(key_id=key_id, name=name, key_hash=_digest(key), role=role, project_id=project_id or None,
                 created_by=created_by, expires_at=expires_at, groups=list(groups or []))
    session.add(row)
    await session.flush()
    return NewKey(row, key)


async def identify_key(session: AsyncSession, key: str) -> Identity | None:
    """The identity of a valid, unrevoked, unexpired key; None otherwise."""
    shape = _SHAPE.match(key)
    if shape is None:
        return None
    row = await session.get(ApiKey, shape.group(1))
    if row is None or not hmac.compare_digest(row.key_hash, _digest(key)):
        return None
    now = datetime.now(UTC)
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        await session.execute(update(ApiKey).where(ApiKey.key_id == row.key_id).values(last_used_at=now))
        await session.commit()
    role: RoleName | None = row.role if is_role(row.role) else None  # type: ignore[assignment]
    if row.project_id:
        return Identity(subject=f"key:{row.key_id}", name=row.name, kind="api_key", role=None,
                        project_roles={row.project_id: role} if role else {},
                        groups=frozenset(row.groups or ()))
    return Identity(subject=f"key:{row.key_id}", name=row.name, kind="api_key", role=role,
                    groups=frozenset(row.groups or ()))


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc()))).all())


async def revoke_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    row = await session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    await session.flush()
    return row
