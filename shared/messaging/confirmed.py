"""A batch of messages published with publisher confirms in one write to the broker.

aiormq's basic_publish takes, per message, the channel lock, a timeout, two futures, a write-queue entry, a
socket write and a drain: for the outbox relay, which publishes a few hundred at a time, that (and FastStream's
publish around it) was most of its CPU. Here a batch's frames are marshalled together and go to the connection's
write queue as one entry, under the channel lock, with the next delivery tags taken for them in order as
basic_publish takes them (publishes of others on the channel, before or after, keep theirs). Each message has its
confirmation future in the channel's table: the channel's reader resolves it on the broker's ack (single or
multiple), fails it on a nack (DeliveryError), and a channel that closes rejects it (it is in the channel's
future store): a message counts as published only once its future holds an ack.

It uses aiormq Channel attributes beyond the public API (delivery_tag, confirmations, write_queue,
max_content_size, as basic_publish does): aiormq is pinned by requirements.lock and
tests/integration/test_confirmed_batches.py covers the behaviour on the real broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiormq
from aiormq.abc import ChannelFrame
from pamqp import commands as spec
from pamqp.body import ContentBody
from pamqp.header import ContentHeader


@dataclass(frozen=True, slots=True)
class Outgoing:
    routing_key: str
    body: bytes
    properties: spec.Basic.Properties


async def publish_confirmed(channel: aiormq.abc.AbstractChannel, exchange: str,
                            messages: Sequence[Outgoing]) -> list[asyncio.Future[Any]]:
    """Send `messages` (mandatory=False: an unroutable one is dropped by the broker and still acked) and return
    their confirmation futures, in order; the caller awaits them (and cancels those it stops waiting for).
    Raises, with nothing sent, when the channel is closed or the call is cancelled before the write."""
    if not isinstance(channel, aiormq.Channel) or not channel.publisher_confirms:
        raise ValueError("publish_confirmed needs an aiormq channel with publisher confirms")
    if not messages:
        return []
    frames: list[Any] = []
    size = channel.max_content_size
    for m in messages:
        frames.append(spec.Basic.Publish(exchange=exchange, routing_key=m.routing_key))
        frames.append(ContentHeader(properties=m.properties, body_size=len(m.body)))
        frames.extend(ContentBody(m.body[i:i + size]) for i in range(0, len(m.body), size))
    drain: asyncio.Future[Any] = channel.create_future()
    payload = ChannelFrame.marshall(channel_number=channel.number, frames=frames, drain_future=drain)
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
