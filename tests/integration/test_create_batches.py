"""One registrar's concurrent creates on the real database share transactions (registrars/batches.py), and each
is answered as it would be alone: a taken name is refused (2302) without failing the others, the creates after
the balance turned negative are refused (2104), every paid create has its domain, ledger line and events once."""

from __future__ import annotations

import asyncio
from typing import Any

from services.registry.app import build as build_registry
from services.registry.settings import RegistrySettings
from shared.events.money import TransactionKind
from tests.integration.infra import EventTap, eventually, login, running


async def test_concurrent_creates_of_one_registrar_are_each_answered_as_alone(namespace: str) -> None:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05)
    price = settings.prices[TransactionKind.CREATE]
    async with EventTap(namespace) as tap, running(build_registry(settings)) as registry:
        ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
        auth = await login(registry)

        async def create(name: str) -> Any:
            return await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": name}, headers=auth)

        assert (await create("taken.be")).status_code == 201
        names = [f"together-{i}.be" for i in range(12)] + ["taken.be"]
        answers = dict(zip(names, await asyncio.gather(*(create(n) for n in names)), strict=True))
        assert answers.pop("taken.be").json()["result_code"] == 2302
        assert {a.status_code for a in answers.values()} == {201}

        # a balance with room for three more creates, the last of them taking it below zero
        await ctx.db["registrars"].update_one({"_id": "a100001"}, {"$set": {"balance_cents": 2 * price + 100}})
        last = [f"last-{i}.be" for i in range(8)]
        codes = [a.json().get("result_code", a.status_code) for a in await asyncio.gather(*(create(n) for n in last))]
        assert sorted(codes) == [201] * 3 + [2104] * 5, codes
        paid = {n for n, c in zip(last, codes, strict=True) if c == 201}

        registrar = await ctx.db["registrars"].find_one({"_id": "a100001"})
        assert registrar is not None and registrar["balance_cents"] == 100 - price
        created = {d["_id"] for d in await ctx.db["domains"].find({}, {"_id": 1}).to_list()}
        assert created == {"taken.be", *answers, *paid}
        ledger = await ctx.db["ledger"].find({"registrar_id": "a100001"}).to_list() + registrar.get("ledger_open", [])
        assert sorted(line["object"] for line in ledger if line["kind"] == "CREATE") == sorted(created)
        assert sorted(line["balance_cents"] for line in ledger if line["object"] in paid) == [100 - price, 100, 100 + price]

        await eventually(lambda: asyncio.sleep(0, {e["payload"]["name"] for e in tap.of("domain.created")}),
                         lambda published: published >= created, timeout=30)
        assert sorted(e["payload"]["name"] for e in tap.of("domain.created")) == sorted(created)
        assert len(tap.of("command.failed")) >= 6  # the taken name and the five unpaid
