"""The head of each registrar's poll queue, kept in one document, so that an EPP poll req is one find by _id and
an ack needs no query on a secondary index (the local stand-in scans those; on MongoDB each is still an index
walk and a count on every command).

  poll_heads  _id the registrar id, count (its open messages), next (the first WINDOW open messages, whole, in
              queue order: queued_at, then _id), expires_min (no open message expires before it; None: none open),
              rev (a new token at every write that changes the queue: a process that remembers a head writes it
              back only if unchanged), acked (acks recorded here and not settled yet: poll_settlement.py)

A head is written in the same transaction as the poll messages it describes (queueing, a rebuild, an ack through the
web site), so it is exactly as right as they are; concurrent writers conflict on it and one is retried. A registrar
without a head (messages queued before heads existed, or none yet), and a head whose expires_min has passed (a
message may have expired unacknowledged), is rebuilt from poll_messages with the queries it stands for, after the
acks it holds are settled. poll_messages stays the record, but for the acks a head holds: until they are settled
their messages look open there, and whatever reads the queue from poll_messages leaves them out (the head's
`acked` ids, read before the messages) or settles them first.

A responder may keep the head it last read or wrote (service.py): an EPP ack of a message in it is then one update
of the head on condition that the stored rev is still the remembered one, without reading it first: the message
leaves `next` and its ack joins `acked`, atomically (acknowledge). Any other writer (an enqueue, an ack through
another replica or the web) changed the rev, the condition fails and the ack reads the head in a transaction as
before. Settlement removes settled acks from `acked` without changing the rev: it changes nothing an ack's condition
stands for. The same condition lets a process keep what it read past the window when it read the queue again
(Head.ahead): while the rev is its own, nobody queued or acknowledged anything in between, so those are still the
messages that follow.
"""

from __future__ import annotations

from collections import defaultdict
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.poll_settlement import ACKED_MAX, settle_entries
from services.notifications.store import POLL, POLL_HEADS
from shared.mongo.client import Document

# messages kept in the head (each req reads them all): a head of 20 costs the local stand-in about 0.2 ms more per
# read than one of 10
WINDOW = 20
# messages read when the window empties: the next window and those after it, which the process keeps (Head.ahead,
# never stored) so that the windows after it are taken without a read while the head is still its own. The sorted
# read costs the local stand-in the registrar's whole open queue whatever its limit (about 15 ms of its CPU for 300
# messages): once every READ_AHEAD acks of one process instead of every WINDOW. On MongoDB it is an index walk
READ_AHEAD = 4 * WINDOW


def open_messages(registrar_id: str, now: datetime, excluding: Sequence[int | str] = ()) -> dict[str, Any]:
    """The filter of a registrar's queue: not acknowledged, not expired, none of `excluding` (acks its head holds
    unsettled)."""
    query: dict[str, Any] = {"registrar_id": registrar_id, "acked_at": None, "expires_at": {"$gt": now}}
    if excluding:
        query["_id"] = {"$nin": list(excluding)}
    return query


def _order(doc: Document) -> tuple[datetime, int, Any]:
    # the queue's order: queued_at, then _id (numbers sort before the older ObjectId strings, as in MongoDB)
    return doc["queued_at"], 0 if isinstance(doc["_id"], int) else 1, doc["_id"]


def _rev() -> str:
    return uuid.uuid4().hex


