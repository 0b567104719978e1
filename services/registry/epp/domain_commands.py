"""EPP domain commands (RFC 5731 with the .be extension): translate the XML, call the registry's rule,
render the answer. No business rule lives here."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from lxml import etree

from services.registry.commands import Actor
from services.registry.domains.check import check_domains
from services.registry.domains.create import create_domain
from services.registry.domains.delete import delete_domain, reactivate_domain, undelete_domain
from services.registry.domains.info import domain_details, info_domain_details
from services.registry.domains.locks import LockRequest, lock_domain, unlock_domain
from services.registry.domains.model import CLIENT_LOCK, HostAttr
from services.registry.domains.transfer import AUTO, TransferRequest, domain_for_transfer, request_transfer_code, transfer_domain
from services.registry.domains.update import DomainChanges, change_domain
from services.registry.epp.call import object_of
from services.registry.epp.ns import DNSBE, DOMAIN, EPP, SECDNS, element, q, stamp, sub, text, texts
from services.registry.epp.reply import Reply
from services.registry.epp.xml import Command
from services.registry.results import CommandRefused, Result
from shared.runtime import ServiceContext


def roid(name: str) -> str:
    """A repository object id that stays the same for the name across restarts and replicas."""
    return hashlib.sha256(name.encode()).hexdigest()[:16].upper() + "-REG"


def _hosts(parent: etree._Element | None) -> list[HostAttr]:
    """domain:ns with domain:hostAttr (.be has no host objects: digest 7.1)."""
    if parent is None:
        return []
    if parent.find(q(DOMAIN, "hostObj")) is not None:
        raise CommandRefused(Result.UNIMPLEMENTED_OPTION, "host objects are not supported: use domain:hostAttr")
    hosts = []
    for attr in parent.findall(q(DOMAIN, "hostAttr")):
        try:
            hosts.append(HostAttr(name=text(attr, DOMAIN, "hostName") or "", addresses=texts(attr, DOMAIN, "hostAddr")))
        except ValueError as exc:
            raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid name server: {exc}") from exc
    return hosts


def _contacts(parent: etree._Element | None, kind: str) -> list[str]:
    if parent is None:
        return []
    if any(c.get("type") == "admin" for c in parent.findall(q(DOMAIN, "contact"))):
        # refused rather than dropped: a client must not believe the domain has the admin contact it sent
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, ".be domains have no admin contact: give tech and "
                             "onsite contacts (the billing contact is the registrar's)", element="domain:contact")
    return [(c.text or "").strip() for c in parent.findall(q(DOMAIN, "contact")) if c.get("type") == kind]


def _dnsbe(extension: etree._Element | None, *path: str) -> etree._Element | None:
    if extension is None:
        return None
    node = extension.find(q(DNSBE, "ext"))
    for tag in path:
        if node is None:
            return None
        node = node.find(q(DNSBE, tag))
    return node


def _refuse_secdns(extension: etree._Element | None) -> None:
    """A .be domain holds its DNSSEC keys through key groups (keygroup-1.0, named in dnsbe:keygroup); keys given
    on the domain itself (secDNS keyData) are refused rather than ignored, and DS data never applies: the
    registry derives DS from keys (digest 7.2)."""
    if extension is None:
        return
    for tag in ("create", "update"):
        node = extension.find(q(SECDNS, tag))
        if node is None:
            continue
        if next(node.iter(q(SECDNS, "dsData")), None) is not None:
            raise CommandRefused(Result.UNIMPLEMENTED_OPTION, "secDNS dsData is not supported: .be takes keys "
                                                              "(keyData) and derives DS itself")
        raise CommandRefused(Result.UNIMPLEMENTED_OPTION, "DNSSEC keys are set through key groups: create a "
                                                          "keygroup-1.0 object and name it in dnsbe:keygroup")


def _secdns_info(keys: list[dict[str, Any]]) -> etree._Element | None:
    """The keys of the domain's key groups, in RFC 5910 keyData form, so a secDNS client sees them."""
    if not keys:
        return None
    data = element(SECDNS, "infData")
    for key in keys:
        node = sub(data, SECDNS, "keyData")
        sub(node, SECDNS, "flags", str(key["flags"]))
        sub(node, SECDNS, "protocol", str(key["protocol"]))
        sub(node, SECDNS, "alg", str(key["algorithm"]))
        sub(node, SECDNS, "pubKey", key["public_key"])
    return data


