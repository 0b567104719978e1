"""The read model laid out for a rebuild (store.py: `zone_entries`): each domain in a zone has an entry in one of
its TLD's bucket documents, so a rebuild of .be's 1.7 M domains reads some 16,000 documents instead of 1.7 M: a
MongoDB server's cost of a cursor is mostly per document it returns (the local stand-in's all the more), and an
entry is one field of a bucket, a few hundred bytes.

The pusher writes the entries (pusher.py), from the domain documents it reads for each push: every change to
what a domain's zone says has a change record, so an entry follows its domain within the push lag, and the
domains whose change is still on its way are the ones the check leaves out anyway (service.py). One writer at a
time (the pusher's lease; the one-off fill beside it copes, see fill), outside the consumer's transactions:
written there, in the transaction of each event, the entries doubled the consumer's cost per event on the
stand-in and made two replicas' batches conflict on a shared bucket (measured side by side under load 10: the
lag p50 went from 2.3 s to 8.6 s). A rebuild
with the change records still pending is what the read model says once the pusher has taken them.

An entry is, when the domain's records depend on the domain alone, those records already in master-file form
(`owner IN TYPE rdata` lines; the file's $TTL gives the TTL, a setting); otherwise the domain's zone fields, which
the rebuild turns into records with delegation.records, as the pusher does: a domain that uses its registrar's
name-server or key groups (a group's change must not rewrite every domain using it), one overridden to the landing
name servers of the settings, and one out of service (it leaves the zone at a moment, not on an event). A domain
out of the zone (quarantined, released, or without a name server) has no entry.

A domain's bucket is a hash of its name (stable across processes and versions: CRC-32), BUCKETS per TLD, so the
buckets fill evenly (about 100 names each at 1.7 M, some 20 KB, far below MongoDB's 16 MB) and one push rewrites
one field of one small document per domain. BUCKETS is part of the stored layout: changing it needs a migration.
More buckets would cost a rebuild more documents; fewer would make each push rewrite larger ones. In a bucket the
names are keys with their dots as underscores (a dot is a path in an update; an A-label has no underscore).

Databases from before the entries get them once (fill_once: a periodic job under a lease, jobs.py, until a
MIGRATIONS document says it is done); until then a rebuild or a check would miss domains, so both wait for it."""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.publication import delegation
from services.publication.delegation import Record
from services.publication.store import DOMAINS, MIGRATIONS, ZONE_ENTRIES
from shared.mongo.client import Document

log = logging.getLogger(__name__)
BUCKETS = 16_384
FILLED = "zone-entries-filled"  # its MIGRATIONS document
# what an entry's records depend on (and what the consumer reads back to render one)
ZONE_FIELDS = {"tld": 1, "registrar_id": 1, "status": 1, "hosts": 1, "nsgroups": 1, "keygroups": 1, "override": 1,
               "expires_at": 1, "out_of_service_since": 1}
# what an entry of zone fields keeps (the expiry only of an out-of-service domain: when it leaves), empty values
# left out: a rebuild costs the server mostly per value it reads and sends
OWN_FIELDS = ("registrar_id", "status", "hosts", "nsgroups", "keygroups", "override")
FILL_CHUNK = 10_000  # domains read, then written as one bulk (about one statement per bucket it touches)
Entry = str | dict[str, Any]


class NotFilled(RuntimeError):
    """The zone entries of the domains from before them are not filled yet (fill_once)."""


def tld_of(doc: Mapping[str, Any]) -> str:
    return str(doc.get("tld") or str(doc["_id"]).rsplit(".", 1)[-1])


def bucket_id(tld: str, name: str) -> str:
    return f"{tld}:{zlib.crc32(name.encode()) % BUCKETS:05d}"


def key_of(name: str) -> str:
    return name.replace(".", "_")


def name_of(key: str) -> str:
    return key.replace("_", ".")


def line(record: Record) -> str:
    owner, kind, rdata = record
    return f"{owner} IN {kind} {rdata}\n"


def parse(text: str) -> list[Record]:
    """The records of an entry's master-file lines."""
    out: list[Record] = []
    for row in text.splitlines():
        owner, _, kind, rdata = row.split(" ", 3)
        out.append((owner, kind, rdata))
    return out


def entry(doc: Mapping[str, Any]) -> Entry | None:
    """The domain's entry (see the module's docstring); None when it has none."""
    if doc.get("status") not in delegation.IN_ZONE:
        return None
    override = doc.get("override")
    if doc.get("out_of_service_since") or (override and not override.get("name_servers")) or (
            not override and (doc.get("nsgroups") or doc.get("keygroups"))):
        kept = OWN_FIELDS + (("out_of_service_since", "expires_at") if doc.get("out_of_service_since") else ())
        return {k: doc[k] for k in kept if doc.get(k)}
    # the domain alone decides: no group, no landing default, not out of service (so `now` plays no part)
    records = delegation.records(doc, {}, {}, (), datetime.min)
    return "".join(map(line, records)) or None


def writes(docs: Iterable[Mapping[str, Any]]) -> list[UpdateOne]:
    """One update per bucket: each domain's entry set, or unset when it has none."""
    updates: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in docs:
        name = str(doc["_id"])
        tld = tld_of(doc)
        update = updates.setdefault(bucket_id(tld, name), {"$set": {"tld": tld}})
        value = entry(doc)
        if value is None:
            update.setdefault("$unset", {})[f"names.{key_of(name)}"] = ""
        else:
            update["$set"][f"names.{key_of(name)}"] = value
    return [UpdateOne({"_id": bucket}, update, upsert=True) for bucket, update in sorted(updates.items())]


