"""The hitpoints service with the registry, through the real broker and database: real failed commands over
HTTP (and EPP), the clock moved across midnight Brussels, month ends and the 24-hour block."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest

from services.hitpoints.app import build as build_hitpoints
from services.hitpoints.settings import HitpointsSettings
from services.registry.app import build as build_registry
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from shared.clock import BRUSSELS, ManualClock
from shared.events import Channel, CommandFailed, CommandType, new_event
from shared.runtime import ServiceContext
from tests.integration.epp_client import EppClient
from tests.integration.infra import AMQP_URL, AMQP_USER, OPERATOR, EventTap, eventually, login, running

# a Saturday morning, two days before a month ends (in the future, so no TTL index touches what tests write)
START = datetime(2027, 1, 30, 10, 0, tzinfo=BRUSSELS)
DOMAIN = 'xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"'


def hitpoints_settings(namespace: str, **extra: Any) -> HitpointsSettings:
    # one hitpoint of limit per domain, so that a few registrations move the limit
    return HitpointsSettings(namespace=namespace, outbox_poll_seconds=0.05, operator_token="operator-dev-token",
                             jobs_interval_seconds=3600, limit_domains_per_hitpoint=1, **extra)


@dataclass
class Platform:
    registry: httpx.AsyncClient
    hitpoints: httpx.AsyncClient
    clock: ManualClock
    namespace: str

    @property
    def registry_ctx(self) -> ServiceContext:
        return self.registry._transport.app.state.ctx  # type: ignore[attr-defined]

    @property
    def hitpoints_ctx(self) -> ServiceContext:
        return self.hitpoints._transport.app.state.ctx  # type: ignore[attr-defined]

    async def screen(self, headers: dict[str, str]) -> dict[str, Any]:
        r = await self.hitpoints.get("/api/hitpoints", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def screen_when(self, headers: dict[str, str], hitpoints: int) -> dict[str, Any]:
        async def probe() -> dict[str, Any]:
            return await self.screen(headers)

        return await eventually(probe, lambda s: s["hitpoints"] == hitpoints)

    async def create(self, headers: dict[str, str], name: str, registrant: str) -> httpx.Response:
        return await self.registry.post("/api/domains", headers=headers, json={"name": name, "registrant": registrant})

    async def fail_create(self, headers: dict[str, str], name: str, registrant: str, times: int = 1) -> None:
        """Register a name that exists: 2302, ten hitpoints each time."""
        for _ in range(times):
            r = await self.create(headers, name, registrant)
            assert r.status_code == 409 and r.json()["result_code"] == 2302, r.text

    async def info(self, headers: dict[str, str], name: str) -> httpx.Response:
        return await self.registry.get(f"/api/domains/{name}", headers=headers)

    async def refused_as_blocked(self, headers: dict[str, str], name: str) -> str:
        """Wait until the registry refuses the registrar's next command because of the block; its message."""
        async def probe() -> httpx.Response:
            return await self.info(headers, name)

        r = await eventually(probe, lambda r: r.status_code == 409)
        assert r.json()["result_code"] == 2308
        return r.json()["message"]

    async def accepted_again(self, headers: dict[str, str], name: str) -> None:
        async def probe() -> int:
            return (await self.info(headers, name)).status_code

        await eventually(probe, lambda code: code == 200)

    async def jobs(self, nightly: bool = False) -> dict[str, Any]:
        path = "/api/operator/hitpoints/nightly/run" if nightly else "/api/operator/hitpoints/jobs/run"
        r = await self.hitpoints.post(path, headers=OPERATOR)
        assert r.status_code == 200, r.text
        return r.json()

    async def metric(self, sample: str) -> float:
        text = (await self.hitpoints.get("/metrics")).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(sample))


@pytest.fixture
async def platform(namespace: str) -> AsyncIterator[Platform]:
    clock = ManualClock(START)
    registry_settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                         operator_token="operator-dev-token", lifecycle_interval_seconds=3600,
                                         epp_port=0)
    async with running(build_registry(registry_settings, clock)) as registry, \
            running(build_hitpoints(hitpoints_settings(namespace), clock)) as hitpoints:
        platform = Platform(registry, hitpoints, clock, namespace)
        await seed_demo_registrar(platform.registry_ctx, registry_settings, "b200002")
        yield platform


