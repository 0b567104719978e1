"""The publication database: a read model of what the public may see, built from events only.

  domains     one per registered name: _id the A-label, tld, registrar_id, registrant, registered_at,
              expires_at, changed_at (last changed), status REGISTERED | QUARANTINE | RELEASED, hosts
              [{name, addresses}], nsgroups, keygroups, override {reason, name_servers} (absent: none),
              statuses (EPP lock statuses), delete_date, available_on, on_hold, hold_reason, out_of_service_since;
              state_at / delegation_at / override_at / hold_at / service_at: the occurred_at each part is from
              (a late event loses). Written by the consumer only (the pusher deletes a released one it has
              taken out of the zone); read by the pusher, WHOIS, RDAP and DAS, not by a rebuild (zone_entries)
  changes     what awaits the pusher, insert-only for the consumer: {name, at} (a domain whose zone records
              may have changed; at: the event's occurred_at, the start of the publication lag) or {group: {kind,
              registrar_id, name}, at} (every domain using the group); the pusher deletes the ones it pushed
  published   the pusher's own: _id the A-label, owners (the owner names it last wrote to Knot: the next push
              deletes them first), refused (Knot's answer when it would not take the domain; parked until its
              next change)
  zone_entries  the zones laid out for a rebuild (zone_entries.py): _id "<tld>:<bucket>", tld, names {<name
              with its dots as underscores>: the domain's records as master-file lines, or its zone fields when
              its records depend on more than the domain}; a domain out of the zone has none. The pusher's: written
              as it pushes each change (and once, by a job, for the domains from before them)
  groups      name-server and key groups: _id "<kind>:<registrar>:<name>", kind, registrar_id, name,
              name_servers | keys
  registrars  _id the registrar id, name, website, organisation (the public profile)
  contacts    _id the alias, registrar_id, type: no personal data is kept (WHOIS and RDAP never show it)
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from shared.mongo.indexes import CollectionIndexes

DOMAINS = "domains"
CHANGES = "changes"
PUBLISHED = "published"
GROUPS = "groups"
REGISTRARS = "registrars"
CONTACTS = "contacts"
ZONE_ENTRIES = "zone_entries"
# one document per one-off move of old data done on this database (pusher.py: the marks before change records;
# zone_entries.py: the entries of the domains from before them)
MIGRATIONS = "migrations"

PUBLICATION_INDEXES = (
    CollectionIndexes(DOMAINS, (
        IndexModel([("registrar_id", ASCENDING), ("nsgroups", ASCENDING)]),
        IndexModel([("registrar_id", ASCENDING), ("keygroups", ASCENDING)]),
        IndexModel([("tld", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("hosts.name", ASCENDING)]),
        # the few out-of-service domains, swept for the end of their expiry month (pusher.py)
        IndexModel([("out_of_service_since", ASCENDING)], sparse=True),
    )),
    # read in _id order (insertion order) and deleted by _id: no index of their own
    CollectionIndexes(CHANGES, ()),
    CollectionIndexes(PUBLISHED, ()),
    # read whole (a rebuild) or by _id
    CollectionIndexes(ZONE_ENTRIES, ()),
    CollectionIndexes(GROUPS, ()),
    CollectionIndexes(REGISTRARS, ()),
    CollectionIndexes(CONTACTS, ()),
    CollectionIndexes(MIGRATIONS, ()),
)


def group_id(kind: str, registrar_id: str, name: str) -> str:
    return f"{kind}:{registrar_id}:{name}"
