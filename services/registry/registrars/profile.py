"""The registrar's account as its users see it, and the sections it keeps up to date itself (digest 5.2).

  info            any user with access; the balance and finance only with VIEW_FINANCIAL or INVOICING_INFO
  update section  profile, product URLs, EPP settings (needs UPDATE_EPP_SETTINGS), e-mail categories; product
                  URLs only for products the registrar is accredited for or resells (2306).
                                                                                 Event: registrar.updated
  balance         with VIEW_FINANCIAL: the balance and the ledger
  find            the public 'find a registrar' list: active registrars with a URL for the product
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from services.registry.commands import Actor, execute
from services.registry.registrars import money
from services.registry.registrars.model import EmailCategories, EppSettings, ProductUrls, Profile
from services.registry.results import CommandRefused, Result
from services.registry.store import REGISTRARS, unit_of_work
from services.registry.uow import Reader, Tx
from services.registry.users.model import Permission
from shared.events import CommandType, EventEnvelope, new_event
from shared.events.registrars import RegistrarUpdated
from shared.runtime import ServiceContext

# the sections a registrar updates itself, and the permission each needs
SECTIONS: dict[str, tuple[type[BaseModel], Permission]] = {
    "profile": (Profile, Permission.TRANSACTIONS),
    "product_urls": (ProductUrls, Permission.TRANSACTIONS),
    "epp_settings": (EppSettings, Permission.UPDATE_EPP_SETTINGS),
    "email_categories": (EmailCategories, Permission.TRANSACTIONS),
}


async def get_registrar(tx: Reader, registrar_id: str) -> dict[str, Any]:
    doc = await tx[REGISTRARS].find_one({"_id": registrar_id})
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: registrar [{registrar_id}]")
    return doc


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The account as its own users see it: never password hashes or security codes; the ledger lines it carries
    (money.OPEN_LEDGER) only with the balance, for those who may see it."""
    hidden = {"epp_password_hash", "security_code_hash", "_id", money.OPEN_LEDGER}
    return {"registrar_id": doc["_id"], **{k: v for k, v in doc.items() if k not in hidden}}


async def update_section(ctx: ServiceContext, tx: Tx, registrar_id: str, section: str, value: BaseModel,
                         correlation_id: str, *, by_operator: bool = False) -> list[EventEnvelope[Any]]:
    doc = await get_registrar(tx, registrar_id)
    data = value.model_dump(mode="json")
    if section == "product_urls":
        # a reseller shows a URL for the gTLDs it resells through an accredited registrar (onboarding.py)
        not_accredited = set(data["urls"]) - set(doc["products"]) - set(doc.get("resold_products", {}))
        if not_accredited:
            raise CommandRefused(
                Result.PARAMETER_VALUE_POLICY, f"not accredited for {sorted(not_accredited)}: no product URL there"
            )
    await tx[REGISTRARS].update_one({"_id": registrar_id}, {"$set": {section: data}})
    return [new_event(RegistrarUpdated(section=section, changes=data, by_operator=by_operator),
                      registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock)]


async def info_registrar(ctx: ServiceContext, actor: Actor) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        view = public_view(await get_registrar(unit_of_work(ctx), actor.registrar_id))
        if Permission.VIEW_FINANCIAL not in actor.permissions and Permission.INVOICING_INFO not in actor.permissions:
            view.pop("balance_cents", None)
            view.pop("finance", None)
        return view

    return await execute(ctx, actor, CommandType.INFO_REGISTRAR, actor.registrar_id, run,
                         requires=Permission.MY_REGISTRATIONS)


async def update_own_section(ctx: ServiceContext, actor: Actor, section: str, value: BaseModel) -> dict[str, Any]:
    """The registrar updates one of its sections; returns the section and the command's reference."""

    async def run(reference: str) -> dict[str, Any]:
        async def work(tx: Tx) -> None:
            tx.publish(await update_section(ctx, tx, actor.registrar_id, section, value, actor.correlation_id))

        await unit_of_work(ctx).run(work)
        return {section: value.model_dump(mode="json"), "reference": reference}

    return await execute(ctx, actor, CommandType.UPD_REGISTRAR, f"{actor.registrar_id}/{section}", run,
                         requires=SECTIONS[section][1])


async def balance_and_ledger(ctx: ServiceContext, actor: Actor) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        return {"balance_cents": await money.balance(ctx, actor.registrar_id),
                "ledger": await money.ledger(ctx, actor.registrar_id)}

    return await execute(ctx, actor, CommandType.INFO_REGISTRAR, actor.registrar_id, run,
                         requires=Permission.VIEW_FINANCIAL)


async def find_a_registrar(ctx: ServiceContext, product: str, language: str) -> list[dict[str, str]]:
    """The public 'find a registrar' list: active registrars with a URL for the product."""
    docs = await unit_of_work(ctx)[REGISTRARS].find(
        {"status": "ACTIVE", f"product_urls.urls.{product}": {"$exists": True}},
        {"name": 1, "product_urls": 1},
    ).sort("name", 1).to_list()
    listed = []
    for d in docs:
        urls = d["product_urls"]["urls"][product]
        url = urls.get(language) or urls.get("default")
        if url:
            listed.append({"registrar_id": d["_id"], "name": d["name"], "url": url})
    return listed