async def epp_command_refused_while_blocked(platform: Platform) -> int:
    """The EPP result code the blocked registrar gets for a domain info (login may already be refused)."""
    client = EppClient(platform.registry_ctx.extras["epp_port"])
    try:
        await client.connect()
        answer = await client.login("b200002", "Demo-Epp-2026")
        if answer.code != 1000:
            return answer.code
        info = await client.command(f"<info><domain:info {DOMAIN}><domain:name>mine.be</domain:name></domain:info></info>")
        return info.code
    finally:
        await client.close()


# -- scoring ---------------------------------------------------------------------------------------------------

async def test_real_failed_commands_score_by_the_rules_and_show_on_the_screen(platform: Platform) -> None:
    p = platform
    a, b = await login(p.registry), await login(p.registry, "b200002")
    for name in ("taken.be", "revoked.be"):
        assert (await p.create(a, name, "a100001-demo")).status_code == 201
    p.clock.advance(timedelta(seconds=11))
    assert (await p.create(a, "race.be", "a100001-demo")).status_code == 201
    r = await p.hitpoints.put("/api/operator/hitpoints/revoked-names/revoked.be", headers=OPERATOR, json={"note": "t"})
    assert r.status_code == 204

    await p.fail_create(b, "taken.be", "b200002-demo")  # 10: the name exists
    p.clock.advance(timedelta(seconds=5))
    await p.fail_create(b, "race.be", "b200002-demo")  # 0: another registrar registered it 5 seconds ago
    p.clock.advance(timedelta(seconds=1))
    bad = await p.registry.post("/api/contacts", headers=b, json={
        "alias": "x!", "type": "REGISTRANT", "name": "Jan Peeters", "street": ["Markt 1"], "city": "Brugge",
        "postal_code": "8000", "country": "BE", "phone": "+32.50000000", "email": "jan@example.be", "language": "nl"})
    assert bad.json()["result_code"] == 2005  # 1: an invalid contact creation
    p.clock.advance(timedelta(seconds=1))
    assert (await p.info(b, "nothing-here.be")).status_code == 404  # 0: a query
    code = {"transfer_code": "000-000-000-000-000", "registrant": "b200002-demo"}
    assert (await p.registry.post("/api/domains/revoked.be/transfer", headers=b, json=code)).status_code == 403  # 0
    assert (await p.registry.post("/api/domains/taken.be/transfer", headers=b, json=code)).status_code == 403  # 1

    screen = await p.screen_when(b, 12)
    assert [(t["object"], t["command"], t["hitpoints"]) for t in screen["transactions"]] == [
        ("taken.be", "TRANSFER_DOMAIN", 1), ("x!", "NEW_CONTACT", 1), ("taken.be", "NEW_DOMAIN", 10)]
    first = screen["transactions"][-1]
    assert first["reference"].startswith("web-") and first["result_code"] == 2302 and first["channel"] == "WEB"
    assert datetime.fromisoformat(first["date"]) == START + timedelta(seconds=11)
    assert first["date"].endswith("+01:00")  # shown in Brussels time (CET)
    assert (screen["limit"], screen["blocked"], screen["can_unblock"]) == (100, False, False)
    assert (screen["unblocks_used_this_month"], screen["unblocks_allowed_per_month"]) == (0, 1)
    assert screen["limit_exceeded_at"] is None and screen["blocked_until"] is None

    # resending a faulty command scores again
    await p.fail_create(b, "taken.be", "b200002-demo")
    await p.screen_when(b, 22)
    assert await p.metric('hitpoints_failed_commands_total{rule="lost_create_race"}') == 1
    assert await p.metric('hitpoints_failed_commands_total{rule="revoked_name_servers"}') == 1
    assert await p.metric('hitpoints_scored_total{command="NEW_DOMAIN"}') == 20

    # the registrar's own users only, with the permission
    mine = await p.screen(a)
    assert (mine["registrar_id"], mine["hitpoints"], mine["transactions"], mine["limit"]) == ("a100001", 0, [], 103)
    for user, permissions in (("b-viewer", ["MY_REGISTRATIONS"]), ("b-nothing", [])):
        r = await p.registry.post("/api/registrar/users", headers=b,
                                  json={"user_id": user, "password": "Viewer-Pass-2026", "permissions": permissions})
        assert r.status_code == 201, r.text
    viewer = await login(p.registry, "b-viewer", "Viewer-Pass-2026")
    assert (await p.screen(viewer))["hitpoints"] == 22
    assert (await p.hitpoints.post("/api/hitpoints/unblock", headers=viewer)).status_code == 403  # needs TRANSACTIONS
    nothing = await login(p.registry, "b-nothing", "Viewer-Pass-2026")
    assert (await p.hitpoints.get("/api/hitpoints", headers=nothing)).status_code == 403
    assert (await p.hitpoints.get("/api/hitpoints")).status_code == 401
    assert (await p.hitpoints.get("/api/hitpoints", headers={"Authorization": "Bearer forged"})).status_code == 401
    assert (await p.hitpoints.post("/api/operator/hitpoints/b200002/unblock", headers=b)).status_code == 401
    assert (await p.hitpoints.post("/api/operator/hitpoints/b200002/unblock", headers=OPERATOR)).status_code == 409
    p.clock.advance(timedelta(hours=8, seconds=1))  # the session token expired
    assert (await p.hitpoints.get("/api/hitpoints", headers=viewer)).status_code == 401


