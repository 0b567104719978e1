"""EPP contact commands (RFC 5733 with the .be extension: contact type and language; info-contact v2.0
adds the registrant's verification status). Translation only: the rules are services/registry/contacts/."""

from __future__ import annotations

from typing import Any

from lxml import etree
from pydantic import ValidationError

from services.registry.commands import Actor
from services.registry.contacts.create import create_contact
from services.registry.contacts.delete import delete_contact
from services.registry.contacts.info import check_contacts, info_contact, is_linked
from services.registry.contacts.model import ContactType, NewContact
from services.registry.contacts.update import change_contact
from services.registry.epp.call import object_of
from services.registry.epp.ns import CONTACT, DNSBE, check_data, element, q, stamp, sub, text, texts
from services.registry.epp.reply import Reply
from services.registry.epp.xml import Command
from services.registry.field_errors import field_name, in_words
from services.registry.results import CommandRefused, Result
from shared.runtime import ServiceContext

# .be calls the registrant "licensee" on the wire
EPP_TYPES = {"licensee": ContactType.REGISTRANT, "billing": ContactType.BILLING, "tech": ContactType.TECH,
             "onsite": ContactType.ONSITE}
WIRE_TYPES = {v: k for k, v in EPP_TYPES.items()}


def _dnsbe_contact(extension: etree._Element | None, op: str) -> etree._Element | None:
    if extension is None:
        return None
    node = extension.find(f"{q(DNSBE, 'ext')}/{q(DNSBE, op)}/{q(DNSBE, 'contact')}")
    return node


def _fields(source: etree._Element) -> dict[str, Any]:
    """The contact fields a contact:create or contact:chg element gives."""
    values: dict[str, Any] = {}
    postal = source.find(q(CONTACT, "postalInfo"))
    if postal is not None:
        values["name"] = text(postal, CONTACT, "name")
        if postal.find(q(CONTACT, "org")) is not None:
            values["organisation"] = text(postal, CONTACT, "org")
        addr = postal.find(q(CONTACT, "addr"))
        if addr is not None:
            values |= {"street": texts(addr, CONTACT, "street"), "city": text(addr, CONTACT, "city"),
                       "province": text(addr, CONTACT, "sp"), "postal_code": text(addr, CONTACT, "pc"),
                       "country": text(addr, CONTACT, "cc")}
    for tag, key in (("voice", "phone"), ("fax", "fax"), ("email", "email")):
        if source.find(q(CONTACT, tag)) is not None:
            values[key] = text(source, CONTACT, tag)
    return values


# the EPP element each contact field comes from, to name it in a refusal
ELEMENTS = {"alias": "contact:id", "name": "contact:name", "organisation": "contact:org",
            "street": "contact:street", "city": "contact:city", "province": "contact:sp",
            "postal_code": "contact:pc", "country": "contact:cc", "phone": "contact:voice", "fax": "contact:fax",
            "email": "contact:email", "language": "dnsbe:lang", "vat": "dnsbe:vat", "type": "dnsbe:type"}


def _validated(model: type[NewContact], values: dict[str, Any]) -> NewContact:
    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        element = ELEMENTS.get(str(first["loc"][0]), field_name(first["loc"])) if first["loc"] else "contact"
        if first["type"] == "missing":  # RFC 5730: a required element left out is 2003, not a syntax error
            raise CommandRefused(Result.REQUIRED_PARAMETER_MISSING, f"Required parameter missing: {element}",
                                 element=element) from exc
        given = values.get(str(first["loc"][0])) if first["loc"] else None
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"{element} {in_words(first)}", element=element,
                             value=given if isinstance(given, str) else None) from exc


