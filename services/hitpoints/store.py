"""The hitpoints database: what each collection holds and its indexes.

  accounts              one per registrar: _id, domains (portfolio.py), limit and limit_day (the nightly
                        recalculation), blocked_until / exceeded_at / blocked_at while blocked,
                        self_unblocks {"YYYY-MM": count}
  counters              one per registrar and Brussels day: _id "<registrar>:<day>", hitpoints, period
                        (raised by each unblock, which resets hitpoints to 0), reset_at
  offences              one per registrar, day and counted run (offences.py): _id the run's first event id,
                        registrar_id, day, period, at (its newest offence's), count, offences [{event_id, at,
                        object, command, reference, hitpoints, rule, result_code, message, channel, user_id}]
  creations             the last registration of each name (domain.created), for the 10-second rule
  revoked_name_servers  names whose name servers the revoke procedure removed: a transfer of one scores
                        nothing. No event announces a revoke yet (the registry has no revoke procedure),
                        so registry staff keep this set through the operator API; domain.released removes
                        a name from it. When a revoke event exists, its handler should write here.
  jobs                  {_id: "nightly", day}: the Brussels day whose 00:00 recalculation has run
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from shared.mongo.indexes import CollectionIndexes

ACCOUNTS = "accounts"
COUNTERS = "counters"
OFFENCES = "offences"
CREATIONS = "creations"
REVOKED = "revoked_name_servers"
JOBS = "jobs"

HITPOINTS_INDEXES = (
    CollectionIndexes(ACCOUNTS, (IndexModel([("blocked_until", ASCENDING)]),)),
    CollectionIndexes(COUNTERS, (IndexModel("expires_at", expireAfterSeconds=0),)),
    CollectionIndexes(OFFENCES, (
        IndexModel([("registrar_id", ASCENDING), ("day", ASCENDING), ("period", ASCENDING), ("at", DESCENDING)]),
        IndexModel("expires_at", expireAfterSeconds=0),
    )),
    CollectionIndexes(CREATIONS, (IndexModel("expires_at", expireAfterSeconds=0),)),
    CollectionIndexes(REVOKED, ()),
    CollectionIndexes(JOBS, ()),
)


def counter_id(registrar_id: str, day: str) -> str:
    return f"{registrar_id}:{day}"
