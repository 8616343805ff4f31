"""Projects: a name that groups procedures and runs, and their cost."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from langorch.api.schemas.common import ApiModel

_HOST = r"^[A-Za-z0-9_.:\[\]/-]{1,253}$"


def _hosts(value: object) -> object:
    """Entries trimmed, empty ones dropped (before the pattern is checked)."""
    if isinstance(value, list):
        return [v.strip() if isinstance(v, str) else v for v in value if not isinstance(v, str) or v.strip()]
    return value


HostList = Annotated[list[Annotated[str, Field(pattern=_HOST)]], Field(max_length=200)]
AllowedHosts = Annotated[HostList | None, BeforeValidator(_hosts), Field(
    description="Hosts, addresses and networks (erp.internal, 10.20.0.0/16) this project's procedures may reach "
                "although they are loopback, private or link-local — added to the server's "
                "LANGORCH_SANDBOX__ALLOWED_HOSTS for its runs.")]


class ProjectCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Unique project name.")
    description: str | None = Field(default=None, max_length=10_000)
    allowed_hosts: AllowedHosts = None


class ProjectUpdate(BaseModel):
    """Only the fields sent are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    allowed_hosts: AllowedHosts = None


class ProjectRead(ApiModel):
    id: str
    name: str
    description: str | None = None
    allowed_hosts: Annotated[list[str], BeforeValidator(lambda v: v or [])] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class CostLine(BaseModel):
    procedure_id: str
    run_count: int
    total_prompt_tokens: int
    total_completion_tokens: int
    total_tokens: int
    estimated_cost_usd: float


class CostSummary(BaseModel):
    """Token use and estimated LLM cost of a project's runs, in total and per procedure."""

    project_id: str
    run_count: int
    total_prompt_tokens: int
    total_completion_tokens: int
    total_tokens: int
    estimated_cost_usd: float
    by_procedure: list[CostLine]
