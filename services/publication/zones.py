"""The zones from the read model (the I/O around delegation.py): a domain's groups, a batch of domains'
records for the pusher, a whole zone streamed for a rebuild, and the comparison with the live zone.

A rebuild streams: one cursor over every domain in the zones (no sort: a zone file need not be in order, and
a sort costs the store a pass), a batch of domains written to its TLD's file in a worker thread while the next
batch is fetched; the groups (small: a registrar has a handful) are loaded once. Memory is two cursor batches
and the groups, whatever the zones' size."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

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
                              batch_size=BATCH)
    async for domain in cursor:
        for record in groups.records(domain, landing, now):
            yield record


async def write_zones(db: AsyncDatabase[Document], settings: PublicationSettings, now: datetime,
                      outs: Mapping[str, TextIO], ttl: int = 3600) -> dict[str, int]:
    """The rebuilt zones in master-file form, one file per TLD of `outs` (without SOA and DNSSEC records:
    Knot's), in one pass over the read model; returns the records written per TLD."""
    counts = dict.fromkeys(outs, 0)
    for tld, out in outs.items():
        out.write(f"$ORIGIN {tld}.\n")
        for owner, kind, rdata in apex_records(tld, settings):
            out.write(f"{owner} {ttl} IN {kind} {rdata}\n")
            counts[tld] += 1
    groups = await load_groups(db)
    landing = list(settings.landing_name_servers)

    def write(domains: list[Document]) -> None:
        for domain in domains:
            tld = domain.get("tld", "")
            if tld in outs:
                lines = [f"{owner} {ttl} IN {kind} {rdata}\n"
                         for owner, kind, rdata in groups.records(domain, landing, now)]
                outs[tld].writelines(lines)
                counts[tld] += len(lines)

    cursor = db[DOMAINS].find({"status": {"$in": sorted(delegation.IN_ZONE)}}, ZONE_FIELDS, batch_size=BATCH)
    writing: asyncio.Future[None] | None = None
    while domains := await cursor.to_list(BATCH):  # fetched while the previous batch is being written
        if writing is not None:
            await writing
        writing = asyncio.ensure_future(asyncio.to_thread(write, domains))
    if writing is not None:
        await writing
    return counts


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
