"""Ports: what the runtime needs from the outside world, as protocols.

Connectors (``langorch.connectors``) and the server provide the implementations;
tests hand in real loopback servers behind the same ports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langorch.ckp.ir import ProcedureIR, SecretRef


class EventSink(Protocol):
    """Receives every timeline event of a run, in order."""

    async def emit(self, event: RunEvent) -> None:
        """Store or forward one event. Must not raise for ordinary I/O trouble."""


@dataclass(frozen=True)
class RunEvent:
    run_id: str
    type: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    node_id: str | None = None
    step_id: str | None = None
    ts: float = 0.0
    """Unix time in seconds."""


@dataclass(frozen=True)
class LlmRequest:
    model: str
    messages: list[dict[str, Any]]
    temperature: float | None = None
    max_tokens: int | None = None
    json_mode: bool = False
    json_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LlmResponse:
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration_ms: float = 0.0


class LlmClient(Protocol):
    async def complete(self, request: LlmRequest) -> LlmResponse:
        """One chat completion. Raises :class:`~langorch.runtime.errors.LlmError`."""


class AgentClient(Protocol):
    async def execute(
        self,
        channel: str,
        action: str,
        params: Mapping[str, Any],
        *,
        run_id: str,
        node_id: str,
        step_id: str,
        timeout_s: float | None = None,
        idempotency_key: str | None = None,
        attempt: int = 1,
    ) -> Any:
        """Run ``action`` on an agent of ``channel``; returns its JSON result.

        ``idempotency_key`` is the same for every delivery of one step execution (retries,
        resumes, crash recoveries) and differs between loop iterations and subflow calls;
        the agent gets it as the ``Idempotency-Key`` header and in the body with ``attempt``,
        so it can perform the action once however often it receives it.

        Raises :class:`~langorch.runtime.errors.AgentError` (with ``status_code`` when the
        agent answered with an HTTP error) or ``StepTimeout``.
        """


class McpClient(Protocol):
    async def call_tool(
        self, server: str, tool: str, arguments: Mapping[str, Any], *, timeout_s: float | None = None
    ) -> Any:
        """Call an MCP tool; returns its structured (or text) result. Raises ``McpError``."""


class Notifier(Protocol):
    """Delivers notifications that no agent channel takes (the process-wide webhook)."""

    async def send(self, notification: Mapping[str, Any], *, timeout_s: float | None = None,
                   idempotency_key: str | None = None) -> Any:
        """Deliver ``{channel, recipients, subject, message, run_id, procedure_id, node_id, step_id}``;
        returns what the receiver answered. Raises ``StepError`` (``StepTimeout``)."""


class Mailer(Protocol):
    """Sends e-mail through the server's SMTP server (notifications on channel ``email``)."""

    async def send(self, *, to: Sequence[str], subject: str, text: str, idempotency_key: str | None = None,
                   timeout_s: float | None = None) -> Any:
        """Send one plain-text message; returns ``{"message_id", "recipients", ...}``. Raises
        ``StepError`` (``StepTimeout``)."""


class SecretsProvider(Protocol):
    async def get(self, ref: SecretRef, *, run_id: str | None = None) -> Any:
        """The secret's value. Raises ``StepError`` when it cannot be read.

        ``run_id``: the run that asks (the built-in store reads the secrets of its project)."""


class StepResultStore(Protocol):
    """Remembers completed side effects so they never run twice."""

    async def get(self, key: str) -> tuple[bool, Any]:
        """``(found, result)`` for an idempotency key."""

    async def put(self, key: str, result: Any) -> None:
        """Record the result of a completed step."""


class ProcedureResolver(Protocol):
    async def resolve(self, procedure_id: str, version: str | None = None) -> ProcedureIR:
        """The compiled procedure. Raises ``ProcedureNotFound``."""
