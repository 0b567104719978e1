"""Lists of a registrar's own objects for people (the web console): a name prefix to search, pages in name order.

Keyset pages (`after` the last name of the previous page) stay as fast on page 1,000 as on page 1, over the
(registrar_id, name) indexes; a search is a range of the same index (the names from the prefix up to the first
name past it), never a regular expression. A read like any info command: it needs 'Access to My registrations' and goes
through the command layer (a blocked registrar is refused, unscored). A group shows how many of the registrar's
domains use it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from services.registry import store
from services.registry.commands import Actor, execute
from services.registry.store import unit_of_work
from services.registry.users.model import Permission
from shared.events import CommandType
from shared.runtime import ServiceContext

MAX_PAGE = 200


@dataclass(frozen=True)
class Listing:
    collection: str
    key: str  # the field the list is ordered and searched by
    command: CommandType
    fields: dict[str, str]  # shown as -> stored as
    used_by: str | None = None  # a group: the domains' field naming it, to count the domains using it


def _same(*names: str) -> dict[str, str]:
    return {n: n for n in names}


# domains by `name` (the same as _id) to use the (registrar_id, name) index
DOMAINS = Listing(store.DOMAINS, "name", CommandType.INFO_DOMAIN,
                  _same("registrant", "status", "expires_at", "statuses", "delete_date") | {"override_reason": "override"})
CONTACTS = Listing(store.CONTACTS, "_id", CommandType.INFO_CONTACT,
                   _same("type", "email", "organisation") | {"holder": "name"})
NSGROUPS = Listing(store.NSGROUPS, "name", CommandType.INFO_NSGROUP, _same("name_servers"), used_by="nsgroups")
KEYGROUPS = Listing(store.KEYGROUPS, "name", CommandType.INFO_KEYGROUP, _same("keys"), used_by="keygroups")


def past_prefix(prefix: str) -> str:
    """The first string after every string that starts with `prefix` (MongoDB orders strings by their UTF-8
    bytes, which keeps code point order): the last character one higher."""
    head = prefix.rstrip(chr(0x10FFFF))
    if not head:
        return chr(0x10FFFF) * (len(prefix) + 1)
    following = ord(head[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters: the next one is
        following = 0xE000
    return head[:-1] + chr(following)


async def page_of(ctx: ServiceContext, actor: Actor, listing: Listing, prefix: str = "", after: str | None = None,
                  limit: int = 50) -> dict[str, Any]:
    """One page: `items` (each with `name`; a group also with `domains`, how many use it), and `next` (the
    `after` of the next page) or None on the last."""
    uow = unit_of_work(ctx)
    limit = max(1, min(limit, MAX_PAGE))
    prefix = prefix.strip().lower() if listing is DOMAINS else prefix.strip()

    async def run(_: str) -> dict[str, Any]:
        bounds: dict[str, Any] = {}
        if prefix:  # a prefix is a range of the index, so the walk starts at it and ends after it
            bounds = {"$gte": prefix, "$lt": past_prefix(prefix)}
        if after and after >= prefix:
            bounds.pop("$gte", None)
            bounds["$gt"] = after
        query: dict[str, Any] = {"registrar_id": actor.registrar_id}
        if bounds:
            query[listing.key] = bounds
        projection = {listing.key: 1, **{stored: 1 for stored in listing.fields.values()}}
        docs = await uow[listing.collection].find(query, projection).sort(listing.key, 1).limit(limit + 1).to_list()
        items = [{"name": d[listing.key], **{shown: d.get(stored) for shown, stored in listing.fields.items()}}
                 for d in docs[:limit]]
        if listing is DOMAINS:  # the reason only, and whether the name servers are overridden now
            for item in items:
                item["override_reason"] = (item["override_reason"] or {}).get("reason")
                item["name_servers_overridden"] = item["override_reason"] is not None
        if listing.used_by and items:
            names = [i["name"] for i in items]
            using = await uow[store.DOMAINS].find({"registrar_id": actor.registrar_id, listing.used_by: {"$in": names}},
                                                  {listing.used_by: 1}).to_list()
            counts = Counter(n for d in using for n in d.get(listing.used_by, []))
            for item in items:
                item["domains"] = counts[item["name"]]
        return {"items": items, "next": items[-1]["name"] if len(docs) > limit else None}

    return await execute(ctx, actor, listing.command, prefix or "*", run, requires=Permission.MY_REGISTRATIONS)
