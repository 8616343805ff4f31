"""Event triggers against the real Redis and RabbitMQ of this machine, on SQLite and
PostgreSQL: a matching message starts one run and is acknowledged only once the run is
queued; a consumer that stops between receiving and firing (or between firing and
acknowledging) leaves the message with the broker, whose redelivery starts no second run;
a message that does not match starts nothing; entries a dead Redis consumer left pending
are taken over; registrations added or paused while the loop runs are picked up.

Every test uses a stream / queue / exchange of its own and deletes it afterwards."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import select

from langorch.scheduling import redis_streams
from langorch.scheduling.event_bus import (
    EventBusLoop,
    Message,
    TriggerConsumer,
    compile_event_config,
)
from langorch.scheduling.leader import Lease
from langorch.scheduling.singletons import _registered
from langorch.services import trigger_fire, triggers
from langorch.services.errors import Invalid
from langorch.services.runtime_wiring import ServerRuntime
from langorch.settings import EventBusSettings
from langorch.store.models import Run, RunEvent, TriggerFire, TriggerRegistration
from tests.api.conftest import ckp, create_procedure
from tests.scheduling.brokers import AMQP_URL, REDIS_URL, require

pytestmark = pytest.mark.asyncio
FAST = EventBusSettings(refresh_s=0.2, poll_s=0.2, retry_s=0.2, max_retry_s=0.5, claim_idle_s=0.3, max_attempts=3)
PROCEDURE = ckp("orders", variables_schema={"required": {"order_id": {"type": "string"}}})


def _rt(app: FastAPI) -> ServerRuntime:
    rt: ServerRuntime = app.state.ctx.extras["runtime"]
    return rt


async def _runs(app: FastAPI) -> list[Run]:
    async with _rt(app).sessions() as session:
        return list(await session.scalars(select(Run).order_by(Run.created_at)))


async def _eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _run_count_becomes(app: FastAPI, n: int) -> None:
    async def reached() -> bool:
        return len(await _runs(app)) >= n
    await _eventually(reached)


async def _event_trigger(app: FastAPI, client: httpx.AsyncClient, source: str, **event_config: Any) -> str:
    await create_procedure(client, PROCEDURE, status="active")
    async with _rt(app).sessions() as session:
        made = await triggers.create(session, None, {
            "procedure_id": "orders", "trigger_type": "event", "name": "orders",
            "config": {"event_config": {"event_source": source, **event_config}}})
        await session.commit()
        return made.trigger.id


async def _consumer(app: FastAPI, trigger_id: str, name: str) -> TriggerConsumer:
    async with _rt(app).sessions() as session:
        reg = await session.get(TriggerRegistration, trigger_id)
        assert reg is not None
        rule = compile_event_config(reg.config)
    consumer = TriggerConsumer(_rt(app), None, trigger_id, rule, consumer=name, settings=FAST)
    await consumer.adapter.connect()
    return consumer


async def _receive_one(consumer: TriggerConsumer) -> Message:
    for _ in range(50):
        batch = await consumer.adapter.receive(max_messages=1, timeout_s=0.2)
        if batch:
            return batch[0]
    raise AssertionError("no message arrived")


async def _fires(app: FastAPI, trigger_id: str) -> list[str]:
    async with _rt(app).sessions() as session:
        return list(await session.scalars(select(TriggerFire.outcome).where(TriggerFire.trigger_id == trigger_id)
                                          .order_by(TriggerFire.id)))


# -- Redis Streams -------------------------------------------------------------------------------

@pytest_asyncio.fixture
async def redis() -> AsyncIterator[Redis]:
    require(REDIS_URL, "Redis", 6379)
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def stream(redis: Redis) -> AsyncIterator[str]:
    name = f"langorch-test-{uuid.uuid4().hex[:12]}"
    yield name
    await redis.delete(name)


def _redis_source(stream: str, **options: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"stream": stream, "start": "0", **options}.items())
    return f"{REDIS_URL}?{query}"


async def _pending(redis: Redis, stream: str, trigger_id: str) -> int:
    summary = await redis.xpending(stream, f"langorch.trigger.{trigger_id}")
    return int(summary["pending"])


async def test_redis_a_matching_message_starts_one_run_acked_only_once_it_is_queued(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream), event_type="order.*",
                                      event_filter={"status": "paid", "amount": {">=": 100}})
    consumer = await _consumer(app, trigger_id, "worker-a")
    try:
        entry = await redis.xadd(stream, {"event_type": "order.paid", "payload": json.dumps(
            {"order_id": "A-1", "status": "paid", "amount": 120})})
        message = await _receive_one(consumer)
        assert message.message_id == f"{stream}/{entry}" and message.body["order_id"] == "A-1"
        assert await _pending(redis, stream, trigger_id) == 1 and await _runs(app) == []  # received, not yet acked
        assert await consumer.handle(message) == "queued"
        assert await _pending(redis, stream, trigger_id) == 0
    finally:
        await consumer.stop()
    [run] = await _runs(app)
    assert run.trigger_id == trigger_id and run.trigger_type == "event" and run.input_vars["order_id"] == "A-1"
    assert run.triggered_by == f"event:{REDIS_URL}?start=0&stream={stream}"
    async with _rt(app).sessions() as session:
        first = await session.scalar(select(RunEvent).where(RunEvent.run_id == run.run_id, RunEvent.seq == 1))
    assert first is not None and first.type == "trigger_fired" and first.payload["trigger_id"] == trigger_id


async def test_redis_a_consumer_stopped_before_firing_leaves_the_message_for_the_next_one(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream, claim_idle_ms="300"))
    dying = await _consumer(app, trigger_id, "worker-dies")
    await redis.xadd(stream, {"payload": json.dumps({"order_id": "B-1"})})
    await _receive_one(dying)
    await dying.stop()  # received, never fired nor acked
    assert await _runs(app) == [] and await _pending(redis, stream, trigger_id) == 1
    loop = EventBusLoop(_rt(app), None, consumer="worker-next", settings=FAST)
    await loop.start()
    try:
        await _run_count_becomes(app, 1)

        async def acked() -> bool:
            return await _pending(redis, stream, trigger_id) == 0
        await _eventually(acked)
        await asyncio.sleep(0.8)  # longer than the claim idle time: nothing comes back
    finally:
        await loop.stop()
    assert len(await _runs(app)) == 1
    assert loop.counts[(trigger_id, "queued")] == 1


async def test_redis_a_message_redelivered_after_its_run_was_queued_starts_no_second_run(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream, claim_idle_ms="300"))
    dying = await _consumer(app, trigger_id, "worker-dies")
    await redis.xadd(stream, {"message_id": "order-C-1", "payload": json.dumps({"order_id": "C-1"})})
    message = await _receive_one(dying)
    async with _rt(app).sessions() as session:  # fired, then the process died before XACK
        reg = await session.get(TriggerRegistration, trigger_id)
        assert reg is not None
        first = await trigger_fire.fire(session, _rt(app), reg, payload=message.body,
                                        triggered_by=dying.triggered_by, idempotency_key=message.message_id)
    assert first.created and message.message_id == "order-C-1"
    await dying.stop()
    loop = EventBusLoop(_rt(app), None, consumer="worker-next", settings=FAST)
    await loop.start()
    try:
        async def deduplicated() -> bool:
            return loop.counts[(trigger_id, "deduplicated")] == 1
        await _eventually(deduplicated)
    finally:
        await loop.stop()
    assert [r.run_id for r in await _runs(app)] == [first.run_id]
    assert await _pending(redis, stream, trigger_id) == 0
    assert await _fires(app, trigger_id) == ["queued", "deduplicated"]


async def test_redis_a_producer_retrying_xadd_with_its_message_id_starts_one_run(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream))
    consumer = await _consumer(app, trigger_id, "worker-a")
    try:
        for _ in range(2):
            await redis.xadd(stream, {"message_id": "order-D-1", "payload": json.dumps({"order_id": "D-1"})})
        outcomes = [await consumer.handle(await _receive_one(consumer)) for _ in range(2)]
    finally:
        await consumer.stop()
    assert outcomes == ["queued", "deduplicated"] and len(await _runs(app)) == 1
    assert await _pending(redis, stream, trigger_id) == 0


async def test_redis_a_message_that_does_not_match_starts_nothing_and_is_acked(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream), event_type=["order.paid"],
                                      event_filter={"$condition": "amount > 100 and currency == 'EUR'"})
    consumer = await _consumer(app, trigger_id, "worker-a")
    try:
        await redis.xadd(stream, {"event_type": "order.paid", "order_id": "E-1", "amount": "50", "currency": "EUR"})
        await redis.xadd(stream, {"event_type": "order.created", "order_id": "E-2", "amount": "500",
                                  "currency": "EUR"})
        await redis.xadd(stream, {"event_type": "order.paid", "order_id": "E-3", "amount": "abc",
                                  "currency": "EUR"})  # 'abc' > 100 cannot be evaluated: no match
        await redis.xadd(stream, {"event_type": "order.paid", "order_id": "E-4", "amount": "150",
                                  "currency": "EUR"})  # fields without payload: strings, compared as numbers
        outcomes = [await consumer.handle(await _receive_one(consumer)) for _ in range(4)]
    finally:
        await consumer.stop()
    assert outcomes == ["ignored", "ignored", "ignored", "queued"]
    [run] = await _runs(app)
    assert run.input_vars["order_id"] == "E-4"
    assert await _pending(redis, stream, trigger_id) == 0
    assert await _fires(app, trigger_id) == ["queued"]  # non-matching messages are recorded nowhere


async def test_redis_entries_pending_with_a_dead_consumer_are_reclaimed_after_the_idle_time(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream, claim_idle_ms="400"))
    dead = await _consumer(app, trigger_id, "worker-dead")
    alive = await _consumer(app, trigger_id, "worker-alive")
    try:
        await redis.xadd(stream, {"payload": json.dumps({"order_id": "F-1"})})
        taken = await _receive_one(dead)  # and then the process is gone, without closing anything
        assert await alive.adapter.receive(max_messages=5, timeout_s=0.1) == []  # not idle long enough yet
        await asyncio.sleep(0.5)
        [reclaimed] = await alive.adapter.receive(max_messages=5, timeout_s=0.1)
        assert reclaimed.message_id == taken.message_id and reclaimed.redelivered
        [owner] = await redis.xpending_range(stream, f"langorch.trigger.{trigger_id}", "-", "+", 10)
        assert owner["consumer"] == "worker-alive" and owner["times_delivered"] == 2
        assert await alive.handle(reclaimed) == "queued"
    finally:
        await dead.stop()
        await alive.stop()
    assert len(await _runs(app)) == 1 and await _pending(redis, stream, trigger_id) == 0


async def _consume_until_failed(app: FastAPI, trigger_id: str) -> EventBusLoop:
    loop = EventBusLoop(_rt(app), None, consumer="worker-loop", settings=FAST)
    await loop.start()
    try:
        async def failed() -> bool:
            return loop.counts[(trigger_id, "failed")] == 1
        await _eventually(failed)
        await asyncio.sleep(0.6)  # longer than the claim idle time: nothing comes back
    finally:
        await loop.stop()
    return loop


async def test_redis_consumers_that_hold_nothing_and_fell_silent_are_removed_from_the_group(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str, monkeypatch: pytest.MonkeyPatch) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream))
    gone, busy = await _consumer(app, trigger_id, "worker-gone"), await _consumer(app, trigger_id, "worker-busy")
    try:
        await redis.xadd(stream, {"payload": json.dumps({"order_id": "K-1"})})
        await gone.adapter.ack(await _receive_one(gone))
        await redis.xadd(stream, {"payload": json.dumps({"order_id": "K-2"})})
        await _receive_one(busy)  # still pending with it
        await asyncio.sleep(0.05)
        monkeypatch.setattr(redis_streams, "FORGET_IDLE_MS", 10)
        fresh = await _consumer(app, trigger_id, "worker-fresh")
        await fresh.stop()
    finally:
        await gone.stop()
        await busy.stop()
    left = await redis.xinfo_consumers(stream, f"langorch.trigger.{trigger_id}")
    assert [c["name"] for c in left] == ["worker-busy"]


async def test_redis_a_message_whose_inputs_are_invalid_is_recorded_as_failed_and_acked(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream, claim_idle_ms="300"))
    await redis.xadd(stream, {"payload": json.dumps({"status": "paid"})})  # no order_id: the schema needs it
    loop = await _consume_until_failed(app, trigger_id)
    assert await _runs(app) == [] and await _pending(redis, stream, trigger_id) == 0
    assert await _fires(app, trigger_id) == ["failed"] and loop.counts[(trigger_id, "failed")] == 1


async def test_redis_a_message_that_always_fails_is_dropped_after_the_last_attempt(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream, claim_idle_ms="300"))
    async with _rt(app).sessions() as session:  # a mapping that cannot render: every attempt raises
        reg = await triggers.get(session, trigger_id)
        await triggers.update(session, reg, {"input_mapping": {"order_id": "{{ payload.x | no_such_filter }}"}})
        await session.commit()
    await redis.xadd(stream, {"message_id": "poison-1", "payload": json.dumps({"x": 1})})
    await _consume_until_failed(app, trigger_id)
    assert await _runs(app) == [] and await _pending(redis, stream, trigger_id) == 0
    async with _rt(app).sessions() as session:
        rows = list(await session.scalars(select(TriggerFire).where(TriggerFire.trigger_id == trigger_id)))
    assert [r.outcome for r in rows] == ["failed"] and rows[0].detail and "no_such_filter" in rows[0].detail


async def test_the_loop_picks_up_registrations_added_paused_and_resumed_while_it_runs(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    loop = EventBusLoop(_rt(app), None, consumer="worker-loop", settings=FAST)
    await loop.start()
    try:
        trigger_id = await _event_trigger(app, client, _redis_source(stream))

        async def consuming() -> bool:
            return trigger_id in loop.consumers and loop.consumers[trigger_id][1].connected.is_set()
        await _eventually(consuming, 5.0)
        await redis.xadd(stream, {"payload": json.dumps({"order_id": "G-1"})})
        await _run_count_becomes(app, 1)

        async with _rt(app).sessions() as session:
            reg = await triggers.get(session, trigger_id)
            await triggers.set_enabled(session, reg, False)
            await session.commit()

        async def stopped() -> bool:
            return trigger_id not in loop.consumers
        await _eventually(stopped, 5.0)
        await redis.xadd(stream, {"payload": json.dumps({"order_id": "G-2"})})
        await asyncio.sleep(0.6)
        assert len(await _runs(app)) == 1  # paused: the message waits in the stream

        async with _rt(app).sessions() as session:
            reg = await triggers.get(session, trigger_id)
            await triggers.set_enabled(session, reg, True)
            await session.commit()
        await _run_count_becomes(app, 2)  # resumed: the group goes on where it stopped
    finally:
        await loop.stop()
    assert sorted(r.input_vars["order_id"] for r in await _runs(app)) == ["G-1", "G-2"]


async def test_a_deposed_leader_gives_the_message_back_instead_of_firing(
        app: FastAPI, client: httpx.AsyncClient, redis: Redis, stream: str) -> None:
    trigger_id = await _event_trigger(app, client, _redis_source(stream))
    lease = Lease(_rt(app).sessions, "event-test", "me", ttl_s=30)
    assert await lease.acquire()
    consumer = await _consumer(app, trigger_id, "worker-a")
    consumer.lease = lease
    try:
        await redis.xadd(stream, {"payload": json.dumps({"order_id": "H-1"})})
        message = await _receive_one(consumer)
        await lease.release()  # another process leads now
        assert await consumer.handle(message) == "returned"
    finally:
        await consumer.stop()
    assert await _runs(app) == [] and await _pending(redis, stream, trigger_id) == 1


async def test_a_bad_address_is_refused_when_the_trigger_is_made(app: FastAPI, client: httpx.AsyncClient) -> None:
    with pytest.raises(Invalid) as refused:
        await _event_trigger(app, client, "kafka://127.0.0.1:9092/?topic=orders")
    assert "event_config.event_source" in refused.value.message and "kafka" in refused.value.message


async def test_a_registration_with_a_bad_address_says_why_in_its_history_once(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    trigger_id = await _event_trigger(app, client, "redis://127.0.0.1:6379/0?stream=orders")
    async with _rt(app).sessions() as session:  # made before this server's rules, or edited in the database
        reg = await session.get(TriggerRegistration, trigger_id)
        assert reg is not None
        reg.config = {"event_config": {"event_source": "kafka://127.0.0.1:9092/?topic=orders"}}
        await session.commit()
    loop = EventBusLoop(_rt(app), None, consumer="worker-loop", settings=FAST)
    assert await loop.refresh() == set() and await loop.refresh() == set()
    async with _rt(app).sessions() as session:
        rows = list(await session.scalars(select(TriggerFire).where(TriggerFire.trigger_id == trigger_id)))
    assert [r.outcome for r in rows] == ["failed"]
    assert rows[0].detail is not None and "unknown scheme 'kafka'" in rows[0].detail


async def test_the_event_bus_runs_among_the_leader_singletons(app: FastAPI) -> None:
    lease = Lease(_rt(app).sessions, "event-test", "me", ttl_s=30)
    [loop] = [made for made in (factory(_rt(app), lease) for factory in _registered())
              if isinstance(made, EventBusLoop)]
    assert loop.name == "event-bus" and loop.lease is lease and loop.consumer == "me"


# -- RabbitMQ ------------------------------------------------------------------------------------

@pytest_asyncio.fixture
async def amqp() -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    require(AMQP_URL, "RabbitMQ", 5672)
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    yield channel
    await connection.close()


@pytest_asyncio.fixture
async def queue_name(amqp: aio_pika.abc.AbstractChannel) -> AsyncIterator[str]:
    name = f"langorch-test-{uuid.uuid4().hex[:12]}"
    yield name
    connection = await aio_pika.connect(AMQP_URL)  # a fresh channel: a failed test may have closed the other
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)
        await channel.exchange_delete(name)


async def _publish(channel: aio_pika.abc.AbstractChannel, queue: str, body: dict[str, Any], **properties: Any) -> None:
    message = aio_pika.Message(json.dumps(body).encode(), content_type="application/json",
                               delivery_mode=aio_pika.DeliveryMode.PERSISTENT, **properties)
    await channel.default_exchange.publish(message, routing_key=queue)


async def _ready(queue: str) -> int:
    """Messages waiting in ``queue`` (not counting those delivered and not yet acked)."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def test_rabbitmq_a_matching_message_starts_one_run_acked_only_once_it_is_queued(
        app: FastAPI, client: httpx.AsyncClient, amqp: aio_pika.abc.AbstractChannel, queue_name: str) -> None:
    trigger_id = await _event_trigger(app, client, f"{AMQP_URL}?queue={queue_name}", event_type="order.paid",
                                      event_filter={"customer.tier": ["gold", "silver"]})
    first = await _consumer(app, trigger_id, "worker-a")
    await _publish(amqp, queue_name, {"order_id": "R-1", "customer": {"tier": "gold"}}, message_id="msg-R-1",
                   type="order.paid")
    message = await _receive_one(first)
    assert message.message_id == "msg-R-1" and message.event_type == "order.paid" and not message.redelivered
    await first.stop()  # stopped between receiving and firing: the broker keeps the message
    assert await _runs(app) == []

    async def back() -> bool:
        return await _ready(queue_name) == 1
    await _eventually(back, 5.0)
    second = await _consumer(app, trigger_id, "worker-b")
    try:
        again = await _receive_one(second)
        assert again.message_id == "msg-R-1" and again.redelivered
        assert await consumer_handle_with_queue_check(second, again, queue_name) == "queued"
    finally:
        await second.stop()
    [run] = await _runs(app)
    assert run.trigger_id == trigger_id and run.input_vars["order_id"] == "R-1"
    assert run.triggered_by == f"event:amqp://guest@127.0.0.1:5672/?queue={queue_name}"  # no password
    assert await _ready(queue_name) == 0  # acked: nothing comes back after the consumer closed


