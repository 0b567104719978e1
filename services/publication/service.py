"""The publication service's I/O shell: reads the read model for the public protocols (WHOIS, DAS, RDAP, the
landing page), runs the AXFR-vs-rebuild check, and holds the pusher. The rules live in delegation.py,
view.py, whois.py, das.py, rdap.py, names.py and ratelimit.py."""

from __future__ import annotations

import logging
import time
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.publication import das, delegation, whois, zone_entries
from services.publication.knot import Knot
from services.publication.metrics import PublicationMetrics
from services.publication.names import InvalidName, host_name, to_a_label
from services.publication.pusher import Pusher, expand
from services.publication.ratelimit import RateLimit
from services.publication.readmodel import ReadModel
from services.publication.settings import PublicationSettings
from services.publication.store import CHANGES, CONTACTS, DOMAINS, GROUPS, PUBLISHED, REGISTRARS
from services.publication.view import PublicDomain, public_domain
from services.publication.zones import Difference, compare, load_groups
from shared.mongo.client import Document
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)
VISIBLE = ("REGISTERED", "QUARANTINE")


class Publication:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        s: PublicationSettings = ctx.settings  # type: ignore[assignment]
        self.settings = s
        self.metrics = PublicationMetrics(ctx.metrics.registry)
        self.read_model = ReadModel(lambda: self.ctx.db)
        self.knot = Knot(s)
        self.pusher = Pusher(lambda: self.ctx.db, self.knot, s, self.metrics, ctx.clock)
        self.whois_limit = RateLimit(s.whois_rate_per_minute)
        self.das_limit = RateLimit(s.das_rate_per_minute)
        self.rdap_limit = RateLimit(s.rdap_rate_per_minute)

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.ctx.db

    # -- lookups ----------------------------------------------------------------------------------------------

    async def domain(self, name: str) -> PublicDomain | None:
        doc = await self.db[DOMAINS].find_one({"_id": name, "status": {"$in": list(VISIBLE)}})
        if doc is None:
            return None
        groups = await load_groups(self.db, [doc.get("registrar_id") or ""])
        registrar_id = doc.get("registrar_id") or ""
        registrar = await self.db[REGISTRARS].find_one({"_id": registrar_id}) or {"_id": registrar_id}
        return public_domain(doc, groups.ns.get(registrar_id, {}), groups.keys.get(registrar_id, {}), registrar,
                             self.settings.landing_name_servers)

    async def registrar(self, handle: str) -> Document | None:
        return await self.db[REGISTRARS].find_one({"_id": handle})

    async def contact(self, alias: str) -> Document | None:
        return await self.db[CONTACTS].find_one({"_id": alias})

    async def nameserver(self, name: str) -> list[str] | None:
        """The host's glue addresses if a domain names it (empty when it needs none); None when none does."""
        doc = await self.db[DOMAINS].find_one({"hosts.name": name, "status": "REGISTERED"}, {"hosts": 1})
        if doc is not None:
            return next((list(h.get("addresses", [])) for h in doc["hosts"] if h["name"] == name), [])
        group = await self.db[GROUPS].find_one({"kind": "nsgroup", "name_servers": name}, {"_id": 1})
        return [] if group is not None else None

    async def overridden(self, name: str) -> tuple[bool, str | None]:
        doc = await self.db[DOMAINS].find_one({"_id": name, "status": "REGISTERED", "override": {"$exists": True}},
                                              {"override": 1})
        return (doc is not None, (doc or {}).get("override", {}).get("reason"))

    # -- WHOIS and DAS: one query line in, one answer out ----------------------------------------------------

    async def whois(self, query: str, address: str) -> str:
        allowed, retry = self.whois_limit.allow(address, time.monotonic())
        if not allowed:
            self.metrics.queries.labels("whois", "limited").inc()
            return whois.error(f"query limit exceeded: at most {self.settings.whois_rate_per_minute} queries a "
                               f"minute per address; try again in {int(retry) + 1} seconds")
        try:
            name = to_a_label(query, self.settings.tlds)
        except InvalidName as exc:
            self.metrics.queries.labels("whois", "invalid").inc()
            return whois.error(str(exc))
        domain = await self.domain(name)
        self.metrics.queries.labels("whois", "answered").inc()
        return whois.answer(name, domain, available=domain is None)

    async def das(self, query: str, address: str) -> str:
        if address in self.settings.das_blocked_addresses:
            self.metrics.queries.labels("das", "blocked").inc()
            return das.refusal(das.BLOCKED)
        allowed, _ = self.das_limit.allow(address, time.monotonic())
        if not allowed:
            self.metrics.queries.labels("das", "limited").inc()
            return das.refusal(das.EXCESSIVE)
        try:
            name = to_a_label(query, self.settings.tlds)
        except InvalidName:
            self.metrics.queries.labels("das", "answered").inc()
            return das.answer(query.strip()[:255].encode("ascii", "replace").decode(), "NOT ALLOWED")
        try:
            taken = await self.db[DOMAINS].find_one({"_id": name, "status": {"$in": list(VISIBLE)}}, {"_id": 1})
        except Exception:
            log.exception("DAS lookup failed")
            self.metrics.queries.labels("das", "error").inc()
            return das.refusal(das.INTERNAL_ERROR)
        self.metrics.queries.labels("das", "answered").inc()
        return das.answer(name, "NOT AVAILABLE" if taken else "AVAILABLE")

    def refusal(self, protocol: str, reason: str) -> str:
        """The error line of a connection refused before its query was read or answered: an overlong, binary or
        control-character query, a PROXY header refused (tcp.py). Counted: a balancer sending no header, or one
        from an address missing in WHOIS_TRUSTED_PROXIES, shows as a jump in these."""
        self.metrics.queries.labels(protocol, "refused").inc()
        return whois.error(reason) if protocol == "whois" else das.refusal(das.INTERNAL_ERROR, reason)

    def host(self, raw: str) -> str:
        return host_name(raw)

    # -- the AXFR-vs-rebuild check ---------------------------------------------------------------------------

    async def check(self) -> list[Difference]:
        """Compare each live zone with its rebuild from the read model; domains with a change still on its way
        to Knot are left out of both sides (they differ by design until pushed). None before the zone entries of
        an older database are filled (zone_entries.fill_once): the rebuild would miss its domains."""
        if not await zone_entries.ready(self.db):
            log.info("zone check skipped: the zone entries are still being filled")
            return []
        now = self.ctx.clock.now()
        in_flight = await self._in_flight()
        out: list[Difference] = []
        for tld in self.settings.tlds:
            live = await self.knot.records(tld)
            self.metrics.zone_records.labels(tld).set(len(live))
            diff = await compare(self.db, tld, self.settings, now, live)
            diff = Difference(tld, [r for r in diff.missing if r[0] not in in_flight],
                              [r for r in diff.extra if r[0] not in in_flight])
            self.metrics.differences.labels(tld).set(diff.count)
            out.append(diff)
            for line in diff.lines()[:100]:
                log.warning("zone check: %s", line)
        self.metrics.last_check.set(time.time())
        return out

    async def _in_flight(self) -> set[str]:
        """The owner names of every domain a change record names: what Knot holds for it and what it will."""
        records = await self.db[CHANGES].find({}).to_list()
        names = {r["name"] for r in records if "name" in r}
        names.update(r["name"] for r in await expand(self.db, [r for r in records if "group" in r]))
        if not names:
            return set()
        owners: set[str] = set()
        async for doc in self.db[PUBLISHED].find({"_id": {"$in": sorted(names)}}, {"owners": 1}):
            owners.update(doc.get("owners", []))
        groups = await load_groups(self.db)
        async for doc in self.db[DOMAINS].find({"_id": {"$in": sorted(names)}}):
            owners.update(delegation.owners(groups.records(doc, self.settings.landing_name_servers,
                                                           self.ctx.clock.now())))
        return owners


def publication_of(ctx: ServiceContext) -> Publication:
    found: Any = ctx.extras.get("publication")
    if found is None:
        found = ctx.extras["publication"] = Publication(ctx)
    return found  # type: ignore[no-any-return]
