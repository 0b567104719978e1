"""Transfers, locks, lock complaints and the name-server override, through HTTP on the real broker and
database, with the clock moved by the test. The transfer code is read the way the mailer reads it: from
the sealed event."""

import re
from collections.abc import AsyncIterator
from typing import Any, cast
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.registry.app import build
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from shared.clock import ManualClock
from shared.events import new_event
from shared.events.verification import VerificationApproved, VerificationFailed, VerificationRequired
from shared.runtime import ServiceContext
from shared.sealing import Sealer
from tests.integration.infra import OPERATOR, EventTap, eventually, login, running

START = datetime.now(UTC).replace(microsecond=0)
SETTINGS: dict[str, Any] = {"seed_demo_registrar": True, "outbox_poll_seconds": 0.05, "operator_token": "operator-dev-token",
                "lifecycle_interval_seconds": 3600}


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def registry(namespace: str, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, **SETTINGS)
    async with running(build(settings, clock)) as client:
        await seed_demo_registrar(ctx_of(client), settings, "b200002")
        yield client


def ctx_of(client: httpx.AsyncClient) -> ServiceContext:
    return client._transport.app.state.ctx  # type: ignore[attr-defined]


async def create(registry: httpx.AsyncClient, headers: dict, name: str, registrant: str = "a100001-demo") -> httpx.Response:
    return await registry.post("/api/domains", headers=headers, json={"name": name, "registrant": registrant})


async def balance(registry: httpx.AsyncClient, headers: dict) -> int:
    return (await registry.get("/api/registrar/balance", headers=headers)).json()["balance_cents"]


async def code_for(registry: httpx.AsyncClient, tap: EventTap, headers: dict, name: str, sends: int = 1) -> str:
    r = await registry.post(f"/api/domains/{name}/transfer-code", headers=headers)
    assert r.status_code == 200, r.text
    assert "code" not in r.text.replace("sent_to", "")  # never returned to the registrar
    sent = await eventually(lambda: _sent(tap, name), lambda found: len(found) >= sends)
    return Sealer(ctx_of(registry).settings.internal_secret, "transfer-code").open(sent[-1]["payload"]["sealed_code"])


async def _sent(tap: EventTap, name: str) -> list[dict]:
    return [e for e in tap.of("domain.transfer_code_sent") if e["payload"]["name"] == name]


def code_of(r: httpx.Response) -> int:
    return r.json()["result_code"]


async def test_transfer_to_another_registrar_with_the_code(registry: httpx.AsyncClient, namespace: str) -> None:
    losing, gaining = await login(registry), await login(registry, "b200002")
    assert (await create(registry, losing, "moving.be")).status_code == 201
    async with EventTap(namespace) as tap:
        code = await code_for(registry, tap, gaining, "moving.be")
        assert re.fullmatch(r"\d{3}-\d{3}-\d{3}-\d{3}-\d{3}", code)
        sent = tap.of("domain.transfer_code_sent")[-1]["payload"]
        assert sent["email"] == "registrant@demo-registrant.example" and sent["sends"] == 1
        assert code not in str(tap.events)  # only sealed on the broker

        # the gaining registrar may look before it transfers, with the code only
        wrong = "000-000-000-000-000" if code != "000-000-000-000-000" else "111-111-111-111-111"
        assert code_of(await registry.get("/api/domains/moving.be", headers=gaining, params={"transfer_code": wrong})) == 2202
        seen = await registry.get("/api/domains/moving.be", headers=gaining, params={"transfer_code": code})
        assert seen.status_code == 200 and seen.json()["registrar_id"] == "a100001"
        assert (await registry.get("/api/domains/moving.be", headers=gaining)).status_code == 404

        body = {"transfer_code": wrong, "registrant": "#AUTO#", "tech": ["b200002-tech"]}
        r = await registry.post("/api/domains/moving.be/transfer", headers=gaining, json=body)
        assert r.status_code in (401, 403) and code_of(r) == 2202
        before = await balance(registry, gaining)
        r = await registry.post("/api/domains/moving.be/transfer", headers=gaining, json=body | {"transfer_code": code})
        assert r.status_code == 200, r.text
        moved = r.json()
        assert moved["registrar_id"] == "b200002" and moved["registrant"] != "a100001-demo"
        assert before - await balance(registry, gaining) == 400

        transferred = (await tap.wait_for("domain.transferred"))[0]
        assert transferred["registrar_id"] == "b200002"
        p = transferred["payload"]
        assert (p["gaining_registrar_id"], p["losing_registrar_id"], p["old_registrant"], p["from_quarantine"]) == (
            "b200002", "a100001", "a100001-demo", False)
        assert datetime.fromisoformat(p["expires_at"]) > datetime.now(UTC) + timedelta(days=360)
        charged = await tap.wait_for("payment.transaction_recorded")
        assert any(e["payload"]["kind"] == "TRANSFER" and e["registrar_id"] == "b200002" for e in charged)

    # the copy belongs to the gaining registrar; the losing one no longer sees the domain; the code is spent
    contact = await registry.get(f"/api/contacts/{moved['registrant']}", headers=gaining)
    assert contact.status_code == 200 and contact.json()["type"] == "REGISTRANT"
    assert (await registry.get("/api/domains/moving.be", headers=losing)).status_code == 404
    again = await registry.post("/api/domains/moving.be/transfer", headers=await login(registry),
                                json={"transfer_code": code, "registrant": "#AUTO#"})
    assert code_of(again) == 2202