# -- blocking --------------------------------------------------------------------------------------------------

async def test_the_limit_blocks_for_24_hours_after_the_last_faulty_command_and_the_registry_refuses(
    platform: Platform,
) -> None:
    p = platform
    b = await login(p.registry, "b200002")
    assert (await p.create(b, "mine.be", "b200002-demo")).status_code == 201
    async with EventTap(p.namespace) as tap:
        await p.fail_create(b, "mine.be", "b200002-demo", 8)
        await p.screen_when(b, 80)
        assert tap.of("hitpoints.threshold_reached") == []  # 80 % of 101 is 81
        await p.fail_create(b, "mine.be", "b200002-demo")
        (warning,) = await tap.wait_for("hitpoints.threshold_reached")
        assert warning["registrar_id"] == "b200002"
        assert (warning["payload"]["percent"], warning["payload"]["hitpoints"]) == (80, 90)
        assert warning["payload"]["limit"] == 101  # its one domain
        await p.fail_create(b, "mine.be", "b200002-demo", 2)  # 110: over the limit of 101
        (blocked,) = await tap.wait_for("registrar.blocked")
        assert [w["payload"]["percent"] for w in tap.of("hitpoints.threshold_reached")] == [80, 100]
        until = START + timedelta(hours=24)
        assert datetime.fromisoformat(blocked["payload"]["blocked_until"]) == until
        assert datetime.fromisoformat(blocked["payload"]["exceeded_at"]) == START
        assert (blocked["payload"]["hitpoints"], blocked["payload"]["limit"]) == (110, 101)

        # the registry refuses every command now, over HTTP and EPP
        message = await p.refused_as_blocked(b, "mine.be")
        assert "blocked by the hitpoint system until 2027-01-31 10:00:00 CET" in message
        refused = await p.create(b, "other.be", "b200002-demo")
        assert refused.status_code == 409 and refused.json()["result_code"] == 2308

        screen = await p.screen(b)
        assert (screen["hitpoints"], screen["blocked"], screen["can_unblock"]) == (110, True, True)
        assert datetime.fromisoformat(screen["limit_exceeded_at"]) == START
        assert datetime.fromisoformat(screen["blocked_until"]) == until
        assert len(screen["transactions"]) == 11

        # refusals because of the block never score, so they never extend it
        async def unscored() -> float:
            return await p.metric('hitpoints_failed_commands_total{rule="unscored_cause"}')

        await eventually(unscored, lambda n: n >= 2)
        assert (await p.screen(b))["hitpoints"] == 110
        await p.jobs()
        assert await p.metric("hitpoints_registrars_blocked") == 1

        # a faulty command that was already on its way when the block began pushes its end out
        p.clock.advance(timedelta(hours=2))
        b = await login(p.registry, "b200002")  # an access token lasts 15 minutes
        late = new_event(CommandFailed(user_id="b200002", channel=Channel.EPP, command=CommandType.UPD_DOMAIN,
                                       object="mine.be", reference="epp-late", result_code=2304, message="late"),
                         registrar_id="b200002", correlation_id=None, clock=p.clock)
        await p.hitpoints_ctx.publisher.publish(late)
        extended = (await tap.wait_for("registrar.blocked", 2))[1]
        until = START + timedelta(hours=26)
        assert datetime.fromisoformat(extended["payload"]["blocked_until"]) == until
        assert datetime.fromisoformat(extended["payload"]["exceeded_at"]) == START

        async def message_now() -> str:
            return await p.refused_as_blocked(b, "mine.be")

        await eventually(message_now, lambda m: "until 2027-01-31 12:00:00 CET" in m)

        # the block ends 24 hours after that command: not a second earlier
        p.clock.set(until - timedelta(seconds=1))
        b = await login(p.registry, "b200002")
        assert (await p.jobs())["blocks_expired"] == 0
        assert (await p.info(b, "mine.be")).status_code == 409
        p.clock.set(until + timedelta(seconds=1))
        assert (await p.jobs())["blocks_expired"] == 1
        (unblocked,) = await tap.wait_for("registrar.unblocked")
        assert (unblocked["registrar_id"], unblocked["payload"]["by"]) == ("b200002", "EXPIRY")
        await p.accepted_again(b, "mine.be")
        screen = await p.screen(b)
        assert (screen["blocked"], screen["hitpoints"], screen["transactions"]) == (False, 0, [])  # a new day
        assert await p.metric("hitpoints_registrars_blocked") == 0
        assert await p.metric('hitpoints_unblocks_total{by="EXPIRY"}') == 1
        assert await p.metric('hitpoints_blocks_total{kind="started"}') == 1
        assert await p.metric('hitpoints_blocks_total{kind="extended"}') == 1
        assert await p.metric("hitpoints_block_latency_seconds_count") == 1


