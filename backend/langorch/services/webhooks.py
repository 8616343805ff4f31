"""Signed webhook deliveries: which trigger a delivery is for, whether its sender may send
it, whether its signature checks out, and the run it starts.

A delivery is signed with HMAC-SHA256: ``X-LangOrch-Signature: sha256=<hex>`` over the raw
body, or — when ``X-LangOrch-Timestamp`` (unix seconds) is sent — over
``"{timestamp}.{body}"``, and then a timestamp more than the tolerance away from now is
refused (a replayed delivery). The key is any of the trigger's secrets: the one LangOrch
made (and, for 24 hours after a rotation, the previous one), or the secret named by the
CKP's ``webhook_config.authentication.secret_ref`` (or ``webhook_config.secret_ref``), read
through the procedure's own secrets provider. A delivery that fails any check stores
nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.ckp.ir import SecretRef
from langorch.connectors.secrets import select_field, split_key
from langorch.runtime.errors import StepError
from langorch.services import strict_json, trigger_fire, triggers
from langorch.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from langorch.services.runtime_wiring import ServerRuntime, latest_procedure
from langorch.services.secret_keys import KeyRing
from langorch.signing import sign
from langorch.store.models import Procedure, StoredSecret, TriggerRegistration

__all__ = ["BadSignature", "Delivery", "Freshness", "TooManyRuns", "allowed", "check_sources", "deliver",
           "parse_payload", "pick_trigger", "sign", "verify"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-LangOrch-Signature"
TIMESTAMP_HEADER = "X-LangOrch-Timestamp"
BUILTIN_PROVIDERS = ("langorch", "builtin")
RETRY_AFTER_S = 30.0
"""What a 429 tells a sender to wait: runs of the trigger must finish first."""


class BadSignature(Unauthenticated):
    """401: the delivery is not signed with a secret of the trigger (or is too old)."""

    code = "invalid_signature"
    headers = {"WWW-Authenticate": 'HMAC-SHA256 realm="langorch-webhook"'}


class TooManyRuns(RateLimited):
    """429: the trigger's max_concurrent runs are unfinished."""

    code = "too_many_runs"

    def __init__(self, message: str, *, trigger_id: str, retry_after_s: float = RETRY_AFTER_S) -> None:
        super().__init__(message, retry_after=retry_after_s)
        self.details = {**self.details, "trigger_id": trigger_id, "outcome": "refused_concurrency"}


@dataclass(frozen=True)
class Freshness:
    """How a delivery's timestamp is checked."""

    now: float
    """The server's clock, unix seconds."""
    tolerance_s: float = 300.0
    require_timestamp: bool = False


@dataclass(frozen=True)
class Delivery:
    """What the sender sent, as received."""

    body: bytes
    signature: str | None
    timestamp: str | None
    idempotency_key: str | None
    source: str | None
    """The sender's address."""


def verify(secrets: Sequence[str], delivery: Delivery, freshness: Freshness) -> None:
    """Raise BadSignature unless the delivery is signed with one of ``secrets``."""
    if not delivery.signature:
        raise BadSignature(f"the delivery is not signed: send {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256>")
    timestamp = delivery.timestamp
    if timestamp is None and freshness.require_timestamp:
        raise BadSignature(f"this server needs {TIMESTAMP_HEADER} (unix seconds), signed with the body as "
                           "\"{timestamp}.{body}\"")
    if timestamp is not None:
        try:
            sent = int(timestamp.strip())
        except ValueError:
            raise BadSignature(f"{TIMESTAMP_HEADER} is not a whole number of unix seconds") from None
        if abs(freshness.now - sent) > freshness.tolerance_s:
            raise BadSignature(f"{TIMESTAMP_HEADER} is more than {int(freshness.tolerance_s)} s away from the "
                               "server's clock: a replayed or delayed delivery is refused")
        timestamp = str(sent)
    given = delivery.signature.strip()
    given = given[len("sha256="):] if given.lower().startswith("sha256=") else given
    given = given.lower()
    matched = False
    for secret in secrets:
        expected = sign(secret, delivery.body, timestamp)[len("sha256="):]
        matched |= hmac.compare_digest(expected, given)  # no early exit: the same work for every secret
    if not matched:
        raise BadSignature("the signature does not match the trigger's secret")


