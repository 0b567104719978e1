"""The registry killed (SIGKILL) while one registrar's creates are in flight: once restarted, that registrar's next
create is answered within seconds, and nothing was lost or applied twice (each acknowledged create exists once,
the balance is debited once per domain, one domain.created event per domain)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path

import httpx
from pymongo import AsyncMongoClient

from services.registry.settings import RegistrySettings
from shared.events.money import TransactionKind
from tests.integration.infra import MONGODB_URL, EventTap, ServiceProcess, eventually, login

START_BALANCE = 10**9


async def test_a_registrar_s_next_create_after_a_crash_mid_creates_is_answered_at_once(
        namespace: str, tmp_path: Path) -> None:
    price = RegistrySettings().prices[TransactionKind.CREATE]
    registry = ServiceProcess("registry", namespace, tmp_path, SEED_DEMO_REGISTRAR="true", EPP_ENABLED="false")
    mongo: AsyncMongoClient = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    db = mongo[f"{namespace}_registry"]
    run = uuid.uuid4().hex[:6]
    counter = iter(range(100_000))
    acknowledged: list[str] = []
    try:
        async with EventTap(namespace, "domain.created") as tap:
            await registry.start()
            await db["registrars"].update_one({"_id": "a100001"}, {"$set": {"balance_cents": START_BALANCE}})

            async def creates(stop: asyncio.Event) -> None:
                async with httpx.AsyncClient(base_url=registry.url, timeout=10) as http:
                    http.headers.update(await login(http))
                    while not stop.is_set():
                        name = f"crash-{run}-{next(counter)}.be"
                        try:
                            answer = await http.post("/api/domains", json={"registrant": "a100001-demo", "name": name})
                        except httpx.TransportError:
                            return  # killed meanwhile: this create's fate is unknown to the client
                        assert answer.status_code == 201, answer.text
                        acknowledged.append(name)

            stop = asyncio.Event()
            sessions = [asyncio.create_task(creates(stop)) for _ in range(10)]
            await eventually(lambda: asyncio.sleep(0, len(acknowledged)), lambda n: n >= 30, timeout=60)
            registry.kill()  # ten creates of a100001 are in flight, some inside their transaction
            stop.set()
            await asyncio.gather(*sessions)
            killed_at_count = len(acknowledged)

            await registry.start()
            ready = time.monotonic()
            async with httpx.AsyncClient(base_url=registry.url, timeout=30) as http:
                http.headers.update(await login(http))
                answer = await http.post("/api/domains", json={"registrant": "a100001-demo", "name": f"crash-{run}-after.be"})
            waited = time.monotonic() - ready
            print(f"first create after the restart answered in {waited:.2f} s ({killed_at_count} acknowledged before)")
            assert answer.status_code == 201, answer.text
            assert waited < 5, f"the registrar's first create after the restart took {waited:.1f} s"
            acknowledged.append(f"crash-{run}-after.be")

            # nothing lost: every acknowledged create is there; nothing applied twice: whatever committed (acknowledged
            # or cut off by the kill) was debited once and published once
            domains = {d["_id"] for d in await db["domains"].find({"registrar_id": "a100001"}, {"_id": 1}).to_list()}
            assert set(acknowledged) <= domains, set(acknowledged) - domains
            assert len(domains) >= killed_at_count + 1
            registrar = await db["registrars"].find_one({"_id": "a100001"})
            assert registrar is not None
            # the ledger: the lines moved to its collection and the newest, in the registrar's bucket (money.py)
            ledger = await db["ledger"].find({"registrar_id": "a100001"}).to_list() + registrar.get("ledger_open", [])
            assert sorted(e["object"] for e in ledger if e["kind"] == "CREATE") == sorted(domains)
            assert registrar["balance_cents"] == START_BALANCE - price * len(domains)

            await eventually(lambda: db["outbox"].count_documents({}), lambda n: n == 0, timeout=60)
            await eventually(lambda: asyncio.sleep(0, {e["payload"]["name"] for e in tap.of("domain.created")}),
                             lambda published: published >= domains, timeout=30)
            events = {(e["payload"]["name"], e["event_id"]) for e in tap.of("domain.created")}  # redelivery allowed
            assert sorted(name for name, _ in events) == sorted(domains)  # one event per domain, none for others
    finally:
        registry.stop()
        with contextlib.suppress(Exception):
            await mongo.close()
