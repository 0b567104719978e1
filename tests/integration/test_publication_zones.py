"""The zones on a real Knot DNS server, fed by the real registry through the real broker: the publication
service builds its read model from the registry's events only and pushes each change to Knot (RFC 2136 with
TSIG); the answers are read back with dnspython, as a resolver would."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dns.asyncquery
import dns.dnssec
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import httpx
import pytest
from pydantic import SecretStr

from services.publication.app import build as build_publication
from services.publication.delegation import end_of_month
from services.publication.knot import Change
from services.publication.service import Publication, publication_of
from services.publication.settings import PublicationSettings
from services.publication.pusher import ADOPTED_MARKS
from services.publication.store import CHANGES, DOMAINS, MIGRATIONS, PUBLISHED
from services.publication.zones import write_zones, zone_records
from services.registry.app import build as build_registry
from services.registry.settings import RegistrySettings
from shared.clock import SystemClock
from shared.events import new_event
from shared.events.verification import VerificationApproved, VerificationRequired
from shared.runtime import ServiceContext
from tests.integration.infra import OPERATOR, eventually, login, running

KEY = {"flags": 257, "protocol": 3, "algorithm": 13,
       "public_key": "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="}
LANDING = ("ns1.landing.registry.invalid", "ns2.landing.registry.invalid")
REGISTRANT = "a100001-demo"


@dataclass
class MovableClock:
    """The publication's clock: the real time, moved forward when a test needs a later month."""

    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Platform:
    registry: httpx.AsyncClient
    publication: httpx.AsyncClient
    registry_ctx: ServiceContext
    pub: Publication
    port: int
    auth: dict[str, str]
    clock: MovableClock

    async def ask(self, name: str, rdtype: str, dnssec: bool = False) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype, want_dnssec=dnssec)
        return await dns.asyncquery.udp(query, "127.0.0.1", port=self.port, timeout=3)

    async def delegation(self, name: str) -> list[str]:
        """The name servers of the referral the TLD's server gives for `name` (empty: none)."""
        response = await self.ask(name, "NS")
        return sorted(str(rdata.target) for rrset in response.authority if rrset.rdtype == dns.rdatatype.NS
                      and rrset.name == dns.name.from_text(name) for rdata in rrset)

    async def glue(self, name: str) -> list[str]:
        response = await self.ask(name, "NS")
        return sorted(f"{rrset.name} {rdata}" for rrset in response.additional
                      if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA) for rdata in rrset)

    async def serial(self) -> int:
        return await self.pub.knot.serial("be")

    async def settled(self) -> None:
        """Nothing awaits the pusher."""
        await eventually(lambda: self.pub.db[CHANGES].count_documents({}), lambda n: n == 0)


@pytest.fixture
async def platform(namespace: str, knot_port: int) -> AsyncIterator[Platform]:
    registry_settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                         operator_token=SecretStr("operator-dev-token"), lifecycle_interval_seconds=3600,
                                         epp_enabled=False,
                                         override_name_servers=LANDING)
    pub_settings = PublicationSettings(namespace=namespace, dns_port=knot_port, whois_port=0, das_port=0,
                                       check_interval_seconds=0, push_interval_seconds=0.2)
    clock = MovableClock()
    async with running(build_publication(pub_settings, clock)) as publication, \
            running(build_registry(registry_settings)) as registry:
        registry_ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
        pub_ctx = publication._transport.app.state.ctx  # type: ignore[attr-defined]
        yield Platform(registry, publication, registry_ctx, publication_of(pub_ctx), knot_port, await login(registry),
                       clock)


async def publish_as_verification(ctx: ServiceContext, payload: VerificationRequired | VerificationApproved) -> None:
    """What the verification service publishes: the registry applies it, and the override follows."""
    await ctx.publisher.publish(new_event(payload, registrar_id="a100001", correlation_id=None, clock=SystemClock()))


