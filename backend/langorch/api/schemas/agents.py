"""Agents: registered workers that serve an action channel (WEB, EMAIL, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, field_validator

from langorch.api.schemas.common import ApiModel

AgentStatus = Literal["online", "offline", "degraded", "disabled"]
CircuitState = Literal["closed", "open", "half_open"]


def _split_capabilities(value: Any) -> Any:
    # The seed system's clients send capabilities as "a, b, c" as well as a list.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


Capabilities = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]],
                         BeforeValidator(_split_capabilities), Field(max_length=1000)]
_URL = r"^https?://\S+$"


def _usable_url(value: str | None) -> str | None:
    """The pattern admits text httpx cannot use (``http://[::1``); refuse it here with a 422."""
    if value is None:
        return value
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"base_url is not a usable URL: {exc}") from exc
    if not url.host:
        raise ValueError("base_url has no host")
    if url.query or url.fragment or "?" in value or "#" in value:
        raise ValueError("base_url must be a base URL without a query (?) or fragment (#): LangOrch appends "
                         "/execute and /health to it")
    if url.userinfo:
        raise ValueError("base_url must not hold credentials (user:password@); give the agent a token instead")
    return value


UsableUrl = AfterValidator(_usable_url)
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class AgentCreate(BaseModel):
    agent_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=_ID,
                                 description="Optional stable id; generated when absent.")
    name: str = Field(min_length=1, max_length=200)
    channel: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_]*$",
                         description="Channel served, stored upper-case (WEB, DESKTOP, EMAIL, API, ...).")
    base_url: Annotated[str, UsableUrl] = Field(max_length=1000, pattern=_URL,
                                                description="Where POST /execute and GET /health answer.")
    capabilities: Capabilities = Field(default_factory=list, description="Actions this agent offers.")
    pool_id: str | None = Field(default=None, min_length=1, max_length=128)
    status: AgentStatus = "online"
    concurrency_limit: int = Field(default=1, ge=1, le=10_000)

    @field_validator("channel")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class AgentUpdate(BaseModel):
    """Only the fields sent are changed. Setting ``circuit_state`` to closed resets the breaker."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    channel: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    base_url: Annotated[str | None, UsableUrl] = Field(default=None, max_length=1000, pattern=_URL)
    capabilities: Capabilities | None = None
    pool_id: str | None = Field(default=None, min_length=1, max_length=128)
    status: AgentStatus | None = None
    concurrency_limit: int | None = Field(default=None, ge=1, le=10_000)
    circuit_state: CircuitState | None = None

    @field_validator("channel")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value is not None else None


class AgentRead(ApiModel):
    agent_id: str
    name: str
    channel: str
    base_url: str
    capabilities: list[str] = Field(default_factory=list)
    pool_id: str | None = None
    status: str
    concurrency_limit: int
    circuit_state: str = Field(description="closed | open | half_open")
    consecutive_failures: int
    circuit_open_until: datetime | None = None
    last_heartbeat_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @field_validator("capabilities", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class AgentHealthRead(BaseModel):
    """The result of probing ``GET {base_url}/health``: reachability and status only (what the
    agent answered is never passed on); the agent row is updated with it."""

    ok: bool
    status_code: int | None = None
    latency_ms: float
    error: str | None = None
    agent: AgentRead


class AgentPool(BaseModel):
    pool_id: str
    channel: str | None = Field(description="The channel the members serve (null if they differ).")
    channels: list[str]
    size: int
    online: int
    concurrency_limit: int = Field(description="Sum of the members' limits.")
    active_leases: int = Field(description="Agent calls in flight: active leases agent:<agent_id> of the members.")
    available: int = Field(description="Calls the pool can take now: the limits of online members whose circuit is "
                                       "not open, less their active leases (never below 0 per member).")
    circuit_open: int = Field(description="Members whose circuit breaker is open now.")
    members: list[AgentRead]


class ChannelActions(BaseModel):
    channel: str
    builtin_actions: list[str] = Field(description="Actions the CKP compiler knows for this channel.")
    agent_actions: list[str] = Field(description="Capabilities registered agents declare for this channel.")
    actions: list[str] = Field(description="Union of both, sorted.")
    agents: list[str] = Field(description="agent_id of the registered agents serving the channel.")


class ActionCatalog(BaseModel):
    """What a CKP step's ``action`` may name."""

    internal_actions: list[str] = Field(description="Run by the orchestrator itself (no agent).")
    llm_actions: list[str]
    side_effect_free: list[str] = Field(description="Actions that only read (dry runs and idempotency use this).")
    channels: list[ChannelActions]