async def test_a_blocked_registrar_is_refused_over_epp_too(platform: Platform) -> None:
    p = platform
    if "epp_port" not in p.registry_ctx.extras:
        pytest.skip("the registry app does not start its EPP server yet (the EPP issue wires it in)")
    b = await login(p.registry, "b200002")
    assert (await p.create(b, "mine.be", "b200002-demo")).status_code == 201
    await p.fail_create(b, "mine.be", "b200002-demo", 11)
    await p.refused_as_blocked(b, "mine.be")
    assert await epp_command_refused_while_blocked(p) == 2308


async def test_one_self_unblock_per_calendar_month_and_operators_always(platform: Platform) -> None:
    p = platform
    b = await login(p.registry, "b200002")
    assert (await p.create(b, "mine.be", "b200002-demo")).status_code == 201
    assert (await p.hitpoints.post("/api/hitpoints/unblock", headers=b)).status_code == 409  # not blocked

    async def block(tap: EventTap, nth: int) -> None:
        headers = await login(p.registry, "b200002")
        await p.fail_create(headers, "mine.be", "b200002-demo", 11)
        await tap.wait_for("registrar.blocked", nth)
        await p.refused_as_blocked(headers, "mine.be")

    async with EventTap(p.namespace) as tap:
        await block(tap, 1)
        r = await p.hitpoints.post("/api/hitpoints/unblock", headers=b)
        assert r.status_code == 200, r.text
        screen = r.json()
        assert (screen["hitpoints"], screen["blocked"], screen["unblocks_used_this_month"]) == (0, False, 1)
        assert (screen["can_unblock"], screen["transactions"]) == (False, [])
        assert datetime.fromisoformat(screen["since"]) == START
        assert (await tap.wait_for("registrar.unblocked"))[0]["payload"]["by"] == "SELF"
        await p.accepted_again(b, "mine.be")
        # the day's offences stay listed, across the reset
        day = await p.hitpoints.get("/api/hitpoints/transactions", headers=b)
        assert len(day.json()) == 11

        # blocked again the same month: the self-unblock is used up
        await block(tap, 2)
        assert (await p.screen(b))["can_unblock"] is False
        refused = await p.hitpoints.post("/api/hitpoints/unblock", headers=b)
        assert refused.status_code == 409
        assert "contact the registry" in refused.json()["detail"]["message"]
        assert await p.metric("hitpoints_self_unblocks_refused_total") == 1
        r = await p.hitpoints.post("/api/operator/hitpoints/b200002/unblock", headers=OPERATOR)
        assert r.status_code == 200 and r.json()["hitpoints"] == 0 and r.json()["unblocks_used_this_month"] == 1
        assert (await tap.wait_for("registrar.unblocked", 2))[1]["payload"]["by"] == "OPERATOR"
        await p.accepted_again(b, "mine.be")

        # the last second of January is still January
        p.clock.set(datetime(2027, 1, 31, 23, 59, 59, tzinfo=BRUSSELS))
        b = await login(p.registry, "b200002")
        await block(tap, 3)
        assert (await p.hitpoints.post("/api/hitpoints/unblock", headers=b)).status_code == 409
        assert (await p.hitpoints.post("/api/operator/hitpoints/b200002/unblock", headers=OPERATOR)).status_code == 200
        await tap.wait_for("registrar.unblocked", 3)
        await p.accepted_again(b, "mine.be")

        # February: a new allowance
        p.clock.set(datetime(2027, 2, 1, 0, 0, tzinfo=BRUSSELS))
        b = await login(p.registry, "b200002")
        assert (await p.screen(b))["unblocks_used_this_month"] == 0
        await block(tap, 4)
        r = await p.hitpoints.post("/api/hitpoints/unblock", headers=b)
        assert r.status_code == 200 and r.json()["unblocks_used_this_month"] == 1
        assert [e["payload"]["by"] for e in await tap.wait_for("registrar.unblocked", 4)] == [
            "SELF", "OPERATOR", "OPERATOR", "SELF"]
    assert await p.metric('hitpoints_unblocks_total{by="SELF"}') == 2


