"""Event triggers: runs started by messages on a broker (Redis Streams, RabbitMQ).

An ``event`` trigger's ``config.event_config`` says where its messages come from and which
of them start a run::

    {"event_source": "redis://127.0.0.1:6379/0?stream=orders",
     "event_type": ["order.paid", "order.refunded"],          # optional, fnmatch patterns
     "event_filter": {"status": "paid", "amount": {">=": 100}}}  # optional

**Addresses** (``event_source``) are the broker's own URL plus options in the query string;
the options below are taken out, every other query parameter goes to the client library:

* ``redis://[user:password@]host[:port][/db]?stream=NAME`` (or ``rediss://``): a Redis
  stream read through a consumer group, ``langorch.trigger.<trigger id>`` unless
  ``group=`` names one. ``start=$`` (default: messages added after the group was made) or
  ``start=0`` (the whole stream) for a new group; ``claim_idle_ms=`` (default from the
  settings) is how long an entry stays pending with a consumer that died before it is
  taken over. See :mod:`langorch.scheduling.redis_streams`.
* ``amqp://[user:password@]host[:port][/vhost]?queue=NAME`` (or ``amqps://``): a durable
  RabbitMQ queue. With ``exchange=NAME`` (``exchange_type=topic|direct|fanout|headers``,
  default topic, and ``routing_key=``, default ``#``) the queue is bound to that durable
  exchange; without ``queue=`` it is then ``langorch.trigger.<trigger id>``, so every
  trigger gets its own copy of each message. ``prefetch=`` (default 10). See
  :mod:`langorch.scheduling.rabbitmq`.

**Matching.** A message's *type* is what the broker says (AMQP ``type`` property, a Redis
entry's ``event_type`` or ``type`` field), else the body's ``event_type`` or ``type``
field; with ``event_type`` set, only messages whose type matches one of its patterns start
a run. ``event_filter`` is an object of conditions over the message's JSON body, all of
which must hold: a key is a dotted path (``customer.tier``, ``items.0.sku``); the value is
either a literal (equality), a list (one of), or an object of operators —
``==  !=  <  <=  >  >=  in  not in  contains  not contains  startswith  endswith
matches`` and ``exists`` (true/false) — and the key ``$condition`` holds a condition in
the CKP expression language (``amount > 100 and currency == 'EUR'``). They are evaluated by
:mod:`langorch.runtime.conditions` (no ``eval``; numeric strings compare as numbers).

**Delivery.** A matching message is handed to :func:`langorch.services.trigger_fire.fire`
with the message id as the idempotency key and acknowledged only once the run is queued
(or the fire was recorded otherwise: deduplicated, skipped by the overlap policy, or
failed on the input mapping — all in the trigger's history). A message whose handling
raises anything else ``max_attempts`` times while the database answers is recorded as a
failed fire and acknowledged, so that one bad message cannot come back forever. A consumer that dies between
receiving and acknowledging leaves the message with the broker, which delivers it again;
the dedupe key makes the second delivery answer with the first run. A message that does
not match is acknowledged and only counted (:attr:`EventBusLoop.counts`). When the
database is away, or this process is no longer the leader, the message is given back
(nack) and retried after a pause.

:class:`EventBusLoop` is a leader-only singleton: it re-reads the enabled ``event``
registrations every ``refresh_s`` and starts, restarts (configuration changed) or stops
one :class:`TriggerConsumer` per registration."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import importlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select

from langorch.ckp.expressions import (
    BoolOp,
    Check,
    Compare,
    Expr,
    ExpressionSyntaxError,
    ListExpr,
    Literal,
    PathSegment,
    Ref,
    parse_expression,
)
from langorch.runtime.conditions import evaluate, truthy
from langorch.runtime.errors import ConditionError, InputError
from langorch.scheduling.leader import Lease
from langorch.services import trigger_fire
from langorch.services.errors import Invalid, ServiceError
from langorch.services.runtime_wiring import ServerRuntime
from langorch.services.triggers import now
from langorch.settings import EventBusSettings
from langorch.store.models import TriggerFire, TriggerRegistration

log = logging.getLogger(__name__)

__all__ = ["ADAPTERS", "EventAdapter", "EventAddress", "EventBusLoop", "EventConfigError", "EventRule", "Message",
           "Subscription", "TriggerConsumer", "check_event_config", "compile_event_config", "open_adapter",
           "parse_address"]


class EventConfigError(ValueError):
    """An ``event_config`` that cannot be used; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# -- addresses -----------------------------------------------------------------------------------

