"""The zones from the read model (the I/O around delegation.py): a domain's groups, a batch of domains'
records for the pusher, a whole zone streamed for a rebuild, and the comparison with the live zone.

A rebuild streams: one cursor over the TLD's domains in name order, each domain's records written as it
arrives; the groups (small: a registrar has a handful) are loaded once. Memory is a cursor batch and the
groups, whatever the zone's size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.publication import delegation
from services.publication.delegation import Record, absolute
from services.publication.settings import PublicationSettings
from services.publication.store import DOMAINS, GROUPS
from shared.mongo.client import Document

ZONE_FIELDS = {"tld": 1, "registrar_id": 1, "status": 1, "hosts": 1, "nsgroups": 1, "keygroups": 1, "override": 1,
               "expires_at": 1, "out_of_service_since": 1}
BATCH = 5_000


@dataclass
class Groups:
    """Name-server and key groups by registrar, then by name."""

    ns: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    keys: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def records(self, domain: Mapping[str, Any], landing: Sequence[str], now: datetime) -> list[Record]:
        registrar = domain.get("registrar_id") or ""
        return delegation.records(domain, self.ns.get(registrar, {}), self.keys.get(registrar, {}), landing, now)


async def load_groups(db: AsyncDatabase[Document], registrars: Iterable[str] | None = None) -> Groups:
    query: dict[str, Any] = {} if registrars is None else {"registrar_id": {"$in": sorted(set(registrars))}}
    groups = Groups()
    async for g in db[GROUPS].find(query):
        if g["kind"] == "nsgroup":
            groups.ns.setdefault(g["registrar_id"], {})[g["name"]] = list(g.get("name_servers", []))
        else:
            groups.keys.setdefault(g["registrar_id"], {})[g["name"]] = list(g.get("keys", []))
    return groups


def apex_records(tld: str, settings: PublicationSettings) -> list[Record]:
    return [(absolute(tld), "NS", absolute(ns)) for ns in settings.zone_name_servers]


async def zone_records(db: AsyncDatabase[Document], tld: str, settings: PublicationSettings,
                       now: datetime) -> AsyncIterator[Record]:
    """Every record the zone should hold, from the read model: its apex NS, then each domain's."""
    for record in apex_records(tld, settings):
        yield record
    groups = await load_groups(db)
    landing = list(settings.landing_name_servers)
    cursor = db[DOMAINS].find({"tld": tld, "status": {"$in": sorted(delegation.IN_ZONE)}}, ZONE_FIELDS,
                              batch_size=BATCH).sort([("tld", ASCENDING), ("_id", ASCENDING)])
    async for domain in cursor:
        for record in groups.records(domain, landing, now):
            yield record


async def write_zone(db: AsyncDatabase[Document], tld: str, settings: PublicationSettings, now: datetime,
                     out: TextIO, ttl: int = 3600) -> int:
    """The rebuilt zone in master-file form (without SOA and DNSSEC records: Knot's); returns the records written."""
    out.write(f"$ORIGIN {tld}.\n")
    count = 0
    async for owner, kind, rdata in zone_records(db, tld, settings, now):
        out.write(f"{owner} {ttl} IN {kind} {rdata}\n")
        count += 1
    return count


@dataclass(frozen=True)
class Difference:
    zone: str
    missing: list[Record]  # rebuilt, but not in the live zone
    extra: list[Record]  # in the live zone, but not rebuilt

    @property
    def count(self) -> int:
        return len(self.missing) + len(self.extra)

    def lines(self) -> list[str]:
        return ([f"{self.zone}: missing in Knot: {' '.join(r)}" for r in self.missing]
                + [f"{self.zone}: not in the rebuild: {' '.join(r)}" for r in self.extra])


async def compare(db: AsyncDatabase[Document], tld: str, settings: PublicationSettings, now: datetime,
                  live: set[Record]) -> Difference:
    rebuilt = {record async for record in zone_records(db, tld, settings, now)}
    return Difference(tld, sorted(rebuilt - live), sorted(live - rebuilt))