async def test_registrant_change_and_code_sends(registry: httpx.AsyncClient, namespace: str, clock: ManualClock) -> None:
    me = await login(registry)
    assert (await create(registry, me, "holder.be")).status_code == 201
    new = {"alias": "a100001-new", "type": "REGISTRANT", "name": "New Holder", "street": ["Kerkstraat 1"],
           "city": "Gent", "postal_code": "9000", "country": "BE", "phone": "+32.91234567", "email": "new@holder.example"}
    assert (await registry.post("/api/contacts", headers=me, json=new)).status_code == 201
    async with EventTap(namespace) as tap:
        code = await code_for(registry, tap, me, "holder.be")
        for sends in (2, 3, 4):  # asking again re-sends the same code and extends it
            clock.advance(timedelta(days=1))
            me = await login(registry)  # a web session does not last a day
            assert await code_for(registry, tap, me, "holder.be", sends) == code
        fifth = await registry.post("/api/domains/holder.be/transfer-code", headers=me)
        assert code_of(fifth) == 2308 and "already 4 e-mails" in fifth.json()["message"]

        # #AUTO# is for a change of registrar only; a registrant change names the new registrant
        auto = await registry.post("/api/domains/holder.be/transfer", headers=me,
                                   json={"transfer_code": code, "registrant": "#AUTO#"})
        assert code_of(auto) == 2306
        r = await registry.post("/api/domains/holder.be/transfer", headers=me,
                                json={"transfer_code": code, "registrant": "a100001-new", "tech": ["a100001-tech"]})
        assert r.status_code == 200 and r.json()["registrant"] == "a100001-new"

        # a code not used within 7 days of its last send expires; a new request issues a new one
        fresh = await code_for(registry, tap, me, "holder.be", 5)
        clock.advance(timedelta(days=7, seconds=1))
        expired = await registry.post("/api/domains/holder.be/transfer", headers=await login(registry),
                                      json={"transfer_code": fresh, "registrant": "a100001-demo"})
        assert code_of(expired) == 2202


