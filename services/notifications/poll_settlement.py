"""Acknowledgements recorded in a poll head, and their settlement into poll_messages and the outbox.

An EPP ack of a message in the head a responder remembers is one conditional update of the registrar's head
document (poll_heads.py): the message leaves `next` and an entry joins the head's `acked` list, atomically, so the
ack either happened (durably) or did not. The entry is small (every req reads the head, every ack rewrites it: on
the local stand-in 10 entries of 8 fields cost an ack about 0.5 ms more than none), and with the message's own
document it makes the notification.acknowledged event, whose id is chosen at the ack:

  acked  [{_id the message id, via (epp | web), at (when acknowledged), until (when the acknowledged message
          expires: ACKED_RETENTION_DAYS after the ack), event_id, trace (the ack's trace context, if any)}]

Settlement, off the request path, writes what such an ack stands for: in one transaction, each entry's message is
marked acknowledged (acked_at, acked_via, expires_at) on condition it is not already, and its event goes to the
outbox, only for the messages so marked; then, after the commit, the settled entries are $pulled from the head
(without changing its rev, so the acks under way on condition of it go on). A crash between the commit and the
$pull leaves entries whose messages are acknowledged already: the next settlement finds them so and only pulls
them. Two settlers at once conflict on the messages in their transactions; the one retried finds them acknowledged:
one event each, whoever settles, whenever.

A message is acknowledged through its head only while it has SETTLE_MARGIN left to live (service.py; closer to its
expiry the ack is written in a transaction, settled at once), so the TTL never removes a message whose ack is
recorded unsettled unless no replica ran for that long. An entry whose message is gone is only pulled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.metrics import NotificationsMetrics
from services.notifications.store import POLL, POLL_HEADS
from shared.events import EventEnvelope
from shared.events.notifications import PollMessageAcknowledged
from shared.mongo.client import Document
from shared.mongo.outbox import OUTBOX, Outbox
from shared.mongo.transactions import in_transaction
from shared.observability.tracing import current_carrier
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

# an ack recorded in a head is settled within a second, or at the next start-up after a crash: a message that
# expires sooner than this is acknowledged in a transaction instead
SETTLE_MARGIN = timedelta(days=7)
# unsettled acks a head may hold (some 100 bytes each): an ack through the head is refused past it (the ack is then
# written in a transaction, settled at once), so a head stays within its WINDOW messages and this many entries
# (about 10 KB) even while settlement fails
ACKED_MAX = 100


def ack_entry(msg_id: int | str, channel: str, now: datetime, retention: timedelta) -> Document:
    """The record of an ack of the poll message `msg_id` (as stored), with its event's id chosen now."""
    entry: Document = {"_id": msg_id, "via": channel, "at": now, "until": now + retention,
                       "event_id": str(uuid.uuid4())}
    trace = current_carrier()
    if trace:
        entry["trace"] = trace
    return entry


def acknowledged_event(entry: Document, doc: Document) -> EventEnvelope[PollMessageAcknowledged]:
    """The notification.acknowledged event of an ack entry and its message `doc` (as stored): the same, whoever
    builds it and when."""
    payload = PollMessageAcknowledged(msg_id=str(entry["_id"]), message_type=doc["message"], channel=entry["via"],
                                      queued_at=doc["queued_at"])
    event_id = uuid.UUID(entry["event_id"])
    return EventEnvelope[PollMessageAcknowledged](
        event_id=event_id, event_type=payload.event_type, event_version=payload.event_version,
        occurred_at=entry["at"].astimezone(UTC), producer=payload.producer, registrar_id=doc["registrar_id"],
        correlation_id=doc.get("event_id") or str(event_id), payload=payload)


def acknowledging(entry: Document) -> dict[str, Any]:
    """The update of a poll message that an ack entry acknowledges."""
    return {"$set": {"acked_at": entry["at"], "acked_via": entry["via"], "expires_at": entry["until"]}}


