"""Signed webhooks over SQLite and PostgreSQL: one run per delivery however often it comes,
401 and nothing stored without a good signature, replay protection with timestamps, secret
rotation with a grace period, secrets named by the CKP, allowed sources, 429 at the
concurrency limit, 422 for payloads that are no inputs — and the user's check with a real
HTTP server."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.api.app import create_app
from langorch.services.webhooks import sign
from langorch.settings import Settings, WebhookSettings
from langorch.store.models import Run, TriggerFire, TriggerRegistration
from tests.api.conftest import LiveServer, assert_error, create_procedure
from tests.api.test_triggers import orders_doc
from tests.auth_support import bearer
from tests.docs_commands import REPO, shell_blocks

pytestmark = pytest.mark.asyncio
URL = "/api/triggers/webhook/orders"


def signed(secret: str, payload: Any, *, timestamp: int | str | None = None, **headers: str) -> dict[str, Any]:
    """``content`` and headers of a delivery signed with ``secret``."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    out = {"Content-Type": "application/json", "X-LangOrch-Signature": sign(secret, body, timestamp), **headers}
    if timestamp is not None:
        out["X-LangOrch-Timestamp"] = str(timestamp)
    return {"content": body, "headers": out}


async def webhook(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/triggers", json={"procedure_id": "orders", "trigger_type": "webhook",
                                                        **fields})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


@pytest_asyncio.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A sender: no credential but the signature."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        yield http


@pytest_asyncio.fixture
async def secret(client: httpx.AsyncClient) -> str:
    await create_procedure(client, orders_doc())
    return str((await webhook(client))["secret"])


