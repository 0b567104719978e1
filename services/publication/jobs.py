"""The service's background work, started with it: the pusher (woken after each applied batch of events),
the WHOIS and DAS servers, the periodic AXFR-vs-rebuild check (under a lease: one replica checks), and the
one-off filling of the zone entries of a database from before them (zone_entries.py; under a lease too)."""

from __future__ import annotations

import asyncio
import os

from services.publication import zone_entries
from services.publication.service import publication_of
from services.publication.tcp import start_server
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext

CHECK = "publication-zone-check"
FILL = "publication-zone-entries"
FILL_INTERVAL_SECONDS = 60.0  # once filled, a round is one find_one


async def start_jobs(ctx: ServiceContext) -> None:
    pub = publication_of(ctx)
    if ctx.consumer is not None:  # push as soon as a transaction that marked domains has committed
        committed = ctx.consumer.on_applied

        def applied() -> None:
            if committed is not None:
                committed()
            pub.pusher.wake()

        ctx.consumer.on_applied = applied
    pub.pusher.start(f"{ctx.settings.instance_id}:{os.getpid()}:{id(ctx)}")
    servers: list[asyncio.Server] = []
    host = ctx.settings.http_host
    proxies = pub.settings.whois_trusted_proxies  # the balancers' PROXY protocol header (tcp.py)
    if pub.settings.whois_port:
        servers.append(await start_server(host, pub.settings.whois_port, pub.whois,
                                          lambda why: pub.refusal("whois", why), proxies))
    if pub.settings.das_port:
        servers.append(await start_server(host, pub.settings.das_port, pub.das,
                                          lambda why: pub.refusal("das", why), proxies))
    ctx.extras["publication:servers"] = servers
    start_periodic(ctx, FILL, FILL_INTERVAL_SECONDS, leader=lambda: zone_entries.fill_once(pub.db, ctx.clock.now()))
    if pub.settings.check_interval_seconds:
        start_periodic(ctx, CHECK, pub.settings.check_interval_seconds, leader=pub.check, wait_first=True)


async def stop_jobs(ctx: ServiceContext) -> None:
    pub = publication_of(ctx)
    await stop_periodic(ctx, CHECK)
    await stop_periodic(ctx, FILL)
    for server in ctx.extras.pop("publication:servers", []):
        server.close()
        await server.wait_closed()
    await pub.pusher.stop()