# -- midnight --------------------------------------------------------------------------------------------------

async def test_counters_clear_and_limits_follow_the_portfolio_at_midnight_brussels(platform: Platform) -> None:
    p = platform
    a = await login(p.registry)
    hp_db = p.hitpoints_ctx.db

    async def domains() -> int:
        doc = await hp_db["accounts"].find_one({"_id": "a100001"})
        return int(doc["domains"]) if doc else 0

    for i in range(3):
        assert (await p.create(a, f"d{i}.be", "a100001-demo")).status_code == 201
    await eventually(domains, lambda n: n == 3)
    assert (await p.screen(a))["limit"] == 103  # before its first night: the limit of its portfolio now
    assert (await p.jobs(nightly=True))["limits_recalculated"] >= 1
    for i in range(3, 5):
        assert (await p.create(a, f"d{i}.be", "a100001-demo")).status_code == 201
    await eventually(domains, lambda n: n == 5)
    assert (await p.screen(a))["limit"] == 103  # fixed until the next midnight
    assert (await p.jobs())["limits_recalculated"] is None  # already done today

    for name in ("gone1.be", "gone2.be"):
        assert (await p.registry.delete(f"/api/domains/{name}", headers=a)).status_code == 404  # 1 each
    await p.screen_when(a, 2)
    p.clock.set(datetime(2027, 1, 30, 23, 59, 59, tzinfo=BRUSSELS))
    a = await login(p.registry)
    assert (await p.registry.delete("/api/domains/gone3.be", headers=a)).status_code == 404
    await p.screen_when(a, 3)  # still Saturday

    p.clock.set(datetime(2027, 1, 31, 0, 0, tzinfo=BRUSSELS))
    assert (await p.jobs())["limits_recalculated"] >= 1
    screen = await p.screen(a)
    assert (screen["hitpoints"], screen["transactions"], screen["limit"]) == (0, [], 105)
    assert datetime.fromisoformat(screen["since"]) == datetime(2027, 1, 31, 0, 0, tzinfo=BRUSSELS)
    yesterday = await p.hitpoints.get("/api/hitpoints/transactions", headers=a, params={"day": "2027-01-30"})
    objects = [t["object"] for t in yesterday.json()]
    assert objects[0] == "gone3.be" and sorted(objects) == ["gone1.be", "gone2.be", "gone3.be"]
    assert (await p.registry.delete("/api/domains/gone4.be", headers=a)).status_code == 404
    await p.screen_when(a, 1)  # counted on Sunday's counter

    # a deletion takes effect at quarantine: the portfolio shrinks, the limit follows at the next midnight
    assert (await p.registry.delete("/api/domains/d4.be", headers=a)).status_code == 200
    assert (await p.registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).json()["quarantined"] == 1
    await eventually(domains, lambda n: n == 4)
    assert (await p.screen(a))["limit"] == 105
    p.clock.set(datetime(2027, 2, 1, 0, 0, 1, tzinfo=BRUSSELS))
    await p.jobs()
    a = await login(p.registry)
    assert (await p.screen(a))["limit"] == 104


