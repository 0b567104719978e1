"""Round trips to MongoDB for one domain create (and one info), counted with a pymongo CommandListener: which
commands, on which collections; through the command layer alone (an actor without a copy of the standing: read
for each command), then as HTTP API requests (the bearer token's session and user read, then the command with
the standing copy the registrar's requests and EPP sessions share for EPP_STANDING_SECONDS), then over one EPP
session, then PROFILE_CONCURRENT creates of the registrar at once through the command layer (they share contact
reads and transactions: registrars/batches.py). Prints figures; asserts nothing.

Run: .venv/bin/python bench/profile_domain_create.py   (PROFILE_CREATES sets how many creates are averaged)
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections import Counter
from pathlib import Path

from pymongo import monitoring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_epp import command as epp_command
from services.registry.app import build
from services.registry.commands import Actor
from services.registry.domains.create import create_domain
from services.registry.domains.info import info_domain
from services.registry.settings import RegistrySettings
from shared.events import Channel
from tests.integration.epp_client import EppClient
from tests.integration.infra import delete_namespace, login, running

N = int(os.environ.get("PROFILE_CREATES", "20"))
CONCURRENT = int(os.environ.get("PROFILE_CONCURRENT", "10"))


class RoundTrips(monitoring.CommandListener):
    """Counts commands sent while `on` (the outbox relay and consumers run too: they are left out by name)."""

    def __init__(self) -> None:
        self.on, self.seen = False, Counter[str]()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.on:
            return
        target = event.command.get(event.command_name)
        where = target if isinstance(target, str) else ""
        self.seen[f"{event.command_name} {where}".strip()] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def main() -> None:
    listener = RoundTrips()
    monitoring.register(listener)  # applies to clients created from here on
    namespace = f"p{uuid.uuid4().hex[:10]}"
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, log_level="WARNING", epp_port=0,
                                epp_rate_limits={})  # the limiter's own round trips are left out, as in bench_epp
    app = build(settings)
    try:
        async with running(app) as web:
            ctx = app.state.ctx
            await ctx.db["registrars"].update_one({"_id": "a100001"}, {"$set": {"balance_cents": 10**9}})
            actor = Actor("a100001", "a100001", Channel.EPP, "profile")
            run = uuid.uuid4().hex[:6]
            await create_domain(ctx, actor, f"p{run}-warm.be", "a100001-demo", ["a100001-tech"])
            client = EppClient(ctx.extras["epp_port"])
            await client.connect()
            assert (await client.login()).code == 1000
            await client.command(epp_command("create", f"p{run}-epp-warm.be"))
            me = await login(web)
            body = {"registrant": "a100001-demo", "tech": ["a100001-tech"]}
            assert (await web.post("/api/domains", json=body | {"name": f"p{run}-web-warm.be"}, headers=me)
                    ).status_code == 201

            async def over_http(kind: str, name: str) -> None:
                answer = await (web.post("/api/domains", json=body | {"name": name}, headers=me) if kind == "create"
                                else web.get(f"/api/domains/{name}", headers=me))
                assert answer.status_code in (200, 201), answer.text

            async def over_epp(kind: str, name: str) -> None:
                answer = await client.command(epp_command(kind, name))
                assert answer.code == 1000, answer.xml

            async def at_once(i: int) -> None:
                await asyncio.gather(*(create_domain(ctx, actor, f"p{run}-c{i}-{j}.be", "a100001-demo", ["a100001-tech"])
                                       for j in range(CONCURRENT)))

            for label, call in (("domain create (command layer)",
                                 lambda i: create_domain(ctx, actor, f"p{run}-{i}.be", "a100001-demo", ["a100001-tech"])),
                                ("domain info (command layer)", lambda i: info_domain(ctx, actor, f"p{run}-{i}.be")),
                                ("domain create (HTTP API)", lambda i: over_http("create", f"p{run}-web-{i}.be")),
                                ("domain info (HTTP API)", lambda i: over_http("info", f"p{run}-web-{i}.be")),
                                ("domain create (EPP session)", lambda i: over_epp("create", f"p{run}-epp-{i}.be")),
                                ("domain info (EPP session)", lambda i: over_epp("info", f"p{run}-epp-{i}.be")),
                                ("domain check (EPP session)", lambda i: over_epp("check", f"p{run}-epp-{i}.be")),
                                (f"domain create, {CONCURRENT} at once (command layer; per create)", at_once)):
                listener.seen.clear()
                listener.on = True
                for i in range(N):
                    await call(i)
                listener.on = False
                # the relay polls the outbox concurrently: its finds on 'outbox' are not the command's
                per = N * (CONCURRENT if call is at_once else 1)
                total = sum(listener.seen.values()) / per
                print(f"{label}: {total:.1f} round trips per command (all sources)")
                if "HTTP" in label:  # what the bearer token costs, apart from the command's own
                    token = (listener.seen["find sessions"] + listener.seen["find users"]) / per
                    print(f"  {total - token:.1f} without the {token:.1f} of the token's session and user reads")
                for name, count in sorted(listener.seen.items(), key=lambda kv: -kv[1]):
                    print(f"  {count / per:5.2f}  {name}")
            await client.logout()
            await client.close()
    finally:
        await delete_namespace(namespace)


if __name__ == "__main__":
    asyncio.run(main())
