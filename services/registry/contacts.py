"""Contacts: registrant (licensee), billing, tech and onsite.

Rules (digest 5.4, seeds): aliases are unique registry-wide; a contact is used only in the role it was
created for; a registrar has exactly one billing contact, which cannot be deleted, and at most 10 tech
contacts; a domain has at most 5 tech and 5 onsite contacts; a contact still linked to a domain cannot
be deleted (2305); a registrant carries a verification status that the verification service drives.
A registrar sees and changes only its own contacts; another's is reported as not existing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from services.registry.commands import Actor, commit, execute
from services.registry.field_errors import in_words
from services.registry.registrar_model import PHONE, Language
from services.registry.results import CommandRefused, Result
from services.registry.users import Permission
from shared.events import CommandType, EventEnvelope
from shared.events.contacts import ContactCreated, ContactDeleted, ContactUpdated
from shared.mongo.indexes import CollectionIndexes
from shared.runtime import ServiceContext

CONTACTS = "contacts"
DOMAINS = "domains"
CONTACT_INDEXES = (
    CollectionIndexes(CONTACTS, (IndexModel([("registrar_id", ASCENDING), ("type", ASCENDING)]),)),
    CollectionIndexes(DOMAINS, (IndexModel("contacts"),)),
)
MAX_TECH_PER_REGISTRAR = 10
MAX_PER_DOMAIN = {"TECH": 5, "ONSITE": 5}
# RFC 5733 clIDType: 3-16 characters; '@' and spaces are not allowed in .be aliases
ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{2,15}$")


class ContactType(StrEnum):
    REGISTRANT = "REGISTRANT"
    BILLING = "BILLING"
    TECH = "TECH"
    ONSITE = "ONSITE"


class VerificationStatus(StrEnum):
    UNVERIFIED = "UNVERIFIED"
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"


class ContactFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=255)
    organisation: str | None = Field(default=None, max_length=255)
    street: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(min_length=1, max_length=3)
    city: str = Field(min_length=1, max_length=255)
    postal_code: str = Field(min_length=1, max_length=16)
    province: str | None = Field(default=None, max_length=255)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    phone: str = Field(pattern=PHONE)
    fax: str | None = Field(default=None, pattern=PHONE)
    email: EmailStr
    language: Language = Language.EN
    vat: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Z]{2,13}$")

    @field_validator("name", "organisation", "city", "province")
    @classmethod
    def latin_1(cls, v: str | None) -> str | None:
        # .be contact data is ISO-8859-1
        if v is not None:
            try:
                v.encode("latin-1")
            except UnicodeEncodeError as exc:
                raise ValueError("only ISO-8859-1 characters") from exc
        return v


class NewContact(ContactFields):
    alias: str
    type: ContactType


def _payload(doc: dict[str, Any]) -> dict[str, Any]:
    fields = {k: doc.get(k) for k in ContactFields.model_fields}
    return fields | {"alias": doc["_id"], "type": doc["type"]}


async def _own(ctx: ServiceContext, actor: Actor, alias: str, session: AsyncClientSession | None = None) -> dict[str, Any]:
    doc = await ctx.db[CONTACTS].find_one({"_id": alias, "registrar_id": actor.registrar_id}, session=session)
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: contact [{alias}]")
    return doc


async def create_contact(ctx: ServiceContext, actor: Actor, new: NewContact) -> dict[str, Any]:
    async def run(reference: str) -> dict[str, Any]:
        if not ALIAS.match(new.alias):
            raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid contact alias [{new.alias}]: 3-16 of A-Z a-z 0-9 . _ -")
        doc = new.model_dump(mode="json", exclude={"alias"}) | {
            "_id": new.alias, "registrar_id": actor.registrar_id, "created_at": ctx.clock.now(), "reference": reference,
        }
        if new.type is ContactType.REGISTRANT:
            doc["verification"] = VerificationStatus.UNVERIFIED.value

        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            if new.type in (ContactType.BILLING, ContactType.TECH):
                count = await ctx.db[CONTACTS].count_documents(
                    {"registrar_id": actor.registrar_id, "type": new.type.value}, session=session
                )
                if new.type is ContactType.BILLING and count >= 1:
                    raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, "a registrar has exactly one billing contact")
                if new.type is ContactType.TECH and count >= MAX_TECH_PER_REGISTRAR:
                    raise CommandRefused(Result.DATA_MANAGEMENT_POLICY,
                                         f"a registrar has at most {MAX_TECH_PER_REGISTRAR} tech contacts")
            try:
                await ctx.db[CONTACTS].insert_one(doc, session=session)
            except DuplicateKeyError as exc:
                raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: contact [{new.alias}]") from exc
            return [actor.event(ContactCreated(**_payload(doc)), ctx)]

        await commit(ctx, unit)
        return view(doc)

    return await execute(ctx, actor, CommandType.NEW_CONTACT, new.alias, run)


async def update_contact(ctx: ServiceContext, actor: Actor, alias: str, fields: ContactFields) -> dict[str, Any]:
    return await _update(ctx, actor, alias, lambda _: fields)


async def change_contact(ctx: ServiceContext, actor: Actor, alias: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply only the given fields over the current ones (EPP contact:chg); the result is validated whole."""

    def merged(doc: dict[str, Any]) -> ContactFields:
        values = {k: doc.get(k) for k in ContactFields.model_fields} | changes
        try:
            return ContactFields(**{k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid contact data: {where} {in_words(first)}",
                                 element=where) from exc

    return await _update(ctx, actor, alias, merged)


async def _update(ctx: ServiceContext, actor: Actor, alias: str,
                  new_fields: Callable[[dict[str, Any]], ContactFields]) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        changed: list[dict[str, Any]] = []

        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await _own(ctx, actor, alias, session)
            values = new_fields(doc).model_dump(mode="json")
            await ctx.db[CONTACTS].update_one({"_id": alias}, {"$set": values}, session=session)
            updated = doc | values
            changed.append(updated)
            return [actor.event(ContactUpdated(**_payload(updated)), ctx)]

        await commit(ctx, unit)
        return view(changed[-1])

    return await execute(ctx, actor, CommandType.UPD_CONTACT, alias, run)


async def delete_contact(ctx: ServiceContext, actor: Actor, alias: str) -> None:
    async def run(_: str) -> None:
        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await _own(ctx, actor, alias, session)
            if doc["type"] == ContactType.BILLING:
                raise CommandRefused(Result.STATUS_PROHIBITS, f"the billing contact [{alias}] cannot be deleted")
            linked = await ctx.db[DOMAINS].count_documents({"contacts": alias}, session=session)
            if linked:
                raise CommandRefused(Result.ASSOCIATION_PROHIBITS, f"Contact [{alias}] still linked to {linked} domain(s)")
            await ctx.db[CONTACTS].delete_one({"_id": alias}, session=session)
            return [actor.event(ContactDeleted(alias=alias, type=doc["type"]), ctx)]

        await commit(ctx, unit)

    await execute(ctx, actor, CommandType.DEL_CONTACT, alias, run)


async def info_contact(ctx: ServiceContext, actor: Actor, alias: str) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        return view(await _own(ctx, actor, alias))

    return await execute(ctx, actor, CommandType.INFO_CONTACT, alias, run, requires=Permission.MY_REGISTRATIONS)


async def check_contacts(ctx: ServiceContext, actor: Actor, aliases: list[str]) -> dict[str, bool]:
    """Which aliases are still free (registry-wide)."""

    async def run(_: str) -> dict[str, bool]:
        taken = {d["_id"] for d in await ctx.db[CONTACTS].find({"_id": {"$in": aliases}}, {"_id": 1}).to_list()}
        return {a: a not in taken for a in aliases}

    return await execute(ctx, actor, CommandType.CHECK_CONTACT, ",".join(aliases)[:255], run,
                         requires=Permission.MY_REGISTRATIONS)


def view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"alias": doc["_id"], **{k: v for k, v in doc.items() if k not in {"_id", "reference"}}}


