"""Approvals: the inbox item and the decision body."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from langorch.api.schemas.common import ApiModel

ApprovalStatus = Literal["pending", "approved", "rejected", "timed_out", "canceled"]


class ApprovalRead(ApiModel):
    approval_id: str
    run_id: str
    node_id: str
    prompt: str
    decision_type: str = Field(description="approve_reject | select_option | provide_input")
    options: list[Any] | None = None
    context_data: dict[str, Any] | None = None
    status: ApprovalStatus
    decision: str | None = Field(default=None, description="approve | reject | the chosen option | timeout")
    decided_by: str | None = None
    comment: str | None = None
    payload: dict[str, Any] | None = Field(default=None, description="Input given with the decision.")
    approval_level: str | None = None
    interrupt_id: str
    created_at: datetime
    decided_at: datetime | None = None
    expires_at: datetime | None = None


class ApprovalDecision(BaseModel):
    """``POST /api/approvals/{approval_id}/decision``: ``decision`` or the seed's ``status``. The decision is
    recorded under the caller's identity (``decided_by``); a ``decided_by`` in the body is ignored."""

    decision: str | None = Field(default=None, max_length=200, description="approve | reject | one of the options")
    status: str | None = Field(default=None, max_length=32, description="approved | rejected (alternative to decision)")
    comment: str | None = Field(default=None, max_length=10_000)
    payload: Any = Field(default=None, description="Input for provide_input gates (stored into the decision variable).")
