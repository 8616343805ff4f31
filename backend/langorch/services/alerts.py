"""Alerts: who hears about a failed run, a breached SLA or a ``notify_on_error`` handler.

An **alert rule** names the events it wants (``run_failed``, ``sla_breached``,
``step_error``), its scope (one procedure, one project's procedures, or every procedure)
and its channels: the server's notification webhook (signed, see connectors/notify.py)
and/or e-mail addresses (the server's SMTP server, connectors/mail.py). A rule may only
name channels the server has configured, so no rule silently does nothing.

The path of an alert, durable at every step:

1. the event writer puts each event of :data:`~langorch.services.events.ALERT_TYPES` into
   the ``alert_events`` outbox in the same transaction as the event itself;
2. :meth:`AlertDispatcher.process_outbox` matches outbox rows against the enabled rules and
   turns each (rule, event, channel) into one ``alert_deliveries`` row (unique, so a row
   processed twice makes no second delivery), then deletes the outbox rows;
3. :meth:`AlertDispatcher.deliver_due` claims due deliveries with a conditional UPDATE (any
   number of processes may run it) and sends them; a failure is retried with backoff
   (2 s doubling, at most 10 min apart) up to ``LANGORCH_NOTIFY__ALERT_MAX_ATTEMPTS``, then
   the delivery is ``failed`` with its last error. A process that dies mid-send leaves a
   claim that runs out, and the delivery is sent again with the same ``Idempotency-Key``
   (webhook) or ``Message-ID`` (e-mail).

Only rules that existed when the event happened are matched: a new rule does not replay history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.runtime.errors import StepError
from langorch.runtime.ports import Mailer, Notifier
from langorch.services.errors import Invalid, NotFound
from langorch.store.models import (
    AlertDelivery,
    AlertEvent,
    AlertRule,
    Procedure,
    Project,
    Run,
    RunEvent,
    new_id,
    utcnow,
)

__all__ = ["ALERT_EVENTS", "AlertDispatcher", "Channels", "create", "delete_rule", "get", "list_deliveries",
           "list_rules", "update_rule"]

log = logging.getLogger(__name__)

ALERT_EVENTS: dict[str, str] = {"run_failed": "run_failed", "sla_breached": "sla_breached",
                                "step_error": "step_error_notification"}
"""A rule's event name → the run event type that raises it."""
_NAME_OF = {event_type: name for name, event_type in ALERT_EVENTS.items()}
CLAIM_S = 120.0
"""How long a claimed delivery is left to its sender before another process may take it over."""
BACKOFF_MAX_S = 600.0


class Channels:
    """Which alert channels this server can deliver to."""

    def __init__(self, notifier: Notifier | None, mailer: Mailer | None) -> None:
        self.notifier = notifier
        self.mailer = mailer

    def check(self, *, webhook: bool, email_to: Sequence[str] | None) -> None:
        """Refuse a rule that names a channel the server has not configured, or none."""
        if not webhook and not email_to:
            raise Invalid("an alert rule needs a channel: webhook true, or e-mail addresses in email_to",
                          details={"loc": ["body", "webhook"]})
        if webhook and self.notifier is None:
            raise Invalid("this server has no notification webhook (set LANGORCH_NOTIFY__WEBHOOK_URL)",
                          details={"loc": ["body", "webhook"]})
        if email_to and self.mailer is None:
            raise Invalid("this server has no SMTP server for e-mail alerts (set LANGORCH_NOTIFY__SMTP_HOST)",
                          details={"loc": ["body", "email_to"]})


# -- rules ---------------------------------------------------------------------------------------

async def get(session: AsyncSession, rule_id: str) -> AlertRule:
    row = await session.get(AlertRule, rule_id)
    if row is None:
        raise NotFound(f"alert rule {rule_id!r} not found", details={"rule_id": rule_id})
    return row


async def _check_scope(session: AsyncSession, project_id: str | None, procedure_id: str | None) -> None:
    if project_id and procedure_id:
        raise Invalid("give project_id or procedure_id, not both (a procedure id names the same procedure in "
                      "every project)", details={"loc": ["body", "procedure_id"]})
    if project_id and await session.get(Project, project_id) is None:
        raise Invalid(f"project {project_id!r} does not exist", details={"loc": ["body", "project_id"]})
    if procedure_id:
        found = await session.scalar(select(func.count()).select_from(Procedure)
                                     .where(Procedure.procedure_id == procedure_id))
        if not found:
            raise Invalid(f"procedure {procedure_id!r} does not exist", details={"loc": ["body", "procedure_id"]})