# -- exactly once ----------------------------------------------------------------------------------------------

def failed_event(clock: ManualClock, registrar: str, command: CommandType = CommandType.DEL_CONTACT) -> Any:
    return new_event(CommandFailed(user_id=registrar, channel=Channel.EPP, command=command, object="c1",
                                   reference=f"epp-{uuid.uuid4().hex[:8]}", result_code=2303, message="no such contact"),
                     registrar_id=registrar, correlation_id=None, clock=clock)


async def publish_raw(namespace: str, events: list[Any], copies: int = 1) -> None:
    """As the registry's relay does (persistent, message id = event id), straight to the exchange."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.registry.events")
        await asyncio.gather(*(
            exchange.publish(aio_pika.Message(e.to_json(), message_id=str(e.event_id), type=e.event_type,
                                              content_type="application/json", user_id=AMQP_USER,
                                              delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                             routing_key=e.event_type)
            for e in events for _ in range(copies)
        ))


async def test_the_same_command_failed_delivered_twice_counts_once(platform: Platform) -> None:
    p = platform
    event = failed_event(p.clock, "b200002")
    await publish_raw(p.namespace, [event], copies=2)

    async def duplicates() -> float:
        return await p.metric('events_consumed_total{event_type="command.failed",outcome="duplicate"}')

    await eventually(duplicates, lambda n: n >= 1)
    b = await login(p.registry, "b200002")
    screen = await p.screen(b)
    assert screen["hitpoints"] == 1 and [t["reference"] for t in screen["transactions"]] == [event.payload.reference]


async def test_concurrent_consumers_never_lose_an_increment(platform: Platform) -> None:
    p = platform
    per_registrar, registrars = 150, ("r1", "r2", "r3")
    second = build_hitpoints(hitpoints_settings(p.namespace, instance_id="second", prefetch_count=8), p.clock)
    async with running(second) as other, EventTap(p.namespace) as tap:
        events = [failed_event(p.clock, r) for _ in range(per_registrar) for r in registrars]
        await asyncio.gather(*(publish_raw(p.namespace, events[i::4]) for i in range(4)))
        hp_db = p.hitpoints_ctx.db

        async def counted() -> list[int]:
            docs = await hp_db["counters"].find({"registrar_id": {"$in": list(registrars)}}).to_list()
            return sorted(int(d["hitpoints"]) for d in docs)

        await eventually(counted, lambda c: c == [per_registrar] * 3, timeout=120)
        runs = await hp_db["offences"].find({"registrar_id": {"$in": list(registrars)}}).to_list()
        assert sum(len(r["offences"]) for r in runs) == 450  # stored in runs (offences.py), each offence once
        assert len({o["event_id"] for r in runs for o in r["offences"]}) == 450
        # each level is reached exactly once per registrar, whichever consumer counted past it
        await tap.wait_for("registrar.blocked", 3)
        await asyncio.sleep(0.5)
        assert sorted(e["registrar_id"] for e in tap.of("registrar.blocked")) == list(registrars)
        warnings = sorted((e["registrar_id"], e["payload"]["percent"]) for e in tap.of("hitpoints.threshold_reached"))
        assert warnings == [(r, pct) for r in registrars for pct in (80, 100)]
        # both replicas took part
        for client in (p.hitpoints, other):
            text = (await client.get("/metrics")).text
            assert 'events_consumed_total{event_type="command.failed",outcome="processed"}' in text