@dataclass
class Head:
    registrar_id: str
    count: int = 0
    next: list[Document] = field(default_factory=list)
    expires_min: datetime | None = None
    rev: str | None = None  # None: a head written before revs existed (matches a document without one)
    # the open messages just past `next`, in queue order, as of the write of `rev` by this process (never stored;
    # empty when unknown): valid only while the stored head still has that rev
    ahead: list[Document] = field(default_factory=list, compare=False, repr=False)
    # the ids of the acks the stored head held unsettled when this head was read (they may have been settled
    # since: never too few while the rev is still this one); None: unknown, a head this process computed
    unsettled: tuple[int | str, ...] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, doc: Document) -> Head:
        return cls(doc["_id"], int(doc["count"]), list(doc["next"]), doc.get("expires_min"), doc.get("rev"),
                   unsettled=tuple(e["_id"] for e in doc.get("acked") or []))

    def fields(self) -> Document:
        """The head's fields to set (not its unsettled acks), under a new rev."""
        self.rev = _rev()
        return {"count": self.count, "next": self.next, "expires_min": self.expires_min, "rev": self.rev}

    def document(self) -> Document:
        """The head to write, under a new rev (without its unsettled acks)."""
        return {"_id": self.registrar_id, **self.fields()}

    def message(self, msg_id: int | str) -> Document | None:
        return next((d for d in self.next if d["_id"] == msg_id), None)

    @property
    def complete(self) -> bool:
        """The window holds the whole queue."""
        return len(self.next) >= self.count

    def stale(self, now: datetime) -> bool:
        return self.expires_min is not None and self.expires_min <= now

    def add(self, docs: Sequence[Document]) -> None:
        """Newly queued messages: the window stays a prefix of the queue. When it holds the whole queue every
        new message joins it; otherwise the messages past it sort after its last, and a new one joins only if
        it sorts before that (a clock set back)."""
        joining = docs if self.complete else [d for d in docs if self.next and _order(d) < _order(self.next[-1])]
        self.next = sorted([*self.next, *joining], key=_order)[:WINDOW]
        self.count += len(docs)
        for d in docs:
            self.expires_min = d["expires_at"] if self.expires_min is None else min(self.expires_min, d["expires_at"])