async def settle_entries(db: AsyncDatabase[Document], entries: Sequence[Document],
                         session: AsyncClientSession) -> list[Document]:
    """In the caller's transaction: the entries' messages still open marked acknowledged, and their events in the
    outbox; returns the entries so settled (the others were settled before)."""
    if not entries:
        return []
    found = {d["_id"]: d for d in await db[POLL].find(
        {"_id": {"$in": [e["_id"] for e in entries]}},
        {"registrar_id": 1, "message": 1, "queued_at": 1, "event_id": 1, "acked_at": 1}, session=session).to_list()}
    settled = [e for e in entries if e["_id"] in found and found[e["_id"]].get("acked_at") is None]
    if settled:
        # a concurrent settler's write of the same message conflicts with these and one transaction is retried
        await db[POLL].bulk_write([UpdateOne({"_id": e["_id"], "acked_at": None}, acknowledging(e)) for e in settled],
                                  ordered=False, session=session)
        outbox = Outbox(db)
        records = [record for e in settled for record in
                   outbox.records([acknowledged_event(e, found[e["_id"]])], trace=e.get("trace") or {})]
        await db[OUTBOX].insert_many(records, ordered=True, session=session)
    return settled


class AckSettlement:
    """Settles the acks recorded in poll heads: soon after they are answered (`soon`: a registrar's acks of the
    next `delay` seconds in one transaction), and every head that holds some (`sweep`: at start-up and
    periodically, for what a crashed process left; any replica may settle any head)."""

    def __init__(self, ctx: ServiceContext, metrics: NotificationsMetrics, delay: float) -> None:
        self.ctx, self.metrics, self.delay = ctx, metrics, delay
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.ctx.db  # connected at start-up, after this object is made

    def soon(self, registrar_id: str) -> None:
        """An ack of the registrar's was recorded in its head: settle it shortly."""
        self._pending.add(registrar_id)
        self._wake.set()

    async def settle(self, registrar_id: str) -> int:
        """Settle what the registrar's head holds now; returns how many acks this call settled."""
        async def work(session: AsyncClientSession) -> tuple[list[Any], int]:
            doc = await self.db[POLL_HEADS].find_one({"_id": registrar_id}, {"acked": 1}, session=session)
            entries = list((doc or {}).get("acked") or [])
            return [e["_id"] for e in entries], len(await settle_entries(self.db, entries, session))

        ids, settled = await in_transaction(self.ctx.client, work)
        if ids:
            # after the commit, by id: the acks recorded meanwhile stay, and the rev stays what it is
            await self.db[POLL_HEADS].update_one({"_id": registrar_id}, {"$pull": {"acked": {"_id": {"$in": ids}}}})
        if settled:
            self.metrics.acks_settled.inc(settled)
        return settled

    async def sweep(self) -> int:
        """Settle every head that holds acks (those of a crashed process, or of a settler that failed)."""
        settled = 0
        for doc in await self.db[POLL_HEADS].find({"acked.0": {"$exists": True}}, {"_id": 1}).to_list():
            settled += await self.settle(doc["_id"])
        return settled

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="poll-ack-settlement")

    async def stop(self, timeout: float = 10.0) -> None:
        """Settle what is pending, then end the loop (cancelled after `timeout`: the start-up sweep of the next
        process settles what is left)."""
        if self._task is None:
            return
        self._stopping.set()
        self._wake.set()
        try:
            await asyncio.wait_for(self._task, timeout)
        except (TimeoutError, asyncio.CancelledError):
            log.warning("poll ack settlement did not finish within %.0f s; the next start-up settles the rest", timeout)
        self._task = None

    def abandon(self) -> None:
        """End the loop without settling, as a crash would: what is pending stays recorded in the heads."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._pending.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if not self._stopping.is_set():  # the acks of the next moment join this round
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.delay)
            self._wake.clear()
            pending, self._pending = sorted(self._pending), set()
            for registrar_id in pending:
                try:
                    await self.settle(registrar_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # the acks stay recorded in the head: the next ack of the registrar or the sweep settles them
                    log.exception("poll acks of %s not settled; tried again later", registrar_id)
            if self._stopping.is_set() and not self._pending:
                return