OPTIONS: dict[str, frozenset[str]] = {
    "redis": frozenset({"stream", "group", "start", "claim_idle_ms"}),
    "amqp": frozenset({"queue", "exchange", "exchange_type", "routing_key", "prefetch"}),
}
SCHEMES = {"redis": "redis", "rediss": "redis", "amqp": "amqp", "amqps": "amqp"}
"""URL scheme → adapter kind."""


@dataclass(frozen=True)
class EventAddress:
    kind: str
    """redis | amqp"""
    url: str
    """The broker URL handed to the client library (our options taken out)."""
    options: Mapping[str, str]

    @property
    def display(self) -> str:
        """The address without its password (for run records and logs)."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
        query = urlencode(sorted(self.options.items()))
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def parse_address(text: Any) -> EventAddress:
    """``event_source`` → :class:`EventAddress`; :class:`EventConfigError` names what is wrong."""
    where = "event_config.event_source"
    if not isinstance(text, str) or not text.strip():
        raise EventConfigError(where, "must be a broker address such as redis://127.0.0.1:6379/0?stream=orders "
                                      "or amqp://guest:guest@127.0.0.1:5672/?queue=orders")
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise EventConfigError(where, f"not a valid URL: {exc}") from None
    kind = SCHEMES.get(parts.scheme.lower())
    if kind is None:
        raise EventConfigError(where, f"unknown scheme {parts.scheme!r}; use one of {', '.join(sorted(SCHEMES))}")
    if not parts.hostname:
        raise EventConfigError(where, "names no host")
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in OPTIONS[kind]}
    rest = [(k, v) for k, v in query if k not in OPTIONS[kind]]
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    address = EventAddress(kind, url, ours)
    _check_options(address, where)
    return address


def _check_options(address: EventAddress, where: str) -> None:
    opts = address.options
    if address.kind == "redis" and not opts.get("stream"):
        raise EventConfigError(where, "a redis:// address needs ?stream=<stream name>")
    if address.kind == "amqp" and not (opts.get("queue") or opts.get("exchange")):
        raise EventConfigError(where, "an amqp:// address needs ?queue=<queue name> (or ?exchange=<exchange name>)")
    for name in ("claim_idle_ms", "prefetch"):
        if name in opts and not (opts[name].isdigit() and int(opts[name]) > 0):
            raise EventConfigError(where, f"{name} must be a positive integer, not {opts[name]!r}")
    if "exchange_type" in opts and opts["exchange_type"] not in ("topic", "direct", "fanout", "headers"):
        raise EventConfigError(where, "exchange_type must be topic, direct, fanout or headers")


# -- matching ------------------------------------------------------------------------------------

_OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "not contains", "startswith",
              "not startswith", "endswith", "not endswith", "matches", "not matches")
CONDITION_KEY = "$condition"

Scalar = str | int | float | bool | None


def _literal(value: Any, where: str) -> Expr:
    if isinstance(value, list | tuple):
        return ListExpr(tuple(_literal(item, where) for item in value))
    if value is None or isinstance(value, str | int | float | bool):
        return Literal(value)
    raise EventConfigError(where, f"compares with {type(value).__name__} {value!r}; use a string, number, "
                                  f"boolean, null or a list of them")


def _path(key: str, where: str) -> Ref:
    segments: list[PathSegment] = []
    for part in key.split("."):
        if not part:
            raise EventConfigError(where, f"{key!r} is not a dotted path")
        segments.append(int(part) if part.lstrip("-").isdigit() else part)
    return Ref(tuple(segments))


def _filter_terms(event_filter: Mapping[str, Any]) -> list[Expr]:
    terms: list[Expr] = []
    for key, value in event_filter.items():
        where = f"event_config.event_filter.{key}"
        if key == CONDITION_KEY:
            if not isinstance(value, str):
                raise EventConfigError(where, "must be a condition (text), e.g. \"amount > 100\"")
            try:
                terms.append(parse_expression(value))
            except ExpressionSyntaxError as exc:
                raise EventConfigError(where, f"cannot parse {value!r}: {exc}") from None
            continue
        ref = _path(str(key), where)
        if isinstance(value, Mapping):
            if not value:
                raise EventConfigError(where, "an empty object; give operators such as {\">=\": 100}")
            for op, operand in value.items():
                if op == "exists":
                    terms.append(Check("exists", ref, negated=not truthy(operand)))
                elif op in _OPERATORS:
                    terms.append(Compare(op, ref, _literal(operand, f"{where}.{op}")))
                else:
                    raise EventConfigError(where, f"unknown operator {op!r}; use one of "
                                                  f"{', '.join(_OPERATORS)} or exists")
        elif isinstance(value, list):
            terms.append(Compare("in", ref, _literal(value, where)))
        else:
            terms.append(Compare("==", ref, _literal(value, where)))
    return terms


@dataclass(frozen=True)
class Message:
    """One delivery from a broker."""

    message_id: str
    """The dedupe key: the broker's (or producer's) id of the message."""
    body: Any
    """The JSON body (a dict for most producers), else its text."""
    event_type: str | None = None
    """The type the broker's metadata gave, if any (see :func:`event_type_of`)."""
    redelivered: bool = False
    token: Any = field(default=None, compare=False, repr=False)
    """What the adapter needs to acknowledge it."""


