"""The built-in secret store: write-only secrets (a value goes in, never comes out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from langorch.services.secret_store import MAX_VALUE_BYTES, NAME_PATTERN


class SecretCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="What procedures name in secret_references (with "
                                                        "provider 'langorch'): a letter or _, then up to 127 "
                                                        "letters, digits, _ . -")
    value: str = Field(min_length=1, max_length=MAX_VALUE_BYTES,
                       description="The secret, at most 64 KiB of UTF-8 without NUL. Stored encrypted; no answer "
                                   "ever contains it.")
    project_id: str | None = Field(default=None, max_length=64,
                                   description="The project whose runs may read it; unset: global (every run). "
                                               "A project's secret shadows a global one of the same name.")
    description: str | None = Field(default=None, max_length=10_000)


class SecretUpdate(BaseModel):
    """Only the fields sent are changed; a new ``value`` is a rotation (version + 1)."""

    model_config = ConfigDict(extra="forbid")

    value: str | None = Field(default=None, min_length=1, max_length=MAX_VALUE_BYTES)
    description: str | None = Field(default=None, max_length=10_000)


class SecretRead(BaseModel):
    """A secret's metadata: never its value."""

    secret_id: str
    name: str
    project_id: str | None = Field(description="null: global.")
    description: str | None = None
    version: int = Field(description="1 at creation, + 1 at every new value.")
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None = Field(default=None, description="When a run last read it from the store "
                                                                    "(at most once per cache TTL).")

    @classmethod
    def of(cls, row: Any) -> SecretRead:
        return cls(secret_id=row.secret_id, name=row.name, project_id=row.scope or None,
                   description=row.description, version=row.version, created_by=row.created_by,
                   created_at=row.created_at, updated_at=row.updated_at, last_used_at=row.last_used_at)
