"""Input validation errors in words, for both channels: which field, and what it must look like, said as a
registrar reads it ("+CC.NUMBER, for example +32.16284971"), never as a regular expression."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.registry.groups.model import GROUP_NAME
from services.registry.registrars.model import PHONE, REGISTRAR_ID

# each pattern a model declares, by the key a client translates it with (FieldError.params["format"])
PATTERN_KEYS: dict[str, str] = {
    PHONE: "phone",
    r"^[A-Z]{2}$": "country",
    r"^[A-Z]{2}[0-9A-Z]{2,13}$": "vat",
    r"^\d{3}-\d{3}-\d{3}-\d{3}-\d{3}$": "transfer_code",
    REGISTRAR_ID.pattern: "registrar_id",
    GROUP_NAME: "group_name",
    r"^[a-z]{2,63}$": "tld",
    "^(nl|fr|en)$": "language",
}
# each pattern a model declares, in words; an unlisted one is described only as "not in the expected format"
PATTERN_WORDS: dict[str, str] = {
    PHONE: "+CC.NUMBER, for example +32.16284971",
    r"^[A-Z]{2}$": "an ISO 3166-1 country code of two capital letters, for example BE",
    r"^[A-Z]{2}[0-9A-Z]{2,13}$": "a VAT number: its country code and 2 to 13 letters or digits, for example BE0466158640",
    r"^\d{3}-\d{3}-\d{3}-\d{3}-\d{3}$": "five groups of three digits joined by hyphens, for example 123-456-789-012-345",
    REGISTRAR_ID.pattern: "3 to 32 of a-z, 0-9 and hyphen, starting with a letter or digit, for example a100001",
    GROUP_NAME: "1 to 100 of A-Z, a-z, 0-9, dot and hyphen, starting with a letter or digit",
    r"^[a-z]{2,63}$": "a top-level domain in lower case, for example be",
    "^(nl|fr|en)$": "one of nl, fr, en",
}


# what a list field holds, for "at most 10 IP addresses" rather than "at most 10 items"
LIST_NOUNS: dict[str, str] = {
    "ip_addresses": "IP addresses", "addresses": "IP addresses", "tech": "tech contacts", "onsite": "onsite contacts",
    "name_servers": "name servers", "nsgroups": "name-server groups", "keygroups": "key groups", "keys": "keys",
    "permissions": "permissions", "products": "products",
}


def field_name(loc: Sequence[int | str]) -> str:
    """A field's path as the form names it (tech.5, name_servers.0.addresses), without FastAPI's 'body'."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request"


def kind_of(error: Any) -> tuple[str, dict[str, str | int]]:
    """What is wrong with one field as a key and its values, for a client to say it in its own language
    (FieldError.kind and .params): required, format (params: format), not_a_field, too_many / too_few (a list:
    max or min, items, given), too_long / too_short (characters: max or min), or invalid (the message says)."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "required", {}
    if kind == "string_pattern_mismatch":
        key = PATTERN_KEYS.get(str(ctx.get("pattern", "")))
        return "format", ({"format": key} if key else {})
    if kind == "extra_forbidden":
        return "not_a_field", {}
    if kind in ("too_long", "too_short"):  # a list
        loc = [p for p in error.get("loc", ()) if isinstance(p, str)]
        params: dict[str, str | int] = {"items": loc[-1] if loc and loc[-1] in LIST_NOUNS else "entries"}
        if kind == "too_long":
            params["max"] = int(ctx.get("max_length", 0))
        else:
            params["min"] = int(ctx.get("min_length", 0))
        if ctx.get("actual_length") is not None:
            params["given"] = int(ctx["actual_length"])
        return ("too_many" if kind == "too_long" else "too_few"), params
    if kind == "string_too_long":
        return "too_long", {"max": int(ctx.get("max_length", 0))}
    if kind == "string_too_short":
        return "too_short", {"min": int(ctx.get("min_length", 0))}
    return "invalid", {}


def in_words(error: Any) -> str:
    """What is wrong with one field, from a pydantic error (ErrorDetails)."""
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        words = PATTERN_WORDS.get(str(pattern))
        return f"must be {words}" if words else "is not in the expected format"
    if kind == "extra_forbidden":
        return "is not a field of this form"
    ctx = error.get("ctx") or {}
    if kind in ("too_long", "too_short"):  # a list
        loc = [p for p in error.get("loc", ()) if isinstance(p, str)]
        noun = LIST_NOUNS.get(loc[-1] if loc else "", "entries")
        bound = f"at most {ctx.get('max_length')}" if kind == "too_long" else f"at least {ctx.get('min_length')}"
        given = f" (you gave {ctx['actual_length']})" if ctx.get("actual_length") is not None else ""
        return f"takes {bound} {noun}{given}"
    if kind == "string_too_long":
        return f"is at most {ctx.get('max_length')} characters long"
    if kind == "string_too_short":
        return f"is at least {ctx.get('min_length')} characters long"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
