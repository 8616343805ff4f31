"""notify operations reach an agent channel or the process webhook through the step machinery."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from langorch.connectors.agents import HttpAgentClient
from langorch.connectors.notify import WebhookNotifier
from langorch.services.runtime_wiring import IrCache, build_services
from langorch.settings import Settings
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import EventLog, Harness, RecordingSleep, TinyHttp, ckp, end


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"EMAIL": fake_agent.url, "PAGER": fake_agent.url}) as client:
        yield client


@pytest.fixture
def hook() -> Iterator[TinyHttp]:
    with TinyHttp() as server:
        yield server


@pytest_asyncio.fixture
async def webhook(hook: TinyHttp) -> AsyncIterator[WebhookNotifier]:
    async with WebhookNotifier(f"{hook.url}/hooks/langorch") as notifier:
        yield notifier


NOTIFY = {"action": "notify", "channel": "Email", "recipients": ["ap@x.test", "{{boss}}"],
          "subject": "Batch {{batch}} failed", "message": "{{count}} errors in {{batch}}"}


def _alert(op: dict[str, Any] | None = None, **node: Any) -> dict[str, Any]:
    return ckp({"alert": {"type": "processing", "operations": [op or NOTIFY], "next_node": "done", **node},
                "done": end()},
               variables={"boss": {"type": "string", "default": "boss@x.test"},
                          "batch": {"type": "string", "default": "B-7"},
                          "count": {"type": "integer", "default": 3}})


# ----------------------------------------------------------------------------- agent channels
@pytest.mark.asyncio
async def test_notify_goes_to_the_agent_channel_it_names(fake_agent: FakeAgentServer,
                                                         agents: HttpAgentClient) -> None:
    fake_agent.set_result("send_notification", {"message_id": "m-1"})
    h = Harness(agents=agents)

    out = await h.run(_alert())

    assert out.status == "completed", out.error
    [call] = fake_agent.calls
    assert call["action"] == "send_notification" and call["step_id"] == "operation_0"
    assert call["params"] == {"channel": "Email", "recipients": ["ap@x.test", "boss@x.test"],
                              "subject": "Batch B-7 failed", "message": "3 errors in B-7"}
    started = h.events.payloads("step_started")[0]
    assert (started["binding"], started["channel"]) == ("agent", "EMAIL")
    [sent] = h.events.of("notification_sent")
    assert sent.node_id == "alert" and sent.step_id == "operation_0"
    assert sent.payload == {"channel": "Email", "via": "agent", "agent_channel": "EMAIL",
                            "recipients": ["ap@x.test", "boss@x.test"], "subject": "Batch B-7 failed"}


@pytest.mark.asyncio
async def test_notify_goes_to_the_nodes_agent_when_its_channel_names_it(fake_agent: FakeAgentServer,
                                                                        agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)

    out = await h.run(_alert({**NOTIFY, "channel": "pager"}, agent="PAGER"))
    without_channel = await h.run(_alert({k: v for k, v in NOTIFY.items() if k != "channel"}, agent="PAGER"),
                                  run_id="run-2")

    assert out.status == without_channel.status == "completed"
    assert [c["action"] for c in fake_agent.calls] == ["send_notification", "send_notification"]
    assert [e.payload["agent_channel"] for e in h.events.of("notification_sent")] == ["PAGER", "PAGER"]


@pytest.mark.asyncio
async def test_a_notification_is_retried_and_sent_once_like_a_step(fake_agent: FakeAgentServer,
                                                                   agents: HttpAgentClient) -> None:
    fake_agent.fail_next(503, action="send_notification")
    h = Harness(agents=agents, sleep=RecordingSleep())
    doc = _alert(max_retries=2, retry_delay_ms=5, idempotency_key="batch-alert-{{batch}}")

    first = await h.run(doc, run_id="first")
    second = await h.run(doc, run_id="second")  # same business key: not sent again

    assert first.status == second.status == "completed"
    assert len(fake_agent.calls) == 2, "one failed attempt, one retry, then nothing"
    assert len(h.events.of("step_retry")) == 1
    assert [e.payload.get("cached") for e in h.events.of("step_completed")] == [None, True]


@pytest.mark.asyncio
async def test_a_notification_is_skipped_in_dry_run_and_mocked_in_test_mode(fake_agent: FakeAgentServer,
                                                                            agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    doc = {**_alert(), "global_config": {"test_data_overrides": {"alert.operation_0": {"message_id": "test-1"}}}}

    dry = await h.run(doc, run_id="dry", mode="dry_run")
    test = await h.run(doc, run_id="test", mode="test")

    assert dry.status == test.status == "completed"
    assert fake_agent.calls == []
    assert h.events.payloads("step_skipped_dry_run")[0]["skipped_action"] == "send_notification"
    assert [e.run_id for e in h.events.of("notification_sent")] == ["test"], "a skipped one is not 'sent'"
    assert h.events.payloads("step_test_override_applied")[0]["result"] == {"message_id": "test-1"}


@pytest.mark.asyncio
async def test_a_sensitive_value_in_a_notification_is_masked_in_its_events(fake_agent: FakeAgentServer,
                                                                           agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    doc = _alert({**NOTIFY, "subject": "Reset code {{code}}"})
    doc["variables_schema"]["code"] = {"type": "string", "sensitive": True, "default": "831-207"}

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert fake_agent.calls[0]["params"]["subject"] == "Reset code 831-207"
    assert h.events.payloads("notification_sent")[0]["subject"] == "Reset code ***"
    assert "831-207" not in str([e.payload for e in h.events.events])


# ----------------------------------------------------------------------------- the webhook
@pytest.mark.asyncio
async def test_notify_on_the_webhook_channel_posts_json_to_the_webhook(hook: TinyHttp,
                                                                       webhook: WebhookNotifier) -> None:
    h = Harness(notifier=webhook)

    out = await h.run(_alert({**NOTIFY, "channel": "webhook"}))

    assert out.status == "completed", out.error
    [request] = hook.seen
    assert (request["method"], request["path"]) == ("POST", "/hooks/langorch")
    assert request["body"] == {"channel": "webhook", "recipients": ["ap@x.test", "boss@x.test"],
                               "subject": "Batch B-7 failed", "message": "3 errors in B-7", "run_id": "run-1",
                               "procedure_id": "test_proc", "node_id": "alert", "step_id": "operation_0"}
    assert h.events.payloads("notification_sent")[0]["via"] == "webhook"


@pytest.mark.asyncio
async def test_a_channel_no_agent_takes_goes_to_the_webhook_when_there_is_one(
        hook: TinyHttp, webhook: WebhookNotifier, fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    h = Harness(agents=agents, notifier=webhook)

    out = await h.run(_alert({**NOTIFY, "channel": "slack"}))

    assert out.status == "completed", out.error
    assert fake_agent.calls == []
    assert hook.seen[0]["body"]["channel"] == "slack"


# ----------------------------------------------------------------------------- nowhere to go
@pytest.mark.asyncio
async def test_a_notification_nothing_can_deliver_fails_the_node_clearly(agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)

    out = await h.run(_alert({**NOTIFY, "channel": "slack"}))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "NotificationUndeliverable"
    assert "'slack' names no agent channel" in out.error["message"]
    assert "LANGORCH_NOTIFY__WEBHOOK_URL" in out.error["message"]
    assert h.events.of("log") == [], "not a silent log line"


@pytest.mark.asyncio
async def test_the_webhook_channel_without_a_webhook_fails(agents: HttpAgentClient) -> None:
    out = await Harness(agents=agents).run(_alert({**NOTIFY, "channel": "webhook"}))
    assert out.error is not None and out.error["type"] == "NotificationUndeliverable"


@pytest.mark.asyncio
async def test_an_undeliverable_terminate_notification_is_recorded_and_the_others_still_run() -> None:
    h = Harness()
    doc = ckp({"stop": end("failed", error_actions=[
        {"action": "notify", "channel": "sms", "recipients": ["+1555"], "subject": "down"},
        {"action": "log", "message": "still here"}])})

    out = await h.run(doc)

    assert out.status == "failed"
    [failed] = h.events.payloads("terminate_action_failed")
    assert failed["action"] == "notify" and failed["error"]["type"] == "NotificationUndeliverable"
    assert [p["message"] for p in h.events.payloads("log")] == ["still here"]


@pytest.mark.asyncio
async def test_a_terminate_notification_goes_to_the_email_agent(fake_agent: FakeAgentServer,
                                                                agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    doc = ckp({"stop": end("failed", error_actions=[
        {"action": "log", "message": "failing"},
        {"action": "notify", "channel": "email", "recipients": ["ops@x.test"], "subject": "Batch failed"}])})

    out = await h.run(doc)

    assert out.status == "failed"
    assert [(c["action"], c["step_id"]) for c in fake_agent.calls] == [("send_notification", "action_1")]
    assert h.events.of("terminate_action_failed") == []


# ----------------------------------------------------------------------------- the server
@pytest.mark.asyncio
async def test_the_server_wires_the_webhook_from_langorch_notify_webhook_url(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with AsyncExitStack() as stack:
        plain = await build_services(Settings(), async_sessionmaker(engine), EventLog(),  # type: ignore[arg-type]
                                     IrCache(), stack)
        monkeypatch.setenv("LANGORCH_NOTIFY__WEBHOOK_URL", "https://hooks.example.test/langorch")
        wired = await build_services(Settings(), async_sessionmaker(engine), EventLog(),  # type: ignore[arg-type]
                                     IrCache(), stack)
    await engine.dispose()
    assert plain.notifier is None
    assert isinstance(wired.notifier, WebhookNotifier) and wired.notifier.url == "https://hooks.example.test/langorch"


# ----------------------------------------------------------------------------- e-mail (SMTP)
@pytest.mark.asyncio
async def test_notify_on_the_email_channel_goes_to_the_smtp_server_when_one_is_configured(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    from langorch.connectors.mail import SmtpMailer
    from tests.fakes.receivers import SmtpSink

    with SmtpSink() as smtp:
        h = Harness(agents=agents, mailer=SmtpMailer("127.0.0.1", port=smtp.port, security="none",
                                                     sender="ops@x.test"))
        out = await h.run(_alert())
        again = await h.run(_alert(), run_id="run-2")
        [(envelope, first), (_, second)] = smtp.wait_for(2)

    assert out.status == again.status == "completed", out.error
    assert fake_agent.calls == []  # the EMAIL agent is not asked
    assert sorted(envelope.rcpt_tos) == ["ap@x.test", "boss@x.test"]
    assert first["Subject"] == "Batch B-7 failed" and first["From"] == "ops@x.test"
    assert first.get_content().startswith("3 errors in B-7")
    assert first["Message-ID"] != second["Message-ID"]  # one per run's step: a retry would repeat it
    sent = h.events.of("notification_sent")[0]
    assert sent.payload["via"] == "email" and sent.payload["agent_channel"] is None


@pytest.mark.asyncio
async def test_an_email_notification_to_a_malformed_address_fails_the_node_and_names_it() -> None:
    from langorch.connectors.mail import SmtpMailer

    h = Harness(mailer=SmtpMailer("127.0.0.1", port=1, security="none"))

    out = await h.run(_alert({**NOTIFY, "recipients": ["ap@x.test", "not-an-address"]}))

    assert out.status == "failed"
    assert out.error["type"] == "InvalidRecipient" and "'not-an-address'" in out.error["message"]


@pytest.mark.asyncio
async def test_the_smtp_channel_without_an_smtp_server_fails_clearly(agents: HttpAgentClient) -> None:
    out = await Harness(agents=agents).run(_alert({**NOTIFY, "channel": "smtp"}))

    assert out.status == "failed" and "LANGORCH_NOTIFY__SMTP_HOST" in out.error["message"]