def statuses(doc: dict[str, Any]) -> list[str]:
    """The RFC 5731 statuses of a domain: pendingDelete while its deletion is scheduled or it is in
    quarantine (beside dnsbe:deletionDate / dnsbe:quarantined), ok when nothing else applies."""
    found = list(doc.get("statuses", []))
    if doc.get("delete_date") or doc.get("status") == "QUARANTINE":
        found.append("pendingDelete")
    return found or ["ok"]


def _period(command: etree._Element) -> None:
    period = command.find(q(DOMAIN, "period"))
    if period is not None and (period.get("unit"), (period.text or "").strip()) not in (("y", "1"), ("m", "12")):
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, "the registration period is 1 year (1 y or 12 m)")


async def check(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command, extension = object_of(cmd), cmd.extension
    names = texts(command, DOMAIN, "name")
    results = await check_domains(ctx, actor, names)
    data = element(DOMAIN, "chkData")
    for r in results:
        cd = sub(data, DOMAIN, "cd")
        sub(cd, DOMAIN, "name", r.name, avail="1" if r.available else "0")
        if r.reason:
            sub(cd, DOMAIN, "reason", r.reason)
    ext = None
    if _dnsbe(extension, "check", "domain") is not None:  # check-domain v2.0: quarantine dates and statuses
        ext = element(DNSBE, "ext")
        domain = sub(sub(ext, DNSBE, "chkData"), DNSBE, "domain")
        for r in results:
            cd = sub(domain, DNSBE, "cd")
            sub(cd, DNSBE, "name", r.name)
            if r.available_on:
                sub(cd, DNSBE, "availableDate", stamp(r.available_on))
            for s in r.statuses:
                sub(cd, DNSBE, "status", s=s)
    return Reply(res_data=data, extension=ext)


async def info(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command, extension = object_of(cmd), cmd.extension
    name = text(command, DOMAIN, "name") or ""
    code = text(command.find(q(DOMAIN, "authInfo")), DOMAIN, "pw")
    if code:
        doc = await domain_for_transfer(ctx, actor, name, code)
        billing, keys = await domain_details(ctx, doc)
    else:
        doc, billing, keys = await info_domain_details(ctx, actor, name)
    data = element(DOMAIN, "infData")
    sub(data, DOMAIN, "name", doc["_id"])
    sub(data, DOMAIN, "roid", roid(doc["_id"]))
    for status in statuses(doc):
        sub(data, DOMAIN, "status", s=status)
    if doc.get("registrant"):
        sub(data, DOMAIN, "registrant", doc["registrant"])
    if billing:
        sub(data, DOMAIN, "contact", billing, type="billing")
    for kind in ("tech", "onsite"):
        for alias in doc.get(kind, []):
            sub(data, DOMAIN, "contact", alias, type=kind)
    overridden = bool(doc.get("override"))
    hosts = [{"name": h} for h in ctx.settings.override_name_servers] if overridden else doc.get("name_servers", [])  # type: ignore[attr-defined]
    if hosts:
        ns = sub(data, DOMAIN, "ns")
        for h in hosts:
            attr = sub(ns, DOMAIN, "hostAttr")
            sub(attr, DOMAIN, "hostName", h["name"])
            for address in h.get("addresses", []):
                sub(attr, DOMAIN, "hostAddr", address, ip="v6" if ":" in address else "v4")
    sub(data, DOMAIN, "clID", doc["registrar_id"])
    sub(data, DOMAIN, "crID", doc.get("created_by", doc["registrar_id"]))
    sub(data, DOMAIN, "crDate", stamp(doc["registered_at"]))
    if doc.get("expires_at"):
        sub(data, DOMAIN, "exDate", stamp(doc["expires_at"]))
    if doc.get("transferred_at"):
        sub(data, DOMAIN, "trDate", stamp(doc["transferred_at"]))
    ext = None
    if _dnsbe(extension, "info", "domain") is not None:  # info-domain v2.0
        ext = element(DNSBE, "ext")
        d = sub(sub(ext, DNSBE, "infData"), DNSBE, "domain")
        for group in ([] if overridden else doc.get("nsgroups", [])):
            sub(d, DNSBE, "nsgroup", group)
        for group in doc.get("keygroups", []):
            sub(d, DNSBE, "keygroup", group)
        sub(d, DNSBE, "onhold", "true" if doc.get("on_hold") else "false")
        sub(d, DNSBE, "quarantined", "true" if doc["status"] == "QUARANTINE" else "false")
        if overridden:
            sub(d, DNSBE, "nameserversOverridden", "true", reason=doc["override"]["reason"])
        if doc.get("delete_date"):
            sub(d, DNSBE, "deletionDate", stamp(doc["delete_date"]))
    secdns = _secdns_info(keys)
    if secdns is not None:
        holder = etree.Element(q(EPP, "extension"))
        holder.extend([secdns] + ([ext] if ext is not None else []))
        ext = holder
    return Reply(res_data=data, extension=ext)


async def create(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command, extension = object_of(cmd), cmd.extension
    _period(command)
    _refuse_secdns(extension)
    ext = _dnsbe(extension, "create", "domain")
    registrant = text(command, DOMAIN, "registrant")
    if not registrant:  # optional in RFC 5731's schema, required by .be
        raise CommandRefused(Result.REQUIRED_PARAMETER_MISSING, "Required parameter missing: domain:registrant",
                             element="domain:registrant")
    domain = await create_domain(
        ctx, actor, text(command, DOMAIN, "name") or "", registrant,
        _contacts(command, "tech"), _contacts(command, "onsite"), _hosts(command.find(q(DOMAIN, "ns"))),
        texts(ext, DNSBE, "nsgroup"), texts(ext, DNSBE, "keygroup"),
    )
    data = element(DOMAIN, "creData")
    sub(data, DOMAIN, "name", domain.name)
    sub(data, DOMAIN, "crDate", stamp(domain.registered_at))
    expires = getattr(domain, "expires_at", None)
    if isinstance(expires, datetime):
        sub(data, DOMAIN, "exDate", stamp(expires))
    return Reply(res_data=data)


async def update(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    """domain:add / domain:rem go to the registry's update rule; the clientTransferProhibited status to the
    lock rules (its text, if any, is the registrant's request the lock rests on)."""
    command, extension = object_of(cmd), cmd.extension
    name = (text(command, DOMAIN, "name") or "").lower()
    _refuse_secdns(extension)
    add, rem, chg = (command.find(q(DOMAIN, t)) for t in ("add", "rem", "chg"))
    if chg is not None and chg.find(q(DOMAIN, "registrant")) is not None:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, "the registrant changes only through a transfer")
    status_add = add.findall(q(DOMAIN, "status")) if add is not None else []
    status_rem = rem.findall(q(DOMAIN, "status")) if rem is not None else []
    for s in status_add + status_rem:
        if s.get("s") != CLIENT_LOCK:
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                                 f"status [{s.get('s')}] cannot be set by a registrar: only {CLIENT_LOCK}")
    ext_add, ext_rem = _dnsbe(extension, "update", "domain", "add"), _dnsbe(extension, "update", "domain", "rem")
    other_changes = ext_add is not None or ext_rem is not None or any(
        child.tag != q(DOMAIN, "status") for part in (add, rem) if part is not None for child in part)
    if status_rem:
        await unlock_domain(ctx, actor, name)
    if other_changes or not (status_add or status_rem):
        await change_domain(ctx, actor, name, DomainChanges(
            add_hosts=tuple(_hosts(add.find(q(DOMAIN, "ns")) if add is not None else None)),
            rem_hosts=tuple(h.name for h in _hosts(rem.find(q(DOMAIN, "ns")) if rem is not None else None)),
            add_contacts=tuple((k, a) for k in ("tech", "onsite") for a in _contacts(add, k)),
            rem_contacts=tuple((k, a) for k in ("tech", "onsite") for a in _contacts(rem, k)),
            add_nsgroups=tuple(texts(ext_add, DNSBE, "nsgroup")), rem_nsgroups=tuple(texts(ext_rem, DNSBE, "nsgroup")),
            add_keygroups=tuple(texts(ext_add, DNSBE, "keygroup")),
            rem_keygroups=tuple(texts(ext_rem, DNSBE, "keygroup"))))
    if status_add:
        reason = (status_add[0].text or "").strip() or "not given over EPP"
        await lock_domain(ctx, actor, name, LockRequest(registrant_request=reason[:500].ljust(3, ".")))
    return Reply()


async def delete(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command, extension = object_of(cmd), cmd.extension
    ext = _dnsbe(extension, "delete", "domain")
    raw_date = text(ext, DNSBE, "deleteDate")
    try:
        when = datetime.fromisoformat(raw_date) if raw_date else None
    except ValueError as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid deleteDate [{raw_date}]") from exc
    if when is not None and when.tzinfo is None:
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, "deleteDate must carry a time zone (UTC)")
    overwrite = (text(ext, DNSBE, "overwriteDeleteDate") or "false") in ("true", "1")
    await delete_domain(ctx, actor, text(command, DOMAIN, "name") or "", when, overwrite)
    return Reply()


async def transfer(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    """.be implements only op="request", executed at once (digest 4.4)."""
    command, extension, op = object_of(cmd), cmd.extension, cmd.element.get("op", "")
    if op != "request":
        raise CommandRefused(Result.UNIMPLEMENTED_OPTION, f"transfer op [{op}] is not implemented: only request")
    _period(command)
    ext = _dnsbe(extension, "transfer", "domain")
    code = text(command.find(q(DOMAIN, "authInfo")), DOMAIN, "pw")
    if not code:
        raise CommandRefused(Result.REQUIRED_PARAMETER_MISSING, "domain:authInfo (the transfer code) is required")
    registrant = text(ext, DNSBE, "registrant")
    if not registrant:
        raise CommandRefused(Result.REQUIRED_PARAMETER_MISSING, f"dnsbe:registrant (an alias or {AUTO}) is required")
    ns = ext.find(q(DNSBE, "ns")) if ext is not None else None
    hosts = None if ns is None else [
        HostAttr(name=text(h, DOMAIN, "hostName") or "", addresses=texts(h, DOMAIN, "hostAddr"))
        for h in ns.findall(q(DOMAIN, "hostAttr"))]
    try:
        request = TransferRequest(
            transfer_code=code, registrant=registrant,
            tech=[(c.text or "").strip() for c in (ext.findall(q(DNSBE, "tech")) if ext is not None else [])],
            onsite=[(c.text or "").strip() for c in (ext.findall(q(DNSBE, "onsite")) if ext is not None else [])],
            name_servers=hosts, nsgroups=texts(ext, DNSBE, "nsgroup"), keygroups=texts(ext, DNSBE, "keygroup"))
    except ValueError as exc:
        raise CommandRefused(Result.INVALID_AUTHORIZATION_INFO if "transfer_code" in str(exc)
                             else Result.PARAMETER_VALUE_SYNTAX, "invalid transfer request: " + str(exc).splitlines()[0]) from exc
    doc: dict[str, Any] = await transfer_domain(ctx, actor, text(command, DOMAIN, "name") or "", request)
    data = element(DOMAIN, "trnData")
    sub(data, DOMAIN, "name", doc["_id"])
    sub(data, DOMAIN, "trStatus", "serverApproved")
    sub(data, DOMAIN, "reID", actor.registrar_id)
    sub(data, DOMAIN, "reDate", stamp(doc["transferred_at"]))
    sub(data, DOMAIN, "acID", doc.get("losing_registrar_id", actor.registrar_id))
    sub(data, DOMAIN, "acDate", stamp(doc["transferred_at"]))
    sub(data, DOMAIN, "exDate", stamp(doc["expires_at"]))
    return Reply(res_data=data)


# -- DNS Belgium's commands outside RFC 5731 ---------------------------------------------------------------------

async def request_auth_code(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    node = cmd.element
    await request_transfer_code(ctx, actor, text(node, DNSBE, "domainName") or "", text(node, DNSBE, "url"))
    return Reply()


def _named(node: etree._Element) -> str:
    """The domain an undelete or reactivate names (dnsbe:domainName, or domain:name inside it)."""
    name = text(node, DNSBE, "domainName") or text(node, DOMAIN, "name")
    if name is None:
        for child in node.iter(q(DOMAIN, "name")):
            name = (child.text or "").strip()
    if not name:
        raise CommandRefused(Result.REQUIRED_PARAMETER_MISSING, "the domain name is missing")
    return name


async def undelete(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    await undelete_domain(ctx, actor, _named(cmd.element))
    return Reply()


async def reactivate(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    await reactivate_domain(ctx, actor, _named(cmd.element))
    return Reply()

