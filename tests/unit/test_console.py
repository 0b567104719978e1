"""The console's pure parts: refusals in words from the services' three shapes, the session cookie (sealed,
expiring), the menu by permission, and form values to API bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from starlette.datastructures import FormData
from starlette.responses import Response

from services.console.client import refusal_of
from services.console.i18n import translator
from services.console.forms import LANGUAGE_CHOICES, lines, name_servers, product_urls_body, profile_body
from services.console.menu import menu
from services.console.session import COOKIE, Session, SessionCodec
from services.console.settings import ConsoleSettings


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_fastapi_validation_errors_land_next_to_their_field_in_words() -> None:
    refused = refusal_of(response(422, {"detail": [
        {"type": "string_pattern_mismatch", "loc": ["body", "phone"], "msg": "String should match pattern '^\\\\+[0-9]'"},
        {"type": "string_pattern_mismatch", "loc": ["body", "address", "country"], "msg": "String should match"},
        {"type": "too_long", "loc": ["body", "ip_addresses"], "msg": "List should have at most 10 items",
         "ctx": {"field_type": "List", "max_length": 10, "actual_length": 11}},
        {"type": "value_error", "loc": ["body", "email"], "msg": "Value error, not an e-mail address"},
    ]}))
    assert refused.for_field("phone") == ["use the format +CC.NUMBER, for example +32.16284971"]
    assert refused.for_field("address.country") == ["use the format two capital letters, for example BE"]
    assert refused.for_field("ip_addresses") == ["at most 10 IP addresses (you gave 11)"]
    assert refused.for_field("email") == ["not an e-mail address"]
    assert refused.for_field("address") == ["use the format two capital letters, for example BE"]  # a section
    assert not any("^" in e.message for e in refused.errors)


def test_a_rules_refusal_and_the_platforms_shape_give_code_message_and_reference() -> None:
    old = refusal_of(response(409, {"detail": {"result_code": 2302, "message": "Object exists: domain [a.be]"}}))
    assert (old.status, old.result_code, old.message, old.reference) == (409, 2302, "Object exists: domain [a.be]", None)
    new = refusal_of(response(422, {"result_code": 2005, "message": "Parameter value syntax error", "reference": "web-1",
                                    "errors": [{"field": "fax", "message": "must match ^\\\\+"}]}))
    assert (new.result_code, new.reference) == (2005, "web-1")
    assert new.for_field("fax") == ["use the format +CC.NUMBER, for example +32.16284971"]
    paused = refusal_of(response(429, {"detail": {"result_code": 2502, "message": "paused"}}, {"Retry-After": "840"}))
    assert paused.retry_after == 840
    plain = refusal_of(response(404, {"detail": "not generated yet"}))
    assert plain.message == "not generated yet" and plain.result_code is None


def test_a_services_refusal_is_said_in_dutch_and_french_by_kind_and_result_code() -> None:
    """The registry's field errors carry a kind and values (services/registry/field_errors.py): the console says
    them in the page's language; the headline says the result code's meaning, the English words beside it; the
    result code and reference stay."""
    refused = refusal_of(response(422, {
        "result_code": 2005, "message": "phone must be +CC.NUMBER, for example +32.16284971", "reference": "web-7",
        "errors": [{"field": "phone", "message": "must be +CC.NUMBER, for example +32.16284971", "kind": "format",
                    "params": {"format": "phone"}},
                   {"field": "ip_addresses", "message": "takes at most 10 IP addresses (you gave 11)",
                    "kind": "too_many", "params": {"max": 10, "items": "ip_addresses", "given": 11}},
                   {"field": "name", "message": "is required", "kind": "required", "params": {}},
                   {"field": "city", "message": "is at most 40 characters long", "kind": "too_long",
                    "params": {"max": 40}}]}))
    nl, fr, en = translator("nl"), translator("fr"), translator("en")
    assert [fr(e) for e in refused.for_field("phone")] == ["utilisez le format +PP.NUMÉRO, par exemple +32.16284971"]
    assert [nl(e) for e in refused.for_field("ip_addresses")] == ["hoogstens 10 IP-adressen (u gaf er 11)"]
    assert [fr(e) for e in refused.for_field("name")] == ["est obligatoire"]
    assert [nl(e) for e in refused.for_field("city")] == ["telt hoogstens 40 tekens"]
    assert [en(e) for e in refused.for_field("phone")] == ["use the format +CC.NUMBER, for example +32.16284971"]
    # every error sits next to its field: the English summary adds nothing in Dutch
    assert refused.in_language("nl", nl) == ("Sommige velden hebben niet het verwachte formaat.", None)
    assert refused.in_language("en", en) == ("phone must be +CC.NUMBER, for example +32.16284971", None)
    assert (refused.result_code, refused.reference) == (2005, "web-7")

    exists = refusal_of(response(409, {"result_code": 2302, "message": "domain [a.be] exists already",
                                       "reference": "web-8", "errors": []}))
    assert exists.in_language("fr", fr) == ("Cet objet existe déjà.", "domain [a.be] exists already")
    assert exists.in_language("en", en) == ("domain [a.be] exists already", None)
    unknown = refusal_of(response(409, {"result_code": 2999, "message": "something new", "errors": []}))
    assert unknown.in_language("nl", nl) == ("something new", None)  # nothing to say it with: as the service said

    # another service's FastAPI error: the kind from its type, the format from the field's name
    other = refusal_of(response(422, {"detail": [
        {"type": "string_pattern_mismatch", "loc": ["body", "fax"], "msg": "String should match pattern '^x'",
         "ctx": {"pattern": "^x"}},
        {"type": "missing", "loc": ["body", "note"], "msg": "Field required"}]}))
    assert [nl(e) for e in other.for_field("fax")] == ["gebruik het formaat +LL.NUMMER, bijvoorbeeld +32.16284971"]
    assert [fr(e) for e in other.for_field("note")] == ["est obligatoire"]
    assert other.in_language("fr", fr) == ("Certains champs ne sont pas valides", None)


def test_the_session_cookie_is_sealed_and_expires() -> None:
    codec = SessionCodec(ConsoleSettings(session_idle_minutes=30, cookie_secure=True))
    now = datetime.now(UTC)
    signed = Session(token="t0k", user_id="a1", registrar_id="a1", permissions=["MY_REGISTRATIONS"],
                     expires_at=now + timedelta(hours=8))
    out = Response()
    codec.store(signed, out)
    header = out.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header and "Secure" in header
    value = header.split(";")[0].split("=", 1)[1]
    assert "t0k" not in value  # encrypted, not only signed
    assert codec.load(value, now + timedelta(minutes=5)).token == "t0k"
    assert codec.load(value, now + timedelta(minutes=31)).token is None  # idle too long
    assert codec.load(value[:-4] + "AAAA", now).token is None  # altered
    other = SessionCodec(ConsoleSettings(internal_secret="another-secret"))  # type: ignore[arg-type]
    assert other.load(value, now).token is None
    fresh = codec.load(value, now).sign_out()
    assert fresh.token is None and fresh.csrf != signed.csrf
    assert COOKIE == "console_session"


def test_the_menu_follows_the_permissions() -> None:
    def items(session: Session) -> set[str]:
        return {item.label for _, entries in menu(session) for item in entries}

    admin = Session(token="t", user_id="a1", registrar_id="a1",
                    permissions=["MY_REGISTRATIONS", "TRANSACTIONS", "VIEW_FINANCIAL", "UPDATE_EPP_SETTINGS"])
    reader = Session(token="t", user_id="reader", registrar_id="a1", permissions=["MY_REGISTRATIONS"])
    nothing = Session(token="t", user_id="x", registrar_id="a1", permissions=[])
    assert {"Users", "Balance", "Domains", "Hitpoints", "Top 30"} <= items(admin)
    assert "Users" not in items(reader) and "Balance" not in items(reader) and "Domains" in items(reader)
    assert items(nothing) == {"Change password", "Login attempts", "2-step verification"}


def test_forms_become_api_bodies() -> None:
    form = FormData([("organisation.0", "Reg NV"), ("address.street.0", "Kerkstraat 1"), ("address.street.1", ""),
                     ("address.postal_code", "3000"), ("address.city", "Leuven"), ("address.country", "be"),
                     ("phone", "+32.1"), ("email", "a@b.be"), ("languages", "fr,nl"), ("automated_email", "r@b.be")])
    body = profile_body(form, {"category": "retail"})
    assert body["address"]["street"] == ["Kerkstraat 1"] and body["address"]["country"] == "BE"
    assert body["languages"] == ["fr", "nl"] and body["category"] == "retail" and body["fax"] is None
    assert lines(FormData([("ip", "192.0.2.1\n\n 192.0.2.2 ,192.0.2.3")]), "ip") == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    assert name_servers(FormData([("name_servers", "ns1.a.be 192.0.2.1\nns2.b.net")])) == [
        {"name": "ns1.a.be", "addresses": ["192.0.2.1"]}, {"name": "ns2.b.net", "addresses": []}]
    urls = product_urls_body(FormData([("urls.be.default", "https://x.be"), ("urls.be.per_language", "on"),
                                       ("urls.be.fr", "https://x.be/fr"), ("urls.be.nl", "")]), ["be"])
    assert urls == {"urls": {"be": {"default": "https://x.be", "fr": "https://x.be/fr"}}}
    assert len(LANGUAGE_CHOICES) == 15 and "nl,fr,en" in LANGUAGE_CHOICES
