"""One router per resource, all mounted under /api."""

from fastapi import APIRouter

from langorch.api.routes import (
    actions,
    agents,
    approvals,
    health,
    leases,
    procedures,
    projects,
    queue,
    runs,
    secrets,
)

ROUTERS: list[APIRouter] = [
    health.router,
    procedures.router,
    projects.router,
    runs.router,
    approvals.router,
    agents.router,
    actions.router,
    leases.router,
    queue.router,
    secrets.router,
]
