"""``notify`` operations: where a notification goes and how it is sent.

A notify operation (in a processing node, or a terminate node's actions) names a
``channel`` (templated, compared case-insensitively). It is delivered by the first of:

1. ``webhook`` — the process-wide notifier (``Services.notifier``; the server's
   ``LANGORCH_NOTIFY__WEBHOOK_URL``, signed with ``LANGORCH_NOTIFY__WEBHOOK_SECRET``);
   ``email`` (or ``smtp``) — the server's SMTP server (``Services.mailer``;
   ``LANGORCH_NOTIFY__SMTP_HOST``) to ``recipients``, when one is configured (``smtp``
   needs one; ``email`` without one goes on to the EMAIL agent channel);
2. an **agent channel** — a catalog channel (``email`` → EMAIL, ``web`` → WEB, ...) or the
   node's own ``agent`` (``"channel": "pager"`` on a node with ``"agent": "PAGER"``); with
   no channel, the node's agent. The agent receives the action ``send_notification`` with
   ``{channel, recipients, subject, message, ...}`` (every field of the operation but
   ``action``);
3. the webhook, when one is configured;
4. nothing: the operation fails with ``NotificationUndeliverable``, saying why.

Either way the notification is one step run by :func:`~langorch.runtime.steps.run_step`
(step id ``<operation|action>_<index>``), so it is rendered and redacted like any step,
skipped in dry_run, answered from test data in test mode, retried per the node's policy,
handled by the node's error handlers, and sent once per run even across a crash. A
delivered notification emits ``notification_sent {channel, recipients, subject, via,
agent_channel}`` (never the message body).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langorch.ckp import catalog
from langorch.ckp.ir import Binding, NodeIR, StepIR
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.steps import run_step
from langorch.runtime.templating import render, render_text

__all__ = ["EMAIL_ACTION", "NOTIFY_ACTION", "WEBHOOK_ACTION", "deliver_by_email", "deliver_to_webhook",
           "destination", "send_notification"]

NOTIFY_ACTION = "send_notification"
"""The agent action a notification becomes on an agent channel."""
WEBHOOK_ACTION = "notify_webhook"
"""The internal action that hands a notification to ``Services.notifier``."""
EMAIL_ACTION = "notify_email"
"""The internal action that sends a notification through ``Services.mailer`` (SMTP)."""
_NOT_AGENTS = catalog.ORCHESTRATOR_CHANNELS | catalog.LLM_CHANNELS


def _agent_channel(channel: str, node_agent: str | None) -> str | None:
    """The agent channel ``channel`` names, if any (see the module docstring)."""
    own = (node_agent or "").strip()
    own_is_agent = bool(own) and own.upper() not in _NOT_AGENTS
    if not channel or channel.casefold() == "default":
        return own if own_is_agent else None
    if channel.upper() in catalog.CHANNEL_CATALOG:
        return channel.upper()
    if own_is_agent and channel.casefold() == own.casefold():
        return own
    return None


def destination(channel: str, node_agent: str | None, *, has_webhook: bool, has_mailer: bool = False) -> Binding:
    """Where a notification on ``channel`` goes; raises ``NotificationUndeliverable``."""
    channel = channel.strip()
    webhook = Binding("internal", WEBHOOK_ACTION, channel="webhook", side_effect=True)
    if channel.casefold() in ("email", "smtp") and has_mailer:
        return Binding("internal", EMAIL_ACTION, channel="email", side_effect=True)
    if channel.casefold() == "smtp":
        raise StepError("notification channel 'smtp' needs an SMTP server, and none is configured "
                        "(set LANGORCH_NOTIFY__SMTP_HOST)", error_type="NotificationUndeliverable",
                        retryable=False, details={"channel": channel})
    if channel.casefold() == "webhook":
        if has_webhook:
            return webhook
        raise StepError("notification channel 'webhook' needs a notification webhook, and none is configured "
                        "(set LANGORCH_NOTIFY__WEBHOOK_URL)", error_type="NotificationUndeliverable",
                        retryable=False, details={"channel": channel})
    agent = _agent_channel(channel, node_agent)
    if agent is not None:
        return Binding("agent", NOTIFY_ACTION, channel=agent, side_effect=True)
    if has_webhook:
        return webhook
    what = f"channel {channel!r} names no agent channel" if channel else "the notification names no channel"
    raise StepError(
        f"{what} (one of {', '.join(sorted(catalog.CHANNEL_CATALOG))}, or the node's agent"
        f"{f' {node_agent!r}' if node_agent else ''}) and no notification webhook is configured "
        "(LANGORCH_NOTIFY__WEBHOOK_URL)", error_type="NotificationUndeliverable", retryable=False,
        details={"channel": channel, "node_agent": node_agent})


async def send_notification(op: Mapping[str, Any], step_id: str, node: NodeIR, variables: Mapping[str, Any],
                            ctx: RunContext, *, visit: int) -> Any:
    """Deliver one notify operation (its raw fields) as step ``step_id``; returns the step's result."""
    where = f"node {node.node_id!r} {step_id} (notify)"
    await ctx.load_secrets(op)
    scope = ctx.scope(variables, node)
    channel = render_text(str(op.get("channel") or ""), scope, where=f"{where} field 'channel'")
    binding = destination(channel, node.agent, has_webhook=ctx.services.notifier is not None,
                          has_mailer=ctx.services.mailer is not None)
    params = {key: value for key, value in op.items() if key != "action"}
    step = StepIR(step_id=step_id, action=binding.action, binding=binding, params=params)
    result = await run_step(step, node, variables, ctx, visit=visit)
    if isinstance(result, Mapping) and result.get("dry_run"):
        return result  # skipped: nothing was sent
    recipients = render(op.get("recipients"), scope, where=f"{where} field 'recipients'")
    await ctx.emit("notification_sent", {
        "channel": channel or None,
        "via": "agent" if binding.kind == "agent" else "email" if binding.action == EMAIL_ACTION else "webhook",
        "agent_channel": binding.channel if binding.kind == "agent" else None,
        "recipients": _as_list(recipients),
        "subject": render_text(str(op.get("subject") or ""), scope, where=f"{where} field 'subject'"),
    }, node_id=node.node_id, step_id=step_id)
    return result


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _addresses(value: Any) -> list[str]:
    """E-mail recipients: a list, or one string of addresses separated by commas or semicolons."""
    items = _as_list(value)
    if len(items) == 1 and isinstance(items[0], str):
        items = items[0].replace(";", ",").split(",")
    out = [str(item).strip() for item in items if str(item).strip()]
    bad = [item for item in out if "@" not in item or any(c.isspace() or c in "<>," for c in item)]
    if bad:
        raise StepError(f"not an e-mail address: {', '.join(map(repr, bad[:5]))}", error_type="InvalidRecipient",
                        retryable=False, details={"recipients": bad[:20]})
    return out


