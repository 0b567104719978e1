"""A batch of messages published with publisher confirms in one write to the broker.

aiormq's basic_publish takes, per message, the channel lock, a timeout, two futures, a write-queue entry, a
socket write and a drain: for the outbox relay, which publishes a few hundred at a time, that (and FastStream's
publish around it) was most of its CPU. Here a batch's frames are marshalled together and go to the connection's
write queue as one entry, under the channel lock, with the next delivery tags taken for them in order as
basic_publish takes them (publishes of others on the channel, before or after, keep theirs). Each message has its
confirmation future in the channel's table: the channel's reader resolves it on the broker's ack (single or
multiple), fails it on a nack (DeliveryError), and a channel that closes rejects it (it is in the channel's
future store): a message counts as published only once its future holds an ack.

The frames are those pamqp marshals (tests/unit/test_confirmed_frames.py compares them byte for byte), built without
pamqp's objects per message: the Basic.Publish frame of an exchange and routing key is marshalled once, and a
message's properties are encoded with pamqp's encoders straight from their values (pamqp's generic marshalling
of a Publish and a content header was half of the relay's cost per message).

It uses aiormq Channel attributes beyond the public API (delivery_tag, confirmations, write_queue,
max_content_size, as basic_publish does): aiormq is pinned by requirements.lock and
tests/integration/test_confirmed_batches.py covers the behaviour on the real broker.
"""

from __future__ import annotations

import asyncio
import functools
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiormq
from aiormq.abc import ChannelFrame
from pamqp import commands as spec
from pamqp import constants, encode, frame


# the content header's properties in AMQP order: name, flag bit, encoder (pamqp's, by the property's AMQP type)
_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "shortstr": encode.short_string, "table": encode.field_table, "octet": encode.octet, "timestamp": encode.timestamp,
}
_PROPERTIES = tuple((name, spec.Basic.Properties.flags[name], _ENCODERS[getattr(spec.Basic.Properties, f"_{name}")])
                    for name in spec.Basic.Properties.__slots__)
_NAMES = frozenset(name for name, _, _ in _PROPERTIES)
_FRAME = struct.Struct(">BHI")  # frame type, channel, payload size
_HEADER = struct.Struct(">HHQ")  # a content header's class id, weight and body size
_FLAGS = struct.Struct(">H")  # Basic's 14 property flags fit one word: its last bit (more flags follow) stays 0
_END = bytes((constants.FRAME_END,))


def properties(**values: Any) -> bytes:
    """A message's properties as the content header carries them (flags, then the values that are set), named as
    pamqp's Basic.Properties names them (message_type for the AMQP `type`). None or '' is not set."""
    unknown = values.keys() - _NAMES
    if unknown:
        raise TypeError(f"not AMQP basic properties: {sorted(unknown)}")
    flags, parts = 0, []
    for name, flag, encoder in _PROPERTIES:
        value = values.get(name)
        if value is not None and value != "":
            flags |= flag
            parts.append(encoder(value))
    return _FLAGS.pack(flags) + b"".join(parts)


@dataclass(frozen=True, slots=True)
class Outgoing:
    routing_key: str
    body: bytes
    properties: bytes  # properties(...): flags and values


@functools.lru_cache(maxsize=1024)
def _publish_frame(channel: int, exchange: str, routing_key: str) -> bytes:
    return frame.marshal(spec.Basic.Publish(exchange=exchange, routing_key=routing_key), channel)


def frames(channel: int, exchange: str, messages: Sequence[Outgoing], max_content_size: int) -> bytes:
    """The frames that publish `messages` (mandatory=False) on `channel`, as pamqp marshals them: for each, the
    Basic.Publish method frame, the content header and the body in frames of at most max_content_size."""
    out: list[bytes] = []
    for m in messages:
        out.append(_publish_frame(channel, exchange, m.routing_key))
        size = len(m.body)
        header = _HEADER.pack(spec.Basic.frame_id, 0, size) + m.properties
        out += (_FRAME.pack(constants.FRAME_HEADER, channel, len(header)), header, _END)
        for i in range(0, size, max_content_size):
            chunk = m.body[i:i + max_content_size]
            out += (_FRAME.pack(constants.FRAME_BODY, channel, len(chunk)), chunk, _END)
    return b"".join(out)


async def publish_confirmed(channel: aiormq.abc.AbstractChannel, exchange: str,
                            messages: Sequence[Outgoing]) -> list[asyncio.Future[Any]]:
    """Send `messages` (mandatory=False: an unroutable one is dropped by the broker and still acked) and return
    their confirmation futures, in order; the caller awaits them (and cancels those it stops waiting for).
    Raises, with nothing sent, when the channel is closed or the call is cancelled before the write."""
    if not isinstance(channel, aiormq.Channel) or not channel.publisher_confirms:
        raise ValueError("publish_confirmed needs an aiormq channel with publisher confirms")
    if not messages:
        return []
    drain: asyncio.Future[Any] = channel.create_future()
    payload = ChannelFrame(payload=frames(channel.number, exchange, messages, channel.max_content_size),
                           should_close=False, drain_future=drain)
    futures: list[asyncio.Future[Any]] = []
    async with channel.lock:  # raises ChannelInvalidStateError on a closed channel
        first = channel.delivery_tag + 1
        for tag in range(first, first + len(messages)):
            future = channel.create_future()
            channel.confirmations[tag] = future
            futures.append(future)
        channel.delivery_tag += len(messages)
        sent = False
        try:
            await channel.write_queue.put(payload)
            sent = True
            await drain
        except BaseException:
            if not sent:  # the broker never saw these tags: give them back, as basic_publish does
                channel.delivery_tag = first - 1
                for tag in range(first, first + len(messages)):
                    channel.confirmations.pop(tag, None)
            for future in futures:  # nobody waits for them now (a late ack of a sent one is ignored by the reader)
                future.cancel()
            drain.cancel()
            raise
    return futures
