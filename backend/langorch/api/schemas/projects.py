"""Projects: a name that groups procedures and runs, and their cost."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from langorch.api.schemas.common import ApiModel


class ProjectCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Unique project name.")
    description: str | None = Field(default=None, max_length=10_000)


class ProjectUpdate(BaseModel):
    """Only the fields sent are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)


class ProjectRead(ApiModel):
    id: str
    name: str
    description: str | None = None
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
