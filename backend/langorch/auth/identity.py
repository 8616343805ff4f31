"""The caller of a request, however they proved it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from langorch.auth.roles import RoleName, highest

IdentityKind = Literal["user", "api_key", "token", "system", "anonymous"]


@dataclass(frozen=True)
class Identity:
    subject: str
    """Stable id: ``user:<user_id>``, ``key:<key_id>``, ``token:<iss>|<sub>``, ``system``."""
    name: str
    """What the audit log and ``decided_by`` show: a username, a key's name, a token's name claim."""
    kind: IdentityKind
    role: RoleName | None
    """The global role; ``None`` when the identity has project roles only."""
    project_roles: Mapping[str, RoleName] = field(default_factory=dict)
    groups: frozenset[str] = frozenset()
    email: str | None = None
    via_cookie: bool = False
    must_change_password: bool = False

    def role_for(self, project_id: str | None) -> RoleName | None:
        """The role that holds on ``project_id``: the higher of the global and the project's role."""
        if project_id is None:
            return self.role
        return highest([self.role, self.project_roles.get(project_id)])

    def names(self) -> frozenset[str]:
        """What a human_approval node's ``approvers`` list may name this identity by."""
        return frozenset(n.lower() for n in (self.name, self.email) if n)


SYSTEM = Identity(subject="system", name="system", kind="system", role="admin")
LOCAL_ADMIN = Identity(subject="local", name="local", kind="anonymous", role="admin")
"""Every caller when authentication is switched off (LANGORCH_AUTH__ENABLED=false)."""
