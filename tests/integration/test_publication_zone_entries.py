"""The zone entries (services/publication/zone_entries.py) on the real database: the handlers apply the events,
the pusher pushes each change to a real Knot and writes the domain's entry, so that a rebuild read from them says
what the domains say; a database from before them gets them once (the migration), also when a domain changes
while it runs."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from services.publication import zone_entries
from services.publication.delegation import Record
from services.publication.knot import Knot
from services.publication.metrics import PublicationMetrics
from services.publication.pusher import Pusher
from services.publication.readmodel import ReadModel
from services.publication.settings import PublicationSettings
from services.publication.store import DOMAINS, GROUPS, MIGRATIONS, ZONE_ENTRIES
from services.publication.zones import apex_records, load_groups, write_zones, zone_records
from shared.clock import ManualClock
from shared.events import EventPayload, new_event
from shared.events.domains import (
    DomainCreated,
    DomainOverrideChanged,
    DomainQuarantined,
    DomainRenewed,
    DomainServiceChanged,
    DomainUpdated,
    NameServerHost,
)
from shared.events.groups import NameServerGroupChanged
from shared.mongo.transactions import in_transaction
from tests.integration.infra import MONGODB_URL

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Store:
    client: AsyncMongoClient[Any]
    db: AsyncDatabase[Any]
    settings: PublicationSettings
    clock: ManualClock

    async def apply(self, *payloads: EventPayload) -> None:
        """The events in one batch, as the consumer applies them (one transaction), then pushed by the pusher."""
        events = []
        for payload in payloads:
            events.append(new_event(payload, registrar_id="r1", correlation_id=None, clock=self.clock))
            self.clock.advance(timedelta(seconds=1))
        model = ReadModel(lambda: self.db)
        await in_transaction(self.client, lambda session: model.apply_many(events, session))
        pusher = Pusher(lambda: self.db, Knot(self.settings), self.settings, PublicationMetrics(CollectorRegistry()),
                        self.clock)
        await pusher.drain()

    async def from_domains(self, tld: str) -> set[Record]:
        """What the zone should hold, computed from every domain as the pusher does: what the entries must say."""
        groups = await load_groups(self.db)
        out = set(apex_records(tld, self.settings))
        async for doc in self.db[DOMAINS].find({"tld": tld}):
            out.update(groups.records(doc, self.settings.landing_name_servers, self.clock.now()))
        return out

    async def rebuilt(self, tld: str) -> set[Record]:
        return {r async for r in zone_records(self.db, tld, self.settings, self.clock.now())}

    async def entries(self) -> dict[str, Any]:
        return {k: v async for b in self.db[ZONE_ENTRIES].find() for k, v in b.get("names", {}).items()}


@pytest.fixture
async def store(namespace: str, knot_port: int) -> AsyncIterator[Store]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    try:
        yield Store(client, client[f"{namespace}_publication"],
                    PublicationSettings(namespace=namespace, dns_port=knot_port), ManualClock(NOW))
    finally:
        await client.close()


def created(name: str, hosts: list[NameServerHost] | None = None, nsgroups: list[str] | None = None) -> DomainCreated:
    return DomainCreated(name=name, tld=name.rsplit(".", 1)[-1], registrant="c1", registered_at=NOW,
                         name_servers=[h.name for h in hosts or []], hosts=hosts or [], nsgroups=nsgroups or [])


async def test_the_pusher_writes_each_domains_entry_and_the_rebuild_says_what_the_domains_say(store: Store) -> None:
    await zone_entries.fill_once(store.db, NOW)  # a new database: nothing to fill, marked done
    assert await store.db[MIGRATIONS].find_one({"_id": zone_entries.FILLED}) is not None
    hoster = NameServerHost(name="ns.hoster.example")
    await store.apply(
        NameServerGroupChanged(name="g", name_servers=["a.dns.example", "b.dns.example"], created=True),
        created("plain.be", [NameServerHost(name="ns1.plain.be", addresses=["192.0.2.1", "2001:db8::1"]), hoster]),
        created("grouped.be", nsgroups=["g"]),
        created("landing.be", [hoster]),
        created("gone.be", [hoster]),
        created("out.be", [hoster]),
        created("plain.vlaanderen", [hoster]),
    )
    await store.apply(
        DomainUpdated(name="plain.be", tech=[], onsite=[], name_servers=["ns2.plain.be"], nsgroups=[], keygroups=[],
                      hosts=[NameServerHost(name="ns2.plain.be", addresses=["192.0.2.2"])]),
        DomainOverrideChanged(name="landing.be", overridden=True, reason="pending", published_name_servers=[]),
        DomainQuarantined(name="gone.be", quarantined_at=NOW, available_on=NOW + timedelta(days=40)),
        DomainServiceChanged(name="out.be", out_of_service=True, since=NOW),
    )
    entries = await store.entries()
    assert entries["plain_be"] == "ns2.plain.be. IN A 192.0.2.2\nplain.be. IN NS ns2.plain.be.\n"
    assert entries["grouped_be"]["nsgroups"] == ["g"] and "out_of_service_since" in entries["out_be"]
    assert isinstance(entries["landing_be"], dict) and "gone_be" not in entries
    for tld in ("be", "vlaanderen"):
        assert await store.rebuilt(tld) == await store.from_domains(tld)
    assert (("landing.be.", "NS", "ns1.landing.registry.invalid.") in await store.rebuilt("be"))

    # a group's change changes no entry: the rebuild reads the group
    before = await store.entries()
    await store.apply(NameServerGroupChanged(name="g", name_servers=["a.dns.example", "c.dns.example"], created=False))
    assert await store.entries() == before
    assert ("grouped.be.", "NS", "c.dns.example.") in await store.rebuilt("be")
    # a renewal moves the month an out-of-service domain leaves in: its entry follows
    renewed = NOW + timedelta(days=730)
    await store.apply(DomainRenewed(name="out.be", registrar_id="r1", expires_at=renewed))
    assert (await store.entries())["out_be"]["expires_at"] == renewed
    # out of service: gone from the rebuild once its expiry month has ended
    store.clock.advance(timedelta(days=800))
    assert not [r for r in await store.rebuilt("be") if r[0] == "out.be."]
    assert await store.rebuilt("be") == await store.from_domains("be")

    # the zone files hold the same, with the TTL of the settings
    files = {tld: io.StringIO() for tld in store.settings.tlds}
    counts = await write_zones(store.db, store.settings, store.clock.now(), files, ttl=900)
    lines = files["be"].getvalue().splitlines()
    assert lines[:2] == ["$ORIGIN be.", "$TTL 900"] and counts["be"] == len(lines) - 2
    assert set(zone_entries.parse("\n".join(lines[2:]))) == await store.from_domains("be")

    # the audit finds the entries saying what the domains say, and names each one planted wrong, missing or extra
    assert await zone_entries.audit(store.db) == []
    plain, grouped = zone_entries.bucket_id("be", "plain.be"), zone_entries.bucket_id("be", "grouped.be")
    await store.db[ZONE_ENTRIES].update_one({"_id": plain}, {"$set": {"names.plain_be": "plain.be. IN NS x.example.\n"}})
    await store.db[ZONE_ENTRIES].update_one({"_id": grouped}, {"$unset": {"names.grouped_be": ""}})
    await store.db[ZONE_ENTRIES].update_one({"_id": zone_entries.bucket_id("be", "ghost.be")},
                                            {"$set": {"tld": "be", "names.ghost_be": "ghost.be. IN NS x.example.\n"}},
                                            upsert=True)
    found = await zone_entries.audit(store.db)
    assert [line.split(":")[0] for line in found] == ["ghost.be", "grouped.be", "plain.be"], found
    assert "left over" in found[0] and "x.example" in found[2]
    assert [line.split(":")[0] for line in await zone_entries.audit(store.db, {"plain.be", "ghost.be"})] == ["grouped.be"]


async def test_a_database_from_before_the_entries_has_them_filled_once(store: Store,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Domains as the handlers wrote them before there were entries: no rebuild until the migration has run; then
    the rebuild says what they say. A domain that changes while its chunk is written ends with its current entry."""
    monkeypatch.setattr(zone_entries, "FILL_CHUNK", 40)  # several chunks, the last one short
    base = {"tld": "be", "registrar_id": "r1", "status": "REGISTERED", "nsgroups": [], "keygroups": [],
            "registered_at": NOW, "expires_at": NOW + timedelta(days=365)}
    hoster = [{"name": "ns.hoster.example", "addresses": []}]
    await store.db[GROUPS].insert_one({"_id": "nsgroup:r1:g", "kind": "nsgroup", "registrar_id": "r1", "name": "g",
                                       "name_servers": ["a.dns.example"]})
    await store.db[DOMAINS].insert_many(
        [{"_id": f"old{i}.be", **base, "hosts": [{"name": f"ns1.old{i}.be", "addresses": ["192.0.2.9"]}]}
         for i in range(2 * zone_entries.FILL_CHUNK + 7)]
        + [{"_id": "grouped.be", **base, "hosts": [], "nsgroups": ["g"]},
           {"_id": "quarantined.be", **base, "hosts": hoster, "status": "QUARANTINE"}])
    with pytest.raises(zone_entries.NotFilled):
        await store.rebuilt("be")
    with pytest.raises(zone_entries.NotFilled):
        await write_zones(store.db, store.settings, NOW, {"be": io.StringIO()})

    await zone_entries.fill_once(store.db, NOW)
    assert len(await store.entries()) == 2 * zone_entries.FILL_CHUNK + 8
    assert await store.rebuilt("be") == await store.from_domains("be")
    done = await store.db[MIGRATIONS].find_one({"_id": zone_entries.FILLED})
    assert done is not None
    await zone_entries.fill_once(store.db, NOW + timedelta(hours=1))  # once: not again
    assert await store.db[MIGRATIONS].find_one({"_id": zone_entries.FILLED}) == done

    # a domain changed (and one deleted) after the fill read them: their entries follow what is stored now
    read = await store.db[DOMAINS].find({"_id": {"$in": ["old1.be", "old2.be"]}}, zone_entries.ZONE_FIELDS).to_list()
    await store.db[DOMAINS].update_one({"_id": "old1.be"}, {"$set": {"hosts": hoster}})
    await store.db[DOMAINS].delete_one({"_id": "old2.be"})
    await zone_entries.fill_chunk(store.db, read)
    entries = await store.entries()
    assert entries["old1_be"] == "old1.be. IN NS ns.hoster.example.\n" and "old2_be" not in entries
    assert await store.rebuilt("be") == await store.from_domains("be")
