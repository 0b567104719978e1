"""History for a new subscriber: read the platform's stream `registry.events.history` (every event of the
last N days) from an offset or a timestamp, apply each event once (the same store as the live queue, so
what both deliver is applied once), and stop when caught up.

  python -m subscriber.replay --since 1h            the last hour
  python -m subscriber.replay --since 2026-11-05T00:00:00+00:00
  python -m subscriber.replay --offset first        everything the stream still keeps (or a number)
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, datetime, timedelta

import aio_pika
from registry_events import UndecodableEvent, decode_event

from subscriber.config import Config
from subscriber.store import Store

_DURATION = re.compile(r"^(\d+)([smhd])$")


def since(text: str, now: datetime | None = None) -> datetime:
    """`1h`, `30m`, `7d` ago, or an ISO timestamp."""
    match = _DURATION.match(text)
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return (now or datetime.now(UTC)) - timedelta(**{unit: int(match[1])})
    return datetime.fromisoformat(text)


async def replay(config: Config, store: Store, offset: datetime | int | str, *, idle_seconds: float = 2.0) -> dict[str, int]:
    """Apply the stream's events from `offset` (a timestamp, a number, or first/last/next); returns counts."""
    counts = {"applied": 0, "duplicate": 0, "undecodable": 0, "before": 0}
    connection = await aio_pika.connect(config.amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=200)  # a stream needs a prefetch, and acknowledgements
        stream = await channel.get_queue(config.history_stream, ensure=False)  # the platform's; not declared here
        last = asyncio.get_running_loop().time()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal last
            last = asyncio.get_running_loop().time()
            try:
                event = decode_event(message.body)
            except UndecodableEvent:
                counts["undecodable"] += 1
            else:
                # a timestamp offset starts at the stream chunk holding it: skip the chunk's earlier events
                if isinstance(offset, datetime) and event.occurred_at < offset:
                    counts["before"] += 1
                else:
                    counts["applied" if store.apply(event) else "duplicate"] += 1
            await message.ack()

        await stream.consume(on_message, arguments={"x-stream-offset": offset})
        # a stream never ends: caught up once nothing arrived for idle_seconds
        while asyncio.get_running_loop().time() - last < idle_seconds:
            await asyncio.sleep(0.2)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--since", help="1h, 30m, 7d or an ISO timestamp")
    where.add_argument("--offset", help="first, last, next or a number")
    args = parser.parse_args()
    offset: datetime | int | str = since(args.since) if args.since else (
        int(args.offset) if args.offset.isdigit() else args.offset)
    config = Config()
    print(asyncio.run(replay(config, Store(config.database), offset)))


if __name__ == "__main__":
    main()
