"""The Redis Streams adapter of the event bus (redis-py asyncio).

Each trigger reads its stream through a consumer group of its own
(``langorch.trigger.<trigger id>`` unless the address names ``group=``), created on first
connect at ``start`` (``$``: entries added from then on; ``0``: the whole stream). New
entries come from ``XREADGROUP ... >``; an entry stays in the group's pending list until
it is acknowledged with ``XACK``. Entries left pending longer than ``claim_idle_s`` — by a
consumer that died, or given back with :meth:`nack` — are taken over with ``XAUTOCLAIM``
before new ones are read, so nothing received is lost when a leader stops halfway.
Consumers that hold nothing and have been silent for an hour are removed from the group.

An entry's body is the JSON in its ``payload`` field when it has one, else its fields as a
JSON object of strings. Its dedupe key is its ``message_id`` field when the producer set
one (a producer that retries ``XADD`` then creates no second run), else
``<stream>/<entry id>``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from langorch.scheduling.event_bus import Message, Subscription, decode_body

PAYLOAD_FIELD = "payload"
FORGET_IDLE_MS = 3_600_000

log = logging.getLogger(__name__)


class RedisStreamsAdapter:
    def __init__(self, subscription: Subscription) -> None:
        options = subscription.address.options
        self.url = subscription.address.url
        self.stream = options["stream"]
        self.group = options.get("group") or f"langorch.trigger.{subscription.trigger_id}"
        self.start = options.get("start") or "$"
        self.consumer = subscription.consumer
        self.claim_idle_ms = max(1, int(subscription.claim_idle_s * 1000))
        self._redis: Redis | None = None
        self._cursor = "0-0"

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            raise ConnectionError(f"not connected to {self.stream!r}")
        return self._redis

    async def connect(self) -> None:
        if self._redis is not None:
            return
        # A socket timeout well above the longest blocking read: a dead connection fails instead
        # of hanging a consumer (or its shutdown) for ever.
        client = Redis.from_url(self.url, decode_responses=True, socket_connect_timeout=5, socket_timeout=30)
        try:
            await client.xgroup_create(self.stream, self.group, id=self.start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                await client.aclose()
                raise
        except BaseException:
            await client.aclose()
            raise
        self._redis = client
        await self._forget_gone_consumers()

    async def _forget_gone_consumers(self) -> None:
        """Remove the group's consumers that hold nothing and have been silent for an hour:
        every leader process reads under a name of its own, so they would pile up."""
        for consumer in await self.redis.xinfo_consumers(self.stream, self.group):
            if consumer["name"] != self.consumer and int(consumer["pending"]) == 0 \
                    and int(consumer["idle"]) > FORGET_IDLE_MS:
                await self.redis.xgroup_delconsumer(self.stream, self.group, consumer["name"])

    async def receive(self, *, max_messages: int, timeout_s: float) -> list[Message]:
        claimed = await self._reclaim(max_messages)
        if claimed:
            return claimed
        answer = await self.redis.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=max_messages,
                                             block=max(1, int(timeout_s * 1000)))
        out: list[Message] = []
        for _stream, entries in _streams(answer):
            out.extend(self._message(entry_id, fields, redelivered=False) for entry_id, fields in entries
                       if fields is not None)
        return out

    async def _reclaim(self, count: int) -> list[Message]:
        """Entries pending with any consumer for longer than the claim idle time, now ours."""
        answer = await self.redis.xautoclaim(self.stream, self.group, self.consumer, self.claim_idle_ms,
                                             start_id=self._cursor, count=count)
        self._cursor = str(answer[0])
        return [self._message(entry_id, fields, redelivered=True) for entry_id, fields in answer[1]
                if fields is not None]

    def _message(self, entry_id: str, fields: dict[str, str], *, redelivered: bool) -> Message:
        body: Any = decode_body(fields[PAYLOAD_FIELD]) if PAYLOAD_FIELD in fields else dict(fields)
        kind = fields.get("event_type") or fields.get("type")
        key = fields.get("message_id") or f"{self.stream}/{entry_id}"
        return Message(key, body, kind, redelivered, token=entry_id)

    async def ack(self, message: Message) -> None:
        await self.redis.xack(self.stream, self.group, message.token)

    async def nack(self, message: Message) -> None:
        """Nothing to do: the entry stays pending and is reclaimed after the idle time."""

    async def close(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            try:  # a connection left mid-read by a cancelled XREADGROUP must not hang the shutdown
                await asyncio.wait_for(client.aclose(), timeout=5)
            except (TimeoutError, OSError):
                log.warning("redis connection for %r did not close cleanly", self.stream)


def _streams(answer: Any) -> list[tuple[str, list[tuple[str, dict[str, str] | None]]]]:
    """XREADGROUP's answer (RESP2): a list of (stream, entries) pairs, or None."""
    return [(name, entries) for name, entries in answer or []]