async def create(session: AsyncSession, fields: Mapping[str, Any], channels: Channels, *,
                 created_by: str | None = None) -> AlertRule:
    """A new rule from ``fields`` (name, events, project_id, procedure_id, webhook, email_to, enabled)."""
    await _check_scope(session, fields.get("project_id"), fields.get("procedure_id"))
    channels.check(webhook=bool(fields.get("webhook")), email_to=fields.get("email_to"))
    row = AlertRule(name=fields["name"], events=list(fields["events"]), project_id=fields.get("project_id"),
                    procedure_id=fields.get("procedure_id"), webhook=bool(fields.get("webhook")),
                    email_to=list(fields.get("email_to") or []) or None, enabled=fields.get("enabled", True),
                    created_by=created_by)
    session.add(row)
    await session.commit()
    return row


async def update_rule(session: AsyncSession, rule_id: str, changes: Mapping[str, Any],
                      channels: Channels) -> AlertRule:
    """Apply the fields present in ``changes`` (``null`` clears project_id, procedure_id, email_to)."""
    row = await get(session, rule_id)
    merged = {"project_id": row.project_id, "procedure_id": row.procedure_id, "webhook": row.webhook,
              "email_to": row.email_to, **changes}
    if "project_id" in changes or "procedure_id" in changes:
        await _check_scope(session, merged["project_id"], merged["procedure_id"])
    channels.check(webhook=bool(merged["webhook"]), email_to=merged["email_to"])
    for name, value in changes.items():
        if name == "email_to":
            value = list(value or []) or None
        elif name in ("name", "events", "webhook", "enabled") and value is None:
            continue
        setattr(row, name, value)
    row.updated_at = utcnow()
    await session.commit()
    return row


async def delete_rule(session: AsyncSession, rule_id: str) -> None:
    """Delete a rule and its delivery history."""
    row = await get(session, rule_id)
    await session.delete(row)
    await session.commit()


async def list_rules(session: AsyncSession, *, project_id: str | None = None, procedure_id: str | None = None,
                     limit: int = 100, offset: int = 0) -> tuple[list[AlertRule], int]:
    stmt = select(AlertRule)
    if project_id:
        stmt = stmt.where(AlertRule.project_id == project_id)
    if procedure_id:
        stmt = stmt.where(AlertRule.procedure_id == procedure_id)
    total = int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
    stmt = stmt.order_by(AlertRule.created_at.desc(), AlertRule.rule_id).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars()), total


async def list_deliveries(session: AsyncSession, *, run_id: str | None = None, rule_id: str | None = None,
                          status: str | None = None, limit: int = 100,
                          offset: int = 0) -> tuple[list[AlertDelivery], int]:
    stmt = select(AlertDelivery)
    if run_id:
        stmt = stmt.where(AlertDelivery.run_id == run_id)
    if rule_id:
        stmt = stmt.where(AlertDelivery.rule_id == rule_id)
    if status:
        stmt = stmt.where(AlertDelivery.status == status)
    total = int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
    stmt = stmt.order_by(AlertDelivery.created_at.desc(), AlertDelivery.delivery_id).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars()), total


# -- delivering ----------------------------------------------------------------------------------

def _applies(rule: AlertRule, run: Any, event_name: str, at: datetime) -> bool:
    if event_name not in (rule.events or []) or not rule.enabled:
        return False
    created = rule.created_at if rule.created_at.tzinfo else rule.created_at.replace(tzinfo=UTC)
    if created > at:
        return False
    if rule.procedure_id:
        return bool(rule.procedure_id == run.procedure_id)
    if rule.project_id:
        return bool(rule.project_id == run.project_id)
    return True