async def deliver_by_email(params: Mapping[str, Any], ctx: RunContext, *, node_id: str, step_id: str,
                           timeout_s: float | None, idempotency_key: str | None) -> Any:
    """The ``notify_email`` internal action: ``params`` (rendered) to ``Services.mailer``."""
    mailer = ctx.services.mailer
    if mailer is None:
        raise StepError("no SMTP server is configured (LANGORCH_NOTIFY__SMTP_HOST)",
                        error_type="NotificationUndeliverable", retryable=False)
    recipients = _addresses(params.get("recipients"))
    if not recipients:
        raise StepError(f"node {node_id!r} {step_id}: an e-mail notification needs 'recipients'",
                        error_type="InvalidRecipient", retryable=False)
    message = params.get("message") if params.get("message") is not None else params.get("body") or ""
    text = message if isinstance(message, str) else json.dumps(message, indent=2, default=str)
    text += f"\n\n-- \nLangOrch run {ctx.run_id} of {ctx.ir.procedure_id} (node {node_id})\n"
    async with ctx.limiter.slot():
        return await mailer.send(to=recipients, subject=str(params.get("subject") or ""), text=text,
                                 idempotency_key=idempotency_key, timeout_s=timeout_s)


async def deliver_to_webhook(params: Mapping[str, Any], ctx: RunContext, *, node_id: str, step_id: str,
                             timeout_s: float | None, idempotency_key: str | None = None) -> Any:
    """The ``notify_webhook`` internal action: ``params`` (rendered) to ``Services.notifier``."""
    notifier = ctx.services.notifier
    if notifier is None:
        raise StepError("no notification webhook is configured (LANGORCH_NOTIFY__WEBHOOK_URL)",
                        error_type="NotificationUndeliverable", retryable=False)
    notification = {
        "channel": params.get("channel") or None,
        "recipients": _as_list(params.get("recipients")),
        "subject": params.get("subject") or "",
        "message": params.get("message") if params.get("message") is not None else params.get("body") or "",
        "run_id": ctx.run_id, "procedure_id": ctx.ir.procedure_id, "node_id": node_id, "step_id": step_id,
    }
    async with ctx.limiter.slot():
        return await notifier.send(notification, timeout_s=timeout_s, idempotency_key=idempotency_key)