async def ready(db: AsyncDatabase[Document]) -> bool:
    return await db[MIGRATIONS].find_one({"_id": FILLED}) is not None


async def require_ready(db: AsyncDatabase[Document]) -> None:
    if not await ready(db):
        raise NotFilled("the zone entries of the domains from before them are still being filled (the publication "
                        "service does it once, when it starts); try again when it has logged that it is done")


async def fill(db: AsyncDatabase[Document]) -> int:
    """Write the entry of every domain, a chunk at a time as one cursor goes over them in _id order; returns how
    many it read.

    Beside the pusher, without a transaction, so a domain the consumer changes while its chunk is on its way could
    get an entry from before the change: after writing a chunk it reads the chunk's _id range again and rewrites
    the domains that changed (or went: a released one the pusher deleted), until none did. A change the read again
    does not see came after it, and has a change record: the pusher writes that domain's entry again. A domain
    added meanwhile has its entry from the pusher too."""
    done = 0
    chunk: list[Document] = []
    async for doc in db[DOMAINS].find({}, ZONE_FIELDS, batch_size=FILL_CHUNK).sort("_id", ASCENDING):
        chunk.append(doc)
        if len(chunk) == FILL_CHUNK:
            done += await fill_chunk(db, chunk)
            chunk = []
    return done + (await fill_chunk(db, chunk) if chunk else 0)


async def fill_chunk(db: AsyncDatabase[Document], chunk: list[Document]) -> int:
    """Write the entries of domains as read (`chunk`), then again for each one that has changed since. Read
    again by _id range, not by a list of ids: one index range, whatever the chunk's size."""
    written = sorted(chunk, key=lambda d: str(d["_id"]))
    while written:
        await db[ZONE_ENTRIES].bulk_write(writes(written), ordered=False)
        again = {d["_id"]: d async for d in db[DOMAINS].find(
            {"_id": {"$gte": written[0]["_id"], "$lte": written[-1]["_id"]}}, ZONE_FIELDS)}
        current = [again.get(d["_id"]) or {"_id": d["_id"], "tld": tld_of(d)} for d in written]
        written = [d for d, before in zip(current, written, strict=True) if d != before]
    return len(chunk)


async def fill_once(db: AsyncDatabase[Document], now: datetime) -> None:
    """fill once a database (a scan of every domain); the MIGRATIONS document says it is done."""
    if await ready(db):
        return
    if filled := await fill(db):
        log.info("wrote the zone entries of %d domains from before them", filled)
    await db[MIGRATIONS].update_one({"_id": FILLED}, {"$set": {"at": now}}, upsert=True)


# -- the audit: the entries against the domains they come from --------------------------------------------------

def _digest(name: str, value: Entry) -> int:
    """One entry as a number; a bucket's is the XOR of its entries', so the two sides compare bucket by bucket in
    memory that grows with the buckets, not the domains (16,384 numbers a TLD)."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return int.from_bytes(hashlib.blake2b(f"{name}\0{text}".encode(), digest_size=8).digest(), "big")


async def audit(db: AsyncDatabase[Document], leave_out: Collection[str] = ()) -> list[str]:
    """Every domain whose stored entry is not what its domain document says now (wrong, missing, or left over), as
    lines; `leave_out`: names whose change the pusher has not taken yet (they differ by design until it has).

    The AXFR-vs-rebuild check compares Knot with the entries, both written by the pusher; this compares the entries
    with the consumer's read model, so a change the pusher lost or rendered wrong shows too. It reads every domain
    (slow on a big zone: an operator job, `python -m services.publication.rebuild --audit`), then, only where a
    bucket differs, that bucket and its domains again to name them."""
    leave_out = set(leave_out)
    expected: dict[str, int] = {}
    async for doc in db[DOMAINS].find({}, ZONE_FIELDS, batch_size=FILL_CHUNK):
        name = str(doc["_id"])
        value = entry(doc)
        if value is not None and name not in leave_out:
            bucket = bucket_id(tld_of(doc), name)
            expected[bucket] = expected.get(bucket, 0) ^ _digest(name, value)
    stored: dict[str, int] = {}
    async for bucket_doc in db[ZONE_ENTRIES].find({}, batch_size=1_000):
        digest = 0
        for key, value in (bucket_doc.get("names") or {}).items():
            if name_of(key) not in leave_out:
                digest ^= _digest(name_of(key), value)
        stored[str(bucket_doc["_id"])] = digest
    wrong = {b for b in expected.keys() | stored.keys() if expected.get(b, 0) != stored.get(b, 0)}
    if not wrong:
        return []
    kept: dict[str, Entry] = {}
    async for bucket_doc in db[ZONE_ENTRIES].find({"_id": {"$in": sorted(wrong)}}):
        kept.update((name_of(k), v) for k, v in (bucket_doc.get("names") or {}).items())
    lines = []
    async for doc in db[DOMAINS].find({}, ZONE_FIELDS, batch_size=FILL_CHUNK):
        name = str(doc["_id"])
        if name in leave_out or bucket_id(tld_of(doc), name) not in wrong:
            continue
        value, stored_value = entry(doc), kept.pop(name, None)
        if value != stored_value:
            lines.append(f"{name}: entry {stored_value!r}, its domain says {value!r}")
    lines.extend(f"{name}: entry {value!r} left over, no such domain" for name, value in kept.items()
                 if name not in leave_out)
    return sorted(lines)
