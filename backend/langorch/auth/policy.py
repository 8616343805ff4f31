"""The route → role table: the one place that says who may call what.

Every route of the API must appear here: :func:`check_covered` runs when the app is built
and refuses to start with a route the table does not name, so a new route cannot ship
open by accident. ``PUBLIC`` routes need no identity; the others need at least the role
given (on the project of the resource the request names, when the caller's role is a
project role)."""

from __future__ import annotations

from collections.abc import Iterable

from langorch.auth.roles import RoleName

PUBLIC = None

POLICY: dict[tuple[str, str], RoleName | None] = {
    # health, sign-in and the caller's own session
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/auth/status"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("GET", "/api/auth/oidc/login"): PUBLIC,
    ("GET", "/api/auth/oidc/callback"): PUBLIC,
    ("POST", "/api/triggers/webhook/{procedure_id}"): PUBLIC,  # signed: HMAC checked by the route
    ("POST", "/api/auth/logout"): "viewer",
    ("GET", "/api/auth/me"): "viewer",
    ("POST", "/api/auth/password"): "viewer",
    ("GET", "/api/metrics"): "viewer",
    ("GET", "/openapi.json"): "viewer",
    ("GET", "/docs"): "viewer",
    ("GET", "/docs/oauth2-redirect"): "viewer",
    ("GET", "/redoc"): "viewer",
    # reading anything
    ("GET", "/api/actions"): "viewer",
    ("GET", "/api/queue/stats"): "viewer",
    ("GET", "/api/procedures"): "viewer",
    ("GET", "/api/procedures/schema"): "viewer",
    ("GET", "/api/procedures/{procedure_id}"): "viewer",
    ("GET", "/api/procedures/{procedure_id}/versions"): "viewer",
    ("GET", "/api/procedures/{procedure_id}/{version}"): "viewer",
    ("GET", "/api/procedures/{procedure_id}/{version}/graph"): "viewer",
    ("POST", "/api/procedures/{procedure_id}/{version}/explain"): "viewer",
    ("GET", "/api/projects"): "viewer",
    ("GET", "/api/projects/{project_id}"): "viewer",
    ("GET", "/api/projects/{project_id}/cost-summary"): "viewer",
    ("GET", "/api/runs"): "viewer",
    ("GET", "/api/runs/metrics/summary"): "viewer",
    ("GET", "/api/runs/{run_id}"): "viewer",
    ("GET", "/api/runs/{run_id}/events"): "viewer",
    ("GET", "/api/runs/{run_id}/stream"): "viewer",
    ("GET", "/api/runs/{run_id}/artifacts"): "viewer",
    ("GET", "/api/runs/{run_id}/artifacts/{artifact_id}/content"): "viewer",
    ("GET", "/api/runs/{run_id}/diagnostics"): "viewer",
    ("GET", "/api/runs/{run_id}/checkpoints"): "viewer",
    ("GET", "/api/runs/{run_id}/checkpoints/{checkpoint_id}"): "viewer",
    ("GET", "/api/approvals"): "viewer",
    ("GET", "/api/approvals/stream"): "viewer",
    ("GET", "/api/approvals/{approval_id}"): "viewer",
    ("GET", "/api/agents"): "viewer",
    ("GET", "/api/agents/pools"): "viewer",
    ("GET", "/api/alert-rules"): "viewer",
    ("GET", "/api/alert-rules/{rule_id}"): "viewer",
    ("GET", "/api/alert-deliveries"): "viewer",
    ("GET", "/api/alert-channels"): "viewer",
    ("GET", "/api/agents/{agent_id}"): "viewer",
    ("GET", "/api/leases"): "viewer",
    ("GET", "/api/triggers"): "viewer",
    ("GET", "/api/triggers/{trigger_id}"): "viewer",
    ("GET", "/api/triggers/{trigger_id}/next-fires"): "viewer",
    ("GET", "/api/triggers/{trigger_id}/history"): "viewer",
    ("POST", "/api/triggers/preview"): "viewer",
    # deciding approvals (a node may narrow it further: approval_level, approvers, approver_groups)
    ("POST", "/api/approvals/{approval_id}/decision"): "approver",
    # writing procedures; starting runs (production runs need operator: checked in the route)
    ("POST", "/api/procedures/validate"): "author",
    ("POST", "/api/procedures"): "author",
    ("PUT", "/api/procedures/{procedure_id}/{version}"): "author",
    ("PATCH", "/api/procedures/{procedure_id}/{version}/status"): "author",
    ("POST", "/api/procedures/{procedure_id}/{version}/status"): "author",
    ("POST", "/api/runs"): "author",
    ("GET", "/api/secrets"): "author",
    ("GET", "/api/secrets/{secret_id}"): "author",
    # operating: runs, agents, leases, secrets, deleting procedures
    ("DELETE", "/api/procedures/{procedure_id}/{version}"): "operator",
    ("DELETE", "/api/runs/{run_id}"): "operator",
    ("POST", "/api/runs/{run_id}/cancel"): "operator",
    ("POST", "/api/runs/{run_id}/retry"): "operator",
    ("POST", "/api/agents"): "operator",
    ("PUT", "/api/agents/{agent_id}"): "operator",
    ("DELETE", "/api/agents/{agent_id}"): "operator",
    ("POST", "/api/agents/{agent_id}/health"): "operator",
    ("DELETE", "/api/leases/{lease_id}"): "operator",
    ("POST", "/api/alert-rules"): "operator",
    ("PATCH", "/api/alert-rules/{rule_id}"): "operator",
    ("DELETE", "/api/alert-rules/{rule_id}"): "operator",
    ("POST", "/api/alert-rules/{rule_id}/test"): "operator",
    ("POST", "/api/triggers"): "operator",
    ("PUT", "/api/triggers/{trigger_id}"): "operator",
    ("DELETE", "/api/triggers/{trigger_id}"): "operator",
    ("POST", "/api/triggers/{trigger_id}/enable"): "operator",
    ("POST", "/api/triggers/{trigger_id}/disable"): "operator",
    ("POST", "/api/triggers/{trigger_id}/fire"): "operator",
    ("POST", "/api/triggers/{trigger_id}/rotate-secret"): "operator",
    ("POST", "/api/secrets"): "operator",
    ("PUT", "/api/secrets/{secret_id}"): "operator",
    ("DELETE", "/api/secrets/{secret_id}"): "operator",
    # administering
    ("POST", "/api/projects"): "admin",
    ("PUT", "/api/projects/{project_id}"): "admin",
    ("DELETE", "/api/projects/{project_id}"): "admin",
    ("DELETE", "/api/runs/cleanup/history"): "admin",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/users"): "admin",
    ("GET", "/api/users/{user_id}"): "admin",
    ("PUT", "/api/users/{user_id}"): "admin",
    ("DELETE", "/api/users/{user_id}"): "admin",
    ("GET", "/api/keys"): "admin",
    ("POST", "/api/keys"): "admin",
    ("DELETE", "/api/keys/{key_id}"): "admin",
    ("GET", "/api/audit"): "admin",
    ("GET", "/api/audit/export"): "admin",
    ("GET", "/api/audit/verify"): "admin",
}

PRODUCTION_RUN_ROLE: RoleName = "operator"
"""POST /api/runs in production mode (test and dry_run need only author)."""


class UncoveredRoute(RuntimeError):
    """A route the policy table does not name."""


def required_role(method: str, path: str) -> tuple[bool, RoleName | None]:
    """(known, role): role None on a known route means public."""
    key = (method.upper(), path)
    if key in POLICY:
        return True, POLICY[key]
    return False, None


def check_covered(routes: Iterable[tuple[str, str]]) -> None:
    missing = sorted({(m, p) for m, p in routes if (m, p) not in POLICY and m not in ("HEAD", "OPTIONS")})
    if missing:
        raise UncoveredRoute("routes without a role in langorch/auth/policy.py: "
                             + ", ".join(f"{m} {p}" for m, p in missing))