async def consumer_handle_with_queue_check(consumer: TriggerConsumer, message: Message, queue: str) -> str:
    assert await _ready(queue) == 0  # delivered to the consumer, unacked
    return await consumer.handle(message)


async def test_rabbitmq_a_message_redelivered_after_its_run_was_queued_starts_no_second_run(
        app: FastAPI, client: httpx.AsyncClient, amqp: aio_pika.abc.AbstractChannel, queue_name: str) -> None:
    trigger_id = await _event_trigger(app, client, f"{AMQP_URL}?queue={queue_name}")
    dying = await _consumer(app, trigger_id, "worker-dies")
    await _publish(amqp, queue_name, {"order_id": "S-1"}, message_id="msg-S-1")
    message = await _receive_one(dying)
    async with _rt(app).sessions() as session:  # fired, then the process died before the ack
        reg = await session.get(TriggerRegistration, trigger_id)
        assert reg is not None
        first = await trigger_fire.fire(session, _rt(app), reg, payload=message.body,
                                        triggered_by=dying.triggered_by, idempotency_key=message.message_id)
    await dying.stop()
    loop = EventBusLoop(_rt(app), None, consumer="worker-next", settings=FAST)
    await loop.start()
    try:
        async def deduplicated() -> bool:
            return loop.counts[(trigger_id, "deduplicated")] == 1
        await _eventually(deduplicated)
    finally:
        await loop.stop()
    assert [r.run_id for r in await _runs(app)] == [first.run_id]
    assert await _ready(queue_name) == 0
    assert await _fires(app, trigger_id) == ["queued", "deduplicated"]


