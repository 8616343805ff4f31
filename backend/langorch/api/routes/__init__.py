"""One router per resource, all mounted under /api."""

from fastapi import APIRouter

from langorch.api.routes import (
    actions,
    agents,
    alerts,
    approvals,
    audit,
    auth,
    health,
    keys,
    leases,
    procedures,
    projects,
    queue,
    runs,
    secrets,
    triggers,
    users,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    users.router,
    keys.router,
    procedures.router,
    projects.router,
    runs.router,
    approvals.router,
    agents.router,
    actions.router,
    leases.router,
    alerts.router,
    queue.router,
    audit.router,
    secrets.router,
    webhooks.router,  # before triggers: /triggers/webhook/{procedure_id} is not a trigger id
    triggers.router,
]