async def stored(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(runs, trigger fires) in the database."""
    async with sessions() as session:
        runs = await session.scalar(select(func.count()).select_from(Run))
        fires = await session.scalar(select(func.count()).select_from(TriggerFire))
    return int(runs or 0), int(fires or 0)


async def test_a_signed_delivery_starts_one_run_of_type_webhook(anonymous: httpx.AsyncClient,
                                                                client: httpx.AsyncClient, secret: str) -> None:
    response = await anonymous.post(URL, **signed(secret, {"order_id": "A-17"}))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["outcome"] == "queued" and answer["deduplicated"] is False and answer["run_id"]
    run = (await client.get(f"/api/runs/{answer['run_id']}")).json()
    assert (run["trigger_type"], run["triggered_by"], run["input_vars"]) == ("webhook", "webhook",
                                                                             {"order_id": "A-17"})
    events = (await client.get(f"/api/runs/{answer['run_id']}/events")).json()
    assert events[0]["event_type"] == "trigger_fired"
    assert events[0]["payload"]["trigger_id"] == answer["trigger_id"] and events[0]["payload"]["payload_hash"]


async def test_the_same_delivery_twice_starts_one_run(anonymous: httpx.AsyncClient, secret: str,
                                                      sessions: async_sessionmaker[AsyncSession]) -> None:
    delivery = signed(secret, {"order_id": "A-1"})
    first = await anonymous.post(URL, **delivery)
    second = await anonymous.post(URL, **delivery)
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["deduplicated"] is True and second.json()["run_id"] == first.json()["run_id"]
    runs, _ = await stored(sessions)
    assert runs == 1


async def test_the_idempotency_key_decides_what_is_a_repeat(anonymous: httpx.AsyncClient, secret: str,
                                                            sessions: async_sessionmaker[AsyncSession]) -> None:
    one = await anonymous.post(URL, **signed(secret, {"order_id": "1"}, **{"Idempotency-Key": "evt-1"}))
    retry = await anonymous.post(URL, **signed(secret, {"order_id": "1", "attempt": 2},
                                               **{"Idempotency-Key": "evt-1"}))
    assert (one.status_code, retry.status_code) == (202, 200) and retry.json()["run_id"] == one.json()["run_id"]
    other = await anonymous.post(URL, **signed(secret, {"order_id": "1"}, **{"Idempotency-Key": "evt-2"}))
    assert other.status_code == 202 and other.json()["run_id"] != one.json()["run_id"]
    assert (await stored(sessions))[0] == 2


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha256=zz", "md5=abc"])
async def test_a_bad_or_missing_signature_is_401_and_stores_nothing(
        anonymous: httpx.AsyncClient, secret: str, sessions: async_sessionmaker[AsyncSession],
        signature: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-LangOrch-Signature"] = signature
    assert_error(await anonymous.post(URL, content=b'{"order_id": "1"}', headers=headers), 401, "invalid_signature")
    forged = signed("whsec_not-the-secret", {"order_id": "1"})
    assert_error(await anonymous.post(URL, **forged), 401, "invalid_signature")
    assert await stored(sessions) == (0, 0)


async def test_a_signature_over_another_body_is_refused(anonymous: httpx.AsyncClient, secret: str,
                                                        sessions: async_sessionmaker[AsyncSession]) -> None:
    delivery = signed(secret, {"order_id": "1"})
    delivery["content"] = b'{"order_id": "2"}'
    assert_error(await anonymous.post(URL, **delivery), 401)
    assert await stored(sessions) == (0, 0)


async def test_a_timestamped_delivery_is_accepted_only_within_five_minutes(
        anonymous: httpx.AsyncClient, secret: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    now = int(time.time())
    assert (await anonymous.post(URL, **signed(secret, {"order_id": "1"}, timestamp=now))).status_code == 202
    for stale in (now - 360, now + 360):
        replay = signed(secret, {"order_id": "2"}, timestamp=stale)
        error = assert_error(await anonymous.post(URL, **replay), 401, "invalid_signature")
        assert "replayed" in error["message"]
    moved = signed(secret, {"order_id": "3"}, timestamp=now - 60)
    moved["headers"]["X-LangOrch-Timestamp"] = str(now)  # the signature covered another time
    assert_error(await anonymous.post(URL, **moved), 401)
    body_only = signed(secret, {"order_id": "4"})
    body_only["headers"]["X-LangOrch-Timestamp"] = str(now)  # not in the signature
    assert_error(await anonymous.post(URL, **body_only), 401)
    assert_error(await anonymous.post(URL, **signed(secret, {"order_id": "5"}, timestamp="soon")), 401)
    assert await stored(sessions) == (1, 1)


async def test_a_server_can_require_the_timestamp(settings: Settings) -> None:
    strict = create_app(settings.model_copy(update={"webhooks": WebhookSettings(require_timestamp=True)}))
    async with strict.router.lifespan_context(strict), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=strict), base_url="http://localhost") as http:
        admin = bearer("admin")
        assert (await http.post("/api/procedures", json={"ckp_json": orders_doc()}, headers=admin)).status_code \
            == 201
        made = (await http.post("/api/triggers", json={"procedure_id": "orders", "trigger_type": "webhook"},
                                headers=admin)).json()
        error = assert_error(await http.post(URL, **signed(made["secret"], {"order_id": "1"})), 401)
        assert "X-LangOrch-Timestamp" in error["message"]
        ok = await http.post(URL, **signed(made["secret"], {"order_id": "1"}, timestamp=int(time.time())))
        assert ok.status_code == 202, ok.text


async def test_after_a_rotation_both_secrets_work_until_the_grace_ends(
        anonymous: httpx.AsyncClient, client: httpx.AsyncClient, secret: str,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    [reg] = (await client.get("/api/triggers", params={"procedure_id": "orders"})).json()
    new = (await client.post(f"/api/triggers/{reg['id']}/rotate-secret")).json()["secret"]
    assert (await anonymous.post(URL, **signed(secret, {"order_id": "old"}))).status_code == 202
    assert (await anonymous.post(URL, **signed(new, {"order_id": "new"}))).status_code == 202

    async with sessions() as session:
        row = await session.get(TriggerRegistration, reg["id"])
        assert row is not None
        row.previous_secret_until = datetime.now(UTC) - timedelta(seconds=1)
        await session.commit()
    assert_error(await anonymous.post(URL, **signed(secret, {"order_id": "too late"})), 401)
    assert (await anonymous.post(URL, **signed(new, {"order_id": "still"}))).status_code == 202


async def test_a_secret_named_by_the_ckp_is_read_from_the_procedures_secret_provider(
        anonymous: httpx.AsyncClient, client: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    created = await client.post("/api/secrets", json={"name": "orders-hook", "value": "from-the-store"})
    assert created.status_code == 201, created.text
    await create_procedure(client, orders_doc(
        trigger={"type": "webhook", "webhook_config": {"authentication": {"type": "hmac", "secret_ref": "hook"}}},
        global_config={"secrets_config": {"provider": "langorch", "secret_references": {"hook": "orders-hook"}}}))
    [reg] = (await client.get("/api/triggers", params={"procedure_id": "orders"})).json()
    assert reg["source"] == "ckp" and reg["has_secret"] is False

    accepted = await anonymous.post(URL, **signed("from-the-store", {"order_id": "1"}))
    assert accepted.status_code == 202, accepted.text
    assert_error(await anonymous.post(URL, **signed("something-else", {"order_id": "2"})), 401)
    rotated = (await client.post(f"/api/triggers/{reg['id']}/rotate-secret")).json()["secret"]
    assert (await anonymous.post(URL, **signed(rotated, {"order_id": "3"}))).status_code == 202
    assert (await anonymous.post(URL, **signed("from-the-store", {"order_id": "4"}))).status_code == 202
    assert (await stored(sessions))[0] == 3


async def test_a_secret_named_but_not_declared_is_503_and_a_webhook_without_secret_401(
        anonymous: httpx.AsyncClient, client: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client, orders_doc(
        trigger={"type": "webhook", "webhook_config": {"authentication": {"type": "hmac", "secret_ref": "nope"}}}))
    assert_error(await anonymous.post(URL, **signed("x", {"order_id": "1"})), 503)
    await create_procedure(client, orders_doc("plain", trigger={"type": "webhook"}))
    error = assert_error(await anonymous.post("/api/triggers/webhook/plain", **signed("", {"order_id": "1"})), 401)
    assert "rotate" in error["message"]
    assert await stored(sessions) == (0, 0)


async def test_only_allowed_sources_may_deliver(anonymous: httpx.AsyncClient, client: httpx.AsyncClient,
                                                sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client, orders_doc())
    far = await webhook(client, name="far", config={"webhook_config": {"allowed_sources": ["10.0.0.0/8"]}})
    near = await webhook(client, name="near",
                         config={"webhook_config": {"allowed_sources": ["192.0.2.1", "127.0.0.0/8"]}})
    refused = await anonymous.post(URL, params={"trigger": far["id"]}, **signed(far["secret"], {"order_id": "1"}))
    assert_error(refused, 403)
    accepted = await anonymous.post(URL, params={"trigger": near["id"]},
                                    **signed(near["secret"], {"order_id": "1"}))
    assert accepted.status_code == 202 and accepted.json()["trigger_id"] == near["id"]
    assert (await stored(sessions))[0] == 1


async def test_several_webhooks_need_a_choice_and_a_paused_one_takes_nothing(
        anonymous: httpx.AsyncClient, client: httpx.AsyncClient, secret: str) -> None:
    second = await webhook(client, name="second")
    error = assert_error(await anonymous.post(URL, **signed(secret, {"order_id": "1"})), 409)
    assert second["id"] in error["message"] and len(error["details"]["trigger_ids"]) == 2
    await client.post(f"/api/triggers/{second['id']}/disable")
    assert (await anonymous.post(URL, **signed(secret, {"order_id": "1"}))).status_code == 202
    assert_error(await anonymous.post(URL, params={"trigger": second["id"]},
                                      **signed(second["secret"], {"order_id": "2"})), 404)
    assert_error(await anonymous.post("/api/triggers/webhook/unknown", **signed(secret, {})), 404)


async def test_beyond_max_concurrent_a_delivery_gets_429_with_retry_after(
        anonymous: httpx.AsyncClient, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client, orders_doc())
    made = await webhook(client, max_concurrent=1)
    assert (await anonymous.post(URL, **signed(made["secret"], {"order_id": "1"}))).status_code == 202
    refused = await anonymous.post(URL, **signed(made["secret"], {"order_id": "2"}))
    error = assert_error(refused, 429, "too_many_runs")
    assert int(refused.headers["Retry-After"]) > 0 and error["details"]["trigger_id"] == made["id"]
    repeat = await anonymous.post(URL, **signed(made["secret"], {"order_id": "1"}))
    assert repeat.status_code == 200  # a repeat of the first is still answered with its run
    assert (await stored(sessions))[0] == 1


@pytest.mark.parametrize(("body", "field"), [(b'{"amount": 3}', "order_id"), (b"not json", "body"),
                                             (b'["order_id"]', "body"), (b"\xff\xfe", "body"),
                                             (b'{"order_id": "a\\u0000b"}', "body.order_id"),
                                             (b'{"order_id": NaN}', "body.order_id"),
                                             (b'{"order_id": ' + b"[" * 100 + b"]" * 100 + b"}", "body.order_id")])
async def test_a_body_that_is_no_inputs_is_422_with_the_field(
        anonymous: httpx.AsyncClient, secret: str, sessions: async_sessionmaker[AsyncSession], body: bytes,
        field: str) -> None:
    error = assert_error(await anonymous.post(URL, **signed(secret, body)), 422)
    assert [d["field"] for d in error["details"]] == [field]
    assert (await stored(sessions))[0] == 0


async def test_the_input_mapping_reads_the_body_and_a_body_it_cannot_read_is_422(
        anonymous: httpx.AsyncClient, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client, orders_doc())
    made = await webhook(client, input_mapping={"order_id": "{{ payload.order.id }}"})
    accepted = await anonymous.post(URL, **signed(made["secret"], {"order": {"id": "ORD-9"}, "noise": 1}))
    assert accepted.status_code == 202, accepted.text
    run = (await client.get(f"/api/runs/{accepted.json()['run_id']}")).json()
    assert run["input_vars"] == {"order_id": "ORD-9"}
    error = assert_error(await anonymous.post(URL, **signed(made["secret"], {"orders": []})), 422)
    assert [d["field"] for d in error["details"]] == ["input_mapping"]
    history = (await client.get(f"/api/triggers/{made['id']}/history")).json()
    assert [h["outcome"] for h in history] == ["failed", "queued"]
    assert (await stored(sessions))[0] == 1


async def test_the_users_check_signed_twice_is_one_run_and_badly_signed_is_401(settings: Settings) -> None:
    """What the issue asks a user to try, with curl-equivalent requests to a real server."""
    with LiveServer(create_app(settings)) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=bearer("admin")) as admin:
            await create_procedure(admin, orders_doc())
            made = await webhook(admin)
        async with httpx.AsyncClient(base_url=server.url) as sender:
            body = b'{"order_id": "ORD-1001"}'
            stamp = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-LangOrch-Timestamp": stamp,
                       "X-LangOrch-Signature": sign(made["secret"], body, stamp), "Idempotency-Key": "ord-1001"}
            first = await sender.post(URL, content=body, headers=headers)
            second = await sender.post(URL, content=body, headers=headers)
            bad = await sender.post(URL, content=body,
                                    headers={**headers, "X-LangOrch-Signature": "sha256=" + "ab" * 32})
        assert (first.status_code, second.status_code, bad.status_code) == (202, 200, 401)
        assert second.json()["run_id"] == first.json()["run_id"]
        async with httpx.AsyncClient(base_url=server.url, headers=bearer("admin")) as admin:
            runs = await admin.get("/api/runs", params={"procedure_id": "orders"})
        assert runs.headers["X-Total-Count"] == "1"


def _signing_example() -> str:
    """The bash block docs/triggers.md shows for signing a delivery."""
    for _, before, body in shell_blocks(REPO / "docs" / "triggers.md"):
        if before.startswith("<!-- signing-example"):
            return "\n".join(body)
    raise LookupError("docs/triggers.md has no signing example")


@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("curl")), reason="needs openssl and curl")
async def test_the_documented_signing_example_is_accepted_once(settings: Settings) -> None:
    script = _signing_example()
    with LiveServer(create_app(settings)) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=bearer("admin")) as admin:
            await create_procedure(admin, orders_doc())
            made = await webhook(admin)
        env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "SECRET": made["secret"]}
        script = script.replace("http://localhost:8000", server.url)
        answers = [subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=30)
                   for _ in range(2)]
        first, second = (json.loads(a.stdout) for a in answers)
        assert first["outcome"] == "queued" and second["deduplicated"] is True
        assert second["run_id"] == first["run_id"]
        env["SECRET"] = "whsec_wrong"
        refused = json.loads(subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                                            timeout=30).stdout)
        assert refused["error"]["code"] == "invalid_signature"
