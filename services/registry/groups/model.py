"""What the groups are (digest 7.2). A name-server group holds up to 9 host names and no addresses (in-bailiwick
name servers need glue, so they go on the domain itself). A key group holds up to 4 DNSSEC keys: flags 257,
protocol 3, an algorithm DNS Belgium supports. Names are unique per registrar."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.registry.store import KEYGROUPS, NSGROUPS
from shared.events import CommandType
from shared.events.groups import (
    DnsKey,
    KeyGroupChanged,
    KeyGroupDeleted,
    NameServerGroupChanged,
    NameServerGroupDeleted,
)

GROUP_NAME = r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,99}$"
HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
ALGORITHMS = {5, 7, 8, 10, 13, 14, 15, 16}
MAX_NAME_SERVERS, MAX_KEYS = 9, 4


def host_name(value: str) -> str:
    value = value.strip().lower().rstrip(".")
    if not HOST.match(value):
        raise ValueError(f"invalid host name [{value}]")
    return value


class NameServerGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=GROUP_NAME)
    name_servers: list[str] = Field(min_length=1, max_length=MAX_NAME_SERVERS)

    @field_validator("name_servers")
    @classmethod
    def hosts(cls, v: list[str]) -> list[str]:
        hosts = [host_name(h) for h in v]
        if len(set(hosts)) != len(hosts):
            raise ValueError("each name server at most once")
        return hosts


class Key(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flags: int = Field(description="257 (key-signing key) is the only value accepted")
    protocol: int = 3
    algorithm: int
    public_key: str = Field(min_length=4, max_length=4096)

    @field_validator("flags")
    @classmethod
    def ksk(cls, v: int) -> int:
        if v != 257:
            raise ValueError("flags must be 257")
        return v

    @field_validator("protocol")
    @classmethod
    def three(cls, v: int) -> int:
        if v != 3:
            raise ValueError("protocol must be 3")
        return v

    @field_validator("algorithm")
    @classmethod
    def supported(cls, v: int) -> int:
        if v not in ALGORITHMS:
            raise ValueError(f"algorithm {v} is not supported; use one of {sorted(ALGORITHMS)}")
        return v

    @field_validator("public_key")
    @classmethod
    def base64_key(cls, v: str) -> str:
        compact = "".join(v.split())
        try:
            base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("public_key must be base64") from exc
        return compact


class KeyGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=GROUP_NAME)
    keys: list[Key] = Field(min_length=1, max_length=MAX_KEYS)


class GroupKind:
    """Name-server groups and key groups work alike: where each is kept, what it is called, its command types."""

    def __init__(self, collection: str, label: str, commands: tuple[CommandType, CommandType, CommandType, CommandType],
                 domain_field: str) -> None:
        self.collection, self.label, self.domain_field = collection, label, domain_field
        self.new, self.update, self.delete, self.info = commands


NS = GroupKind(NSGROUPS, "nsgroup", (CommandType.NEW_NSGROUP, CommandType.UPD_NSGROUP, CommandType.DEL_NSGROUP,
                                     CommandType.INFO_NSGROUP), "nsgroups")
KEYS = GroupKind(KEYGROUPS, "keygroup", (CommandType.NEW_KEYGROUP, CommandType.UPD_KEYGROUP, CommandType.DEL_KEYGROUP,
                                         CommandType.INFO_KEYGROUP), "keygroups")


def changed_event(kind: GroupKind, group: BaseModel, created: bool) -> Any:
    if kind is NS:
        assert isinstance(group, NameServerGroup)
        return NameServerGroupChanged(name=group.name, name_servers=group.name_servers, created=created)
    assert isinstance(group, KeyGroup)
    return KeyGroupChanged(name=group.name, keys=[DnsKey(**k.model_dump()) for k in group.keys], created=created)


def deleted_event(kind: GroupKind, name: str) -> Any:
    return NameServerGroupDeleted(name=name) if kind is NS else KeyGroupDeleted(name=name)


def group_values(group: BaseModel) -> dict[str, Any]:
    return group.model_dump(mode="json", exclude={"name"})
