"""The notifications database: what each collection holds and its indexes.

  registrars      the registrar settings read model (registrar.created / registrar.updated): _id, email,
                  automated_email, languages, poll, categories {legal, technical, abuse, newsletter: [...]}
  contacts        registrant e-mails read model (contact.created / updated / deleted): _id alias,
                  registrar_id, email (lower case), language, type
  poll_messages   the poll queues: _id the message id (server-unique), registrar_id, message (catalogue
                  key), queued_at, text (the <msg>), fields (dnsbe:pollRes, in order), language, event_id,
                  acked_at / acked_via once acknowledged, expires_at (TTL: a year after queueing; after an
                  ack, ACKED_RETENTION_DAYS)
  mails           every mail to send and its record: _id the idempotency key "<event id>:<message>:<object>:
                  <recipient>:<language>", to, subject, body (sealed values stay sealed: [[name]] placeholders
                  with `sealed`), status pending | sent | bounced | failed, attempts, next_attempt_at,
                  claim (the dispatcher run that holds it),
                  queued_at, sent_at, smtp_reply, expires_at (TTL)
  jobs            leases of the periodic gauge refresh
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from shared.mongo.indexes import CollectionIndexes

REGISTRARS = "registrars"
CONTACTS = "contacts"
POLL = "poll_messages"
MAILS = "mails"

NOTIFICATIONS_INDEXES = (
    CollectionIndexes(REGISTRARS, ()),
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