async def test_rabbitmq_a_producer_republishing_with_its_message_id_starts_one_run(
        app: FastAPI, client: httpx.AsyncClient, amqp: aio_pika.abc.AbstractChannel, queue_name: str) -> None:
    trigger_id = await _event_trigger(app, client, f"{AMQP_URL}?queue={queue_name}")
    consumer = await _consumer(app, trigger_id, "worker-a")
    try:
        for order, message_id in (("T-1", "msg-T-1"), ("T-1", "msg-T-1"), ("T-1", "msg-T-2")):
            await _publish(amqp, queue_name, {"order_id": order}, message_id=message_id)
        outcomes = [await consumer.handle(await _receive_one(consumer)) for _ in range(3)]
    finally:
        await consumer.stop()
    assert outcomes == ["queued", "deduplicated", "queued"] and len(await _runs(app)) == 2
    assert await _ready(queue_name) == 0


async def test_rabbitmq_a_message_that_does_not_match_starts_nothing_and_is_acked(
        app: FastAPI, client: httpx.AsyncClient, amqp: aio_pika.abc.AbstractChannel, queue_name: str) -> None:
    trigger_id = await _event_trigger(app, client, f"{AMQP_URL}?queue={queue_name}",
                                      event_filter={"status": "paid"})
    consumer = await _consumer(app, trigger_id, "worker-a")
    try:
        await _publish(amqp, queue_name, {"order_id": "U-1", "status": "pending"}, message_id="msg-U-1")
        assert await consumer.handle(await _receive_one(consumer)) == "ignored"
    finally:
        await consumer.stop()
    assert await _runs(app) == [] and await _fires(app, trigger_id) == []
    assert await _ready(queue_name) == 0


