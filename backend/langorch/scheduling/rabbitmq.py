"""The RabbitMQ adapter of the event bus (aio-pika).

The trigger's queue is declared durable (and, with ``exchange=``, bound to that durable
exchange with ``routing_key``); messages are consumed with manual acknowledgement and at
most ``prefetch`` unacknowledged at a time. A message is acked once the run is queued; a
message given back (:meth:`nack`) is requeued, and one still unacknowledged when the
connection closes — the consumer stopped or died — is delivered again by the broker.

A message's body is its JSON (else its text); its dedupe key is its ``message_id``
property, else the SHA-256 of its body; its type is its ``type`` property."""

from __future__ import annotations

import asyncio
import contextlib

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from langorch.scheduling.event_bus import Message, Subscription, body_digest, decode_body

__all__ = ["RabbitMqAdapter"]


class RabbitMqAdapter:
    def __init__(self, subscription: Subscription) -> None:
        options = subscription.address.options
        self.url = subscription.address.url
        self.exchange = options.get("exchange")
        self.exchange_type = options.get("exchange_type") or "topic"
        self.routing_key = options.get("routing_key") or ("#" if self.exchange_type == "topic" else "")
        self.queue = options.get("queue") or f"langorch.trigger.{subscription.trigger_id}"
        self.prefetch = int(options.get("prefetch") or 10)
        self._connection: AbstractConnection | None = None
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

    async def connect(self) -> None:
        if self._connection is not None:
            return
        connection = await aio_pika.connect(self.url)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.prefetch)
            queue = await channel.declare_queue(self.queue, durable=True)
            if self.exchange:
                exchange = await channel.declare_exchange(self.exchange, self.exchange_type, durable=True)
                await queue.bind(exchange, routing_key=self.routing_key)
            self._inbox = asyncio.Queue()
            await queue.consume(self._inbox.put)
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        self._connection = connection

    def _check(self) -> None:
        if self._connection is None or self._connection.is_closed:
            raise ConnectionError(f"the connection to RabbitMQ (queue {self.queue!r}) is closed")

    async def receive(self, *, max_messages: int, timeout_s: float) -> list[Message]:
        self._check()
        try:
            first = await asyncio.wait_for(self._inbox.get(), timeout_s)
        except TimeoutError:
            self._check()
            return []
        batch = [first]
        while len(batch) < max_messages and not self._inbox.empty():
            batch.append(self._inbox.get_nowait())
        return [amqp_message(incoming) for incoming in batch]

    async def ack(self, message: Message) -> None:
        incoming: AbstractIncomingMessage = message.token
        await incoming.ack()

    async def nack(self, message: Message) -> None:
        incoming: AbstractIncomingMessage = message.token
        await incoming.nack(requeue=True)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()  # unacknowledged messages go back to the queue


def amqp_message(incoming: AbstractIncomingMessage) -> Message:
    key = incoming.message_id or body_digest(incoming.body)
    return Message(key, decode_body(incoming.body), incoming.type or None, bool(incoming.redelivered),
                   token=incoming)

