"""The notifications database: what each collection holds and its indexes.

  registrars      the registrar settings read model (registrar.created / registrar.updated): _id, email,
                  automated_email, languages, poll, categories {legal, technical, abuse, newsletter: [...]}
  contacts        registrant e-mails read model (contact.created / updated / deleted): _id alias,
                  registrar_id, email (lower case), language, type
  poll_messages   the poll queues: _id the message id (an integer from the poll_ids counter, server-unique
                  and increasing: EPP clients read msgID as a number; older ones are ObjectId strings), registrar_id, message (catalogue
                  key), queued_at, text (the <msg>), fields (dnsbe:pollRes, in order), language, event_id,
                  acked_at / acked_via once acknowledged, expires_at (TTL: a year after queueing; after an
                  ack, ACKED_RETENTION_DAYS)
  poll_heads      each registrar's queue head, written with the messages (poll_heads.py): _id registrar id,
                  count of open messages, next (the first few open messages, whole), expires_min, rev (new at
                  every write that changes the queue), acked (EPP acks recorded here and not settled yet: until
                  settlement marks their messages in poll_messages, those count as acknowledged;
                  poll_settlement.py)
  mails           every mail to send and its record: _id the idempotency key "<event id>:<message>:<object>:
                  <recipient>:<language>", to, subject, body (sealed values stay sealed: [[name]] placeholders
                  with `sealed`), status pending | sent | bounced | failed, attempts, next_attempt_at,
                  claim (the dispatcher run that holds it),
                  queued_at, sent_at, smtp_reply, expires_at (TTL)
  jobs            leases of the periodic gauge refresh
  counters        sequences: {_id: "poll_ids", value: the last poll message id handed out}
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes

REGISTRARS = "registrars"
CONTACTS = "contacts"
POLL = "poll_messages"
POLL_HEADS = "poll_heads"
MAILS = "mails"
COUNTERS = "counters"
POLL_IDS = "poll_ids"

NOTIFICATIONS_INDEXES = (
    CollectionIndexes(COUNTERS, ()),
    CollectionIndexes(REGISTRARS, ()),
    CollectionIndexes(POLL_HEADS, ()),  # read and written by _id only
    CollectionIndexes(CONTACTS, (IndexModel([("email", ASCENDING)]),)),
    CollectionIndexes(POLL, (
        IndexModel([("registrar_id", ASCENDING), ("acked_at", ASCENDING), ("queued_at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel("expires_at", expireAfterSeconds=0),
    )),
    CollectionIndexes(MAILS, (
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
        IndexModel([("claim", ASCENDING)]),
        IndexModel("expires_at", expireAfterSeconds=0),
    )),
)


async def next_poll_ids(db: AsyncDatabase[Document], count: int, session: AsyncClientSession) -> list[int]:
    """count new poll message ids, in order, inside the caller's transaction (concurrent writers conflict on
    the counter and are retried, so no id is handed out twice). update then read: the local stand-in scans
    the whole collection for find_one_and_update."""
    await db[COUNTERS].update_one({"_id": POLL_IDS}, {"$inc": {"value": count}}, upsert=True, session=session)
    last = (await db[COUNTERS].find_one({"_id": POLL_IDS}, session=session) or {}).get("value", count)
    return list(range(int(last) - count + 1, int(last) + 1))
