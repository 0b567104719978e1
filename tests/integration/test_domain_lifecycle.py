"""A domain's life after creation, through HTTP on the real broker and database, with the clock moved
by the test: update, delete with a date, undelete, quarantine, reactivate, release."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.registry.app import build
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from shared.clock import ManualClock
from tests.integration.infra import OPERATOR, EventTap, login, running

START = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def registry(namespace: str, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                operator_token="operator-dev-token", lifecycle_interval_seconds=3600)
    async with running(build(settings, clock)) as client:
        await seed_demo_registrar(client._transport.app.state.ctx, settings, "b200002")  # type: ignore[attr-defined]
        yield client


async def create(registry: httpx.AsyncClient, headers: dict, name: str, registrant: str = "a100001-demo") -> httpx.Response:
    return await registry.post("/api/domains", headers=headers, json={"name": name, "registrant": registrant})


async def lifecycle(registry: httpx.AsyncClient) -> dict:
    return (await registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).json()


async def test_delete_quarantine_reactivate_and_release(registry: httpx.AsyncClient, clock: ManualClock, namespace: str) -> None:
    me = await login(registry)
    assert (await create(registry, me, "cycle.be")).status_code == 201
    async with EventTap(namespace) as tap:
        when = START + timedelta(days=3)
        r = await registry.delete("/api/domains/cycle.be", headers=me, params={"delete_date": when.isoformat()})
        assert r.status_code == 200
        assert (await registry.delete("/api/domains/cycle.be", headers=me)).status_code == 409  # already scheduled
        assert await lifecycle(registry) == {"quarantined": 0, "released": 0, "locks_lifted": 0}  # not yet

        clock.advance(timedelta(days=3, seconds=1))
        me = await login(registry)
        assert await lifecycle(registry) == {"quarantined": 1, "released": 0, "locks_lifted": 0}
        info = (await registry.get("/api/domains/cycle.be", headers=me)).json()
        assert info["status"] == "QUARANTINE"
        assert datetime.fromisoformat(info["available_on"]) == clock.now() + timedelta(days=40)
        # in quarantine: not registrable, not updatable
        taken = await create(registry, await login(registry, "b200002"), "cycle.be", "b200002-demo")
        assert taken.status_code == 409 and taken.json()["result_code"] == 2302
        assert (await registry.put("/api/domains/cycle.be", headers=me, json={})).status_code == 409

        # only the deleting registrar reactivates, for EUR 10
        theirs = await registry.post("/api/domains/cycle.be/reactivate", headers=await login(registry, "b200002"))
        assert theirs.status_code == 409 and "does not belong to you" in theirs.text  # 2304, as .be answers
        before = (await registry.get("/api/registrar/balance", headers=me)).json()["balance_cents"]
        assert (await registry.post("/api/domains/cycle.be/reactivate", headers=me)).status_code == 204
        after = (await registry.get("/api/registrar/balance", headers=me)).json()["balance_cents"]
        assert before - after == 1000
        assert (await registry.get("/api/domains/cycle.be", headers=me)).json()["status"] == "REGISTERED"

        # deleted again, and this time left to its fate
        assert (await registry.delete("/api/domains/cycle.be", headers=me)).status_code == 200
        assert (await lifecycle(registry))["quarantined"] == 1
        clock.advance(timedelta(days=40, seconds=1))
        assert await lifecycle(registry) == {"quarantined": 0, "released": 1, "locks_lifted": 0}
        for kind in ("domain.deleted", "domain.quarantined", "domain.reactivated", "domain.released"):
            await tap.wait_for(kind)
        assert len(tap.of("domain.quarantined")) == 2
    second = await login(registry, "b200002")
    assert (await create(registry, second, "cycle.be", "b200002-demo")).status_code == 201  # available again


async def test_undelete_cancels_a_scheduled_deletion(registry: httpx.AsyncClient, clock: ManualClock) -> None:
    me = await login(registry)
    await create(registry, me, "keep.be")
    assert (await registry.post("/api/domains/keep.be/undelete", headers=me)).status_code == 409  # nothing scheduled
    await registry.delete("/api/domains/keep.be", headers=me, params={"delete_date": (START + timedelta(days=1)).isoformat()})
    assert (await registry.post("/api/domains/keep.be/undelete", headers=me)).status_code == 204
    clock.advance(timedelta(days=2))
    assert (await lifecycle(registry))["quarantined"] == 0
    assert (await registry.get("/api/domains/keep.be", headers=await login(registry))).json()["status"] == "REGISTERED"


async def test_update_replaces_contacts_and_name_servers_and_checks_them(registry: httpx.AsyncClient, namespace: str) -> None:
    me = await login(registry)
    await create(registry, me, "upd.be")
    await registry.post("/api/nsgroups", headers=me, json={"name": "g1", "name_servers": ["ns1.g.example"]})
    async with EventTap(namespace) as tap:
        r = await registry.put("/api/domains/upd.be", headers=me, json={
            "tech": ["a100001-tech"], "name_servers": [{"name": "ns1.upd.be", "addresses": ["192.0.2.7"]}],
            "nsgroups": ["g1"]})
        assert r.status_code == 200, r.text
        assert r.json()["nsgroups"] == ["g1"] and r.json()["name_servers"][0]["name"] == "ns1.upd.be"
        event = (await tap.wait_for("domain.updated"))[0]["payload"]
        assert (event["tech"], event["name_servers"]) == (["a100001-tech"], ["ns1.upd.be"])
    assert (await registry.put("/api/domains/upd.be", headers=me, json={"tech": ["a100001-demo"]})).status_code == 422
    assert (await registry.put("/api/domains/upd.be", headers=me, json={"name_servers": [{"name": "ns.upd.be"}]})).status_code == 422
    other = await login(registry, "b200002")
    theirs = await registry.put("/api/domains/upd.be", headers=other, json={})
    assert theirs.status_code == 409 and "does not belong to you" in theirs.text  # 2304, as .be answers
    assert (await registry.delete("/api/domains/upd.be", headers=other)).status_code == 409


async def test_server_locks_refuse_update_and_delete(registry: httpx.AsyncClient) -> None:
    me = await login(registry)
    await create(registry, me, "guarded.be")
    ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
    await ctx.db["domains"].update_one({"_id": "guarded.be"},
                                       {"$set": {"statuses": ["serverUpdateProhibited", "serverDeleteProhibited"]}})
    upd = await registry.put("/api/domains/guarded.be", headers=me, json={})
    assert {k: upd.json()[k] for k in ("result_code", "message")} == {"result_code": 2304,
                                    "message": "Domain [guarded.be] has invalid status (serverUpdateProhibited)"}
    dele = await registry.delete("/api/domains/guarded.be", headers=me)
    assert dele.json()["message"] == "Domain [guarded.be] has invalid status (serverDeleteProhibited)"
