"""The audit log as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from langorch.api.schemas.common import ApiModel


class AuditEntryRead(ApiModel):
    seq: int = Field(description="Position in the chain, contiguous from 1.")
    at: datetime
    actor: str = Field(description="A username, an API key's name, a token's name, system or anonymous.")
    actor_kind: str = Field(description="user | api_key | token | system | anonymous")
    role: str | None = Field(default=None, description="The actor's global role when it acted.")
    action: str = Field(description="e.g. procedure.import, run.cancel, approval.decide, auth.login; a route "
                                    "without a name is recorded as '<METHOD> <path template>'.")
    subject_type: str | None = None
    subject_id: str | None = None
    project_id: str | None = None
    request_id: str | None = Field(default=None, description="The X-Request-ID of the request.")
    outcome: int | None = Field(default=None, description="The HTTP status the action answered.")
    details: dict[str, Any] | None = None
    prev_hash: str = Field(description="The hash of entry seq - 1 (64 zeros for entry 1).")
    hash: str = Field(description="sha256(prev_hash ‖ canonical JSON of the entry's fields).")


class AuditVerification(BaseModel):
    ok: bool = Field(description="The chain is intact (and holds every anchor given).")
    checked: int = Field(description="Entries found intact before the first bad one (all of them when ok).")
    first_bad_seq: int | None = Field(default=None, description="The first entry that breaks the chain.")
    problem: str | None = Field(default=None, description="What is wrong with it: edited, inserted, deleted, "
                                                          "truncated.")
    head_seq: int | None = Field(default=None, description="The last intact entry walked.")
    head_hash: str | None = Field(default=None, description="Its hash: keep head_seq:head_hash outside the "
                                                            "database and pass it as an anchor next time.")
