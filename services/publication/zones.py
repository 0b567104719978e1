"""The zones from the read model (the I/O around delegation.py): a domain's groups, a batch of domains'
records for the pusher, a whole zone streamed for a rebuild, and the comparison with the live zone.

A rebuild reads the zone entries (zone_entries.py), not the domains: one cursor over the buckets (no sort: a zone
file need not be in order, and a sort costs the store a pass); a batch of buckets is written to the TLDs' files in a
worker thread while the next batch is fetched. An entry in master-file form is written as it is; one of zone
fields gets its records from delegation.records with the registrar's groups (small: a registrar has a handful,
loaded once). Memory is two batches of buckets and the groups, whatever the zones' size."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from pymongo.asynchronous.database import AsyncDatabase

from services.publication import delegation, zone_entries
from services.publication.delegation import Record, absolute
from services.publication.settings import PublicationSettings
from services.publication.store import GROUPS, ZONE_ENTRIES
from shared.mongo.client import Document

ZONE_FIELDS = zone_entries.ZONE_FIELDS
BATCH = 200  # buckets (some 100 domains each at .be's size)


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


def entry_records(name: str, value: zone_entries.Entry, groups: Groups, landing: Sequence[str],
                  now: datetime) -> list[Record]:
    if isinstance(value, str):
        return zone_entries.parse(value)
    return groups.records({**value, "_id": name}, landing, now)


async def zone_records(db: AsyncDatabase[Document], tld: str, settings: PublicationSettings,
                       now: datetime) -> AsyncIterator[Record]:
    """Every record the zone should hold, from the read model: its apex NS, then each domain's."""
    await zone_entries.require_ready(db)
    for record in apex_records(tld, settings):
        yield record
    groups = await load_groups(db)
    landing = list(settings.landing_name_servers)
    async for bucket in db[ZONE_ENTRIES].find({"tld": tld}, {"names": 1}, batch_size=BATCH):
        for key, value in bucket.get("names", {}).items():
            for record in entry_records(zone_entries.name_of(key), value, groups, landing, now):
                yield record


async def write_zones(db: AsyncDatabase[Document], settings: PublicationSettings, now: datetime,
                      outs: Mapping[str, TextIO], ttl: int = 3600) -> dict[str, int]:
    """The rebuilt zones in master-file form, one file per TLD of `outs` (without SOA and DNSSEC records:
    Knot's), in one pass over the zone entries; returns the records written per TLD."""
    await zone_entries.require_ready(db)
    counts = dict.fromkeys(outs, 0)
    for tld, out in outs.items():
        out.write(f"$ORIGIN {tld}.\n$TTL {ttl}\n")
        for record in apex_records(tld, settings):
            out.write(zone_entries.line(record))
            counts[tld] += 1
    groups = await load_groups(db)
    landing = list(settings.landing_name_servers)

    def write(buckets: list[Document]) -> None:
        for bucket in buckets:
            tld = bucket.get("tld", "")
            if tld not in outs:
                continue
            lines: list[str] = []
            for key, value in bucket.get("names", {}).items():
                if isinstance(value, str):  # as it is: most are, and the rebuild's time is theirs
                    lines.append(value)
                else:
                    lines.extend(map(zone_entries.line, entry_records(zone_entries.name_of(key), value, groups,
                                                                      landing, now)))
            text = "".join(lines)
            outs[tld].write(text)
            counts[tld] += text.count("\n")

    cursor = db[ZONE_ENTRIES].find({}, batch_size=BATCH)
    writing: asyncio.Future[None] | None = None
    while buckets := await cursor.to_list(BATCH):  # fetched while the previous batch is being written
        if writing is not None:
            await writing
        writing = asyncio.ensure_future(asyncio.to_thread(write, buckets))
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
