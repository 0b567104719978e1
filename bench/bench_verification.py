"""Verification: new registrations (domain.created) scored per second.

  pure        the scoring function alone (services/verification/scoring.py) on BENCH_PURE registrations,
              a mix of plausible and suspicious registrant data.
  consumer    BENCH_CONTACTS contact.created and BENCH_DOMAINS domain.created events (5 % of the contacts
              suspicious) waiting in verification's quorum queue; a verification process starts and
              applies them all through the real consumer (dedup record, contact read model, burst count,
              registration record, and for the selected ones a case, a sealed link and
              verification.required in the outbox). Timed from start to the last registration recorded.

Run: .venv/bin/python bench/bench_verification.py  (or make bench ARGS=bench/bench_verification.py).
Figures through the local MongoDB stand-in say more about the stand-in than about MongoDB.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit
from services.verification.app import build as build_verification
from services.verification.scoring import Registrant, Registration, ScoringRules, score
from services.verification.settings import DEFAULT_DISPOSABLE, DEFAULT_WEIGHTS, VerificationSettings
from shared.clock import SystemClock
from shared.events import EventEnvelope, new_event
from shared.events.contacts import ContactCreated
from shared.events.domains import DomainCreated
from tests.integration.infra import AMQP_URL, AMQP_USER, delete_namespace, eventually, running

PURE = int(os.environ.get("BENCH_PURE", "200000"))
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "500"))
DOMAINS = int(os.environ.get("BENCH_DOMAINS", "3000"))
PREFETCH = int(os.environ.get("PREFETCH_COUNT", "64"))

GOOD: dict[str, Any] = {"name": "Veerle Peeters", "street": ["Kerkstraat 12"], "city": "Leuven", "postal_code": "3000",
        "country": "BE", "phone": "+32.16123456", "email": "veerle@example.be", "language": "nl"}
BAD = GOOD | {"phone": "+7.9161234567", "email": "fast@mailinator.com", "street": ["asdf"]}


def pure() -> float:
    rules = ScoringRules(weights=DEFAULT_WEIGHTS, threshold=2, disposable_email_domains=frozenset(DEFAULT_DISPOSABLE))
    now = datetime.now(UTC)
    people = [Registrant(alias=f"c{i}", name=d["name"], organisation=None, street=tuple(d["street"]), city=d["city"],
                         postal_code=d["postal_code"], country=d["country"], phone=d["phone"], email=d["email"],
                         created_at=now - timedelta(hours=i % 100))
              for i, d in enumerate([GOOD, BAD] * 50)]
    started = time.perf_counter()
    selected = 0
    for i in range(PURE):
        selected += score(Registration(f"d{i}.be", people[i % 100], now, i % 7), rules).selected
    return PURE / (time.perf_counter() - started)


async def consumer(namespace: str) -> tuple[float, int]:
    settings = VerificationSettings(namespace=namespace, log_level="WARNING", prefetch_count=PREFETCH,
                                    jobs_interval_seconds=3600)
    async with running(build_verification(settings)):
        pass  # declares the queue and its bindings, then stops consuming
    clock = SystemClock()
    events: list[EventEnvelope[Any]] = []
    for c in range(CONTACTS):
        data = BAD if c % 20 == 0 else GOOD
        events.append(new_event(ContactCreated(alias=f"bench-{c}", type="REGISTRANT", **data),
                                registrar_id=f"reg{c % 10}", correlation_id=None, clock=clock))
    for d in range(DOMAINS):
        events.append(new_event(DomainCreated(name=f"bench-{d}.be", tld="be", registrant=f"bench-{d % CONTACTS}",
                                              registered_at=clock.now()),
                                registrar_id=f"reg{d % CONTACTS % 10}", correlation_id=None, clock=clock))
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.registry.events")
        for first in range(0, len(events), 500):
            await asyncio.gather(*(
                exchange.publish(aio_pika.Message(e.to_json(), message_id=str(e.event_id), type=e.event_type,
                                                  content_type="application/json", user_id=AMQP_USER,
                                                  delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                 routing_key=e.event_type)
                for e in events[first:first + 500]))
    app = build_verification(settings)
    started = time.perf_counter()
    async with running(app):
        db = app.state.ctx.db

        async def recorded() -> int:
            return await db["registrations"].count_documents({})

        await eventually(recorded, lambda n: n >= DOMAINS, timeout=3600)
        elapsed = time.perf_counter() - started
        cases = await db["cases"].count_documents({})
    return DOMAINS / elapsed, cases


async def main() -> None:
    print(f"host: {platform.node()} python {platform.python_version()} cpus {os.cpu_count()}")
    pure_rate = pure()
    print(f"pure scoring:    {pure_rate:,.0f} registrations/s ({PURE} registrations)")
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    try:
        rate, cases = await consumer(namespace)
        print(f"through the consumer: {rate:,.0f} domain.created/s ({DOMAINS} domains of {CONTACTS} contacts, "
              f"contact.created applied in the same run; {cases} cases opened; prefetch {PREFETCH})")
        emit({"verification.pure": pure_rate, "verification.consumer": rate})
    finally:
        await delete_namespace(namespace)


if __name__ == "__main__":
    asyncio.run(main())
