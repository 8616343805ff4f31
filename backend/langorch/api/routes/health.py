"""/api routes: health and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from langorch import __version__
from langorch.api.deps import Ctx, Session
from langorch.api.schemas.common import HealthRead
from langorch.services import health

router = APIRouter(tags=["health"])


def _worker_info(extras: dict[str, Any]) -> dict[str, Any] | None:
    worker = extras.get("worker")
    if worker is None:
        return None
    describe = getattr(worker, "describe", None)
    info = describe() if callable(describe) else None
    return info if isinstance(info, dict) else {"running": True}


@router.get("/health", response_model=HealthRead,
            responses={503: {"model": HealthRead, "description": "The database does not answer."}})
async def get_health(ctx: Ctx, session: Session) -> Any:
    """Liveness: 200 when the database answers, 503 (same body) when it does not."""
    problem = await health.ping(session)
    body = HealthRead(status="ok" if problem is None else "degraded", version=__version__,
                      db="ok" if problem is None else "error", db_error=problem,
                      worker=_worker_info(ctx.extras))
    if problem is not None:
        return JSONResponse(body.model_dump(), status_code=503)
    return body


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition."}})
async def get_metrics(session: Session) -> Response:
    """Prometheus text: process metrics, counters other subsystems register, and DB gauges."""
    counts = await health.counts(session)
    registry = CollectorRegistry()
    Gauge("langorch_info", "LangOrch build information.", ["version"], registry=registry).labels(__version__).set(1)
    families = {
        "runs": ("langorch_runs", "Runs by status."),
        "run_jobs": ("langorch_run_jobs", "Run queue jobs by status."),
        "approvals": ("langorch_approvals", "Approvals by status."),
        "agents": ("langorch_agents", "Registered agents by status."),
    }
    for key, (name, doc) in families.items():
        gauge = Gauge(name, doc, ["status"], registry=registry)
        for status, value in counts[key].items():
            gauge.labels(status).set(value)
    Gauge("langorch_procedure_versions", "Stored procedure versions.", registry=registry).set(
        counts["procedures"]["versions"])
    Gauge("langorch_procedures", "Distinct procedure ids.", registry=registry).set(counts["procedures"]["procedures"])
    Gauge("langorch_leases_active", "Active resource leases.", registry=registry).set(counts["leases"]["active"])
    Gauge("langorch_queue_oldest_age_seconds", "How long the oldest queued job has waited.",
          registry=registry).set(await health.queue_age(session))
    circuit = Gauge("langorch_agent_circuit_open", "1 while an agent's circuit is open (its calls go to others).",
                    ["agent_id", "channel"], registry=registry)
    for agent_id, channel, state in await health.agent_circuits(session):
        circuit.labels(agent_id, channel).set(1 if state == "open" else 0)
    text = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(content=text, media_type=CONTENT_TYPE_LATEST)
