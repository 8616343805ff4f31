"""Alert rules: a failed run, a breached SLA and a notify_on_error handler reach the signed
webhook and the SMTP server that the rules name, once each, and a failing receiver is
retried until it takes the alert."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.api.app import create_app
from langorch.connectors.mail import SmtpMailer
from langorch.connectors.notify import WebhookNotifier
from langorch.runtime.ports import RunEvent as PortEvent
from langorch.services import alerts
from langorch.settings import NotifySettings, Settings
from langorch.signing import sign
from langorch.store.models import AlertDelivery
from tests.api.conftest import LiveServer, add_run, assert_error, create_procedure
from tests.api.run_support import doc, end, import_procedure, register_agent, start_run, wait_status, worker_settings
from tests.auth_support import bearer, token
from tests.docs_commands import REPO
from tests.fakes.agent_server import FakeAgentServer
from tests.fakes.receivers import SmtpSink, WebhookReceiver

pytestmark = pytest.mark.asyncio
SECRET = "alert-signing-secret"


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def _notify(hook: WebhookReceiver, smtp: SmtpSink) -> NotifySettings:
    return NotifySettings(webhook_url=hook.url, webhook_secret=SecretStr(SECRET), smtp_host="127.0.0.1",
                          smtp_port=smtp.port, smtp_security="none", smtp_from="langorch@ops.test",
                          console_url="https://langorch.ops.test")


@pytest_asyncio.fixture
async def api(db_path: Path, hook: WebhookReceiver, smtp: SmtpSink) -> AsyncIterator[httpx.AsyncClient]:
    settings = worker_settings(db_path).model_copy(update={"notify": _notify(hook, smtp)})
    with LiveServer(create_app(settings)) as live:
        async with httpx.AsyncClient(base_url=live.url, timeout=30, headers=bearer("admin")) as client:
            yield client


def _failing(procedure_id: str) -> dict[str, Any]:
    return doc(procedure_id, {
        "check": {"type": "processing", "next_node": "done", "operations": [
            {"action": "validate_schema", "source": "{{amount}}", "schema": {"type": "integer", "minimum": 10}}]},
        "done": end(),
    }, variables={"amount": {"type": "integer", "default": 3}})


def _slow_and_handled(procedure_id: str) -> dict[str, Any]:
    return doc(procedure_id, {
        "slow": {"type": "sequence", "next_node": "call", "sla": {"max_duration_ms": 1, "on_breach": "warn"},
                 "steps": [{"step_id": "pause", "action": "wait", "duration_ms": 60}]},
        "call": {"type": "sequence", "agent": "API", "next_node": "done",
                 "steps": [{"step_id": "post", "action": "post", "url": "/x"}],
                 "error_handlers": [{"action": "ignore", "notify_on_error": True}]},
        "done": end(),
    })


async def _deliveries(api: httpx.AsyncClient, run_id: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        rows: list[dict[str, Any]] = (await api.get("/api/alert-deliveries", params={"run_id": run_id})).json()
        if len([r for r in rows if r["status"] == "delivered"]) >= count or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def test_a_failed_run_alerts_the_signed_webhook_and_emails_the_rule_recipients(
        api: httpx.AsyncClient, hook: WebhookReceiver, smtp: SmtpSink) -> None:
    await import_procedure(api, _failing("pay_invoice"))
    await import_procedure(api, _failing("other_proc"))
    rule = (await api.post("/api/alert-rules", json={
        "name": "invoice on-call", "events": ["run_failed"], "procedure_id": "pay_invoice", "webhook": True,
        "email_to": ["oncall@ops.test", "lead@ops.test"]})).json()
    await api.post("/api/alert-rules", json={"name": "off", "events": ["run_failed"], "webhook": True,
                                             "enabled": False})
    await api.post("/api/alert-rules", json={"name": "other", "events": ["run_failed"], "webhook": True,
                                             "procedure_id": "other_proc"})

    assert (await api.get("/api/alert-channels")).json() == {"webhook": True, "webhook_signed": True, "email": True}
    run = await start_run(api, "pay_invoice")
    await wait_status(api, run["run_id"], "failed")
    rows = await _deliveries(api, run["run_id"], 2)

    assert sorted((r["channel"], r["status"], r["rule_id"]) for r in rows) == [
        ("email", "delivered", rule["rule_id"]), ("webhook", "delivered", rule["rule_id"])]
    [received] = [r for r in hook.received if r["status"] == 200]
    headers, raw = received["headers"], received["raw"]
    assert headers["x-langorch-signature"] == sign(SECRET, raw, headers["x-langorch-timestamp"])
    assert abs(int(headers["x-langorch-timestamp"]) - time.time()) < 60
    body = hook.bodies()[0]
    assert body["alert"] == "run_failed" and body["rule"]["name"] == "invoice on-call"
    assert body["run"]["run_id"] == run["run_id"] and body["run"]["procedure_id"] == "pay_invoice"
    assert body["run"]["url"] == f"https://langorch.ops.test/runs/view?id={run['run_id']}"
    assert body["summary"].startswith(f"Run {run['run_id']} of pay_invoice v1.0.0 failed: ")
    webhook_delivery = next(r for r in rows if r["channel"] == "webhook")
    assert headers["idempotency-key"] == f"alert_{webhook_delivery['delivery_id']}"
    [(envelope, message)] = smtp.wait_for(1)
    assert sorted(envelope.rcpt_tos) == ["lead@ops.test", "oncall@ops.test"]
    assert message["From"] == "langorch@ops.test"
    assert message["Subject"].startswith(f"[LangOrch] Run {run['run_id']} of pay_invoice v1.0.0 failed")
    assert f"https://langorch.ops.test/runs/view?id={run['run_id']}" in message.get_content()


async def test_a_project_rule_hears_sla_breaches_and_notify_on_error_but_the_run_completes(
        api: httpx.AsyncClient, hook: WebhookReceiver, fake_agent: FakeAgentServer) -> None:
    project = (await api.post("/api/projects", json={"name": "finance"})).json()
    response = await api.post("/api/procedures", json={"ckp_json": _slow_and_handled("close_books"),
                                                       "project_id": project["id"]})
    assert response.status_code in (200, 201), response.text
    await register_agent(api, "API", fake_agent.url)
    fake_agent.fail_next(400, action="post")
    await api.post("/api/alert-rules", json={"name": "finance", "events": ["sla_breached", "step_error"],
                                             "project_id": project["id"], "webhook": True})

    run = await start_run(api, "close_books")
    await wait_status(api, run["run_id"], "completed")
    rows = await _deliveries(api, run["run_id"], 2)

    assert sorted(r["event_type"] for r in rows if r["status"] == "delivered") == ["sla_breached", "step_error"]
    bodies = {b["alert"]: b for b in hook.bodies()}
    assert bodies["sla_breached"]["event"]["node_id"] == "slow"
    assert "breached its SLA of 1" in bodies["sla_breached"]["summary"]
    assert bodies["step_error"]["event"]["step_id"] == "post"
    assert bodies["step_error"]["event"]["payload"]["handler_action"] == "ignore"


async def test_a_rule_names_only_channels_the_server_has(client: httpx.AsyncClient) -> None:
    await create_procedure(client)
    no_hook = await client.post("/api/alert-rules", json={"name": "x", "events": ["run_failed"], "webhook": True})
    no_smtp = await client.post("/api/alert-rules", json={"name": "x", "events": ["run_failed"],
                                                          "email_to": ["a@b.test"]})
    none = await client.post("/api/alert-rules", json={"name": "x", "events": ["run_failed"]})

    assert "LANGORCH_NOTIFY__WEBHOOK_URL" in assert_error(no_hook, 422)["message"]
    assert "LANGORCH_NOTIFY__SMTP_HOST" in assert_error(no_smtp, 422)["message"]
    assert "needs a channel" in assert_error(none, 422)["message"]
    assert (await client.get("/api/alert-rules")).json() == []
    assert (await client.get("/api/alert-channels")).json() == {"webhook": False, "webhook_signed": False,
                                                                "email": False}


@pytest.mark.parametrize("body", [
    {"name": "x", "events": [], "webhook": True},
    {"name": "x", "events": ["run_started"], "webhook": True},
    {"name": "", "events": ["run_failed"], "webhook": True},
    {"name": "x", "events": ["run_failed"], "email_to": ["not an address"]},
    {"name": "x", "events": ["run_failed"], "webhook": "yes please"},
])
async def test_a_malformed_rule_is_refused_with_the_field(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    assert_error(await client.post("/api/alert-rules", json=body), 422)


async def test_unknown_rule_ids_answer_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/alert-rules/nope"), 404)
    assert_error(await client.patch("/api/alert-rules/nope", json={"enabled": False}), 404)
    assert_error(await client.delete("/api/alert-rules/nope"), 404)


# -- the dispatcher, on SQLite and PostgreSQL -----------------------------------------------------

@pytest_asyncio.fixture
async def notifier(hook: WebhookReceiver) -> AsyncIterator[WebhookNotifier]:
    async with WebhookNotifier(hook.url, secret=SECRET) as n:
        yield n


async def _failed_run(app: FastAPI, sessions: async_sessionmaker[AsyncSession], procedure_id: str) -> str:
    run = await add_run(sessions, procedure_id, status="failed")
    sink = app.state.ctx.extras["runtime"].sink
    await sink.emit(PortEvent(run.run_id, "run_failed", {"error": {"message": "boom"}, "node_id": None}))
    await sink.flush()
    return run.run_id


async def test_a_receiver_answering_500_is_retried_with_backoff_until_it_takes_the_alert(
        app: FastAPI, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
        hook: WebhookReceiver, notifier: WebhookNotifier) -> None:
    await create_procedure(client)
    channels = alerts.Channels(notifier, None)
    async with sessions() as session:
        rule = await alerts.create(session, {"name": "r", "events": ["run_failed"], "procedure_id": "test_proc",
                                             "webhook": True}, channels)
    dispatcher = alerts.AlertDispatcher(sessions, channels, postgres=settings.db.is_postgres, max_attempts=5)
    run_id = await _failed_run(app, sessions, "test_proc")
    hook.statuses = [500, 503]

    assert await dispatcher.process_outbox() == 1
    assert await dispatcher.process_outbox() == 0  # the outbox row is gone: no second delivery
    assert await dispatcher.deliver_due() == []
    assert await dispatcher.deliver_due() == []  # not due yet: backoff
    soon = datetime.now(UTC) + timedelta(seconds=3)
    assert await dispatcher.deliver_due(now=soon) == []
    later = datetime.now(UTC) + timedelta(seconds=10)
    [delivered] = await dispatcher.deliver_due(now=later)

    async with sessions() as session:
        row = await session.get(AlertDelivery, delivered)
        assert row is not None
        assert (row.status, row.attempts, row.rule_id, row.run_id) == ("delivered", 3, rule.rule_id, run_id)
        assert row.last_error is None
    keys = {r["headers"]["idempotency-key"] for r in hook.received}
    assert [r["status"] for r in hook.received] == [500, 503, 200] and keys == {f"alert_{delivered}"}


async def test_a_receiver_refusing_with_400_fails_the_delivery_with_its_answer(
        app: FastAPI, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
        hook: WebhookReceiver, notifier: WebhookNotifier) -> None:
    await create_procedure(client)
    channels = alerts.Channels(notifier, None)
    async with sessions() as session:
        await alerts.create(session, {"name": "r", "events": ["run_failed"], "webhook": True}, channels)
    dispatcher = alerts.AlertDispatcher(sessions, channels, postgres=settings.db.is_postgres)
    run_id = await _failed_run(app, sessions, "test_proc")
    hook.statuses = [400]

    await dispatcher.process_outbox()
    assert await dispatcher.deliver_due() == []

    rows = (await client.get("/api/alert-deliveries", params={"run_id": run_id})).json()
    assert [(r["status"], r["attempts"]) for r in rows] == [("failed", 1)]
    assert "HTTP 400" in rows[0]["last_error"]


async def test_an_email_alert_names_its_rule_and_carries_a_stable_message_id(
        app: FastAPI, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
        smtp: SmtpSink) -> None:
    await create_procedure(client)
    mailer = SmtpMailer("127.0.0.1", port=smtp.port, security="none", sender="alerts@ops.test")
    channels = alerts.Channels(None, mailer)
    async with sessions() as session:
        await alerts.create(session, {"name": "mail ops", "events": ["run_failed"],
                                      "email_to": ["ops@ops.test"]}, channels)
    dispatcher = alerts.AlertDispatcher(sessions, channels, postgres=settings.db.is_postgres)
    run_id = await _failed_run(app, sessions, "test_proc")

    await dispatcher.process_outbox()
    [delivered] = await dispatcher.deliver_due()

    [(envelope, message)] = smtp.wait_for(1)
    assert envelope.rcpt_tos == ["ops@ops.test"]
    assert message["Subject"] == f"[LangOrch] Run {run_id} of test_proc v1.0.0 failed: boom"
    assert "'mail ops'" in message.get_content()
    again = await mailer.send(to=["ops@ops.test"], subject="s", text="t", idempotency_key=f"alert_{delivered}")
    assert again["message_id"] == message["Message-ID"]


# -- docs/alerts.md ---------------------------------------------------------------------------------

def _block(mark: str, language: str) -> str:
    text = (REPO / "docs" / "alerts.md").read_text()
    return text.split(f"<!-- {mark} -->\n```{language}\n", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")
async def test_the_documented_alert_rule_example_prints_what_the_docs_show(
        db_path: Path, hook: WebhookReceiver, smtp: SmtpSink) -> None:
    script = _block("alerts-example", "bash")
    shown = (REPO / "docs" / "alerts.md").read_text().split(script, 1)[1].split("```text\n", 1)[1].split("```")[0]
    settings = worker_settings(db_path).model_copy(update={"notify": _notify(hook, smtp)})
    with LiveServer(create_app(settings)) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=bearer("admin")) as admin:
            await import_procedure(admin, _failing("invoice_processing"))
        env = {"PATH": os.environ["PATH"], "KEY": token("admin")}
        done = await asyncio.to_thread(subprocess.run, ["bash", "-o", "pipefail", "-c",
                                                        script.replace("localhost:8000", server.url)],
                                       capture_output=True, text=True, env=env, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout == shown
    assert hook.bodies()[0]["alert"] == "test"
    [(envelope, message)] = smtp.wait_for(1)
    assert envelope.rcpt_tos == ["oncall@example.com"]
    assert message["Subject"] == "[LangOrch] Test alert of the rule 'invoices on-call'"


async def test_the_documented_signature_check_accepts_what_the_server_signs_and_nothing_else(
        hook: WebhookReceiver, notifier: WebhookNotifier) -> None:
    scope: dict[str, Any] = {}
    exec(compile(_block("verify-example", "python"), "docs/alerts.md", "exec"), scope)
    genuine = scope["genuine"]

    await notifier.send({"type": "alert", "summary": "x"})
    [received] = hook.received
    headers, raw = received["headers"], received["raw"]

    assert genuine(SECRET, raw, headers["x-langorch-timestamp"], headers["x-langorch-signature"])
    assert not genuine("other secret", raw, headers["x-langorch-timestamp"], headers["x-langorch-signature"])
    assert not genuine(SECRET, raw + b" ", headers["x-langorch-timestamp"], headers["x-langorch-signature"])
    stale = str(int(headers["x-langorch-timestamp"]) - 3600)
    assert not genuine(SECRET, raw, stale, sign(SECRET, raw, stale))
