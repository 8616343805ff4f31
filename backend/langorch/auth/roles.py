"""Roles, ordered: each one may do everything the ones before it may."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

RoleName = Literal["viewer", "approver", "author", "operator", "admin"]
ROLES: tuple[RoleName, ...] = ("viewer", "approver", "author", "operator", "admin")
"""viewer reads; approver also decides approvals; author also imports, edits and test-runs
procedures; operator also runs them in production and manages agents, runs and secrets;
admin also manages projects, users, keys and the audit log."""

_RANK: dict[str, int] = {name: index for index, name in enumerate(ROLES)}


def is_role(value: object) -> bool:
    return isinstance(value, str) and value in _RANK


def rank(role: str | None) -> int:
    """-1 for no role (or an unknown name), else the role's place in :data:`ROLES`."""
    return _RANK.get(role, -1) if role else -1


def at_least(role: str | None, required: str) -> bool:
    return rank(role) >= rank(required)


def highest(roles: Iterable[str | None]) -> RoleName | None:
    """The highest known role among ``roles`` (unknown names are ignored)."""
    best: RoleName | None = None
    for role in roles:
        if role in _RANK and rank(role) > rank(best):
            best = ROLES[_RANK[role]]
    return best
