"""The reporting database: read models built from events only, rebuildable by replaying the journal
(READ_MODELS are what a rebuild empties and builds again; rebuild.py).

  portfolios     one per registrar: _id, domains (active registrations: sponsored names outside quarantine,
                 digest 6.1), net {YYYY-MM: the month's change of domains} (to walk back to a month's end),
                 cohorts {YYYY-MM registered, or "unknown": active registrations} (ages.py; walked back with
                 the "active" facts)
  registrars     one per registrar: _id, name, category (an RRDG business model, absent: none) and category_at
                 (the occurred_at of the profile it is from) (registrar.created / updated)
  domains        one per registered name: _id the A-label, registrar_id, registered_at, expires_at,
                 registrant, deletion_date, available_on, status REGISTERED | QUARANTINE, state_at (the
                 occurred_at of the event the state is from; lifecycle.py); a released name's tombstone:
                 status RELEASED, state_at, purge_at (no registrar_id: no report shows it)
  contacts       one per contact: _id the alias, registrar_id, type, status (verification status for
                 registrants: UNVERIFIED, PENDING, VERIFIED, FAILED; ACTIVE for other types), status_at
                 (the occurred_at of the verification event the status is from)
  groups         name-server and key groups: _id "<kind>:<registrar>:<name>", kind nsgroup | keygroup
  facts          monthly counters per registrar for the quarterly report: _id "<registrar>:<YYYY-MM>:<metric>:<key>",
                 registrar_id, month, metric, key, count (metrics in quarterly.py METRICS)
  bounce_addresses  the latest hard bounce of a registrant mail per address (recurring bounces): _id the address, at
  journal        every event applied, an entry per batch, in the order applied (journal.py): what a rebuild replays
  reports        what was generated: _id "daily" (generated_at, rows: the newest daily run) or
                 "quarterly:<registrar>:<quarter>" (generated_at, announced_at)
  jobs           {_id: "quarterly", value}: the last quarter the job generated
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from shared.mongo.idempotency import RECORDS_INDEX
from shared.mongo.indexes import CollectionIndexes

PORTFOLIOS = "portfolios"
REGISTRARS = "registrars"
DOMAINS = "domains"
CONTACTS = "contacts"
GROUPS = "groups"
FACTS = "facts"
BOUNCES = "bounce_addresses"
JOURNAL = "journal"
REPORTS = "reports"
JOBS = "jobs"
READ_MODELS = (PORTFOLIOS, REGISTRARS, DOMAINS, CONTACTS, GROUPS, FACTS, BOUNCES)

REPORTING_INDEXES = (
    CollectionIndexes(PORTFOLIOS, (IndexModel([("domains", DESCENDING)]),)),
    CollectionIndexes(REGISTRARS, ()),
    # the daily generation reads every registrar's domains in this order, in one cursor
    CollectionIndexes(DOMAINS, (IndexModel([("registrar_id", ASCENDING), ("_id", ASCENDING)]),
                                # released names' tombstones (lifecycle.py) only: no other record has purge_at
                                IndexModel("purge_at", expireAfterSeconds=0))),
    CollectionIndexes(CONTACTS, (IndexModel([("registrar_id", ASCENDING), ("_id", ASCENDING)]),)),
    CollectionIndexes(GROUPS, (IndexModel([("kind", ASCENDING), ("registrar_id", ASCENDING), ("name", ASCENDING)]),)),
    CollectionIndexes(FACTS, (
        IndexModel([("registrar_id", ASCENDING), ("month", ASCENDING)]),
        IndexModel([("metric", ASCENDING), ("month", ASCENDING)]),
    )),
    CollectionIndexes(BOUNCES, ()),
    # RECORDS_INDEX: the journal is reporting's consumer ledger (journal.py)
    CollectionIndexes(JOURNAL, (IndexModel([("seq", ASCENDING)]), RECORDS_INDEX)),
    CollectionIndexes(REPORTS, ()),
    CollectionIndexes(JOBS, ()),
)


def group_id(kind: str, registrar_id: str, name: str) -> str:
    return f"{kind}:{registrar_id}:{name}"


def fact_id(registrar_id: str, month: str, metric: str, key: str) -> str:
    return f"{registrar_id}:{month}:{metric}:{key}"
