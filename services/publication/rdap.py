"""RDAP answers (pure): RFC 9083 objects, RFC 8056 status mapping, RFC 9537 redaction.

The registrant is an entity whose personal fields are redacted (RFC 9537: its name as an empty value, the rest
removed), whatever the contact: the read model holds no personal data to show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.publication.names import to_unicode
from services.publication.view import PublicDomain, Registrar

CONFORMANCE = ["rdap_level_0", "redacted"]
MEDIA_TYPE = "application/rdap+json"
TERMS = {"title": "Terms of use",
         "description": [("This information is provided for information purposes only. Personal data of "
                         "registrants is not disclosed (redacted, RFC 9537).")]}
# EPP status (RFC 5731) -> RDAP status (RFC 8056 section 2)
EPP_TO_RDAP = {
    "ok": "active", "inactive": "inactive", "pendingDelete": "pending delete",
    "clientTransferProhibited": "client transfer prohibited", "serverTransferProhibited": "server transfer prohibited",
    "clientUpdateProhibited": "client update prohibited", "serverUpdateProhibited": "server update prohibited",
    "clientDeleteProhibited": "client delete prohibited", "serverDeleteProhibited": "server delete prohibited",
    "clientHold": "client hold", "serverHold": "server hold", "redemptionPeriod": "redemption period",
}
REDACTED_REASON = {"description": "Server policy: registrants' personal data is not published"}


def _date(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _link(base: str, path: str) -> dict[str, str]:
    href = base.rstrip("/") + "/" + path
    return {"value": href, "rel": "self", "href": href, "type": MEDIA_TYPE}


def statuses(domain: PublicDomain) -> list[str]:
    """The domain's EPP statuses (RFC 5731) mapped to RDAP's (RFC 8056)."""
    epp: list[str] = list(domain.statuses)
    if domain.status == "QUARANTINE":
        epp += ["redemptionPeriod", "inactive"]
    elif not domain.name_servers:
        epp.append("inactive")
    if domain.delete_date and domain.status != "QUARANTINE":
        epp.append("pendingDelete")
    if domain.on_hold:
        epp.append("serverTransferProhibited")
    if not epp:
        epp.append("ok")
    return sorted({EPP_TO_RDAP[s] for s in epp if s in EPP_TO_RDAP})


def registrar_entity(registrar: Registrar, base: str, top: bool = False) -> dict[str, Any]:
    card: list[list[Any]] = [["version", {}, "text", "4.0"], ["fn", {}, "text", registrar.name]]
    if registrar.organisation:
        card.append(["org", {}, "text", " ".join(registrar.organisation)])
    if registrar.website:
        card.append(["url", {}, "uri", registrar.website])
    entity: dict[str, Any] = {"objectClassName": "entity", "handle": registrar.handle, "roles": ["registrar"],
                              "vcardArray": ["vcard", card], "links": [_link(base, f"entity/{registrar.handle}")]}
    return _top(entity) if top else entity


def contact_entity(handle: str, roles: list[str], base: str, top: bool = False) -> dict[str, Any]:
    """A contact with its personal data redacted: the name an empty value, the rest removed."""
    entity: dict[str, Any] = {
        "objectClassName": "entity", "handle": handle, "roles": roles,
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", ""]]],
        "links": [_link(base, f"entity/{handle}")],
    }
    if top:
        entity = _top(entity)
        entity["redacted"] = _redactions("$")
    return entity


def _redactions(path: str) -> list[dict[str, Any]]:
    card = f"{path}.vcardArray[1]"
    return [
        {"name": {"type": "Registrant Name"}, "postPath": f"{card}[?(@[0]=='fn')][3]", "pathLang": "jsonpath",
         "method": "emptyValue", "reason": REDACTED_REASON},
        {"name": {"type": "Registrant Organization"}, "prePath": f"{card}[?(@[0]=='org')]", "pathLang": "jsonpath",
         "method": "removal", "reason": REDACTED_REASON},
        {"name": {"type": "Registrant Street"}, "prePath": f"{card}[?(@[0]=='adr')][3][:3]", "pathLang": "jsonpath",
         "method": "removal", "reason": REDACTED_REASON},
        {"name": {"type": "Registrant Phone"}, "prePath": f"{card}[?(@[0]=='tel')]", "pathLang": "jsonpath",
         "method": "removal", "reason": REDACTED_REASON},
        {"name": {"type": "Registrant Email"}, "prePath": f"{card}[?(@[0]=='email')]", "pathLang": "jsonpath",
         "method": "removal", "reason": REDACTED_REASON},
    ]


def _top(obj: dict[str, Any]) -> dict[str, Any]:
    return {"rdapConformance": CONFORMANCE, **obj, "notices": [TERMS]}


def domain(d: PublicDomain, base: str) -> dict[str, Any]:
    events = [{"eventAction": "registration", "eventDate": _date(d.registered_at)},
              {"eventAction": "expiration", "eventDate": _date(d.expires_at)},
              {"eventAction": "last changed", "eventDate": _date(d.changed_at)}]
    if d.delete_date:
        events.append({"eventAction": "deletion", "eventDate": _date(d.delete_date)})
    obj: dict[str, Any] = {
        "objectClassName": "domain", "handle": d.name, "ldhName": d.name,
        "status": statuses(d),
        "events": [e for e in events if e["eventDate"]],
        "links": [_link(base, f"domain/{d.name}")],
        "entities": [], "nameservers": [],
        "secureDNS": {"delegationSigned": bool(d.ds),
                      "dsData": [_ds(ds) for ds in d.ds]},
    }
    unicode = to_unicode(d.name)
    if unicode != d.name:
        obj["unicodeName"] = unicode
    if d.registrar:
        obj["entities"].append(registrar_entity(d.registrar, base))
    redacted: list[dict[str, Any]] = []
    if d.registrant:
        obj["entities"].append(contact_entity(d.registrant, ["registrant"], base))
        redacted = _redactions(f"$.entities[{len(obj['entities']) - 1}]")
    for ns in d.name_servers:
        obj["nameservers"].append(nameserver(ns.name, ns.addresses, base, top=False))
    if d.overridden:
        obj["remarks"] = [{"title": "Name servers overridden",
                           "description": [d.override_reason or "the domain name is not delegated"]}]
    out = _top(obj)
    if redacted:
        out["redacted"] = redacted
    return out


def _ds(text: str) -> dict[str, Any]:
    tag, algorithm, digest_type, digest = text.split(maxsplit=3)
    return {"keyTag": int(tag), "algorithm": int(algorithm), "digestType": int(digest_type),
            "digest": digest.replace(" ", "").upper()}


def nameserver(name: str, addresses: tuple[str, ...] | list[str], base: str, top: bool = True) -> dict[str, Any]:
    obj: dict[str, Any] = {"objectClassName": "nameserver", "handle": name, "ldhName": name,
                           "links": [_link(base, f"nameserver/{name}")]}
    if addresses:
        obj["ipAddresses"] = {"v4": [a for a in addresses if ":" not in a], "v6": [a for a in addresses if ":" in a]}
    unicode = to_unicode(name)
    if unicode != name:
        obj["unicodeName"] = unicode
    return _top(obj) if top else obj


def help_(base: str) -> dict[str, Any]:
    return {"rdapConformance": CONFORMANCE, "notices": [
        {"title": "Help", "description": [
            ("Queries: domain/{name} (U-label or A-label), entity/{handle} (a registrar's id or a contact's "
            "alias), nameserver/{name}, help."), "Each address may send a limited number of queries a minute."],
         "links": [_link(base, "help")]}, TERMS]}


def error(code: int, title: str, description: str) -> dict[str, Any]:
    return {"rdapConformance": CONFORMANCE, "errorCode": code, "title": title, "description": [description],
            "notices": [TERMS]}


def registrar_of(doc: Mapping[str, Any]) -> Registrar:
    return Registrar(doc["_id"], doc.get("name") or doc["_id"], doc.get("website"), tuple(doc.get("organisation") or ()))
