"""The frames a batch is published with (shared/messaging/confirmed.py) are byte for byte those pamqp marshals for
the same Basic.Publish, content header and body: built without pamqp's objects per message, they must not drift."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pamqp import commands as spec
from pamqp import frame
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from shared.messaging.confirmed import Outgoing, frames, properties

EVENT: dict[str, Any] = {
    "content_type": "application/json", "delivery_mode": 2,
    "headers": {"event-version": 1, "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
    "correlation_id": "a0e4c2d6-1f3b-4c5d-8e9f-0a1b2c3d4e5f", "message_id": "b1f5d3e7-2a4c-4d6e-9f0a-1b2c3d4e5f6a",
    "timestamp": datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), "message_type": "domain.created",
    "user_id": "registry", "app_id": "registry",
}


def marshalled(channel: int, exchange: str, routing_key: str, body: bytes, values: dict[str, Any],
               max_content_size: int) -> bytes:
    """What aiormq's basic_publish sends, through pamqp's own objects."""
    parts: list[spec.Basic.Publish | ContentHeader | ContentBody] = [
        spec.Basic.Publish(exchange=exchange, routing_key=routing_key),
        ContentHeader(properties=spec.Basic.Properties(**values), body_size=len(body))]
    parts += [ContentBody(body[i:i + max_content_size]) for i in range(0, len(body), max_content_size)]
    return b"".join(frame.marshal(p, channel) for p in parts)


@pytest.mark.parametrize("values", [
    EVENT,
    {**EVENT, "user_id": None, "app_id": None, "headers": {"event-version": 2}},  # unset ones are left out
    {"delivery_mode": 2, "message_id": "x", "content_encoding": "gzip", "priority": 5, "reply_to": "r",
     "expiration": "60000", "headers": {"n": 1 << 40, "flag": True, "s": "é", "nested": {"a": [1, "b"]}}},
    {},
])
def test_the_frames_are_those_pamqp_marshals(values: dict[str, Any]) -> None:
    body = b'{"event_type": "domain.created"}'
    ours = frames(3, "registry.events", [Outgoing("domain.created", body, properties(**values))], 131_064)
    assert ours == marshalled(3, "registry.events", "domain.created", body, values, 131_064)


def test_a_batch_is_its_messages_frames_one_after_the_other_and_a_long_body_is_split() -> None:
    bodies = [b"a" * 10, b"", b"b" * 25]
    messages = [Outgoing(f"type.{i}", body, properties(**EVENT)) for i, body in enumerate(bodies)]
    expected = b"".join(marshalled(7, "x", f"type.{i}", body, EVENT, 8) for i, body in enumerate(bodies))
    assert frames(7, "x", messages, 8) == expected


def test_a_property_pamqp_does_not_know_is_refused() -> None:
    with pytest.raises(TypeError, match="type"):
        properties(type="domain.created")  # pamqp calls it message_type
