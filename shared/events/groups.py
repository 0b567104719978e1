"""Name-server group and key group events (published by the registry)."""

from __future__ import annotations

from pydantic import Field

from shared.events.envelope import EventPayload


class DnsKey(EventPayload):
    """One DNSSEC key of a key group (a value inside events, not an event of its own)."""

    event_type = "keygroup._key"
    producer = "registry"

    flags: int
    protocol: int
    algorithm: int
    public_key: str


class NameServerGroupChanged(EventPayload):
    """A name-server group was created or changed; `name_servers` is its full new list."""

    event_type = "nsgroup.changed"
    producer = "registry"

    name: str
    name_servers: list[str]
    created: bool = Field(description="true when the group is new")


class NameServerGroupDeleted(EventPayload):
    """A name-server group no domain used was deleted."""

    event_type = "nsgroup.deleted"
    producer = "registry"

    name: str


class KeyGroupChanged(EventPayload):
    """A key group was created or changed; `keys` is its full new list."""

    event_type = "keygroup.changed"
    producer = "registry"

    name: str
    keys: list[DnsKey]
    created: bool


class KeyGroupDeleted(EventPayload):
    """A key group no domain used was deleted."""

    event_type = "keygroup.deleted"
    producer = "registry"

    name: str