def event_type_of(message: Message) -> str | None:
    if message.event_type:
        return message.event_type
    if isinstance(message.body, Mapping):
        for name in ("event_type", "type"):
            value = message.body.get(name)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return str(value)
    return None


@dataclass(frozen=True)
class EventRule:
    """A compiled ``event_config``: where to listen and which messages start a run."""

    address: EventAddress
    types: tuple[str, ...] = ()
    condition: Expr | None = None

    def matches(self, message: Message) -> bool:
        """Whether ``message`` starts a run; a condition that cannot be evaluated over this
        message (``'a' < 1``) does not match it."""
        if self.types:
            kind = event_type_of(message)
            if kind is None or not any(fnmatch.fnmatchcase(kind, pattern) for pattern in self.types):
                return False
        if self.condition is None:
            return True
        scope = message.body if isinstance(message.body, Mapping) else {"value": message.body}
        try:
            return truthy(evaluate(self.condition, scope))
        except ConditionError as exc:
            log.info("message %s does not match: %s", message.message_id, exc)
            return False


def compile_event_config(config: Mapping[str, Any] | None) -> EventRule:
    """A registration's ``config`` (or its ``event_config``) → :class:`EventRule`."""
    if isinstance(config, Mapping) and "event_source" not in config:
        config = config.get("event_config")
    if not isinstance(config, Mapping):
        raise EventConfigError("event_config", "an event trigger needs config.event_config with an event_source")
    address = parse_address(config.get("event_source"))
    raw_types = config.get("event_type")
    if raw_types is None:
        types: tuple[str, ...] = ()
    elif isinstance(raw_types, str):
        types = (raw_types,)
    elif isinstance(raw_types, list) and all(isinstance(t, str) and t for t in raw_types):
        types = tuple(raw_types)
    else:
        raise EventConfigError("event_config.event_type", "must be a type name or a list of them")
    event_filter = config.get("event_filter")
    if event_filter is not None and not isinstance(event_filter, Mapping):
        raise EventConfigError("event_config.event_filter", "must be an object of conditions")
    terms = _filter_terms(event_filter or {})
    condition = None if not terms else terms[0] if len(terms) == 1 else BoolOp("and", tuple(terms))
    return EventRule(address, types, condition)


def check_event_config(config: Mapping[str, Any] | None) -> None:
    """Raise ``Invalid`` (422, naming the field under ``config``) unless ``config`` holds a
    usable ``event_config`` — for the registration check of ``event`` triggers."""
    try:
        compile_event_config(config)
    except EventConfigError as exc:
        where = f"config.{exc.field}"
        raise Invalid(f"{where}: {exc.message}", details=[{"field": where, "message": exc.message}]) from None


def body_digest(body: bytes) -> str:
    """The dedupe key of a message that came without an id."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def decode_body(raw: bytes | str) -> Any:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        return text


# -- adapters ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Subscription:
    """What an adapter consumes for: one trigger, at one address, as one consumer."""

    trigger_id: str
    address: EventAddress
    consumer: str
    """This process's name at the broker (a Redis consumer name)."""
    claim_idle_s: float = 30.0
    """Redis: how long an entry stays pending with another consumer before it is taken over."""


