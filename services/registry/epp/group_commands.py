"""EPP commands on DNS Belgium's name-server group and key group objects (nsgroup-1.0, keygroup-1.0):
translate the XML, call the group rules in services/registry/groups/, render the answer."""

from __future__ import annotations

from typing import Any

from lxml import etree
from pydantic import ValidationError

from services.registry.commands import Actor
from services.registry.epp.call import object_of
from services.registry.epp.ns import KEYGROUP, NSGROUP, check_data, element, q, sub, text, texts
from services.registry.epp.reply import Reply
from services.registry.epp.xml import Command
from services.registry.field_errors import in_words
from services.registry.groups.delete import delete_group
from services.registry.groups.info import check_groups, info_group
from services.registry.groups.model import KEYS, NS, KeyGroup, NameServerGroup
from services.registry.groups.save import save_group
from services.registry.results import CommandRefused, Result
from shared.runtime import ServiceContext

# Values the schema lets through but the registry's policy refuses (flags 257, protocol 3, supported algorithms).
POLICY_FIELDS = {"flags", "protocol", "algorithm"}


def _keys(command: etree._Element) -> list[dict[str, Any]]:
    return [{"flags": text(k, KEYGROUP, "flags"), "protocol": text(k, KEYGROUP, "protocol"),
             "algorithm": text(k, KEYGROUP, "alg"), "public_key": text(k, KEYGROUP, "pubKey") or ""}
            for k in command.findall(q(KEYGROUP, "key"))]


def _group(namespace: str, command: etree._Element) -> NameServerGroup | KeyGroup:
    name = text(command, namespace, "name") or ""
    kind = NS if namespace == NSGROUP else KEYS
    try:
        if namespace == NSGROUP:
            return NameServerGroup(name=name, name_servers=texts(command, NSGROUP, "ns"))
        return KeyGroup(name=name, keys=_keys(command))  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        code = Result.PARAMETER_VALUE_POLICY if POLICY_FIELDS & {str(p) for p in first["loc"]} \
            else Result.PARAMETER_VALUE_SYNTAX
        where = ".".join(str(p) for p in first["loc"])
        # the dispatcher publishes it (command.failed), as every refusal of the EPP layer's own checks
        raise CommandRefused(code, f"invalid {kind.label}: {where} {in_words(first)}") from exc


def _kind(command: etree._Element) -> tuple[str, Any]:
    namespace = etree.QName(command).namespace
    return (NSGROUP, NS) if namespace == NSGROUP else (KEYGROUP, KEYS)


async def check(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command = object_of(cmd)
    namespace, kind = _kind(command)
    free = await check_groups(ctx, actor, kind, texts(command, namespace, "name"))
    return Reply(res_data=check_data(namespace, "name", free))


async def info(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command = object_of(cmd)
    namespace, kind = _kind(command)
    doc = await info_group(ctx, actor, kind, text(command, namespace, "name") or "")
    data = element(namespace, "infData")
    sub(data, namespace, "name", doc["name"])
    for host in doc.get("name_servers", []):
        sub(data, namespace, "ns", host)
    for key in doc.get("keys", []):
        node = sub(data, namespace, "key")
        sub(node, namespace, "flags", str(key["flags"]))
        sub(node, namespace, "protocol", str(key["protocol"]))
        sub(node, namespace, "alg", str(key["algorithm"]))
        sub(node, namespace, "pubKey", key["public_key"])
    return Reply(res_data=data)


async def create(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command = object_of(cmd)
    namespace, kind = _kind(command)
    await save_group(ctx, actor, kind, _group(namespace, command), create=True)
    return Reply()


async def update(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    """The update replaces the group's whole list (nsgroup:ns or keygroup:key), as a create would set it."""
    command = object_of(cmd)
    namespace, kind = _kind(command)
    await save_group(ctx, actor, kind, _group(namespace, command), create=False)
    return Reply()


async def delete(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command = object_of(cmd)
    namespace, kind = _kind(command)
    await delete_group(ctx, actor, kind, text(command, namespace, "name") or "")
    return Reply()