async def test_locks_refuse_what_they_name(registry: httpx.AsyncClient, namespace: str) -> None:
    me, other = await login(registry), await login(registry, "b200002")
    assert (await create(registry, me, "guarded.be")).status_code == 201
    async with EventTap(namespace) as tap:
        # a client lock needs the registrant's request it rests on
        assert (await registry.put("/api/domains/guarded.be/transfer-lock", headers=me, json={})).status_code == 422
        lock = {"registrant_request": "ticket 4711, signed form"}
        assert (await registry.put("/api/domains/guarded.be/transfer-lock", headers=me, json=lock)).status_code == 204
        theirs = await registry.put("/api/domains/guarded.be/transfer-lock", headers=other, json=lock)
        assert theirs.status_code == 409 and "does not belong to you" in theirs.text  # 2304, as .be answers
        info = (await registry.get("/api/domains/guarded.be", headers=me)).json()
        assert info["statuses"] == ["clientTransferProhibited"]
        refused = await registry.post("/api/domains/guarded.be/transfer-code", headers=other)
        assert code_of(refused) == 2308 and "clientTransferProhibited" in refused.json()["message"]
        assert (await registry.delete("/api/domains/guarded.be/transfer-lock", headers=me)).status_code == 204

        # the registry's statuses
        for status in ("serverTransferProhibited", "serverUpdateProhibited", "serverDeleteProhibited"):
            r = await registry.put(f"/api/operator/domains/guarded.be/statuses/{status}", headers=OPERATOR)
            assert r.status_code == 204
        assert (await registry.put("/api/operator/domains/guarded.be/statuses/bogus", headers=OPERATOR)).status_code == 422
        assert (await registry.put("/api/operator/domains/guarded.be/statuses/serverUpdateProhibited",
                                   headers=me)).status_code == 401
        assert code_of(await registry.post("/api/domains/guarded.be/transfer-code", headers=other)) == 2308
        update = await registry.put("/api/domains/guarded.be", headers=me, json={})
        assert code_of(update) == 2304 and "serverUpdateProhibited" in update.json()["message"]
        assert code_of(await registry.delete("/api/domains/guarded.be", headers=me)) == 2304
        assert code_of(await registry.put("/api/domains/guarded.be/transfer-lock", headers=me, json=lock)) == 2304
        for status in ("serverTransferProhibited", "serverUpdateProhibited", "serverDeleteProhibited"):
            assert (await registry.delete(f"/api/operator/domains/guarded.be/statuses/{status}",
                                          headers=OPERATOR)).status_code == 204
        assert (await registry.put("/api/domains/guarded.be", headers=me, json={})).status_code == 200

        # withdrawing the lock function lifts the registrar's locks and forbids new ones
        assert (await registry.put("/api/domains/guarded.be/transfer-lock", headers=me, json=lock)).status_code == 204
        r = await registry.put("/api/operator/registrars/a100001/lock-function", headers=OPERATOR, json={"enabled": False})
        assert r.status_code == 204
        assert (await registry.get("/api/domains/guarded.be", headers=me)).json()["statuses"] == []
        assert code_of(await registry.put("/api/domains/guarded.be/transfer-lock", headers=me, json=lock)) == 2201

        locked = await tap.wait_for("domain.locked", 5)
        unlocked = await tap.wait_for("domain.unlocked", 5)
        assert [e["payload"]["by_operator"] for e in locked] == [False, True, True, True, False]
        assert unlocked[-1]["payload"]["reason"] == "lock_function_withdrawn"


