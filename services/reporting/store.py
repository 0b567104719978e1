"""The reporting database: read models built from events only (rebuildable by replaying them).

  portfolios     one per registrar: _id, domains (sponsored names, quarantined included, until released)
  registrars     one per registrar: _id, name (registrar.created / updated)
  domains        one per registered name: _id the A-label, registrar_id, registered_at, expires_at,
                 registrant, deletion_date, available_on, status REGISTERED | QUARANTINE
  contacts       one per contact: _id the alias, registrar_id, type, status (verification status for
                 registrants: UNVERIFIED, PENDING, VERIFIED, FAILED; ACTIVE for other types)
  groups         name-server and key groups: _id "<kind>:<registrar>:<name>", kind nsgroup | keygroup
  facts          monthly counters per registrar for the quarterly report: _id "<registrar>:<YYYY-MM>:<metric>:<key>",
                 registrar_id, month, metric, key, count (metrics in quarterly.py METRICS)
  bounce_addresses  the last hard bounce per address (recurring bounces): _id the address, at
  reports        what was generated: _id "daily:<registrar>" or "quarterly:<registrar>:<quarter>", generated_at,
                 files, rows
  jobs           {_id: "daily", day} and {_id: "quarterly", quarter}: the last runs
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from shared.mongo.indexes import CollectionIndexes

PORTFOLIOS = "portfolios"
REGISTRARS = "registrars"
DOMAINS = "domains"
CONTACTS = "contacts"
GROUPS = "groups"
FACTS = "facts"
BOUNCES = "bounce_addresses"
REPORTS = "reports"
JOBS = "jobs"

REPORTING_INDEXES = (
    CollectionIndexes(PORTFOLIOS, (IndexModel([("domains", DESCENDING)]),)),
    CollectionIndexes(REGISTRARS, ()),
    # the daily generation reads every registrar's domains in this order, in one cursor
    CollectionIndexes(DOMAINS, (IndexModel([("registrar_id", ASCENDING), ("_id", ASCENDING)]),)),
    CollectionIndexes(CONTACTS, (IndexModel([("registrar_id", ASCENDING), ("_id", ASCENDING)]),)),
    CollectionIndexes(GROUPS, (IndexModel([("kind", ASCENDING), ("registrar_id", ASCENDING), ("name", ASCENDING)]),)),
    CollectionIndexes(FACTS, (
        IndexModel([("registrar_id", ASCENDING), ("month", ASCENDING)]),
        IndexModel([("metric", ASCENDING), ("month", ASCENDING)]),
    )),
    CollectionIndexes(BOUNCES, ()),
    CollectionIndexes(REPORTS, ()),
    CollectionIndexes(JOBS, ()),
)


def group_id(kind: str, registrar_id: str, name: str) -> str:
    return f"{kind}:{registrar_id}:{name}"


def fact_id(registrar_id: str, month: str, metric: str, key: str) -> str:
    return f"{registrar_id}:{month}:{metric}:{key}"