def summary(event_name: str, run: Any, event: Any) -> str:
    """One line saying what happened."""
    payload = event.payload or {}
    what = f"{run.procedure_id} v{run.procedure_version}"
    if event_name == "run_failed":
        error = payload.get("error")
        message = error.get("message") if isinstance(error, Mapping) else error
        return f"Run {run.run_id} of {what} failed" + (f": {message}" if message else "")
    if event_name == "sla_breached":
        took = payload.get("duration_ms")
        return (f"Node {event.node_id} of {what} (run {run.run_id}) breached its SLA of "
                f"{payload.get('max_duration_ms')} ms" + (f": it took {took} ms" if took is not None else ""))
    error = payload.get("error")
    message = error.get("message") if isinstance(error, Mapping) else error
    return (f"Step {event.step_id} of node {event.node_id} in {what} (run {run.run_id}) failed with "
            f"{payload.get('error_type')}, handled by {payload.get('handler_action')}"
            + (f": {message}" if message else ""))


def alert_body(rule: AlertRule, event_name: str, run: Any, event: Any, console_url: str | None) -> dict[str, Any]:
    created = event.created_at if event.created_at.tzinfo else event.created_at.replace(tzinfo=UTC)
    return {
        "type": "alert", "alert": event_name, "summary": summary(event_name, run, event),
        "rule": {"rule_id": rule.rule_id, "name": rule.name},
        "run": {"run_id": run.run_id, "procedure_id": run.procedure_id, "version": run.procedure_version,
                "project_id": run.project_id, "status": run.status,
                "url": f"{console_url.rstrip('/')}/runs/view?id={run.run_id}" if console_url else None},
        "event": {"seq": event.seq, "type": event.type, "node_id": event.node_id, "step_id": event.step_id,
                  "at": created.isoformat(), "payload": event.payload or {}},
    }


def _backoff_s(attempts: int) -> float:
    return float(min(BACKOFF_MAX_S, 2.0 * 2 ** max(attempts - 1, 0)))


