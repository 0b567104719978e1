"""The month-end renewal through HTTP on the real broker and database, with the clock moved across month
ends in Brussels time: who is renewed and charged, once, and who is not (quarantine, due deletions,
anniversaries that fall in the next Brussels month). Also: an IDN created over HTTP is stored as its A-label."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import httpx
import pytest

from services.registry.app import build
from services.registry.domains import renewal
from services.registry.settings import RegistrySettings
from services.registry.uow import Tx
from shared.clock import ManualClock
from shared.runtime import ServiceContext
from tests.integration.infra import OPERATOR, EventTap, eventually, login, running

START = datetime(2025, 12, 10, 10, 0, tzinfo=UTC)


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def registry(namespace: str, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                operator_token="operator-dev-token", lifecycle_interval_seconds=3600,
                                renewal_interval_seconds=3600, epp_enabled=False)
    async with running(build(settings, clock)) as client:
        yield client


def context(registry: httpx.AsyncClient) -> ServiceContext:
    return registry._transport.app.state.ctx  # type: ignore[attr-defined]


async def create_at(registry: httpx.AsyncClient, clock: ManualClock, when: datetime, name: str) -> dict:
    clock.set(when)
    r = await registry.post("/api/domains", headers=await login(registry),
                            json={"name": name, "registrant": "a100001-demo"})
    assert r.status_code == 201, r.text
    return r.json()


async def renew(registry: httpx.AsyncClient) -> dict:
    r = await registry.post("/api/operator/renewal/run", headers=OPERATOR)
    assert r.status_code == 200, r.text
    return r.json()


async def lifecycle(registry: httpx.AsyncClient) -> dict:
    return (await registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).json()


async def account(registry: httpx.AsyncClient) -> dict:
    return (await registry.get("/api/registrar/balance", headers=await login(registry))).json()


async def expiry(registry: httpx.AsyncClient, name: str) -> datetime:
    info = (await registry.get(f"/api/domains/{name}", headers=await login(registry))).json()
    return datetime.fromisoformat(info["expires_at"])


def renewals(ledger: list[dict]) -> list[dict]:
    return [line for line in ledger if line["kind"] == "RENEWAL"]


async def test_month_end_renewal_in_brussels_time(registry: httpx.AsyncClient, clock: ManualClock,
                                                  namespace: str) -> None:
    created = await create_at(registry, clock, START, "renew-dec.be")
    assert datetime.fromisoformat(created["expires_at"]) == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    # 23:30 on 31 December in Brussels: a December anniversary, renewed on 1 January
    await create_at(registry, clock, datetime(2025, 12, 31, 22, 30, tzinfo=UTC), "edge-dec.be")
    # 00:30 on 1 January in Brussels (still 31 December in UTC): a January anniversary, renewed on 1 February
    await create_at(registry, clock, datetime(2025, 12, 31, 23, 30, tzinfo=UTC), "edge-jan.be")
    for name in ("gone.be", "due.be", "later.be"):
        await create_at(registry, clock, START + timedelta(days=1), name)
    me = await login(registry)
    for name, when in (("gone.be", datetime(2026, 12, 20, tzinfo=UTC)),  # quarantined before the month ends
                       ("due.be", datetime(2026, 12, 31, 23, 10, tzinfo=UTC)),  # its date comes before the run
                       ("later.be", datetime(2027, 1, 15, tzinfo=UTC))):  # still REGISTERED when the run comes
        r = await registry.delete(f"/api/domains/{name}", headers=me, params={"delete_date": when.isoformat()})
        assert r.status_code == 200, r.text

    # nothing is due during the anniversary month itself, up to its last minute in Brussels
    clock.set(datetime(2026, 12, 31, 22, 30, tzinfo=UTC))
    assert (await lifecycle(registry))["quarantined"] == 1  # gone.be
    assert await renew(registry) == {"renewed": 0}
    balance_before = (await account(registry))["balance_cents"]

    async with EventTap(namespace) as tap:
        clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # 00:30 on 1 January 2027 in Brussels
        assert await renew(registry) == {"renewed": 3}
        assert await renew(registry) == {"renewed": 0}  # idempotent: once a month
        events = await tap.wait_for("domain.renewed", 3)
        paid = await eventually(
            lambda: asyncio.sleep(0, [p for p in tap.of("payment.transaction_recorded")
                                      if p["payload"]["kind"] == "RENEWAL"]), lambda found: len(found) >= 3)
    assert sorted(e["payload"]["name"] for e in events) == ["edge-dec.be", "later.be", "renew-dec.be"]
    assert {e["registrar_id"] for e in events} == {"a100001"}
    assert {e["payload"]["registrar_id"] for e in events} == {"a100001"}
    assert sorted(p["payload"]["object"] for p in paid) == ["edge-dec.be", "later.be", "renew-dec.be"]

    assert await expiry(registry, "renew-dec.be") == datetime(2027, 12, 10, 10, 0, tzinfo=UTC)
    assert await expiry(registry, "edge-dec.be") == datetime(2027, 12, 31, 22, 30, tzinfo=UTC)
    assert await expiry(registry, "edge-jan.be") == datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # not yet
    assert await expiry(registry, "due.be") == datetime(2026, 12, 11, 10, 0, tzinfo=UTC)  # being deleted
    money = await account(registry)
    assert balance_before - money["balance_cents"] == 3 * 400
    lines = renewals(money["ledger"])
    assert sorted(line["object"] for line in lines) == ["edge-dec.be", "later.be", "renew-dec.be"]
    assert {(line["amount_cents"], line["reference"]) for line in lines if line["object"] == "later.be"} == {
        (-400, "renewal-2027-01-later.be")}
    assert (await lifecycle(registry))["quarantined"] == 1  # due.be, unrenewed

    # 1 February in Brussels: the January anniversary; the renewed ones are not touched again
    clock.set(datetime(2027, 1, 31, 23, 30, tzinfo=UTC))
    assert await renew(registry) == {"renewed": 1}
    assert await expiry(registry, "edge-jan.be") == datetime(2027, 12, 31, 23, 30, tzinfo=UTC)
    assert len(renewals((await account(registry))["ledger"])) == 4
    gone = (await registry.get("/api/domains/gone.be", headers=await login(registry))).json()
    assert gone["status"] == "QUARANTINE" and "expires_at" in gone
    metrics = (await registry.get("/metrics")).text
    assert 'registry_domain_renewals_total{in_debt="false",tld="be"} 4.0' in metrics


async def test_renewal_is_charged_on_a_negative_balance_but_creates_are_refused(
        registry: httpx.AsyncClient, clock: ManualClock) -> None:
    for name in ("debt1.be", "debt2.be"):
        await create_at(registry, clock, START, name)
    await context(registry).db["registrars"].update_one({"_id": "a100001"}, {"$set": {"balance_cents": 100}})
    clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    assert await renew(registry) == {"renewed": 2}
    money = await account(registry)
    assert money["balance_cents"] == 100 - 2 * 400  # the second renewal was booked on a negative balance
    assert sorted(line["balance_cents"] for line in renewals(money["ledger"])) == [-700, -300]
    r = await registry.post("/api/domains", headers=await login(registry),
                            json={"name": "refused.be", "registrant": "a100001-demo"})
    assert (r.status_code, r.json()["result_code"]) == (402, 2104), r.text
    metrics = (await registry.get("/metrics")).text
    assert 'registry_domain_renewals_total{in_debt="true",tld="be"} 2.0' in metrics


async def test_a_crash_mid_run_loses_nothing_and_concurrent_runs_renew_once(
        registry: httpx.AsyncClient, clock: ManualClock) -> None:
    names = [f"crash{i}.be" for i in range(6)]
    for name in names:
        await create_at(registry, clock, START, name)
    ctx = context(registry)
    clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    real, calls = renewal.renew_domain, []

    async def crashing(ctx: ServiceContext, tx: Tx, name: str, now: datetime) -> list:
        calls.append(name)
        if len(calls) == 3:
            raise RuntimeError("the process dies here")
        return await real(ctx, tx, name, now)

    with mock.patch.object(renewal, "renew_domain", crashing), pytest.raises(RuntimeError):
        await renewal.run_renewal(ctx)
    first = {line["object"] for line in renewals((await account(registry))["ledger"])}
    assert len(first) == 2
    # the operator endpoint and the job's own run at the same time: what is left is renewed exactly once
    results = await asyncio.gather(renewal.run_renewal(ctx), renew(registry))
    assert sum(r["renewed"] for r in results) == 4
    lines = renewals((await account(registry))["ledger"])
    assert sorted(line["object"] for line in lines) == sorted(names)
    for name in names:
        assert await expiry(registry, name) == datetime(2027, 12, 10, 10, 0, tzinfo=UTC)


async def test_an_idn_is_stored_as_its_a_label(registry: httpx.AsyncClient, clock: ManualClock) -> None:
    created = await create_at(registry, clock, START, "café.be")
    assert created["name"] == "xn--caf-dma.be"
    assert datetime.fromisoformat(created["expires_at"]) == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    assert (await registry.get("/api/domains/xn--caf-dma.be", headers=await login(registry))).status_code == 200
    # referred to by its U-label in later commands too
    assert (await registry.get("/api/domains/café.be", headers=await login(registry))).json()["name"] == "xn--caf-dma.be"
    me = await login(registry)
    bogus = await registry.post("/api/domains", headers=me, json={"name": "xn--zzzzzz.be", "registrant": "a100001-demo"})
    assert bogus.json()["result_code"] == 2005, bogus.text
    taken = await registry.post("/api/domains", headers=me, json={"name": "CAFÉ.be", "registrant": "a100001-demo"})
    assert taken.json()["result_code"] == 2302, taken.text


async def test_a_session_on_a_moved_clock_is_not_purged_by_the_wall_clock(registry: httpx.AsyncClient,
                                                                        clock: ManualClock) -> None:
    """The cause of this module's occasional 401: a session logged in at START (a year before the wall clock)
    expired on the wall clock at once, and MongoDB's TTL monitor (once a minute, on the wall clock) deleted it
    under the test. Every TTL-indexed date of a live session must lie ahead of the wall clock."""
    clock.set(START)
    headers = await login(registry)
    db = context(registry).db
    wall = datetime.now(UTC)
    for collection in ("sessions",):
        ttl_fields = [spec["key"][0][0] for spec in (await db[collection].index_information()).values()
                      if "expireAfterSeconds" in spec]
        assert ttl_fields, f"{collection} has no TTL index"
        for doc in await db[collection].find({}).to_list():
            for field in ttl_fields:
                assert doc[field] > wall, (collection, field, doc[field])
    assert (await registry.get("/api/registrar", headers=headers)).status_code == 200


async def test_an_out_of_service_domain_is_not_renewed_and_is_released_two_months_after_its_expiry_month(
        registry: httpx.AsyncClient, clock: ManualClock, namespace: str) -> None:
    """Digest 4.1: its registrar's contract ended; out of the zone at the end of its expiry month (publication),
    two months to move, then released. Not while a case keeps it on hold; back in service, it is renewed."""
    for name in ("served.be", "unserved.be", "held.be", "back.be"):
        await create_at(registry, clock, START, name)  # all expire on 10 December 2026
    for name in ("unserved.be", "held.be", "back.be"):
        r = await registry.put(f"/api/operator/domains/{name}/out-of-service", headers=OPERATOR)
        assert r.status_code == 204, r.text
    r = await registry.put("/api/operator/domains/held.be/on-hold", headers=OPERATOR, json={"reason": "CEPANI 2026/7"})
    assert r.status_code == 204, r.text

    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # 1 January 2027 in Brussels
    assert await renew(registry) == {"renewed": 1}  # served.be only: no one is charged for the others
    assert [line["object"] for line in renewals((await account(registry))["ledger"])] == ["served.be"]
    assert await expiry(registry, "unserved.be") == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    assert (await lifecycle(registry))["released"] == 0

    # back into service in February: the next run renews it, charged to its registrar
    clock.set(datetime(2027, 2, 10, tzinfo=UTC))
    assert (await registry.delete("/api/operator/domains/back.be/out-of-service", headers=OPERATOR)).status_code == 204
    assert await renew(registry) == {"renewed": 1}
    assert await expiry(registry, "back.be") == datetime(2027, 12, 10, 10, 0, tzinfo=UTC)

    clock.set(datetime(2027, 2, 28, 22, 59, tzinfo=UTC))  # 23:59 on 28 February in Brussels: still time to move
    assert (await lifecycle(registry))["released"] == 0
    async with EventTap(namespace) as tap:
        clock.set(datetime(2027, 2, 28, 23, 0, tzinfo=UTC))  # 00:00 on 1 March in Brussels
        assert await lifecycle(registry) == {"quarantined": 0, "released": 1, "locks_lifted": 0}
        released = await tap.wait_for("domain.released")
    assert [(e["payload"]["name"], e["registrar_id"]) for e in released] == [("unserved.be", "a100001")]
    me = await login(registry)
    assert (await registry.get("/api/domains/unserved.be", headers=me)).status_code == 404
    assert (await registry.get("/api/domains/held.be", headers=me)).json()["status"] == "REGISTERED"  # a case pends
    again = await registry.post("/api/domains", headers=me, json={"name": "unserved.be", "registrant": "a100001-demo"})
    assert again.status_code == 201, again.text  # available again

    assert (await registry.delete("/api/operator/domains/held.be/on-hold", headers=OPERATOR)).status_code == 204
    assert (await lifecycle(registry))["released"] == 1
    assert (await registry.get("/api/domains/held.be", headers=me)).status_code == 404
    assert sorted(line["object"] for line in renewals((await account(registry))["ledger"])) == ["back.be", "served.be"]