class EventAdapter(Protocol):
    """One subscription's connection to a broker. Nothing is acknowledged by itself: a
    message received and neither acked nor nacked is delivered again after :meth:`close`
    (RabbitMQ) or once it has been pending ``claim_idle_s`` (Redis)."""

    async def connect(self) -> None: ...

    async def receive(self, *, max_messages: int, timeout_s: float) -> list[Message]:
        """Up to ``max_messages``, waiting at most ``timeout_s`` for the first one. Raises
        ``ConnectionError`` when the connection is gone."""
        ...

    async def ack(self, message: Message) -> None: ...

    async def nack(self, message: Message) -> None:
        """Give ``message`` back for a later delivery."""
        ...

    async def close(self) -> None: ...


ADAPTERS: dict[str, str] = {
    "redis": "langorch.scheduling.redis_streams:RedisStreamsAdapter",
    "amqp": "langorch.scheduling.rabbitmq:RabbitMqAdapter",
}
"""Adapter kind → ``module:class`` (imported when first used); the class takes a :class:`Subscription`."""


def open_adapter(subscription: Subscription) -> EventAdapter:
    module_name, _, class_name = ADAPTERS[subscription.address.kind].partition(":")
    factory: Callable[[Subscription], EventAdapter] = getattr(importlib.import_module(module_name), class_name)
    return factory(subscription)


# -- the consumer --------------------------------------------------------------------------------

class TriggerConsumer:
    """Consumes one event trigger's messages and fires it for those that match."""

    def __init__(self, rt: ServerRuntime, lease: Lease | None, trigger_id: str, rule: EventRule, *,
                 consumer: str, settings: EventBusSettings, counts: Counter[tuple[str, str]] | None = None,
                 adapter: EventAdapter | None = None) -> None:
        self.rt = rt
        self.lease = lease
        self.trigger_id = trigger_id
        self.rule = rule
        self.settings = settings
        self.counts: Counter[tuple[str, str]] = counts if counts is not None else Counter()
        claim_s = int(rule.address.options.get("claim_idle_ms", 0)) / 1000 or settings.claim_idle_s
        self.adapter = adapter or open_adapter(Subscription(trigger_id, rule.address, consumer, claim_s))
        self.connected = asyncio.Event()
        self._attempts: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def triggered_by(self) -> str:
        return f"event:{self.rule.address.display}"[:200]

    async def handle(self, message: Message) -> str:
        """Fire for ``message`` and ack or nack it; returns what happened (an outcome of
        :func:`trigger_fire.fire`, ``ignored``, ``failed``, or ``returned`` when it was given back)."""
        if not self.rule.matches(message):
            await self.adapter.ack(message)
            return self._count("ignored")
        async with self.rt.sessions() as session:
            reg = await session.get(TriggerRegistration, self.trigger_id)
            if reg is None or not reg.enabled or reg.trigger_type != "event":
                await self.adapter.nack(message)  # paused or removed: it waits for a consumer that wants it
                return self._count("returned")
            if self.lease is not None and not await self.lease.held(session):
                await self.adapter.nack(message)  # deposed: the new leader takes it
                return self._count("returned")
            try:
                result = await trigger_fire.fire(session, self.rt, reg, payload=message.body,
                                                 triggered_by=self.triggered_by,
                                                 idempotency_key=message.message_id)
            except (ServiceError, InputError) as exc:  # recorded as a failed fire: retrying cannot help
                log.warning("event trigger %s: message %s started no run: %s", self.trigger_id, message.message_id,
                            getattr(exc, "message", exc))
                await self.adapter.ack(message)
                return self._count("failed")
        await self.adapter.ack(message)
        return self._count(result.outcome)

    def _count(self, outcome: str) -> str:
        self.counts[(self.trigger_id, outcome)] += 1
        return outcome

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"event-trigger-{self.trigger_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, timeout=10)  # a client that swallows the cancel must not hang us
            self._task = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.adapter.close(), timeout=10)

    async def _run(self) -> None:
        backoff = self.settings.retry_s
        while True:
            try:
                await self.adapter.connect()
                self.connected.set()
                backoff = self.settings.retry_s
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker (or the database) is away: reconnect after a pause
                log.warning("event trigger %s (%s): %s; retrying in %.0f s", self.trigger_id,
                            self.rule.address.display, exc, backoff)
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await self.adapter.close()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.max_retry_s)

    async def _consume(self) -> None:
        while True:
            batch = await self.adapter.receive(max_messages=self.settings.batch, timeout_s=self.settings.poll_s)
            for index, message in enumerate(batch):
                try:
                    outcome = await self.handle(message)
                except Exception as exc:
                    if not await self._give_up(message, exc):
                        await self._give_back(batch[index:])
                        raise
                    continue
                self._attempts.pop(message.message_id, None)
                if outcome == "returned":
                    await self._give_back(batch[index + 1:])
                    await asyncio.sleep(self.settings.retry_s)
                    break

    async def _give_back(self, messages: list[Message]) -> None:
        for message in messages:
            with contextlib.suppress(Exception):
                await self.adapter.nack(message)

    async def _give_up(self, message: Message, exc: Exception) -> bool:
        """After ``max_attempts`` failures with the database answering, record the message as
        a failed fire and ack it, so one message that always fails does not come back forever."""
        attempts = self._attempts[message.message_id] = self._attempts.get(message.message_id, 0) + 1
        if attempts < self.settings.max_attempts:
            return False
        try:
            async with self.rt.sessions() as session:
                session.add(TriggerFire(trigger_id=self.trigger_id, fired_at=now(), outcome="failed",
                                        detail=f"message {message.message_id!r} dropped after {attempts} failed "
                                               f"attempts: {exc}"[:2000]))
                await session.commit()
            await self.adapter.ack(message)
        except Exception:
            return False  # the database (or the broker) is away: keep the message
        log.error("event trigger %s: message %s dropped after %d failed attempts: %s", self.trigger_id,
                  message.message_id, attempts, exc)
        self._attempts.pop(message.message_id, None)
        self._count("failed")
        return True