class AlertDispatcher:
    """Turns outbox rows into deliveries and sends them (see the module docstring)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], channels: Channels, *, postgres: bool,
                 console_url: str | None = None, max_attempts: int = 8) -> None:
        self.sessions = sessions
        self.channels = channels
        self.postgres = postgres
        self.console_url = console_url
        self.max_attempts = max_attempts

    async def process_outbox(self, batch: int = 200) -> int:
        """Make the deliveries of up to ``batch`` outbox rows; returns how many deliveries were made."""
        made = 0
        async with self.sessions() as session:
            query = select(AlertEvent).order_by(AlertEvent.id).limit(batch)
            if self.postgres:
                query = query.with_for_update(skip_locked=True)
            pending = list((await session.scalars(query)).all())
            if not pending:
                await session.rollback()
                return 0
            rules = list((await session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True)))).all())
            run_ids = {row.run_id for row in pending}
            runs = {r.run_id: r for r in (await session.execute(
                select(Run.run_id, Run.procedure_id, Run.procedure_version, Run.project_id, Run.status)
                .where(Run.run_id.in_(run_ids)))).all()}
            events = {(e.run_id, e.seq): e for e in (await session.scalars(select(RunEvent).where(
                or_(*(and_(RunEvent.run_id == row.run_id, RunEvent.seq == row.seq) for row in pending))))).all()}
            values: list[dict[str, Any]] = []
            for row in pending:
                run, event, name = runs.get(row.run_id), events.get((row.run_id, row.seq)), _NAME_OF.get(row.type)
                if run is None or event is None or name is None:
                    continue
                at = event.created_at if event.created_at.tzinfo else event.created_at.replace(tzinfo=UTC)
                for rule in rules:
                    if not _applies(rule, run, name, at):
                        continue
                    body = alert_body(rule, name, run, event, self.console_url)
                    for channel in (["webhook"] if rule.webhook else []) + (["email"] if rule.email_to else []):
                        payload = {**body, "recipients": list(rule.email_to or [])} if channel == "email" else body
                        values.append({"delivery_id": new_id(), "rule_id": rule.rule_id, "run_id": run.run_id,
                                       "seq": event.seq, "event_type": name, "channel": channel,
                                       "status": "pending", "attempts": 0, "payload": payload,
                                       "next_attempt_at": utcnow(), "created_at": utcnow()})
            if values:
                insert = pg_insert(AlertDelivery) if self.postgres else sqlite_insert(AlertDelivery)
                result = await session.execute(insert.values(values).on_conflict_do_nothing(
                    index_elements=["rule_id", "run_id", "seq", "channel"]).returning(AlertDelivery.delivery_id))
                made = len(result.all())
            await session.execute(delete(AlertEvent).where(AlertEvent.id.in_([row.id for row in pending])))
            await session.commit()
        return made

    async def deliver_due(self, batch: int = 20, now: datetime | None = None) -> list[str]:
        """Send up to ``batch`` due deliveries; returns the ids delivered."""
        now = now or datetime.now(UTC)
        due = or_(and_(AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now),
                  and_(AlertDelivery.status == "sending", AlertDelivery.claimed_until < now))
        async with self.sessions() as session:
            ids = list((await session.scalars(select(AlertDelivery.delivery_id).where(due)
                                              .order_by(AlertDelivery.next_attempt_at).limit(batch))).all())
        delivered: list[str] = []
        for delivery_id in ids:
            async with self.sessions() as session:
                claimed = (await session.execute(
                    update(AlertDelivery).where(AlertDelivery.delivery_id == delivery_id, due)
                    .values(status="sending", claimed_until=now + timedelta(seconds=CLAIM_S),
                            attempts=AlertDelivery.attempts + 1)
                    .returning(AlertDelivery.channel, AlertDelivery.payload, AlertDelivery.attempts,
                               AlertDelivery.run_id))).first()
                await session.commit()
            if claimed is None:
                continue  # another process took it
            # The send may take seconds: no database connection is held across it.
            try:
                await self.send(claimed.channel, claimed.payload, key=f"alert_{delivery_id}")
            except StepError as exc:
                outcome = self._failed(delivery_id, claimed, str(exc)[:2000], exc.retryable)
            else:
                outcome = {"status": "delivered", "delivered_at": utcnow(), "last_error": None}
                delivered.append(delivery_id)
            async with self.sessions() as session:
                await session.execute(update(AlertDelivery).where(AlertDelivery.delivery_id == delivery_id)
                                      .values(claimed_until=None, **outcome))
                await session.commit()
        return delivered

    def _failed(self, delivery_id: str, claimed: Any, message: str, retryable: bool) -> dict[str, Any]:
        """The columns of a failed attempt: pending again after a backoff, or failed for good."""
        if retryable and claimed.attempts < self.max_attempts:
            return {"status": "pending", "last_error": message,
                    "next_attempt_at": utcnow() + timedelta(seconds=_backoff_s(claimed.attempts))}
        log.warning("alert delivery %s (%s, run %s) failed for good after %d attempt(s): %s",
                    delivery_id, claimed.channel, claimed.run_id, claimed.attempts, message)
        return {"status": "failed", "last_error": message}

    async def send(self, channel: str, payload: Mapping[str, Any], *, key: str) -> Any:
        """Send ``payload`` on ``channel`` now. Raises ``StepError``."""
        if channel == "webhook":
            if self.channels.notifier is None:
                raise StepError("no notification webhook is configured (LANGORCH_NOTIFY__WEBHOOK_URL)",
                                error_type="NotificationUndeliverable", retryable=False)
            return await self.channels.notifier.send(payload, idempotency_key=key)
        if self.channels.mailer is None:
            raise StepError("no SMTP server is configured (LANGORCH_NOTIFY__SMTP_HOST)",
                            error_type="NotificationUndeliverable", retryable=False)
        return await self.channels.mailer.send(to=list(payload.get("recipients") or []),
                                               subject=f"[LangOrch] {payload.get('summary', '')}"[:250],
                                               text=email_text(payload), idempotency_key=key)


def email_text(payload: Mapping[str, Any]) -> str:
    run = payload.get("run") or {}
    event = payload.get("event") or {}
    rule = payload.get("rule") or {}
    lines = [str(payload.get("summary", "")), "",
             f"Alert:     {payload.get('alert')}",
             f"Procedure: {run.get('procedure_id')} v{run.get('version')}",
             f"Run:       {run.get('run_id')} ({run.get('status')})"]
    if event.get("node_id"):
        step = f", step {event['step_id']}" if event.get("step_id") else ""
        lines.append(f"Node:      {event.get('node_id')}{step}")
    lines.append(f"At:        {event.get('at')}")
    if run.get("url"):
        lines += ["", f"Open the run: {run['url']}"]
    lines += ["", "--", f"Sent by LangOrch because of the alert rule {rule.get('name')!r} ({rule.get('rule_id')})."]
    return "\n".join(lines) + "\n"
