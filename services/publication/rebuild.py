"""The zones rebuilt from the read model, and the check of the live zones against them (an operator job).

    python -m services.publication.rebuild [--out DIR]   writes DIR/<tld>.zone for each TLD (default .data/rebuild)
    python -m services.publication.rebuild --check        AXFRs each live zone from Knot, compares it with its
                                                          rebuild, prints every difference; exit 1 if any
    python -m services.publication.rebuild --audit        compares the zone entries with the domains they come
                                                          from (every domain read: slow on a big zone), prints
                                                          every domain whose entry differs; exit 1 if any

The rebuilt files hold what the registry decides (apex NS, delegations, DS, glue); Knot adds the SOA and the
DNSSEC records. Both read the zone entries (zone_entries.py: some 16,000 bucket documents for .be's 1.7 M domains),
not the domains; exit 2 while a database from before them is still having them filled. The service runs the same
check every CHECK_INTERVAL_SECONDS and exports the count (publication_rebuild_differences)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

from pymongo import AsyncMongoClient

from services.publication.knot import Knot
from services.publication.settings import PublicationSettings
from services.publication import zone_entries
from services.publication.store import CHANGES
from services.publication.zone_entries import NotFilled
from services.publication.zones import compare, write_zones
from shared.clock import SystemClock
from shared.mongo.client import Document, make_client


async def rebuild(settings: PublicationSettings, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    client: AsyncMongoClient[Document] = make_client(settings)
    try:
        db = client[settings.database_name]
        with contextlib.ExitStack() as files:
            outs = {tld: files.enter_context((out / f"{tld}.zone").open("w", buffering=1 << 20))
                    for tld in settings.tlds}
            return await write_zones(db, settings, SystemClock().now(), outs, settings.zone_ttl)
    finally:
        await client.close()


async def check(settings: PublicationSettings) -> int:
    client: AsyncMongoClient[Document] = make_client(settings)
    knot = Knot(settings)
    differences = 0
    try:
        db = client[settings.database_name]
        for tld in settings.tlds:
            diff = await compare(db, tld, settings, SystemClock().now(), await knot.records(tld))
            for line in diff.lines():
                print(line)
            differences += diff.count
    finally:
        await client.close()
    print(f"{differences} difference(s)")
    return differences


async def audit(settings: PublicationSettings) -> int:
    """The entries against the read model's domains (zone_entries.audit), leaving out the domains whose change the
    pusher has not taken yet."""
    client: AsyncMongoClient[Document] = make_client(settings)
    try:
        db = client[settings.database_name]
        await zone_entries.require_ready(db)
        pending = {str(c["name"]) async for c in db[CHANGES].find({"name": {"$exists": True}}, {"name": 1})}
        lines = await zone_entries.audit(db, pending)
    finally:
        await client.close()
    for line in lines:
        print(line)
    print(f"{len(lines)} domain(s) whose entry differs")
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.publication.rebuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".data/rebuild"), help="where the zone files go")
    parser.add_argument("--check", action="store_true", help="compare the live zones (AXFR) with the rebuild")
    parser.add_argument("--audit", action="store_true", help="compare the zone entries with the domains")
    args = parser.parse_args(argv)
    settings = PublicationSettings()
    try:
        if args.check:
            return 1 if asyncio.run(check(settings)) else 0
        if args.audit:
            return 1 if asyncio.run(audit(settings)) else 0
        started = time.monotonic()
        counts = asyncio.run(rebuild(settings, args.out))
    except NotFilled as exc:
        print(exc, file=sys.stderr)
        return 2
    for tld, count in counts.items():
        print(f"{args.out / (tld + '.zone')}: {count} records")
    print(f"rebuilt in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
