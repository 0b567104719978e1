"""The read-model writes of one batch of events, gathered and sent at the batch's end: one bulk write per
collection (domains, portfolios, facts) instead of a few writes per event, in the same transaction.

Only writes whose merged result equals the one-by-one result are gathered: a domain's record (the batch reads
it once and keeps the newest state in memory, so a later event of the same name sees the earlier one's
effect), and the counters' $inc and $max (commutative). Nothing else reads these collections while a batch is
applied: the handlers reach them only through ReadModel._domain, _portfolio and _fact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.reporting.store import DOMAINS, FACTS, PORTFOLIOS
from shared.mongo.client import Document

ABSENT = object()  # a name the batch has not read yet


@dataclass
class BatchWrites:
    domains: dict[str, Document | None] = field(default_factory=dict)  # name -> record as it is now (None: none)
    stored: dict[str, Document | None] = field(default_factory=dict)  # name -> record as read (None: none)
    dirty: set[str] = field(default_factory=set)
    portfolio_inc: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    portfolio_max: dict[str, datetime] = field(default_factory=dict)
    facts: dict[str, tuple[int, Document]] = field(default_factory=dict)  # fact id -> (count, $setOnInsert)

    async def prefetch(self, db: AsyncDatabase[Document], names: Iterable[str], session: AsyncClientSession) -> None:
        """Read the batch's domain records in one query; a name without one is remembered as absent."""
        wanted = sorted(set(names) - set(self.domains))
        if not wanted:
            return
        found = {d["_id"]: d for d in await db[DOMAINS].find({"_id": {"$in": wanted}}, session=session).to_list()}
        for name in wanted:
            self.domains[name] = self.stored[name] = found.get(name)

    def record(self, name: str) -> Any:
        return self.domains.get(name, ABSENT)

    def put(self, name: str, record: Document) -> None:
        self.domains[name] = record
        self.dirty.add(name)

    def portfolio(self, registrar_id: str, inc: dict[str, int], last_event_at: datetime) -> None:
        for key, n in inc.items():
            self.portfolio_inc[registrar_id][key] += n
        seen = self.portfolio_max.get(registrar_id)
        self.portfolio_max[registrar_id] = last_event_at if seen is None else max(seen, last_event_at)

    def fact(self, fact: str, n: int, on_insert: Document) -> None:
        count, _ = self.facts.get(fact, (0, on_insert))
        self.facts[fact] = (count + n, on_insert)

    async def flush(self, db: AsyncDatabase[Document], session: AsyncClientSession) -> None:
        if self.dirty:
            await db[DOMAINS].bulk_write([_replacing(name, record, self.stored.get(name, ABSENT)) for name in sorted(self.dirty)
                                          if (record := self.domains[name]) is not None], ordered=False, session=session)
        if self.portfolio_inc:
            await db[PORTFOLIOS].bulk_write([
                UpdateOne({"_id": registrar_id},
                          {"$inc": dict(inc), "$max": {"last_event_at": self.portfolio_max[registrar_id]}}, upsert=True)
                for registrar_id, inc in self.portfolio_inc.items()], ordered=False, session=session)
        if self.facts:
            await db[FACTS].bulk_write([
                UpdateOne({"_id": fact}, {"$inc": {"count": count}, "$setOnInsert": on_insert}, upsert=True)
                for fact, (count, on_insert) in self.facts.items()], ordered=False, session=session)


def _replacing(name: str, record: Document, stored: Any) -> InsertOne[Document] | UpdateOne | ReplaceOne[Document]:
    """The record as the whole document, written as cheaply as the store allows: an insert when the batch found
    none (a replica that inserts the name meanwhile makes the transaction conflict, and the batch is retried),
    else $set of its fields and $unset of those it dropped (on the local stand-in an update by _id costs a
    fraction of a replacement or an upsert; on MongoDB they cost the same)."""
    if stored is ABSENT:  # not read by this batch: what is stored is unknown
        return ReplaceOne({"_id": name}, record, upsert=True)
    if stored is None:
        return InsertOne({**record, "_id": name})
    update: Document = {"$set": {k: v for k, v in record.items() if k != "_id"}}
    dropped = {k: "" for k in stored if k != "_id" and k not in record}
    if dropped:
        update["$unset"] = dropped
    return UpdateOne({"_id": name}, update, upsert=True)


# the batch being applied in this task, if any (a replay or a lone event writes at once)
CURRENT: ContextVar[BatchWrites | None] = ContextVar("reporting_batch_writes", default=None)
