"""Form values to API bodies and back: what the user typed stays on a refused form."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.datastructures import FormData

LANGUAGE_CODES = ("nl", "fr", "en")
# the seed's "combination of the supported languages", in order of preference
LANGUAGE_CHOICES = [",".join(c) for n in (1, 2, 3) for c in itertools.permutations(LANGUAGE_CODES, n)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def lines(form: FormData, name: str) -> list[str]:
    """A textarea with one value a line (IP addresses, e-mail addresses)."""
    return [line.strip() for line in text(form, name).replace(",", "\n").splitlines() if line.strip()]


def checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1")


def profile_body(form: FormData, current: dict[str, Any]) -> dict[str, Any]:
    street = [text(form, f"address.street.{i}") for i in range(3)]
    while len(street) > 1 and not street[-1]:
        street.pop()
    organisation = [v for v in (text(form, "organisation.0"), text(form, "organisation.1")) if v] or [""]
    body: dict[str, Any] = {
        "organisation": organisation,
        "address": {"street": street, "postal_code": text(form, "address.postal_code"), "city": text(form, "address.city"),
                    "province": optional(form, "address.province"), "country": text(form, "address.country").upper()},
        "phone": text(form, "phone"), "fax": optional(form, "fax"), "website": optional(form, "website"),
        "email": text(form, "email"), "languages": [x for x in text(form, "languages").split(",") if x],
        "automated_email": text(form, "automated_email"), "order_reference": optional(form, "order_reference"),
        "inform_registrant_myself": checked(form, "inform_registrant_myself"),
    }
    if current.get("category"):  # not on this form: kept as it is
        body["category"] = current["category"]
    return body


def profile_values(profile: dict[str, Any]) -> dict[str, Any]:
    """A stored profile as the form's flat field values."""
    address = profile.get("address") or {}
    values: dict[str, Any] = {
        "phone": profile.get("phone"), "fax": profile.get("fax"), "website": profile.get("website"),
        "email": profile.get("email"), "languages": ",".join(profile.get("languages") or []),
        "automated_email": profile.get("automated_email"), "order_reference": profile.get("order_reference"),
        "inform_registrant_myself": profile.get("inform_registrant_myself"),
        "address.postal_code": address.get("postal_code"), "address.city": address.get("city"),
        "address.province": address.get("province"), "address.country": address.get("country"),
    }
    for i, line in enumerate(profile.get("organisation") or []):
        values[f"organisation.{i}"] = line
    for i, line in enumerate(address.get("street") or []):
        values[f"address.street.{i}"] = line
    return values


def product_urls_body(form: FormData, products: list[str]) -> dict[str, Any]:
    urls: dict[str, dict[str, str]] = {}
    for product in products:
        per_language = {"default": text(form, f"urls.{product}.default")}
        if checked(form, f"urls.{product}.per_language"):
            per_language |= {lang: text(form, f"urls.{product}.{lang}") for lang in LANGUAGE_CODES}
        per_language = {k: v for k, v in per_language.items() if v}
        if per_language:
            urls[product] = per_language
    return {"urls": urls}


def contact_body(form: FormData, with_identity: bool) -> dict[str, Any]:
    street = [s for s in (text(form, f"street.{i}") for i in range(3)) if s] or [""]
    body: dict[str, Any] = {
        "name": text(form, "name"), "organisation": optional(form, "organisation"), "street": street,
        "city": text(form, "city"), "postal_code": text(form, "postal_code"), "province": optional(form, "province"),
        "country": text(form, "country").upper(), "phone": text(form, "phone"), "fax": optional(form, "fax"),
        "email": text(form, "email"), "language": text(form, "language") or "en", "vat": optional(form, "vat"),
    }
    if with_identity:
        body |= {"alias": text(form, "alias"), "type": text(form, "type")}
    return body


def contact_values(contact: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in contact.items() if not isinstance(v, (list, dict))}
    for i, line in enumerate(contact.get("street") or []):
        values[f"street.{i}"] = line
    return values


def name_servers(form: FormData, name: str = "name_servers") -> list[dict[str, Any]]:
    """One name server a line: its host name, then its addresses (glue) when it lies inside the domain."""
    hosts = []
    for line in text(form, name).splitlines():
        parts = line.replace(",", " ").split()
        if parts:
            hosts.append({"name": parts[0], "addresses": parts[1:]})
    return hosts


def names(form: FormData, name: str) -> list[str]:
    return [n for n in text(form, name).replace(",", " ").split() if n]


def keys(form: FormData) -> list[dict[str, Any]]:
    """One DNSKEY a line: flags protocol algorithm public-key."""
    found: list[dict[str, Any]] = []
    for line in text(form, "keys").splitlines():
        parts = line.split(None, 3)
        if not parts:
            continue
        if len(parts) < 4 or not all(p.isdigit() for p in parts[:3]):
            found.append({"flags": parts[0], "protocol": "", "algorithm": "", "public_key": " ".join(parts[1:])})
            continue
        found.append({"flags": int(parts[0]), "protocol": int(parts[1]), "algorithm": int(parts[2]),
                      "public_key": parts[3]})
    return found
