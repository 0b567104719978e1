"""The registry's database: every collection it keeps, with its indexes, and the unit of work commands run in.

Collection names are spelt here only; the command pages name them through these constants.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from services.registry.uow import UnitOfWork
from services.registry.uow.mongo import MongoUnitOfWork
from shared.audit import AUDIT_INDEXES
from shared.mongo.indexes import CollectionIndexes
from shared.runtime import ServiceContext

REGISTRARS = "registrars"
USERS = "users"
LOGIN_ATTEMPTS = "login_attempts"  # web and EPP logins, kept a year
SESSIONS = "sessions"  # web bearer tokens
PENDING_SIGN_INS = "pending_sign_ins"  # a right password waiting for its 2-step code (users/pending.py)
APPLICATIONS = "registrar_applications"
LEDGER = "ledger"  # prepayments and paying transactions
CONTACTS = "contacts"
DOMAINS = "domains"  # _id is the name: two racing creates cannot both win
NSGROUPS = "nsgroups"
KEYGROUPS = "keygroups"
COMPLAINTS = "lock_complaints"
STAFF = "staff"  # registry staff accounts (services/registry/staff.py)
STAFF_SESSIONS = "staff_sessions"
STAFF_ATTEMPTS = "staff_login_attempts"
# the EPP session cap and rate limits, shared by the replicas (services/registry/registrars/epp_limits.py)
EPP_SESSION_SLOTS = "epp_session_slots"
EPP_RATE_WINDOWS = "epp_rate_windows"

INDEXES = (
    CollectionIndexes(REGISTRARS, (IndexModel([("status", ASCENDING)]),)),
    CollectionIndexes(USERS, (IndexModel([("registrar_id", ASCENDING)]),)),
    CollectionIndexes(LOGIN_ATTEMPTS, (
        IndexModel([("user_id", ASCENDING), ("at", DESCENDING)]),
        IndexModel("at", expireAfterSeconds=366 * 24 * 3600),
    )),
    CollectionIndexes(SESSIONS, (IndexModel("purge_at", expireAfterSeconds=0),)),  # shared/clock.py purge_after
    CollectionIndexes(PENDING_SIGN_INS, (IndexModel("purge_at", expireAfterSeconds=0),)),
    CollectionIndexes(APPLICATIONS, (
        IndexModel([("registrar_id", ASCENDING)]),  # the activation finds its application by registrar id
        IndexModel([("status", ASCENDING), ("created_at", DESCENDING)]),  # the operator's work list
    )),
    CollectionIndexes(LEDGER, (IndexModel([("registrar_id", ASCENDING), ("at", DESCENDING)]),)),
    CollectionIndexes(CONTACTS, (
        IndexModel([("registrar_id", ASCENDING), ("type", ASCENDING)]),
        IndexModel([("registrar_id", ASCENDING), ("_id", ASCENDING)]),  # the console's keyset pages
    )),
    CollectionIndexes(DOMAINS, (
        IndexModel([("registrar_id", ASCENDING), ("name", ASCENDING)]),
        IndexModel("contacts"),  # the 'still linked' rule of contact delete
        IndexModel("nsgroups"), IndexModel("keygroups"),  # ... and of group delete
        IndexModel([("status", ASCENDING), ("delete_date", ASCENDING)]),  # the lifecycle job
        IndexModel([("status", ASCENDING), ("available_on", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)]),  # the month-end renewal
        IndexModel([("registrar_id", ASCENDING), ("statuses", ASCENDING)]),  # client locks
    )),
    CollectionIndexes(NSGROUPS, (IndexModel([("registrar_id", ASCENDING), ("name", ASCENDING)], unique=True),)),
    CollectionIndexes(KEYGROUPS, (IndexModel([("registrar_id", ASCENDING), ("name", ASCENDING)], unique=True),)),
    CollectionIndexes(COMPLAINTS, (
        IndexModel([("registrar_id", ASCENDING), ("filed_at", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("deadline", ASCENDING)]),
    )),
    CollectionIndexes(STAFF_SESSIONS, (IndexModel("purge_at", expireAfterSeconds=0),)),  # shared/clock.py purge_after
    # a lapsed slot or an idle window is cleaned up by MongoDB; a lapsed slot may be taken over before that
    CollectionIndexes(EPP_SESSION_SLOTS, (IndexModel("expires_at", expireAfterSeconds=0),)),
    CollectionIndexes(EPP_RATE_WINDOWS, (IndexModel("expires_at", expireAfterSeconds=0),)),
    CollectionIndexes(STAFF_ATTEMPTS, (IndexModel([("staff_id", ASCENDING), ("at", DESCENDING)]),
                                       IndexModel("at", expireAfterSeconds=366 * 24 * 3600))),
    *AUDIT_INDEXES,  # staff actions (shared/audit.py)
)


def unique_keys() -> dict[str, list[tuple[str, ...]]]:
    """The unique indexes besides _id, per collection, for the in-memory unit of work to enforce too."""
    keys: dict[str, list[tuple[str, ...]]] = {}
    for spec in INDEXES:
        for index in spec.indexes:
            if index.document.get("unique"):
                keys.setdefault(spec.collection, []).append(tuple(index.document["key"]))
    return keys


def unit_of_work(ctx: ServiceContext) -> UnitOfWork:
    """The unit of work the registry's commands run in: MongoDB's, unless a test put another in place."""
    uow = ctx.extras.get("uow")
    if uow is None:
        uow = ctx.extras["uow"] = MongoUnitOfWork(ctx.client, ctx.db, ctx.outbox, ctx.committed)
    return uow  # type: ignore[no-any-return]