class PollHeads:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def rebuild(self, registrar_id: str, now: datetime, session: AsyncClientSession) -> Head:
        """The head as poll_messages says it is, written; in the caller's transaction. The acks the stored head
        holds are settled first (poll_settlement.py), so that the queries count none of them as open."""
        stored = await self.db[POLL_HEADS].find_one({"_id": registrar_id}, {"acked": 1}, session=session)
        await settle_entries(self.db, (stored or {}).get("acked") or [], session)
        query = open_messages(registrar_id, now)
        head = Head(registrar_id, count=await self.db[POLL].count_documents(query, session=session), unsettled=())
        if head.count:
            head.next = await self.db[POLL].find(query, session=session).sort(
                [("queued_at", ASCENDING), ("_id", ASCENDING)]).limit(WINDOW).to_list()
            first = await self.db[POLL].find(query, {"expires_at": 1}, session=session).sort(
                "expires_at", ASCENDING).limit(1).to_list()
            head.expires_min = first[0]["expires_at"] if first else None
        await self.db[POLL_HEADS].replace_one({"_id": registrar_id}, {**head.document(), "acked": []}, upsert=True,
                                              session=session)
        return head

    async def find(self, registrar_id: str, now: datetime, session: AsyncClientSession | None = None) -> Head | None:
        """The registrar's head as stored, or None when it must be rebuilt first."""
        doc = await self.db[POLL_HEADS].find_one({"_id": registrar_id}, session=session)
        if doc is None:
            return None
        head = Head.of(doc)
        return None if head.stale(now) else head

    async def read(self, registrar_id: str, now: datetime, session: AsyncClientSession) -> Head:
        """The registrar's head, rebuilt first if need be; in the caller's transaction."""
        return await self.find(registrar_id, now, session) or await self.rebuild(registrar_id, now, session)

    async def queued(self, docs: Sequence[Document], now: datetime, session: AsyncClientSession) -> None:
        """Messages just inserted in the caller's transaction join their registrars' heads: one read and one
        write for the whole run (a registrar whose head must be rebuilt reads them back with the rest). The
        acks a head holds stay (its fields are set, the head is not replaced)."""
        by_registrar: dict[str, list[Document]] = defaultdict(list)
        for d in docs:
            by_registrar[d["registrar_id"]].append(d)
        found = {d["_id"]: Head.of(d) for d in await self.db[POLL_HEADS].find(
            {"_id": {"$in": sorted(by_registrar)}}, {"acked": 0}, session=session).to_list()}  # set, not rewritten
        writes = []
        for registrar_id, new in by_registrar.items():
            head = found.get(registrar_id)
            if head is None or head.stale(now):
                await self.rebuild(registrar_id, now, session)
                continue
            head.add(new)
            writes.append(UpdateOne({"_id": registrar_id}, {"$set": head.fields()}))
        if writes:
            await self.db[POLL_HEADS].bulk_write(writes, ordered=False, session=session)

    async def after_ack(self, head: Head, msg_id: int | str, now: datetime,
                        session: AsyncClientSession | None = None) -> Head | None:
        """The head after the message (open in `head`) left it; when the window empties while messages remain,
        the next one comes from head.ahead, else from the queue, read again without the acks the stored head holds
        unsettled. `head` is not changed, nothing is written. The caller writes the result only on condition that
        the stored head is still `head` (acknowledge), which is what makes head.ahead right. None: the stored head
        is not `head` any more (seen when its unsettled acks had to be read)."""
        after = replace(head, next=[d for d in head.next if d["_id"] != msg_id], count=max(0, head.count - 1),
                        unsettled=None)
        if not after.next and after.count:
            following = [d for d in head.ahead if d["_id"] != msg_id]
            if not following:  # nothing kept from the last read: the queue is read again (READ_AHEAD)
                unsettled = head.unsettled
                if unsettled is None:  # a head this process wrote: what the stored one holds, if it is still it
                    stored = await self.db[POLL_HEADS].find_one({"_id": head.registrar_id}, {"rev": 1, "acked._id": 1},
                                                                session=session)
                    if stored is None or stored.get("rev") != head.rev:
                        return None
                    unsettled = tuple(e["_id"] for e in stored.get("acked") or [])
                gone = {*unsettled, msg_id}
                following = [d for d in await self.db[POLL].find(open_messages(head.registrar_id, now),
                                                                  session=session).sort(
                    [("queued_at", ASCENDING), ("_id", ASCENDING)]).limit(READ_AHEAD + len(gone)).to_list()
                    if d["_id"] not in gone][:READ_AHEAD]
            after.next, after.ahead = following[:WINDOW], following[WINDOW:]
        if not after.count:
            after.expires_min = None
        return after

    def _update(self, before: Head, after: Head, msg_id: int | str) -> dict[str, Any]:
        """The update that turns the stored head `before` into `after` (after_ack), under a new rev. Usually a
        $pull of the acknowledged message: rewriting the window's WINDOW whole messages costs the local stand-in
        about 0.5 ms more per ack; the whole window when it was read again."""
        fields = after.fields()
        if [d["_id"] for d in after.next] == [d["_id"] for d in before.next if d["_id"] != msg_id]:
            del fields["next"]
            return {"$pull": {"next": {"_id": msg_id}}, "$set": fields}
        return {"$set": fields}

    async def acknowledge(self, before: Head, after: Head, entry: Document) -> bool:
        """The ack of the message `entry` names, recorded in the head (poll_settlement.py), without a transaction:
        one update of the head document, on condition that it is still `before` (its rev) and holds fewer than
        ACKED_MAX unsettled acks. True when written: the ack happened, `after` is the stored head."""
        update = self._update(before, after, entry["_id"])
        update["$push"] = {"acked": entry}
        done = await self.db[POLL_HEADS].update_one(
            {"_id": before.registrar_id, "rev": before.rev, f"acked.{ACKED_MAX - 1}": {"$exists": False}}, update)
        return done.matched_count == 1

    async def acked(self, head: Head, msg_id: int | str, now: datetime, session: AsyncClientSession) -> Head:
        """The head (as stored in this transaction's snapshot) after an ack the caller settles in the transaction,
        written (its unsettled acks stay)."""
        after = await self.after_ack(head, msg_id, now, session)
        assert after is not None, "a head read in the transaction knows its unsettled acks"
        await self.db[POLL_HEADS].update_one({"_id": head.registrar_id}, self._update(head, after, msg_id),
                                             session=session)
        after.unsettled = head.unsettled
        return after