async def test_lock_complaints(registry: httpx.AsyncClient, namespace: str, clock: ManualClock) -> None:
    me = await login(registry)
    lock = {"registrant_request": "mail of 2026-11-20 from the holder"}
    for name in ("upheld.be", "ignored.be"):
        assert (await create(registry, me, name)).status_code == 201
        assert (await registry.put(f"/api/domains/{name}/transfer-lock", headers=me, json=lock)).status_code == 204
    assert (await create(registry, me, "unlocked.be")).status_code == 201
    async with EventTap(namespace) as tap:
        none = await registry.post("/api/operator/domains/unlocked.be/lock-complaints", headers=OPERATOR,
                                   json={"note": "registrant says it is locked"})
        assert none.status_code == 409  # no lock to complain about

        filed = await registry.post("/api/operator/domains/upheld.be/lock-complaints", headers=OPERATOR,
                                    json={"note": "registrant cannot leave"})
        assert filed.status_code == 201
        complaint = filed.json()
        assert datetime.fromisoformat(complaint["deadline"]).replace(tzinfo=UTC) == clock.now() + timedelta(hours=48)
        assert complaint["lock_request"]["reference"] == lock["registrant_request"]
        answer = await registry.post("/api/domains/upheld.be/lock-complaint/answer", headers=me,
                                     json={"evidence": "signed request attached, ref 4711"})
        assert answer.status_code == 200 and answer.json()["status"] == "ANSWERED"
        r = await registry.post(f"/api/operator/lock-complaints/{complaint['complaint_id']}/decision", headers=OPERATOR,
                                json={"upheld": True})
        assert r.status_code == 204

        assert (await registry.post("/api/operator/domains/ignored.be/lock-complaints", headers=OPERATOR,
                                    json={"note": "registrant cannot leave"})).status_code == 201
        clock.advance(timedelta(hours=47))
        me = await login(registry)
        assert (await registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).json()["locks_lifted"] == 0
        clock.advance(timedelta(hours=1, seconds=1))
        me = await login(registry)  # an access token lasts 15 minutes
        assert (await registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).json()["locks_lifted"] == 1
        late = await registry.post("/api/domains/ignored.be/lock-complaint/answer", headers=me, json={"evidence": "too late"})
        assert late.status_code == 404

        assert (await registry.get("/api/domains/upheld.be", headers=me)).json()["statuses"] == ["clientTransferProhibited"]
        assert (await registry.get("/api/domains/ignored.be", headers=me)).json()["statuses"] == []
        mine = (await registry.get("/api/registrar/lock-complaints", headers=me)).json()
        assert (mine["count"], mine["open"]) == (2, 0)
        assert sorted(c["status"] for c in mine["complaints"]) == ["LIFTED_BY_REGISTRY", "UPHELD"]
        other = (await registry.get("/api/registrar/lock-complaints", headers=await login(registry, "b200002"))).json()
        assert other["count"] == 0
        unlocked = await tap.wait_for("domain.unlocked")
        assert unlocked[0]["payload"] == {"name": "ignored.be", "status": "clientTransferProhibited",
                                          "by_operator": True, "reason": "complaint_unanswered"}
        closed = await tap.wait_for("domain.lock_complaint_closed", 2)
        assert sorted(e["payload"]["outcome"] for e in closed) == ["LIFTED_BY_REGISTRY", "UPHELD"]


