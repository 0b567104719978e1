"""Two registry replicas (two apps in this process) on one database: the EPP session cap and the rate limits
hold for the registrar across both, as they would behind a balancer, and a replica that stops renewing its
sessions (crashed) holds the registrar up only for the lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from services.registry.app import build
from services.registry.epp.server import EppServer
from services.registry.settings import RegistrySettings
from tests.integration.epp_client import EppClient
from tests.integration.infra import running

DOMAIN = 'xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"'
INFO = f"<info><domain:info {DOMAIN}><domain:name>limited.be</domain:name></domain:info></info>"


def settings(namespace: str, instance: str) -> RegistrySettings:
    return RegistrySettings(namespace=namespace, seed_demo_registrar=True, operator_token=SecretStr("operator-dev-token"),
                            epp_port=0, instance_id=instance, epp_max_sessions_per_registrar=2,
                            epp_rate_limits={"info": 3}, epp_session_lease_seconds=1.5)


@pytest.fixture
async def replicas(namespace: str) -> AsyncIterator[tuple[EppServer, EppServer]]:
    async with running(build(settings(namespace, "replica-a"))) as a, \
            running(build(settings(namespace, "replica-b"))) as b:
        yield (a._transport.app.state.ctx.extras["epp_server"],  # type: ignore[attr-defined]
               b._transport.app.state.ctx.extras["epp_server"])  # type: ignore[attr-defined]


async def session(server: EppServer) -> tuple[EppClient, int]:
    client = EppClient(server.ctx.extras["epp_port"])
    await client.connect()
    return client, (await client.login()).code


async def test_the_session_cap_holds_across_replicas(replicas: tuple[EppServer, EppServer]) -> None:
    a, b = replicas
    first, code = await session(a)
    assert code == 1000
    second, code = await session(b)
    assert code == 1000
    # the cap is 2 for the registrar, whichever replica the balancer picks
    for server in (a, b):
        over, code = await session(server)
        assert code == 2502
        assert await over.closed_by_server()
    await first.logout()  # a slot comes free on replica a: replica b can give it out
    await asyncio.sleep(0.1)
    third, code = await session(b)
    assert code == 1000
    await second.close()
    await third.close()


async def test_the_rate_limit_holds_across_replicas(replicas: tuple[EppServer, EppServer]) -> None:
    a, b = replicas
    (on_a, _), (on_b, _) = await session(a), await session(b)
    codes = [(await client.command(INFO)).code for client in (on_a, on_b, on_a)]
    assert codes == [2303, 2303, 2303]  # three infos of an unknown name: counted, within the limit of 3
    assert (await on_b.command(INFO)).code == 2502  # the fourth, on the other replica: over the shared limit
    await on_a.close()
    await on_b.close()


async def test_a_crashed_replicas_sessions_lapse_with_their_lease(replicas: tuple[EppServer, EppServer]) -> None:
    a, b = replicas
    (one, code1), (two, code2) = await session(a), await session(a)
    assert (code1, code2) == (1000, 1000)
    assert (await session(b))[1] == 2502
    # replica a "crashes": it stops renewing and never frees its slots (its sessions are gone with it)
    assert a.renewing is not None
    a.renewing.cancel()
    a.sessions.held.clear()
    await asyncio.sleep(1.6)  # the lease (1.5 s) lapses
    late, code = await session(b)
    assert code == 1000
    await late.close()
    await one.close()
    await two.close()
