"""A refusal from a service, said in the user's language: each field's error from its kind and values (the
registry's FieldError.kind and .params; FastAPI's error type and context for the other services), and the
refusal's headline from its EPP result code. The service's own message stays beside it in English where it
says more, and the result code and reference stay visible (macros.html `refusal`).

A `Phrase` is the English text (a str: it compares and joins as before) that also keeps its catalogue key and
values, so that the page's `_` says it in Dutch or French (services/console/i18n.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class Phrase(str):
    """English text with its catalogue key and values; `say(_)` translates the key and the values that are
    phrases themselves (numbers and data stay as they are)."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, **values: Any) -> Phrase:
        made = super().__new__(cls, key.format(**values) if values else key)
        made.key, made.values = key, values
        return made

    def say(self, _: Callable[[str], str]) -> str:
        if not self.values:
            return _(self.key)
        return _(self.key).format(**{k: _(v) if isinstance(v, Phrase) else v for k, v in self.values.items()})


# the formats a field must have, in words, by the registry's key (FieldError.params["format"])
FORMAT_WORDS: dict[str, str] = {
    "phone": "+CC.NUMBER, for example +32.16284971",
    "country": "two capital letters, for example BE",
    "vat": "two letters and the number, for example BE0123456789",
    "transfer_code": "five groups of 3 digits: 123-456-789-012-345",
    "registrar_id": "3 to 32 of a-z, 0-9 and hyphen, starting with a letter or digit, for example a100001",
    "group_name": "1 to 100 of A-Z, a-z, 0-9, dot and hyphen, starting with a letter or digit",
    "tld": "a top-level domain in lower case, for example be",
    "language": "one of nl, fr, en",
    "ip": "an IPv4 or IPv6 address, for example 192.0.2.10",
}
# a field's format by its name, when a service names no format (FastAPI's own validation errors)
FORMAT_OF_FIELD = {"phone": "phone", "fax": "phone", "mobile": "phone", "country": "country", "vat": "vat",
                   "ip_addresses": "ip", "addresses": "ip", "language": "language", "auth_code": "transfer_code"}
# what a list field holds (the registry's FieldError.params["items"])
ITEM_WORDS: dict[str, str] = {
    "ip_addresses": "IP addresses", "addresses": "IP addresses", "tech": "tech contacts",
    "onsite": "onsite contacts", "name_servers": "name servers", "nsgroups": "name-server groups",
    "keygroups": "key groups", "keys": "keys", "permissions": "permissions", "products": "products",
    "entries": "entries",
}
# a field's error, by kind (and by which values it has)
KIND_WORDS: dict[str, str] = {
    "required": "is required",
    "format": "use the format {format}",
    "format-unknown": "is not in the expected format",
    "not_a_field": "is not a field of this form",
    "too_many": "at most {max} {items}",
    "too_many-given": "at most {max} {items} (you gave {given})",
    "too_few": "at least {min} {items}",
    "too_few-given": "at least {min} {items} (you gave {given})",
    "too_long": "is at most {max} characters long",
    "too_short": "is at least {min} characters long",
}
# a refusal's headline by its EPP result code (RFC 5730; the .be meanings in the README)
RESULT_WORDS: dict[int, str] = {
    2000: "The command is not known.",
    2001: "The command is not well formed.",
    2002: "The command cannot be used now.",
    2003: "A required field is missing.",
    2004: "A value is out of the allowed range.",
    2005: "Some fields are not in the expected format.",
    2101: "This command is not available.",
    2102: "This option is not available.",
    2103: "This extension is not available.",
    2104: "There is not enough prepayment on your account.",
    2200: "Authentication failed.",
    2201: "You are not allowed to do this.",
    2202: "The transfer code is not valid.",
    2301: "There is no pending transfer for this object.",
    2302: "This object exists already.",
    2303: "This object does not exist.",
    2304: "The status of the object does not allow this.",
    2305: "Other objects still use this object.",
    2306: "A value is against the registry's policy.",
    2307: "This object type is not available.",
    2308: "The registry's policy does not allow this now.",
    2400: "The command failed: try again later.",
    2500: "The command failed and the session was closed.",
    2501: "Authentication failed and the session was closed.",
    2502: "Too many attempts: wait, then try again.",
}


def field_phrase(kind: str | None, params: Mapping[str, Any], field: str, message: str) -> Phrase:
    """One field's error: from its kind and values where there is one, else the service's words."""
    last = next((p for p in reversed(field.split(".")) if not p.isdigit()), field)
    if kind == "format":
        key = params.get("format") or FORMAT_OF_FIELD.get(last)
        if key in FORMAT_WORDS:
            return Phrase(KIND_WORDS["format"], format=Phrase(FORMAT_WORDS[key]))
        return Phrase(KIND_WORDS["format-unknown"])
    if kind in ("too_many", "too_few"):
        bound = "max" if kind == "too_many" else "min"
        if params.get(bound) is None:
            return Phrase(message)
        values = {bound: params.get(bound), "items": Phrase(ITEM_WORDS.get(str(params.get("items")),
                                                                          ITEM_WORDS.get(last, "entries")))}
        if params.get("given") is not None:
            return Phrase(KIND_WORDS[f"{kind}-given"], **values, given=params["given"])
        return Phrase(KIND_WORDS[kind], **values)
    if kind in ("too_long", "too_short"):
        bound = "max" if kind == "too_long" else "min"
        if params.get(bound) is None:
            return Phrase(message)
        return Phrase(KIND_WORDS[kind], **{bound: params[bound]})
    if kind in ("required", "not_a_field"):
        return Phrase(KIND_WORDS[kind])
    return Phrase(message)


def fastapi_kind(field: str, error: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """FastAPI's validation error (the services other than the registry) as a kind and values."""
    kind, ctx = error.get("type"), error.get("ctx") or {}
    last = next((p for p in reversed(field.split(".")) if not p.isdigit()), field)
    message = str(error.get("msg") or error.get("message") or "").lower()
    if kind == "missing":
        return "required", {}
    if kind == "string_pattern_mismatch" or (last in FORMAT_OF_FIELD and any(
            w in message for w in ("pattern", "match", "^", "regex", "ip address"))):
        return "format", {}
    if kind == "extra_forbidden":
        return "not_a_field", {}
    if kind in ("too_long", "too_short"):
        bound, limit = ("max", "max_length") if kind == "too_long" else ("min", "min_length")
        values = {bound: ctx.get(limit), "items": last}
        if ctx.get("actual_length") is not None:
            values["given"] = ctx["actual_length"]
        return ("too_many" if kind == "too_long" else "too_few"), values
    if kind in ("string_too_long", "string_too_short"):
        bound, limit = ("max", "max_length") if kind == "string_too_long" else ("min", "min_length")
        return kind.removeprefix("string_"), {bound: ctx.get(limit)}
    return None, {}


def headline(message: str, result_code: int | None, placed: bool, language: str,
             _: Callable[[str], str]) -> tuple[str, str | None]:
    """A refusal's headline in the page's language, and the service's own (English) words beside it where they
    say more. English pages show the service's message as it is; Dutch and French ones its catalogue entry, else
    the result code's meaning. `placed`: every error is shown next to its field (the summary adds nothing)."""
    if language == "en" or _(message) != message:
        return _(message), None
    meaning = RESULT_WORDS.get(result_code or 0)
    if meaning is None:
        return message, None
    return _(meaning), None if placed else message
