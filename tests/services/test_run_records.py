"""What the services write about a run never carries a run's secret-reference nonce: run
rows (variables, outputs, error), the timeline and diagnostics show references as
``<<secret:name>>`` — the runtime already put references where the values were."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.runtime.ports import RunEvent as PortEvent
from langorch.runtime.redaction import reference
from langorch.runtime.runner import RunOutcome
from langorch.services.events import DbEventSink
from langorch.services.hub import Hub
from langorch.services.runs import record_outcome, run_diagnostics
from langorch.store.models import Run, RunEvent, StepIdempotency

NONCE = "0123456789abcdef"
REF = reference("api_key", NONCE)
SHOWN = "<<secret:api_key>>"


def _no_nonce(*values: Any) -> None:
    assert NONCE not in repr(values), values


@pytest.mark.asyncio
async def test_a_runs_row_its_events_and_diagnostics_show_references_without_the_nonce(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        session.add(Run(run_id="r1", procedure_id="p", procedure_version="1", ir_hash="h", thread_id="r1",
                        status="running", input_vars={}))
        session.add(StepIdempotency(key="k1", run_id="r1", result={"echo": f"Bearer {REF}"}))
        await session.commit()
        outcome = RunOutcome("r1", "failed", outputs={"key": REF}, vars={"auth": f"Bearer {REF}"},
                             error={"type": "HTTP500", "message": f"GET /fail?key={REF} answered HTTP 500"})
        await record_outcome(session, "r1", outcome)
        await session.commit()
    sink = DbEventSink(sessions, Hub())
    await sink.emit(PortEvent("r1", "log", {"message": f"using {REF}", "nested": [{"v": REF}]}, ts=0.0))

    async with sessions() as session:
        run = await session.get(Run, "r1")
        assert run is not None
        payload = (await session.scalars(select(RunEvent.payload).where(RunEvent.run_id == "r1"))).one()
        diagnostics = await run_diagnostics(session, "r1")

    assert run.output_vars == {"key": SHOWN} and run.variables == {"auth": f"Bearer {SHOWN}"}
    assert run.error is not None and run.error["message"] == f"GET /fail?key={SHOWN} answered HTTP 500"
    assert run.error_message == f"GET /fail?key={SHOWN} answered HTTP 500"
    assert payload == {"message": f"using {SHOWN}", "nested": [{"v": SHOWN}]}
    assert diagnostics["step_idempotency"][0]["result_preview"] == {"echo": f"Bearer {SHOWN}"}
    _no_nonce(run.output_vars, run.variables, run.error, run.error_message, payload, diagnostics)