async def test_the_zone_follows_the_registry_from_creation_to_deletion(platform: Platform) -> None:
    p, name = platform, f"zone-{datetime.now(UTC):%H%M%S%f}.be"
    serials = [await p.serial()]
    hosts = [{"name": f"ns1.{name}", "addresses": ["192.0.2.53", "2001:db8::53"]}, {"name": "ns.hoster.example"}]
    created = await p.registry.post("/api/domains", headers=p.auth,
                                    json={"name": name, "registrant": REGISTRANT, "name_servers": hosts})
    assert created.status_code == 201, created.text
    started = asyncio.get_running_loop().time()
    own = sorted([f"ns1.{name}.", "ns.hoster.example."])
    assert await eventually(lambda: p.delegation(name), lambda ns: ns == own, timeout=10) == own
    assert asyncio.get_running_loop().time() - started < 10  # "delegated within seconds"
    assert await p.glue(name) == sorted([f"ns1.{name}. 192.0.2.53", f"ns1.{name}. 2001:db8::53"])
    serials.append(await p.serial())

    # a suspicious registrant: delegated to the landing name servers, its glue gone, the reason kept
    reason = "Registrant verification pending"
    await publish_as_verification(p.registry_ctx, VerificationRequired(contact=REGISTRANT, domain=name, reason=reason))
    landing = sorted(f"{ns}." for ns in LANDING)
    await eventually(lambda: p.delegation(name), lambda ns: ns == landing)
    assert await p.glue(name) == []
    live = await p.pub.knot.records("be")  # below a delegation a query gets a referral: read the zone itself
    assert sorted(r for r in live if r[0].endswith(f"{name}.")) == [(f"{name}.", "NS", ns) for ns in landing]
    record = await p.pub.db[DOMAINS].find_one({"_id": name})
    assert record is not None and record["override"]["reason"] == reason
    page = await p.publication.get("/", headers={"Host": f"www.{name}"})
    assert page.status_code == 200
    assert "not delegated" in page.text and "niet gedelegeerd" in page.text and "pas délégué" in page.text
    assert (await p.publication.get("/", headers={"Host": "not-overridden.be"})).status_code == 404
    serials.append(await p.serial())

    # approval restores its own delegation and glue
    await publish_as_verification(p.registry_ctx, VerificationApproved(contact=REGISTRANT, domains=[name]))
    await eventually(lambda: p.delegation(name), lambda ns: ns == own)
    assert await p.glue(name) == sorted([f"ns1.{name}. 192.0.2.53", f"ns1.{name}. 2001:db8::53"])
    assert (await p.publication.get("/", headers={"Host": name})).status_code == 404
    serials.append(await p.serial())

    # a key group gives DS records, signed by Knot with the zone's keys
    assert (await p.registry.post("/api/keygroups", headers=p.auth,
                                  json={"name": "keys-1", "keys": [KEY]})).status_code == 201
    updated = await p.registry.put(f"/api/domains/{name}", headers=p.auth,
                                   json={"name_servers": hosts, "keygroups": ["keys-1"], "tech": [], "onsite": []})
    assert updated.status_code == 200, updated.text

    async def ds() -> dns.message.Message:
        return await p.ask(name, "DS", dnssec=True)

    response = await eventually(ds, lambda r: any(s.rdtype == dns.rdatatype.DS for s in r.answer))
    ds_set = next(s for s in response.answer if s.rdtype == dns.rdatatype.DS)
    signatures = next(s for s in response.answer if s.rdtype == dns.rdatatype.RRSIG)
    dnskey = (await p.ask("be", "DNSKEY", dnssec=True)).find_rrset(
        dns.message.ANSWER, dns.name.from_text("be."), dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    dns.dnssec.validate(ds_set, signatures, {dns.name.from_text("be."): dnskey})  # raises if not valid
    expected = dns.dnssec.make_ds(name + ".", dns.rdata.from_text(
        "IN", "DNSKEY", f"{KEY['flags']} {KEY['protocol']} {KEY['algorithm']} {KEY['public_key']}"), "SHA256")
    assert list(ds_set) == [expected]
    soa = await p.ask("be", "SOA", dnssec=True)
    soa_set = soa.find_rrset(dns.message.ANSWER, dns.name.from_text("be."), dns.rdataclass.IN, dns.rdatatype.SOA)
    soa_sig = soa.find_rrset(dns.message.ANSWER, dns.name.from_text("be."), dns.rdataclass.IN, dns.rdatatype.RRSIG,
                             dns.rdatatype.SOA)
    dns.dnssec.validate(soa_set, soa_sig, {dns.name.from_text("be."): dnskey})
    serials.append(await p.serial())

    # a second domain with a name-server group, so the check below sees groups too
    assert (await p.registry.post("/api/nsgroups", headers=p.auth,
                                  json={"name": "hosting-1", "name_servers": ["a.dns.example", "b.dns.example"]})
            ).status_code == 201
    other = "grouped-" + name
    assert (await p.registry.post("/api/domains", headers=p.auth, json={
        "name": other, "registrant": REGISTRANT, "nsgroups": ["hosting-1"]})).status_code == 201
    await eventually(lambda: p.delegation(other), lambda ns: ns == ["a.dns.example.", "b.dns.example."])
    # a change of the group re-publishes every domain using it
    assert (await p.registry.put("/api/nsgroups/hosting-1", headers=p.auth,
                                 json={"name": "hosting-1", "name_servers": ["a.dns.example", "c.dns.example"]})
            ).status_code == 200
    await eventually(lambda: p.delegation(other), lambda ns: ns == ["a.dns.example.", "c.dns.example."])

    # deletion: into quarantine, out of the zone (NXDOMAIN), glue and DS with it
    assert (await p.registry.delete(f"/api/domains/{name}", headers=p.auth)).status_code == 200
    ran = (await p.registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).json()
    assert ran["quarantined"] == 1

    async def rcode() -> int:
        return (await p.ask(name, "NS")).rcode()

    await eventually(rcode, lambda code: code == dns.rcode.NXDOMAIN)
    assert (await p.ask(f"ns1.{name}", "A")).rcode() == dns.rcode.NXDOMAIN
    serials.append(await p.serial())
    assert serials == sorted(serials) and len(set(serials)) == len(serials), serials  # the serial only grows

    # after the mixed run the live zone equals its rebuild; a record planted behind the service's back is found
    await p.settled()
    assert [d.count for d in await p.pub.check()] == [0, 0, 0]
    # the rebuild's zone files (one pass over all zones) hold what the check compared with
    files = {tld: io.StringIO() for tld in p.pub.settings.tlds}
    counts = await write_zones(p.pub.db, p.pub.settings, datetime.now(UTC), files, p.pub.settings.zone_ttl)
    lines = files["be"].getvalue().splitlines()
    assert lines[:2] == ["$ORIGIN be.", f"$TTL {p.pub.settings.zone_ttl}"] and counts["be"] == len(lines) - 2
    rows = [line.split(" ", 3) for line in lines[2:]]
    assert {cls for _, cls, _, _ in rows} == {"IN"}
    written = {(owner, kind, rdata) for owner, _, kind, rdata in rows}
    assert written == {r async for r in zone_records(p.pub.db, "be", p.pub.settings, datetime.now(UTC))}
    assert (f"{other}.", "NS", "c.dns.example.") in written
    planted = ("planted.be.", "NS", "ns.intruder.example.")
    await p.pub.knot.push("be", [Change([], [planted])])
    found = await p.pub.check()
    assert [d.extra for d in found if d.zone == "be"] == [[planted]]
    assert sum(d.count for d in found) == 1
    metrics = (await p.publication.get("/metrics")).text
    assert 'publication_rebuild_differences{zone="be"} 1.0' in metrics
    assert "publication_lag_seconds_count" in metrics
    await p.pub.knot.push("be", [Change(["planted.be."], [])])
    assert [d.count for d in await p.pub.check()] == [0, 0, 0]


async def test_on_hold_stays_delegated_and_out_of_service_leaves_at_the_end_of_its_expiry_month(
        platform: Platform) -> None:
    """The registry's operators put a domain on hold and out of service (domain.hold_changed,
    domain.service_changed); the publication service follows from those events alone (digest 4.1)."""
    p, name = platform, f"special-{datetime.now(UTC):%H%M%S%f}.be"
    own = ["ns.hoster.example."]
    assert (await p.registry.post("/api/domains", headers=p.auth, json={
        "name": name, "registrant": REGISTRANT, "name_servers": [{"name": "ns.hoster.example"}]})).status_code == 201
    await eventually(lambda: p.delegation(name), lambda ns: ns == own)

    async def record() -> dict:
        return await p.pub.db[DOMAINS].find_one({"_id": name}) or {}

    # bad input changes nothing and says why
    unknown = await p.registry.put("/api/operator/domains/nobody-here.be/on-hold", headers=OPERATOR,
                                   json={"reason": "CEPANI 2026/1"})
    assert unknown.status_code == 404 and "nobody-here.be" in unknown.text
    short = await p.registry.put(f"/api/operator/domains/{name}/on-hold", headers=OPERATOR, json={"reason": ""})
    assert short.status_code == 422

    # on hold: WHOIS says so, the delegation stays
    held = await p.registry.put(f"/api/operator/domains/{name}/on-hold", headers=OPERATOR,
                                json={"reason": "CEPANI case 2026/44"})
    assert held.status_code == 204, held.text
    await eventually(record, lambda doc: doc.get("on_hold") is True)
    assert (await record())["hold_reason"] == "CEPANI case 2026/44"
    assert "Status:\tON HOLD" in await p.pub.whois(name, "192.0.2.200")
    refused = await p.registry.delete(f"/api/domains/{name}", headers=p.auth)  # a case is pending: no delete
    assert refused.status_code == 409 and "on hold" in refused.text, refused.text
    await p.settled()
    assert await p.delegation(name) == own
    assert (await p.registry.delete(f"/api/operator/domains/{name}/on-hold", headers=OPERATOR)).status_code == 204
    await eventually(record, lambda doc: "on_hold" not in doc)

    # out of service: still delegated until the end of its expiry month, then out of the zone
    assert (await p.registry.put(f"/api/operator/domains/{name}/out-of-service", headers=OPERATOR)).status_code == 204
    doc = await eventually(record, lambda doc: "out_of_service_since" in doc)
    assert "Status:\tOUT OF SERVICE" in await p.pub.whois(name, "192.0.2.200")
    await p.settled()
    assert await p.pub.pusher.leave_due() == 0
    assert await p.delegation(name) == own
    expires = doc["expires_at"] if doc["expires_at"].tzinfo else doc["expires_at"].replace(tzinfo=UTC)
    p.clock.offset = end_of_month(expires) + timedelta(minutes=1) - datetime.now(UTC)
    assert await p.pub.pusher.leave_due() == 1
    p.pub.pusher.wake()

    async def rcode() -> int:
        return (await p.ask(name, "NS")).rcode()

    await eventually(rcode, lambda code: code == dns.rcode.NXDOMAIN)
    await p.settled()
    assert await p.pub.pusher.leave_due() == 0  # out of the zone: nothing left to sweep
    # the rebuild agrees (Knot is the module's: other tests' domains are in it, not in this read model)
    assert [r for d in await p.pub.check() for r in d.missing + d.extra if r[0] == f"{name}."] == []

    # back into service (its registrant found a registrar with a contract): delegated again
    assert (await p.registry.delete(f"/api/operator/domains/{name}/out-of-service", headers=OPERATOR)
            ).status_code == 204
    await eventually(lambda: p.delegation(name), lambda ns: ns == own)
    p.clock.offset = timedelta()



async def test_a_domain_knot_refuses_is_parked_and_does_not_hold_up_the_others(platform: Platform) -> None:
    """A record Knot will not take (here: a name outside the zone it is filed under, as a corrupted read model
    would have it) is parked with Knot's answer; the domains pushed with it still reach the zone."""
    p, good = platform, f"good-{datetime.now(UTC):%H%M%S%f}.be"
    now = datetime.now(UTC)
    base = {"tld": "be", "registrar_id": "a100001", "status": "REGISTERED", "nsgroups": [], "keygroups": [],
            "hosts": [{"name": "ns.hoster.example", "addresses": []}]}
    await p.pub.db[DOMAINS].insert_many([{"_id": "misfiled.vlaanderen"} | base, {"_id": good} | base])
    await p.pub.db[CHANGES].insert_many([{"name": "misfiled.vlaanderen", "at": now}, {"name": good, "at": now}])
    p.pub.pusher.wake()
    await eventually(lambda: p.delegation(good), lambda ns: ns == ["ns.hoster.example."])
    parked = await eventually(lambda: p.pub.db[PUBLISHED].find_one({"_id": "misfiled.vlaanderen"}),
                              lambda doc: doc is not None and "refused" in doc)
    assert parked is not None and "NOTZONE" in parked["refused"]
    await p.settled()  # its change records are gone: parked until its next change
    assert 'publication_push_failures_total 1.0' in (await p.publication.get("/metrics")).text


async def test_a_change_recorded_while_the_pusher_is_down_reaches_knot_after_a_restart_and_a_repeat_is_harmless(
        platform: Platform) -> None:
    """The consumer records each change beside its effect; the pusher deletes a change record only once Knot has
    the change, and never writes the consumer's documents. So a change the pusher had not sent when it stopped
    is sent when it starts again, and sending the same again (a push whose records were not deleted) changes
    nothing in the zone."""
    p, name = platform, f"restart-{datetime.now(UTC):%H%M%S%f}.be"
    first = [{"name": "ns.hoster.example"}]
    assert (await p.registry.post("/api/domains", headers=p.auth, json={
        "name": name, "registrant": REGISTRANT, "name_servers": first})).status_code == 201
    await eventually(lambda: p.delegation(name), lambda ns: ns == ["ns.hoster.example."])
    await p.settled()
    record = await p.pub.db[DOMAINS].find_one({"_id": name})
    assert record is not None and set(record) & {"dirty", "published", "version"} == set()  # the pusher's are apart

    await p.pub.pusher.stop()
    try:
        updated = await p.registry.put(f"/api/domains/{name}", headers=p.auth, json={
            "name_servers": [{"name": "ns.other.example"}], "tech": [], "onsite": []})
        assert updated.status_code == 200, updated.text
        await eventually(lambda: p.pub.db[CHANGES].count_documents({"name": name}), lambda n: n >= 1)
        await asyncio.sleep(0.5)
        assert await p.delegation(name) == ["ns.hoster.example."]  # recorded, not pushed
    finally:
        p.pub.pusher.start("restarted")
    await eventually(lambda: p.delegation(name), lambda ns: ns == ["ns.other.example."])
    await p.settled()

    # the same change again, as after a crash between Knot's answer and the deletion: the zone stays as it is
    serial = await p.serial()
    await p.pub.db[CHANGES].insert_many([{"name": name, "at": datetime.now(UTC)} for _ in range(2)])
    p.pub.pusher.wake()
    await p.settled()
    assert await p.delegation(name) == ["ns.other.example."] and await p.serial() >= serial
    assert [r for d in await p.pub.check() for r in d.missing + d.extra if r[0] == f"{name}."] == []


async def test_marks_a_read_model_kept_on_its_domains_before_the_change_records_are_adopted(
        platform: Platform) -> None:
    """A read model from before the change records (dirty and published on the domain): the pusher moves them to
    `changes` and `published`, pushes the change, and the old glue owner is deleted from the zone."""
    p, name = platform, f"adopted-{datetime.now(UTC):%H%M%S%f}.be"
    # the running pusher adopted once when it started (one scan of the domains a database), not again
    await eventually(lambda: p.pub.db[MIGRATIONS].find_one({"_id": ADOPTED_MARKS}), lambda done: done is not None)
    await p.pub.knot.push("be", [Change([], [(f"{name}.", "NS", f"ns1.{name}."), (f"ns1.{name}.", "A", "192.0.2.7")])])
    await p.pub.db[DOMAINS].insert_one({
        "_id": name, "tld": "be", "registrar_id": "a100001", "status": "REGISTERED", "nsgroups": [], "keygroups": [],
        "hosts": [{"name": "ns.hoster.example", "addresses": []}], "dirty": True, "dirty_since": datetime.now(UTC),
        "version": 3, "published": [f"{name}.", f"ns1.{name}."]})
    await p.pub.pusher.adopt_marks_once()
    assert (await p.pub.db[DOMAINS].find_one({"_id": name}) or {}).get("dirty") is True
    assert await p.pub.pusher.adopt_marks() == 1
    p.pub.pusher.wake()
    await eventually(lambda: p.delegation(name), lambda ns: ns == ["ns.hoster.example."])
    await p.settled()
    assert [r for r in await p.pub.knot.records("be") if r[0] == f"ns1.{name}."] == []  # the old glue went
    record = await p.pub.db[DOMAINS].find_one({"_id": name})
    assert record is not None and set(record) & {"dirty", "dirty_since", "published", "version"} == set()
    assert await p.pub.db[PUBLISHED].find_one({"_id": name}) == {"_id": name, "owners": [f"{name}."]}
