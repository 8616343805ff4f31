"""Resource leases: exclusive claims runs hold on shared resources."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from langorch.api.schemas.common import ApiModel


class LeaseRead(ApiModel):
    lease_id: str
    resource_key: str
    run_id: str | None = None
    node_id: str | None = None
    step_id: str | None = None
    acquired_at: datetime
    expires_at: datetime | None = None
    released_at: datetime | None = None
    active: bool = Field(description="Not released and not expired.")