class EventBusLoop:
    """The leader's event consumers: one per enabled ``event`` trigger, kept in step with
    the registrations every ``refresh_s``."""

    name = "event-bus"

    def __init__(self, rt: ServerRuntime, lease: Lease | None, *, consumer: str | None = None,
                 settings: EventBusSettings | None = None) -> None:
        self.rt = rt
        self.lease = lease
        self.settings = settings or rt.settings.event_bus
        self.consumer = consumer or (lease.holder if lease is not None else "langorch")
        self.consumers: dict[str, tuple[str, TriggerConsumer]] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        self._reported: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> set[str]:
        """Start, restart or stop consumers to match the enabled event registrations; returns
        the ids of the triggers consumed now."""
        async with self.rt.sessions() as session:
            regs = list(await session.scalars(select(TriggerRegistration).where(
                TriggerRegistration.trigger_type == "event", TriggerRegistration.enabled.is_(True))))
            wanted: dict[str, tuple[str, EventRule]] = {}
            for reg in regs:
                fingerprint = json.dumps(reg.config or {}, sort_keys=True, default=str)
                try:
                    wanted[reg.id] = (fingerprint, compile_event_config(reg.config))
                except EventConfigError as exc:
                    await self._report(session, reg, fingerprint, exc)
        for trigger_id in list(self.consumers):
            fingerprint, consumer = self.consumers[trigger_id]
            if trigger_id not in wanted or wanted[trigger_id][0] != fingerprint:
                del self.consumers[trigger_id]
                await consumer.stop()
                log.info("event trigger %s: consumer stopped", trigger_id)
        for trigger_id, (fingerprint, rule) in wanted.items():
            if trigger_id not in self.consumers:
                try:
                    consumer = TriggerConsumer(self.rt, self.lease, trigger_id, rule, consumer=self.consumer,
                                               settings=self.settings, counts=self.counts)
                except Exception:
                    log.exception("event trigger %s: no consumer for %s", trigger_id, rule.address.display)
                    continue
                self.consumers[trigger_id] = (fingerprint, consumer)
                await consumer.start()
                log.info("event trigger %s: consuming %s", trigger_id, rule.address.display)
        return set(self.consumers)

    async def _report(self, session: Any, reg: TriggerRegistration, fingerprint: str, exc: EventConfigError) -> None:
        """Say once (per configuration, in the trigger's history) why it cannot consume."""
        if (reg.id, fingerprint) in self._reported:
            return
        self._reported.add((reg.id, fingerprint))
        session.add(TriggerFire(trigger_id=reg.id, fired_at=now(), outcome="failed",
                                detail=f"cannot consume events: {exc}"))
        await session.commit()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: keep the consumers we have
                log.exception("event triggers could not be re-read")
            await asyncio.sleep(self.settings.refresh_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self.consumers:
            _, (_, consumer) = self.consumers.popitem()
            await consumer.stop()
