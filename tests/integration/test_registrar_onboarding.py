"""Becoming a registrar (seed 001) through HTTP on the real broker and database: application, contract,
prepayment, activation with the security code, contacts before the first domain, the public list; every
refusal, and that a refused step changes nothing."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.registry.app import build
from services.registry.users.passwords import verify_password
from services.registry.settings import RegistrySettings
from tests.integration.infra import OPERATOR, EventTap, eventually, login, running

ORGANISATION = {
    "official_name": "Nieuwe Registrar BV",
    "representative": {"first_name": "An", "last_name": "Peeters"},
    "address": {"street": ["Bondgenotenlaan 10"], "postal_code": "3000", "city": "Leuven", "country": "BE"},
    "phone": "+32.16284970",
    "mobile": "+32 497 11 11 11",
    "email": "info@nieuwe-registrar.example",
    "website": "https://nieuwe-registrar.example",
    "vat": "BE0123456789",
}
WEB, EPP = "Nieuw-Web-2026", "Nieuw-Epp-26"


def application(**changes: Any) -> dict[str, Any]:
    """.be and .vlaanderen directly (own ICANN accreditation), .brussels resold through the demo registrar."""
    return {
        "organisation": ORGANISATION,
        "contract_language": "NL",
        "prepayment_cents": 300_000,
        "standing_order": True,
        "products": ["be", "vlaanderen", "brussels"],
        "accreditation": {"iana_id": 9999, "agreement": "raa-2013-nieuwe-registrar.pdf"},
        "resellers": {"brussels": {"registrar_id": "a100001", "contract": "reseller-contract-a100001.pdf"}},
    } | changes


def contact(alias: str, kind: str) -> dict[str, Any]:
    return {"alias": alias, "type": kind, "name": "Jan Peeters", "street": ["Markt 1"], "city": "Brugge",
            "postal_code": "8000", "country": "BE", "phone": "+32.50000000", "email": "jan@example.be",
            "language": "nl"}


@pytest.fixture
async def registry(namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                operator_token="operator-dev-token", lifecycle_interval_seconds=3600)
    async with running(build(settings)) as client:
        yield client


def db(registry: httpx.AsyncClient) -> Any:
    return registry._transport.app.state.ctx.db  # type: ignore[attr-defined]


async def apply(registry: httpx.AsyncClient, **changes: Any) -> str:
    r = await registry.post("/api/operator/applications", headers=OPERATOR, json=application(**changes))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "APPLIED"
    return r.json()["application_id"]


async def step(registry: httpx.AsyncClient, application_id: str, name: str, body: dict | None = None) -> httpx.Response:
    return await registry.post(f"/api/operator/applications/{application_id}/{name}", headers=OPERATOR, json=body)


async def activate(registry: httpx.AsyncClient, registrar_id: str, code: str, web: str = WEB,
                   epp: str = EPP) -> httpx.Response:
    return await registry.post("/api/activation", json={"registrar_id": registrar_id, "security_code": code,
                                                        "web_password": web, "epp_password": epp})


async def status_of(registry: httpx.AsyncClient, application_id: str) -> dict[str, Any]:
    r = await registry.get(f"/api/operator/applications/{application_id}", headers=OPERATOR)
    assert r.status_code == 200, r.text
    return r.json()


def refused(r: httpx.Response, status: int, code: int, words: str = "") -> None:
    assert r.status_code == status, r.text
    assert r.json()["result_code"] == code, r.text
    assert words in r.json()["message"], r.text


async def test_from_application_to_first_domain(registry: httpx.AsyncClient, namespace: str) -> None:
    async with EventTap(namespace) as tap:
        application_id = await apply(registry)
        recorded = (await tap.wait_for("registrar.application_recorded"))[0]
        assert recorded["registrar_id"] is None
        assert recorded["payload"] | {"application_id": None} == {
            "application_id": None, "name": "Nieuwe Registrar BV", "email": "info@nieuwe-registrar.example",
            "products": ["be", "vlaanderen"], "resold_products": {"brussels": "a100001"}, "contract_language": "nl",
            "prepayment_cents": 300_000, "standing_order": True}
        stored = await status_of(registry, application_id)
        assert stored["application"]["organisation"]["mobile"] == "+32.497111111"  # normalised to +CC.NUMBER

        signed = await step(registry, application_id, "contract", {"reference": "adobe-sign-4711"})
        assert signed.status_code == 200, signed.text
        registrar_id, code = signed.json()["registrar_id"], signed.json()["security_code"]
        assert signed.json()["status"] == "CONTRACT_SIGNED" and len(code) == 12 and code.isdigit()
        # the account exists, pending, with no password anyone knows; the code is kept only as a hash
        account = (await registry.get(f"/api/operator/registrars/{registrar_id}", headers=OPERATOR)).json()
        assert (account["status"], account["products"], account["resold_products"]) == (
            "PENDING_ACTIVATION", ["be", "vlaanderen"], {"brussels": "a100001"})
        assert (account["standing_order"], account["contract_language"], account["finance"]["vat"]) == (
            True, "nl", "BE0123456789")
        assert (await registry.post("/api/login", json={"user_id": registrar_id, "password": WEB})).status_code == 401
        shown = await status_of(registry, application_id)
        assert shown["security_code"]["failed_attempts"] == 0 and code not in json.dumps(shown, default=str)
        stored_code = (await db(registry)["registrar_applications"].find_one({"_id": application_id}))["security_code"]
        assert stored_code["hash"] != code and verify_password(stored_code["hash"], code)
        # pending: not in the public list, even with a product URL
        await db(registry)["registrars"].update_one(
            {"_id": registrar_id}, {"$set": {"product_urls.urls.be": {"default": "https://nieuwe-registrar.example/be"}}})
        assert (await registry.get("/api/public/registrars", params={"product": "be"})).json() == []

        paid = await step(registry, application_id, "prepayment", {"amount_cents": 300_000, "reference": "ogm-1"})
        assert paid.status_code == 200, paid.text
        assert (paid.json()["status"], paid.json()["balance_cents"]) == ("PREPAYMENT_RECEIVED", 300_000)

        activated = await activate(registry, registrar_id, f"{code[:4]} {code[4:8]} {code[8:]}")  # as printed
        assert activated.status_code == 200, activated.text
        assert activated.json() == {"application_id": application_id, "status": "ACTIVATED",
                                    "registrar_id": registrar_id}
        event = (await tap.wait_for("registrar.activated"))[0]
        assert event["registrar_id"] == registrar_id
        assert event["payload"] == {"application_id": application_id, "products": ["be", "vlaanderen"]}

        async def mine(kind: str, count: int = 1) -> list[dict]:  # the demo registrar's seed events may pass too
            async def found() -> list[dict]:
                return [e for e in tap.of(kind) if e["registrar_id"] == registrar_id]

            return await eventually(found, lambda events: len(events) >= count)

        for kind in ("registrar.created", "user.created", "registrar.contract_signed",
                     "registrar.security_code_issued", "payment.prepayment_received"):
            assert len(await mine(kind)) == 1, kind
        assert (await mine("payment.prepayment_received"))[0]["payload"]["amount_cents"] == 300_000
        assert (await mine("registrar.created"))[0]["payload"]["products"] == ["be", "vlaanderen"]
        assert {e["payload"]["change"] for e in await mine("user.updated", 2)} == {"password", "epp_password"}
        assert code not in json.dumps(tap.events)  # no event carries the code

    assert (await registry.get("/api/public/registrars", params={"product": "be"})).json() == [
        {"registrar_id": registrar_id, "name": "Nieuwe Registrar BV", "url": "https://nieuwe-registrar.example/be"}]
    account = await db(registry)["registrars"].find_one({"_id": registrar_id})
    assert account["status"] == "ACTIVE" and verify_password(account["epp_password_hash"], EPP)
    me = await login(registry, registrar_id, WEB)

    # contacts before the first domain: billing and at least one tech
    assert (await registry.post("/api/contacts", headers=me, json=contact("nieuw-jan", "REGISTRANT"))).status_code == 201
    first = {"name": "eerste.be", "registrant": "nieuw-jan"}
    refused(await registry.post("/api/domains", headers=me, json=first), 409, 2308, "billing contact")
    assert (await registry.post("/api/contacts", headers=me, json=contact("nieuw-bill", "BILLING"))).status_code == 201
    refused(await registry.post("/api/domains", headers=me, json=first), 409, 2308, "tech contact")
    assert (await db(registry)["domains"].count_documents({})) == 0
    assert (await registry.post("/api/contacts", headers=me, json=contact("nieuw-tech", "TECH"))).status_code == 201
    created = await registry.post("/api/domains", headers=me, json=first)
    assert created.status_code == 201, created.text
    assert (await registry.post("/api/domains", headers=me,
                                json={"name": "eerste.vlaanderen", "registrant": "nieuw-jan"})).status_code == 201
    # .brussels is resold through a100001: this registrar does not register it itself
    refused(await registry.post("/api/domains", headers=me, json={"name": "eerste.brussels", "registrant": "nieuw-jan"}),
            403, 2201, "not accredited for .brussels")
    balance = (await registry.get("/api/registrar/balance", headers=me)).json()["balance_cents"]
    assert balance == 300_000 - 2 * 400

    # its product URLs: the products it registers and the one it resells
    urls = {"urls": {"be": {"default": "https://nieuwe-registrar.example/be", "fr": "https://nieuwe-registrar.example/fr"},
                     "brussels": {"default": "https://nieuwe-registrar.example/brussels"}}}
    assert (await registry.put("/api/registrar/product-urls", headers=me, json=urls)).status_code == 200
    listed = (await registry.get("/api/public/registrars", params={"product": "brussels", "language": "nl"})).json()
    assert listed == [{"registrar_id": registrar_id, "name": "Nieuwe Registrar BV",
                       "url": "https://nieuwe-registrar.example/brussels"}]
    assert (await registry.get("/api/public/registrars", params={"product": "be", "language": "fr"})).json()[0]["url"] \
        == "https://nieuwe-registrar.example/fr"


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"prepayment_cents": 249_999}, 2004, "at least EUR 2,500.00"),
        ({"products": ["vlaanderen"], "resellers": {}}, 2306, "standing order is only possible for .be"),
        ({"accreditation": None}, 2306, "only ICANN-accredited registrars offer .vlaanderen directly"),
        ({"accreditation": None, "resellers": {}}, 2306, "offer .brussels, .vlaanderen directly"),
        ({"products": ["be", "com"], "resellers": {}}, 2306, "['com'] are not served here"),
        ({"products": ["be"], "accreditation": None}, 2306, "reselling is for the gTLDs applied for"),
        ({"resellers": {"brussels": {"registrar_id": "z999999", "contract": "c.pdf"}}}, 2306,
         "[z999999] is not an active registrar accredited for .brussels"),
        ({"resellers": {"brussels": {"registrar_id": "b200002", "contract": "c.pdf"}}}, 2306,
         "[b200002] is not an active registrar accredited for .brussels"),
    ],
)
async def test_applications_that_break_a_rule_are_refused_and_recorded_nowhere(
    registry: httpx.AsyncClient, namespace: str, changes: dict, code: int, words: str,
) -> None:
    # b200002: an active registrar for .be only, so no one resells .brussels through it
    be_only = {"registrar_id": "b200002", "name": "Be Only NV", "products": ["be"], "admin_password": "Second-Web-1",
               "epp_password": "Second-Epp-1",
               "profile": {"organisation": ["Be Only NV"], "address": ORGANISATION["address"], "phone": "+32.16000001",
                           "email": "info@be-only.example", "languages": ["nl"], "automated_email": "epp@be-only.example"},
               "official_address": {"organisation": ["Be Only NV"], "address": ORGANISATION["address"]}}
    assert (await registry.post("/api/operator/registrars", headers=OPERATOR, json=be_only)).status_code == 201
    async with EventTap(namespace, "registrar.application_recorded") as tap:
        refused(await registry.post("/api/operator/applications", headers=OPERATOR, json=application(**changes)),
                422, code, words)
        assert (await registry.get("/api/operator/applications", headers=OPERATOR)).json() == []
        accepted = await apply(registry)  # a good one after it: the only event published
        await tap.wait_for("registrar.application_recorded")
        assert [e["payload"]["application_id"] for e in tap.events] == [accepted]


async def test_the_operator_api_needs_the_token_and_input_is_validated(registry: httpx.AsyncClient) -> None:
    assert (await registry.post("/api/operator/applications", json=application())).status_code == 401
    assert (await registry.post("/api/operator/applications", json=application(),
                                headers={"Authorization": "Bearer guess"})).status_code == 401
    assert (await registry.get("/api/operator/applications", headers={"Authorization": "Bearer guess"})).status_code == 401
    bad = [
        application(organisation=ORGANISATION | {"phone": "016 28 49 70"}),
        application(organisation=ORGANISATION | {"vat": "0123456789"}),
        application(organisation={k: v for k, v in ORGANISATION.items() if k != "website"}),
        application(contract_language="DE"),
        application(products=[]),
        application(accreditation={"iana_id": 0, "agreement": "raa.pdf"}),
        application(unexpected=True),
    ]
    for body in bad:
        assert (await registry.post("/api/operator/applications", headers=OPERATOR, json=body)).status_code == 422, body
    assert (await registry.get("/api/operator/applications", headers=OPERATOR)).json() == []
    refused(await registry.get("/api/operator/applications/app-nothing", headers=OPERATOR), 404, 2303)
    refused(await step(registry, "app-nothing", "contract"), 404, 2303)
    assert (await activate(registry, "a100001", "12345")).status_code == 422  # not 12 digits: no attempt


async def test_steps_out_of_order_are_refused_and_change_nothing(registry: httpx.AsyncClient) -> None:
    application_id = await apply(registry, standing_order=False, prepayment_cents=300_000)
    refused(await step(registry, application_id, "prepayment", {"amount_cents": 300_000}), 409, 2304,
            "cannot record the prepayment: application")
    refused(await step(registry, application_id, "security-code"), 409, 2304)
    assert (await status_of(registry, application_id))["status"] == "APPLIED"

    # a registrar id that is taken: refused, and no account appears
    other = await apply(registry)
    refused(await step(registry, other, "contract", {"registrar_id": "a100001"}), 409, 2302)
    assert (await status_of(registry, other))["status"] == "APPLIED"
    assert await db(registry)["registrars"].count_documents({}) == 1

    signed = (await step(registry, application_id, "contract", {"registrar_id": "n400004"})).json()
    code = signed["security_code"]
    assert signed["registrar_id"] == "n400004"
    refused(await step(registry, application_id, "contract"), 409, 2304, "is CONTRACT_SIGNED, not APPLIED")
    assert await db(registry)["registrars"].count_documents({"application_id": application_id}) == 1

    # activation waits for the prepayment, even with the right code
    refused(await activate(registry, "n400004", code), 409, 2304, "before the prepayment is received")
    assert (await db(registry)["registrars"].find_one({"_id": "n400004"}))["status"] == "PENDING_ACTIVATION"
    assert (await status_of(registry, application_id))["security_code"]["failed_attempts"] == 0

    # less than applied for (EUR 3,000): refused, nothing booked
    refused(await step(registry, application_id, "prepayment", {"amount_cents": 250_000}), 422, 2004,
            "less than the EUR 3,000.00 due")
    assert (await db(registry)["registrars"].find_one({"_id": "n400004"}))["balance_cents"] == 0
    assert await db(registry)["ledger"].count_documents({"registrar_id": "n400004"}) == 0
    assert (await status_of(registry, application_id))["status"] == "CONTRACT_SIGNED"

    assert (await step(registry, application_id, "prepayment", {"amount_cents": 310_000})).json()["balance_cents"] == 310_000
    refused(await step(registry, application_id, "prepayment", {"amount_cents": 300_000}), 409, 2304)
    assert (await db(registry)["registrars"].find_one({"_id": "n400004"}))["balance_cents"] == 310_000

    # weak passwords are refused before the code is tried: no attempt used
    refused(await activate(registry, "n400004", code, web="short"), 422, 2306, "web password")
    refused(await activate(registry, "n400004", code, epp="Much-Too-Long-Epp-1"), 422, 2306, "EPP password")
    assert (await status_of(registry, application_id))["security_code"]["failed_attempts"] == 0

    assert (await activate(registry, "n400004", code)).status_code == 200
    refused(await activate(registry, "n400004", code), 409, 2304, "already activated")
    refused(await step(registry, application_id, "security-code"), 409, 2304)
    assert "security_code" not in await status_of(registry, application_id)
    # an id with no application, or an application without a contract: the same answer as a wrong code
    refused(await activate(registry, "x000000", code), 403, 2202, "wrong registrar id or security code")


async def test_wrong_security_codes_lock_the_activation_until_a_new_code(
    registry: httpx.AsyncClient, namespace: str,
) -> None:
    application_id = await apply(registry)
    code = (await step(registry, application_id, "contract", {"registrar_id": "l500005"})).json()["security_code"]
    assert (await step(registry, application_id, "prepayment", {"amount_cents": 300_000})).status_code == 200
    wrong = f"{(int(code) + 1) % 10**12:012d}"
    async with EventTap(namespace, "registrar.*") as tap:
        for left in (4, 3, 2, 1):
            refused(await activate(registry, "l500005", wrong), 403, 2202, f"({left} attempt(s) left)")
        refused(await activate(registry, "l500005", wrong), 403, 2201, "now locked")
        refused(await activate(registry, "l500005", code), 403, 2201, "locked after 5 wrong security codes")
        failures = sorted(await tap.wait_for("registrar.activation_failed", 5),
                          key=lambda e: e["payload"]["failed_attempts"])
        assert [(e["payload"]["failed_attempts"], e["payload"]["locked"]) for e in failures] == [
            (1, False), (2, False), (3, False), (4, False), (5, True)]
        assert all(e["registrar_id"] == "l500005" for e in failures)
    shown = await status_of(registry, application_id)
    assert shown["security_code"]["failed_attempts"] == 5 and shown["security_code"]["locked"] is True
    assert (await db(registry)["registrars"].find_one({"_id": "l500005"}))["status"] == "PENDING_ACTIVATION"

    reissued = await step(registry, application_id, "security-code")
    assert reissued.status_code == 200, reissued.text
    new_code = reissued.json()["security_code"]
    assert new_code != code and reissued.json()["status"] == "PREPAYMENT_RECEIVED"
    refused(await activate(registry, "l500005", code), 403, 2202, "(4 attempt(s) left)")  # the old code is void
    assert (await activate(registry, "l500005", new_code)).status_code == 200
    assert (await db(registry)["registrars"].find_one({"_id": "l500005"}))["status"] == "ACTIVE"
    await login(registry, "l500005", WEB)


async def test_a_pure_reseller_shows_in_the_list_but_registers_nothing_itself(registry: httpx.AsyncClient) -> None:
    application_id = await apply(registry, products=["vlaanderen"], standing_order=False, accreditation=None,
                                 resellers={"vlaanderen": {"registrar_id": "a100001", "contract": "reseller.pdf"}})
    code = (await step(registry, application_id, "contract", {"registrar_id": "v600006"})).json()["security_code"]
    await step(registry, application_id, "prepayment", {"amount_cents": 300_000})
    assert (await activate(registry, "v600006", code)).status_code == 200
    me = await login(registry, "v600006", WEB)
    account = (await registry.get("/api/registrar", headers=me)).json()
    assert (account["products"], account["resold_products"]) == ([], {"vlaanderen": "a100001"})
    assert (await registry.put("/api/registrar/product-urls", headers=me,
                               json={"urls": {"vlaanderen": {"default": "https://reseller.example"}}})).status_code == 200
    refused(await registry.put("/api/registrar/product-urls", headers=me,
                               json={"urls": {"be": {"default": "https://reseller.example"}}}), 422, 2306)
    listed = (await registry.get("/api/public/registrars", params={"product": "vlaanderen"})).json()
    assert [r["registrar_id"] for r in listed] == ["v600006"]
    for alias, kind in (("res-bill", "BILLING"), ("res-tech", "TECH"), ("res-jan", "REGISTRANT")):
        assert (await registry.post("/api/contacts", headers=me, json=contact(alias, kind))).status_code == 201
    refused(await registry.post("/api/domains", headers=me, json={"name": "zelf.vlaanderen", "registrant": "res-jan"}),
            403, 2201, "not accredited for .vlaanderen")


async def test_two_racing_signatures_create_one_account(registry: httpx.AsyncClient) -> None:
    application_id = await apply(registry)
    first, second = await asyncio.gather(step(registry, application_id, "contract"),
                                         step(registry, application_id, "contract"))
    assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
    winner = first if first.status_code == 200 else second
    accounts = await db(registry)["registrars"].find({"application_id": application_id}).to_list()
    assert [a["_id"] for a in accounts] == [winner.json()["registrar_id"]]
    assert (await status_of(registry, application_id))["registrar_id"] == winner.json()["registrar_id"]
