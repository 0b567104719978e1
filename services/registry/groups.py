"""Name-server groups and key groups (digest 7.2): named sets a registrar reuses across its domains.

A name-server group holds up to 9 host names and no addresses (in-bailiwick name servers need glue, so
they go on the domain itself). A key group holds up to 4 DNSSEC keys: flags 257, protocol 3, an
algorithm DNS Belgium supports. Names are unique per registrar; a group a domain still uses cannot be
deleted (2305).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from services.registry.commands import Actor, commit, execute
from services.registry.results import CommandRefused, Result
from services.registry.users import Permission
from shared.events import CommandType, EventEnvelope
from shared.events.groups import (
    DnsKey,
    KeyGroupChanged,
    KeyGroupDeleted,
    NameServerGroupChanged,
    NameServerGroupDeleted,
)
from shared.mongo.indexes import CollectionIndexes

NSGROUPS = "nsgroups"
KEYGROUPS = "keygroups"
DOMAINS = "domains"
GROUP_INDEXES = (
    CollectionIndexes(NSGROUPS, (IndexModel([("registrar_id", ASCENDING), ("name", ASCENDING)], unique=True),)),
    CollectionIndexes(KEYGROUPS, (IndexModel([("registrar_id", ASCENDING), ("name", ASCENDING)], unique=True),)),
    CollectionIndexes(DOMAINS, (IndexModel("nsgroups"), IndexModel("keygroups"))),
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


class _Kind:
    def __init__(self, collection: str, label: str, commands: tuple[CommandType, CommandType, CommandType, CommandType],
                 domain_field: str) -> None:
        self.collection, self.label, self.domain_field = collection, label, domain_field
        self.new, self.update, self.delete, self.info = commands


NS = _Kind(NSGROUPS, "nsgroup", (CommandType.NEW_NSGROUP, CommandType.UPD_NSGROUP, CommandType.DEL_NSGROUP,
                                 CommandType.INFO_NSGROUP), "nsgroups")
KEYS = _Kind(KEYGROUPS, "keygroup", (CommandType.NEW_KEYGROUP, CommandType.UPD_KEYGROUP, CommandType.DEL_KEYGROUP,
                                     CommandType.INFO_KEYGROUP), "keygroups")


def _changed(kind: _Kind, group: BaseModel, created: bool) -> Any:
    if kind is NS:
        assert isinstance(group, NameServerGroup)
        return NameServerGroupChanged(name=group.name, name_servers=group.name_servers, created=created)
    assert isinstance(group, KeyGroup)
    return KeyGroupChanged(name=group.name, keys=[DnsKey(**k.model_dump()) for k in group.keys], created=created)


def _deleted(kind: _Kind, name: str) -> Any:
    return NameServerGroupDeleted(name=name) if kind is NS else KeyGroupDeleted(name=name)


def _values(group: BaseModel) -> dict[str, Any]:
    return group.model_dump(mode="json", exclude={"name"})


async def save_group(ctx: Any, actor: Actor, kind: _Kind, group: NameServerGroup | KeyGroup, *, create: bool) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            key = {"registrar_id": actor.registrar_id, "name": group.name}
            if create:
                try:
                    await ctx.db[kind.collection].insert_one(key | _values(group) | {"created_at": ctx.clock.now()},
                                                             session=session)
                except DuplicateKeyError as exc:
                    raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: {kind.label} [{group.name}]") from exc
            else:
                result = await ctx.db[kind.collection].update_one(key, {"$set": _values(group)}, session=session)
                if result.matched_count == 0:
                    raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{group.name}]")
            return [actor.event(_changed(kind, group, create), ctx)]

        await commit(ctx, unit)
        return {"name": group.name, **_values(group)}

    return await execute(ctx, actor, kind.new if create else kind.update, group.name, run)


async def delete_group(ctx: Any, actor: Actor, kind: _Kind, name: str) -> None:
    async def run(_: str) -> None:
        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            key = {"registrar_id": actor.registrar_id, "name": name}
            if not await ctx.db[kind.collection].find_one(key, {"_id": 1}, session=session):
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{name}]")
            linked = await ctx.db[DOMAINS].count_documents(
                {"registrar_id": actor.registrar_id, kind.domain_field: name}, session=session
            )
            if linked:
                raise CommandRefused(Result.ASSOCIATION_PROHIBITS, f"{kind.label} [{name}] still linked to {linked} domain(s)")
            await ctx.db[kind.collection].delete_one(key, session=session)
            return [actor.event(_deleted(kind, name), ctx)]

        await commit(ctx, unit)

    await execute(ctx, actor, kind.delete, name, run)


async def info_group(ctx: Any, actor: Actor, kind: _Kind, name: str) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        doc = await ctx.db[kind.collection].find_one({"registrar_id": actor.registrar_id, "name": name})
        if doc is None:
            raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{name}]")
        return {k: v for k, v in doc.items() if k not in {"_id", "registrar_id"}}

    return await execute(ctx, actor, kind.info, name, run, requires=Permission.MY_REGISTRATIONS)


async def list_groups(ctx: Any, actor: Actor, kind: _Kind) -> list[dict[str, Any]]:
    """The registrar's groups of one kind, by name, each with what info shows and how many domains use it."""

    async def run(_: str) -> list[dict[str, Any]]:
        docs = await ctx.db[kind.collection].find({"registrar_id": actor.registrar_id}).sort("name", 1).to_list()
        used = await (await ctx.db[DOMAINS].aggregate([
            {"$match": {"registrar_id": actor.registrar_id, kind.domain_field: {"$in": [d["name"] for d in docs]}}},
            {"$unwind": f"${kind.domain_field}"}, {"$group": {"_id": f"${kind.domain_field}", "n": {"$sum": 1}}},
        ])).to_list() if docs else []
        counts = {u["_id"]: u["n"] for u in used}
        return [{k: v for k, v in d.items() if k not in {"_id", "registrar_id"}} | {"domains": counts.get(d["name"], 0)}
                for d in docs]

    return await execute(ctx, actor, kind.info, actor.registrar_id, run, requires=Permission.MY_REGISTRATIONS)


async def check_groups(ctx: Any, actor: Actor, kind: _Kind, names: list[str]) -> dict[str, bool]:
    """Which names the registrar can still give a new group (names are per registrar, so another's is free).
    A read like info: it runs as the info command type (there is no check type in the catalogue)."""

    async def run(_: str) -> dict[str, bool]:
        taken = {d["name"] for d in await ctx.db[kind.collection].find(
            {"registrar_id": actor.registrar_id, "name": {"$in": names}}, {"name": 1}).to_list()}
        return {name: name not in taken for name in names}

    return await execute(ctx, actor, kind.info, ",".join(names)[:200], run, requires=Permission.MY_REGISTRATIONS)


async def require_groups(
    ctx: Any, session: AsyncClientSession, registrar_id: str, nsgroups: list[str], keygroups: list[str]
) -> None:
    """For a domain: every group named exists and belongs to the registrar; at most 9 name-server groups."""
    if len(nsgroups) > MAX_NAME_SERVERS:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"at most {MAX_NAME_SERVERS} name-server groups per domain")
    for kind, names in ((NS, nsgroups), (KEYS, keygroups)):
        if not names:
            continue
        found = {d["name"] for d in await ctx.db[kind.collection].find(
            {"registrar_id": registrar_id, "name": {"$in": names}}, {"name": 1}, session=session).to_list()}
        for name in names:
            if name not in found:
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{name}]")