async def test_rabbitmq_an_exchange_address_gives_the_trigger_a_queue_of_its_own(
        app: FastAPI, client: httpx.AsyncClient, amqp: aio_pika.abc.AbstractChannel, queue_name: str) -> None:
    exchange_name = queue_name  # deleted by the queue_name fixture
    trigger_id = await _event_trigger(app, client, f"{AMQP_URL}?exchange={exchange_name}&routing_key=order.*")
    own_queue = f"langorch.trigger.{trigger_id}"
    loop = EventBusLoop(_rt(app), None, consumer="worker-loop", settings=FAST)
    await loop.start()
    try:
        async def consuming() -> bool:
            return trigger_id in loop.consumers and loop.consumers[trigger_id][1].connected.is_set()
        await _eventually(consuming, 5.0)
        exchange = await amqp.get_exchange(exchange_name)
        body = json.dumps({"order_id": "V-1"}).encode()
        await exchange.publish(aio_pika.Message(body, message_id="msg-V-1"), routing_key="order.paid")
        await exchange.publish(aio_pika.Message(body, message_id="msg-V-2"), routing_key="invoice.paid")
        await _run_count_becomes(app, 1)
    finally:
        await loop.stop()
        await amqp.queue_delete(own_queue)
    [run] = await _runs(app)
    assert run.input_vars["order_id"] == "V-1" and run.trigger_id == trigger_id