# -- which trigger, and who may send ------------------------------------------------------------

async def pick_trigger(session: AsyncSession, procedure_id: str, trigger_id: str | None) -> TriggerRegistration:
    """The enabled webhook trigger of ``procedure_id`` a delivery is for: the one named, else
    the only one, else the one the CKP declares."""
    rows = list(await session.scalars(select(TriggerRegistration).where(
        TriggerRegistration.procedure_id == procedure_id, TriggerRegistration.trigger_type == "webhook",
        TriggerRegistration.enabled.is_(True)).order_by(TriggerRegistration.created_at)))
    if trigger_id is not None:
        rows = [r for r in rows if r.id == trigger_id]
    if not rows:
        which = f" with id {trigger_id!r}" if trigger_id else ""
        raise NotFound(f"procedure {procedure_id!r} has no enabled webhook trigger{which}",
                       details={"procedure_id": procedure_id, "trigger_id": trigger_id})
    if len(rows) == 1:
        return rows[0]
    from_ckp = [r for r in rows if r.source == "ckp"]
    if len(from_ckp) == 1:
        return from_ckp[0]
    ids = [r.id for r in rows]
    raise Conflict(f"procedure {procedure_id!r} has {len(rows)} webhook triggers; name one with ?trigger=<id> "
                   f"({', '.join(ids)})", details={"trigger_ids": ids})


def webhook_config(reg: TriggerRegistration) -> Mapping[str, Any]:
    config = (reg.config or {}).get("webhook_config")
    return config if isinstance(config, Mapping) else {}


def check_sources(value: Any, field: str = "config.webhook_config.allowed_sources") -> list[str]:
    """``allowed_sources`` as given, or Invalid (422 naming the field) unless a list of IPs and CIDRs."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"{field}: a list of IP addresses or networks", details=[{"field": field, "message":
                                                                              "a list of IP addresses or networks"}])
    for entry in value:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            message = f"{entry!r} is not an IP address or network (10.0.0.0/8, 203.0.113.7)"
            raise Invalid(f"{field}: {message}", details=[{"field": field, "message": message}]) from None
    return list(value)


def allowed(reg: TriggerRegistration, source: str | None) -> bool:
    """Whether ``source`` is within the trigger's allowed_sources (no list: everyone)."""
    entries = webhook_config(reg).get("allowed_sources")
    if not entries:
        return True
    if not source:
        return False
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return False
    for entry in entries if isinstance(entries, list) else []:
        try:
            if address in ipaddress.ip_network(str(entry).strip(), strict=False):
                return True
        except ValueError:
            log.warning("trigger %s: allowed_sources entry %r is not an IP address or network; ignored", reg.id,
                        entry)
    return False


# -- secrets --------------------------------------------------------------------------------------

def secret_name(reg: TriggerRegistration) -> str | None:
    """The procedure secret the CKP names as the signing key, if any."""
    config = webhook_config(reg)
    auth = config.get("authentication")
    named = auth.get("secret_ref") if isinstance(auth, Mapping) else None
    named = named or config.get("secret_ref")
    return str(named) if named else None


