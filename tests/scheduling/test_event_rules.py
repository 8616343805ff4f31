"""Event triggers without a broker: the address form of ``event_source``, the matching of
``event_type`` and ``event_filter`` over a message, and the dedupe key of an AMQP delivery
that came without a message id."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic
from pamqp.header import ContentHeader

from langorch.scheduling.event_bus import (
    EventConfigError,
    Message,
    check_event_config,
    compile_event_config,
    parse_address,
)
from langorch.scheduling.rabbitmq import amqp_message
from langorch.services.errors import Invalid


def _matches(body: Any, kind: str | None = None, **config: Any) -> bool:
    """Whether a message of type ``kind`` (from the broker) with ``body`` matches ``config``."""
    rule = compile_event_config({"event_config": {"event_source": "redis://127.0.0.1/0?stream=s", **config}})
    return rule.matches(Message("id", body, kind))


def _error(config: dict[str, Any]) -> EventConfigError:
    with pytest.raises(EventConfigError) as caught:
        compile_event_config({"event_config": config})
    return caught.value


def test_a_redis_address_keeps_the_client_options_and_hides_the_password() -> None:
    address = parse_address("redis://app:s3cret@127.0.0.1:6379/2?stream=orders&group=g1&socket_timeout=5")
    assert address.kind == "redis" and address.options == {"stream": "orders", "group": "g1"}
    assert address.url == "redis://app:s3cret@127.0.0.1:6379/2?socket_timeout=5"
    assert address.display == "redis://app@127.0.0.1:6379/2?group=g1&stream=orders"
    assert "s3cret" not in address.display


def test_an_amqp_address_names_a_queue_or_an_exchange() -> None:
    address = parse_address("amqps://guest:guest@mq.example:5671/prod?exchange=events&routing_key=order.*"
                            "&heartbeat=30")
    assert address.kind == "amqp" and address.url == "amqps://guest:guest@mq.example:5671/prod?heartbeat=30"
    assert address.options == {"exchange": "events", "routing_key": "order.*"}
    assert parse_address("amqp://127.0.0.1/?queue=orders").options == {"queue": "orders"}


@pytest.mark.parametrize(("source", "says"), [
    (None, "must be a broker address"),
    ("", "must be a broker address"),
    ("kafka://127.0.0.1:9092/?topic=t", "unknown scheme 'kafka'"),
    ("redis://127.0.0.1:6379/0", "needs ?stream="),
    ("amqp://127.0.0.1/", "needs ?queue="),
    ("redis:///0?stream=s", "names no host"),
    ("redis://127.0.0.1:99999/0?stream=s", "not a valid URL"),
    ("amqp://127.0.0.1/?queue=q&prefetch=0", "prefetch must be a positive integer"),
    ("redis://127.0.0.1/?stream=s&claim_idle_ms=soon", "claim_idle_ms must be a positive integer"),
    ("amqp://127.0.0.1/?exchange=e&exchange_type=weird", "exchange_type must be"),
])
def test_a_bad_address_is_refused_naming_the_field(source: Any, says: str) -> None:
    error = _error({"event_source": source})
    assert error.field == "event_config.event_source" and says in error.message


def test_an_event_trigger_without_event_config_is_refused() -> None:
    with pytest.raises(EventConfigError) as caught:
        compile_event_config({"webhook_config": {}})
    assert caught.value.field == "event_config"


def test_event_type_patterns_match_the_type_the_broker_or_the_body_gives() -> None:
    assert _matches({}, "order.paid", event_type="order.*")
    assert _matches({"event_type": "order.paid"}, event_type=["invoice.*", "order.paid"])
    assert _matches({"type": "order.paid"}, event_type="order.paid")
    assert not _matches({"type": "order.paid"}, "invoice.sent", event_type="order.*")  # the broker's type wins
    assert not _matches({"order_id": 1}, event_type="order.*")  # no type at all
    assert _matches({"order_id": 1})  # no event_type: every type


def test_a_filter_is_equality_one_of_operators_and_dotted_paths_all_of_which_must_hold() -> None:
    flt = {"status": "paid", "customer.tier": ["gold", "silver"], "amount": {">=": 100, "<": 1000},
           "items.0.sku": {"startswith": "SKU-"}, "note": {"exists": False}}
    body = {"status": "paid", "customer": {"tier": "gold"}, "amount": 250, "items": [{"sku": "SKU-1"}]}
    assert _matches(body, event_filter=flt)
    assert _matches({**body, "amount": "250"}, event_filter=flt)  # numeric strings compare as numbers
    assert not _matches({**body, "status": "pending"}, event_filter=flt)
    assert not _matches({**body, "customer": {"tier": "bronze"}}, event_filter=flt)
    assert not _matches({**body, "amount": 1000}, event_filter=flt)
    assert not _matches({**body, "items": [{"sku": "X-1"}]}, event_filter=flt)
    assert not _matches({**body, "note": "hi"}, event_filter=flt)
    assert not _matches({**body, "amount": "many"}, event_filter=flt)  # 'many' >= 100 cannot hold
    assert not _matches("just text", event_filter=flt)


def test_a_condition_in_the_ckp_expression_language_filters_too() -> None:
    flt = {"$condition": "amount > 100 and (currency == 'EUR' or vip)", "region": {"!=": "test"}}
    assert _matches({"amount": 150, "currency": "EUR", "region": "eu"}, event_filter=flt)
    assert _matches({"amount": 150, "currency": "USD", "vip": True, "region": "us"}, event_filter=flt)
    assert not _matches({"amount": 150, "currency": "USD", "region": "us"}, event_filter=flt)
    assert not _matches({"amount": 150, "currency": "EUR", "region": "test"}, event_filter=flt)
    assert _matches(5, event_filter={"$condition": "value > 3"})  # a body that is not an object is `value`


@pytest.mark.parametrize(("event_filter", "field", "says"), [
    ({"amount": {"~": 1}}, "event_config.event_filter.amount", "unknown operator '~'"),
    ({"amount": {}}, "event_config.event_filter.amount", "an empty object"),
    ({"a..b": 1}, "event_config.event_filter.a..b", "not a dotted path"),
    ({"a": {"==": {"x": 1}}}, "event_config.event_filter.a.==", "compares with dict"),
    ({"$condition": "amount >"}, "event_config.event_filter.$condition", "cannot parse"),
    ({"$condition": 5}, "event_config.event_filter.$condition", "must be a condition"),
    ("status == 'paid'", "event_config.event_filter", "must be an object"),
])
def test_a_bad_filter_is_refused_naming_the_field(event_filter: Any, field: str, says: str) -> None:
    error = _error({"event_source": "redis://127.0.0.1/0?stream=s", "event_filter": event_filter})
    assert error.field == field and says in error.message


def test_the_registration_check_answers_422_naming_the_field_under_config() -> None:
    check_event_config({"event_config": {"event_source": "amqp://127.0.0.1/?queue=orders"}})
    with pytest.raises(Invalid) as caught:
        check_event_config({"event_config": {"event_source": "amqp://127.0.0.1/?queue=q",
                                             "event_filter": {"amount": {"~": 1}}}})
    assert caught.value.code == "invalid"  # 422 (api/errors.py)
    assert caught.value.details == [{"field": "config.event_config.event_filter.amount",
                                     "message": "unknown operator '~'; use one of ==, !=, <, <=, >, >=, in, not in, "
                                                "contains, not contains, startswith, not startswith, endswith, "
                                                "not endswith, matches, not matches or exists"}]


def test_a_bad_event_type_is_refused() -> None:
    error = _error({"event_source": "redis://127.0.0.1/0?stream=s", "event_type": [1, 2]})
    assert error.field == "event_config.event_type"


def _delivered(body: bytes, **properties: Any) -> AbstractIncomingMessage:
    """A delivery as aio-pika hands it over (aio-pika itself always sets a message_id when
    publishing; other clients need not)."""
    deliver = Basic.Deliver(consumer_tag="c", delivery_tag=1, redelivered=False, exchange="", routing_key="q")
    header = ContentHeader(properties=Basic.Properties(**properties))
    return aio_pika.IncomingMessage(DeliveredMessage(deliver, header, body, None), no_ack=False)  # type: ignore[arg-type]


def test_an_amqp_message_without_an_id_is_keyed_by_the_hash_of_its_body() -> None:
    body = json.dumps({"order_id": "T-9"}).encode()
    first, again = amqp_message(_delivered(body)), amqp_message(_delivered(body))
    assert first.message_id == again.message_id == "sha256:" + hashlib.sha256(body).hexdigest()
    assert first.body == {"order_id": "T-9"} and first.event_type is None
    typed = amqp_message(_delivered(body, message_id="m-1", message_type="order.paid"))
    assert typed.message_id == "m-1" and typed.event_type == "order.paid"
    assert amqp_message(_delivered(b"not json")).body == "not json"