async def check(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command = object_of(cmd)
    free = await check_contacts(ctx, actor, texts(command, CONTACT, "id"))
    return Reply(res_data=check_data(CONTACT, "id", free))


async def info(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command, extension = object_of(cmd), cmd.extension
    c = await info_contact(ctx, actor, text(command, CONTACT, "id") or "")
    data = element(CONTACT, "infData")
    sub(data, CONTACT, "id", c["alias"])
    sub(data, CONTACT, "roid", f"{c['alias'].upper().replace('.', '_').replace('-', '_')}-REG")
    sub(data, CONTACT, "status", s="linked" if await is_linked(ctx, c["alias"]) else "ok")
    postal = sub(data, CONTACT, "postalInfo", type="loc")
    sub(postal, CONTACT, "name", c["name"])
    if c.get("organisation"):
        sub(postal, CONTACT, "org", c["organisation"])
    addr = sub(postal, CONTACT, "addr")
    for line in c["street"]:
        sub(addr, CONTACT, "street", line)
    sub(addr, CONTACT, "city", c["city"])
    if c.get("province"):
        sub(addr, CONTACT, "sp", c["province"])
    sub(addr, CONTACT, "pc", c["postal_code"])
    sub(addr, CONTACT, "cc", c["country"])
    sub(data, CONTACT, "voice", c["phone"])
    if c.get("fax"):
        sub(data, CONTACT, "fax", c["fax"])
    sub(data, CONTACT, "email", c["email"])
    sub(data, CONTACT, "clID", c["registrar_id"])
    sub(data, CONTACT, "crID", c["registrar_id"])
    sub(data, CONTACT, "crDate", stamp(c["created_at"]))
    ext = element(DNSBE, "ext")
    contact = sub(sub(ext, DNSBE, "infData"), DNSBE, "contact")
    sub(contact, DNSBE, "type", WIRE_TYPES[ContactType(c["type"])])
    if c.get("vat"):
        sub(contact, DNSBE, "vat", c["vat"])
    sub(contact, DNSBE, "lang", c.get("language", "en"))
    v2 = extension is not None and extension.find(f"{q(DNSBE, 'ext')}/{q(DNSBE, 'info')}/{q(DNSBE, 'contact')}") is not None
    if v2:  # the seed's info-contact v2.0 answer: onhold, then the verification fields
        sub(contact, DNSBE, "onhold", "true" if c.get("on_hold") else "false")
    if v2 and c.get("verification"):
        sub(contact, DNSBE, "verification", c["verification"].lower())
        if c.get("verification_url"):
            sub(contact, DNSBE, "verificationurl", c["verification_url"])
        if c.get("verification_type"):
            sub(contact, DNSBE, "verificationtype", c["verification_type"])
    return Reply(res_data=data, extension=ext)


async def create(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command, extension = object_of(cmd), cmd.extension
    ext = _dnsbe_contact(extension, "create")
    wire_type = text(ext, DNSBE, "type")
    if wire_type not in EPP_TYPES:
        raise CommandRefused(Result.REQUIRED_PARAMETER_MISSING,
                             f"dnsbe:type is required: one of {', '.join(EPP_TYPES)}")
    values = _fields(command) | {"alias": text(command, CONTACT, "id"), "type": EPP_TYPES[wire_type]}
    if text(ext, DNSBE, "lang"):
        values["language"] = text(ext, DNSBE, "lang")
    if text(ext, DNSBE, "vat"):
        values["vat"] = text(ext, DNSBE, "vat")
    created = await create_contact(ctx, actor, _validated(NewContact, {k: v for k, v in values.items() if v is not None}))
    data = element(CONTACT, "creData")
    sub(data, CONTACT, "id", created["alias"])
    sub(data, CONTACT, "crDate", stamp(created["created_at"]))
    return Reply(res_data=data)


async def update(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command, extension = object_of(cmd), cmd.extension
    chg = command.find(q(CONTACT, "chg"))
    changes = _fields(chg) if chg is not None else {}
    ext = _dnsbe_contact(extension, "update")
    ext_chg = ext.find(q(DNSBE, "chg")) if ext is not None else None
    for tag, key in (("lang", "language"), ("vat", "vat")):
        if text(ext_chg, DNSBE, tag):
            changes[key] = text(ext_chg, DNSBE, tag)
    try:
        await change_contact(ctx, actor, text(command, CONTACT, "id") or "", changes)
    except CommandRefused as refused:  # name the field as the client sent it (<extValue><contact:voice>)
        refused.element = ELEMENTS.get(refused.element or "", refused.element)
        raise
    return Reply()


async def delete(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    command = object_of(cmd)
    await delete_contact(ctx, actor, text(command, CONTACT, "id") or "")
    return Reply()