async def require_roles(
    ctx: ServiceContext, session: AsyncClientSession, registrar_id: str, roles: dict[ContactType, list[str]]
) -> None:
    """For a domain: every alias exists, belongs to the registrar, has the role it is used in, and the
    per-domain limits hold; the registrar has its billing and at least one tech contact."""
    for role, limit in MAX_PER_DOMAIN.items():
        if len(roles.get(ContactType(role), [])) > limit:
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"at most {limit} {role.lower()} contacts per domain")
    if not await ctx.db[CONTACTS].find_one({"registrar_id": registrar_id, "type": "BILLING"}, {"_id": 1}, session=session) \
            or not await ctx.db[CONTACTS].find_one({"registrar_id": registrar_id, "type": "TECH"}, {"_id": 1}, session=session):
        raise CommandRefused(Result.DATA_MANAGEMENT_POLICY,
                             "create a billing contact and at least one tech contact before the first domain")
    wanted = {alias for aliases in roles.values() for alias in aliases}
    found = {d["_id"]: d for d in await ctx.db[CONTACTS].find(
        {"_id": {"$in": list(wanted)}, "registrar_id": registrar_id}, {"type": 1}, session=session).to_list()}
    for role, aliases in roles.items():
        for alias in aliases:
            if alias not in found:
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: contact [{alias}]",
                                     element="contact:id", value=alias)
            if found[alias]["type"] != role.value:
                raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                                     f"contact [{alias}] is a {found[alias]['type']} contact, not {role.value}")