async def named_secret(session: AsyncSession, rt: ServerRuntime, ring: KeyRing, reg: TriggerRegistration,
                       name: str) -> str:
    """The value of the procedure secret ``name`` through the procedure's secrets provider, as
    a run of it would read it (Unavailable when it cannot be read)."""
    row = await latest_procedure(session, reg.procedure_id, reg.version)
    ir = rt.cache.compile(row.id, row.ir_hash, row.ckp_json) if row is not None else None
    ref = next((s for s in ir.secrets if s.name == name), None) if ir is not None else None
    if ref is None:
        raise Unavailable(f"the webhook's secret_ref {name!r} is not declared in the procedure's "
                          "global_config.secrets_config.secret_references", details={"secret_ref": name})
    try:
        if ref.provider.strip().lower() in BUILTIN_PROVIDERS:
            value = await _store_secret(session, ring, ref, row)
        elif rt.runner.services.secrets is not None:
            value = await rt.runner.services.secrets.get(ref)
        else:
            raise Unavailable("this process has no secrets provider", details={"secret_ref": name})
    except StepError as exc:
        raise Unavailable(f"the webhook's secret {name!r} cannot be read: {exc}", details={"secret_ref": name}) \
            from exc
    if not isinstance(value, str) or not value:
        raise Unavailable(f"the webhook's secret {name!r} is not a text value", details={"secret_ref": name})
    return value


async def _store_secret(session: AsyncSession, ring: KeyRing, ref: SecretRef, row: Procedure | None) -> Any:
    """A built-in store secret in the procedure's project, else global (as its runs read it)."""
    name, field = split_key(ref.key)
    scopes = [row.project_id, ""] if row is not None and row.project_id else [""]
    found = list(await session.scalars(select(StoredSecret).where(StoredSecret.name == name,
                                                                  StoredSecret.scope.in_(scopes))))
    stored = next((r for scope in scopes for r in found if r.scope == scope), None)
    if stored is None:
        raise Unavailable(f"no secret named {name!r} in the built-in store", details={"secret_ref": ref.name})
    return select_field(ref, ring.open(stored), field)


# -- the delivery -----------------------------------------------------------------------------------

def parse_payload(body: bytes) -> dict[str, Any]:
    """The JSON object a delivery carries, or Invalid (422)."""
    try:
        payload = strict_json.loads(body)
    except strict_json.JsonRefused as exc:
        top = exc.loc[1] if len(exc.loc) > 1 else None  # the payload's top-level field it is in
        raise Invalid(f"the body is not JSON LangOrch accepts: {exc.message}",
                      details=[{"field": "body" if top is None else f"body.{top}", "message": exc.message,
                                "loc": exc.loc}]) from None
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object", details=[{"field": "body", "message": "not a JSON object"}])
    return payload


async def authenticate(session: AsyncSession, rt: ServerRuntime, ring: KeyRing, reg: TriggerRegistration,
                       delivery: Delivery, freshness: Freshness) -> None:
    """Raise unless the delivery comes from an allowed source and is signed with a secret of ``reg``."""
    if not allowed(reg, delivery.source):
        raise Forbidden(f"deliveries from {delivery.source or 'an unknown address'} are not accepted by this "
                        "webhook (webhook_config.allowed_sources)", details={"source": delivery.source})
    secrets = await triggers.webhook_secrets(session, ring, reg)
    name = secret_name(reg)
    if secrets:
        try:
            verify(secrets, delivery, freshness)
            return
        except BadSignature:
            if name is None:
                raise
    if name is None:
        raise BadSignature("this webhook has no signing secret yet: rotate one (POST /api/triggers/{id}/"
                           "rotate-secret) or name one in webhook_config.authentication.secret_ref")
    verify([await named_secret(session, rt, ring, reg, name)], delivery, freshness)


async def deliver(session: AsyncSession, rt: ServerRuntime, ring: KeyRing, procedure_id: str,
                  trigger_id: str | None, delivery: Delivery,
                  freshness: Freshness) -> tuple[TriggerRegistration, trigger_fire.Fire]:
    """Check a delivery and start its run (or find the one it started before). Every refusal
    before the fire stores nothing; the fire commits."""
    reg = await pick_trigger(session, procedure_id, trigger_id)
    await authenticate(session, rt, ring, reg, delivery, freshness)
    payload = parse_payload(delivery.body)
    result = await trigger_fire.fire(session, rt, reg, payload=payload, triggered_by="webhook",
                                     idempotency_key=delivery.idempotency_key or None)
    if result.outcome == "refused_concurrency":
        raise TooManyRuns(f"trigger {reg.id}: {result.detail}; retry later", trigger_id=reg.id)
    return reg, result