async def test_transfer_from_quarantine(registry: httpx.AsyncClient, namespace: str, clock: ManualClock) -> None:
    me, other = await login(registry), await login(registry, "b200002")
    assert (await create(registry, me, "rescued.be")).status_code == 201
    assert (await registry.delete("/api/domains/rescued.be", headers=me)).status_code == 200
    assert (await registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).json()["quarantined"] == 1
    async with EventTap(namespace) as tap:
        code = await code_for(registry, tap, other, "rescued.be")
        before = await balance(registry, other)
        r = await registry.post("/api/domains/rescued.be/transfer", headers=other,
                                json={"transfer_code": code, "registrant": "b200002-demo"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "REGISTERED" and r.json()["available_on"] is None
        assert before - await balance(registry, other) == 4000
        assert (await tap.wait_for("domain.transferred"))[0]["payload"]["from_quarantine"] is True
    clock.advance(timedelta(days=41))
    assert (await registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).json()["released"] == 0


async def test_name_servers_overridden_while_the_registrant_is_pending(registry: httpx.AsyncClient, namespace: str,
                                                                       clock: ManualClock) -> None:
    me, other = await login(registry), await login(registry, "b200002")
    ctx = ctx_of(registry)
    hosts = [{"name": "ns1.example.net"}, {"name": "ns2.example.net"}]
    r = await registry.post("/api/domains", headers=me, json={"name": "held.be", "registrant": "a100001-demo",
                                                                "name_servers": hosts})
    assert r.status_code == 201 and r.json()["name_servers_overridden"] is False
    async with EventTap(namespace) as tap:
        # the verification service selects the registration
        await ctx.publisher.publish(new_event(VerificationRequired(contact="a100001-demo", domain="held.be",
                                                                   reason="Registrant verification pending"),
                                              registrar_id="a100001", correlation_id=None, clock=clock))

        async def info() -> dict:
            return (await registry.get("/api/domains/held.be", headers=me)).json()

        held = await eventually(info, lambda d: d["name_servers_overridden"])
        assert held["override_reason"] == "Registrant verification pending"
        assert [h["name"] for h in held["name_servers"]] == list(cast(RegistrySettings, ctx.settings).override_name_servers)
        contact = (await registry.get("/api/contacts/a100001-demo", headers=me)).json()
        assert contact["verification"] == "PENDING"

        # a later domain of the pending contact is overridden from its creation
        later = await create(registry, me, "later.be")
        assert later.json()["name_servers_overridden"] is True

        # transferred to an unverified contact: the new contact becomes pending, the override stays
        code = await code_for(registry, tap, other, "later.be")
        moved = await registry.post("/api/domains/later.be/transfer", headers=other,
                                    json={"transfer_code": code, "registrant": "b200002-demo"})
        assert moved.json()["name_servers_overridden"] is True
        assert (await registry.get("/api/contacts/b200002-demo", headers=other)).json()["verification"] == "PENDING"

        # approval lifts the overrides of the contact's domains; the registered name servers return
        await ctx.publisher.publish(new_event(VerificationApproved(contact="a100001-demo"), registrar_id="a100001",
                                              correlation_id=None, clock=clock))
        free = await eventually(info, lambda d: not d["name_servers_overridden"])
        assert [h["name"] for h in free["name_servers"]] == ["ns1.example.net", "ns2.example.net"]
        still = (await registry.get("/api/domains/later.be", headers=other)).json()
        assert still["name_servers_overridden"] is True  # its registrant is another contact, still pending
        changes = await tap.wait_for("domain.override_changed", 3)
        assert [(e["payload"]["name"], e["payload"]["overridden"]) for e in changes] == [
            ("held.be", True), ("later.be", True), ("held.be", False)]


async def test_a_domain_transferred_to_a_failed_registrant_is_overridden(
        registry: httpx.AsyncClient, namespace: str, clock: ManualClock) -> None:
    """A FAILED registrant's domains stay registered but unusable, those it gets by a transfer too."""
    me = await login(registry)
    ctx = ctx_of(registry)
    failed = {"alias": "a100001-fail", "type": "REGISTRANT", "name": "Failed Holder",
              "street": ["Kerkstraat 1"], "city": "Gent", "postal_code": "9000", "country": "BE",
              "phone": "+32.91234567", "email": "failed@holder.example"}
    assert (await registry.post("/api/contacts", headers=me, json=failed)).status_code == 201
    await ctx.publisher.publish(new_event(VerificationFailed(contact="a100001-fail", reason="expired"),
                                          registrar_id="a100001", correlation_id=None, clock=clock))

    async def status() -> str:
        return (await registry.get("/api/contacts/a100001-fail", headers=me)).json()["verification"]

    await eventually(status, lambda s: s == "FAILED")
    assert (await create(registry, me, "usable.be")).json()["name_servers_overridden"] is False
    async with EventTap(namespace) as tap:
        code = await code_for(registry, tap, me, "usable.be")
        moved = await registry.post("/api/domains/usable.be/transfer", headers=me,
                                    json={"transfer_code": code, "registrant": "a100001-fail"})
        assert moved.status_code == 200, moved.text
        assert (moved.json()["name_servers_overridden"], moved.json()["override_reason"]) == (
            True, "Registrant verification failed")
        [changed] = await tap.wait_for("domain.override_changed")
        assert (changed["payload"]["name"], changed["payload"]["overridden"]) == ("usable.be", True)
