"""The registry's HTTP API as a registrar meets it (issue 14), against the real broker and database: every
refusal in one shape and scored, the administrator's user list, group lists, IDN names, addresses checked
against their country, the operator's status change, and the OpenAPI document."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.registry.app import build
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from shared.runtime import ServiceContext
from tests.integration.infra import OPERATOR, EventTap, login, running

CONTACT = {"alias": "http-holder", "type": "REGISTRANT", "name": "Jan Peeters", "street": ["Kerkstraat 1"],
           "city": "Leuven", "postal_code": "3000", "country": "BE", "phone": "+32.16123456",
           "email": "jan@peeters.example"}
PROFILE: dict[str, Any] = {
    "organisation": ["Demo Registrar NV"],
    "address": {"street": ["Demostraat 1"], "postal_code": "3001", "city": "Leuven", "country": "BE"},
    "phone": "+32.16000000", "email": "info@demo.example", "languages": ["en", "nl"],
    "automated_email": "epp@demo.example",
}


@pytest.fixture
async def registry(namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                operator_token="operator-dev-token", epp_port=0)
    async with running(build(settings)) as client:
        await seed_demo_registrar(ctx_of(client), settings, "b200002")
        yield client


def ctx_of(client: httpx.AsyncClient) -> ServiceContext:
    return client._transport.app.state.ctx  # type: ignore[attr-defined]


def shape(body: dict[str, Any]) -> None:
    assert set(body) == {"result_code", "message", "reference", "errors"}, body
    assert all(set(e) == {"field", "message", "kind", "params"} for e in body["errors"]), body


async def test_invalid_forms_are_refused_in_one_shape_and_scored(registry: httpx.AsyncClient, namespace: str) -> None:
    me = await login(registry)
    forms = [
        ("NEW_CONTACT", "phone", "+32.16284971",
         registry.post("/api/contacts", headers=me, json=CONTACT | {"phone": "016 12 34 56"})),
        ("NEW_DOMAIN", "tech", "at most 5",
         registry.post("/api/domains", headers=me, json={"name": "http-six.be", "registrant": "a100001-demo",
                                                          "tech": [f"t{i}" for i in range(6)]})),
        ("DEL_DOMAIN", "delete_date", "timezone",
         registry.delete("/api/domains/http-x.be", headers=me, params={"delete_date": "2030-01-01T00:00:00"})),
        ("UPD_REGISTRAR", "ip_addresses", "at most 10",
         registry.put("/api/registrar/epp-settings", headers=me,
                      json={"poll": True, "ip_addresses": [f"192.0.2.{i}" for i in range(1, 12)]})),
    ]
    kinds: dict[str, tuple[str, dict[str, Any]]] = {}
    async with EventTap(namespace) as tap:
        answers = []
        for command, field, words, request in forms:
            r = await request
            assert r.status_code == 422, r.text
            body = r.json()
            shape(body)
            assert body["result_code"] == 2005 and body["reference"], body
            assert body["errors"][0]["field"] == field and words in body["errors"][0]["message"], body
            assert "^" not in r.text and "[0-9]" not in r.text  # formats in words, never a regular expression
            answers.append((command, body["reference"]))
            kinds[field] = (body["errors"][0]["kind"], body["errors"][0]["params"])
        failed = await tap.wait_for("command.failed", count=len(forms))
    assert sorted((e["payload"]["command"], e["payload"]["reference"]) for e in failed) == sorted(answers)
    assert all(e["payload"]["channel"] == "WEB" and e["registrar_id"] == "a100001" for e in failed)
    # and as a key with values, for a client to say in its own language (the console's Dutch and French)
    assert kinds["phone"] == ("format", {"format": "phone"})
    assert kinds["tech"] == ("too_many", {"items": "tech", "max": 5, "given": 6})
    assert kinds["ip_addresses"] == ("too_many", {"items": "ip_addresses", "max": 10, "given": 11})

    # a rule's refusal has the same shape, and its reference is the one published
    async with EventTap(namespace) as tap:
        r = await registry.post("/api/domains", headers=me, json={"name": "http-x.be", "registrant": "nobody-here"})
        assert r.status_code == 404, r.text
        shape(r.json())
        [refused] = await tap.wait_for("command.failed")
    assert refused["payload"]["reference"] == r.json()["reference"]

    # without a valid token: 401, nothing published (no registrar to score)
    async with EventTap(namespace) as tap:
        r = await registry.post("/api/contacts", headers={"Authorization": "Bearer nonsense"},
                                json=CONTACT | {"phone": "bad"})
        assert r.status_code == 401
        shape(r.json())
        assert r.json()["reference"] is None
        probe = await registry.post("/api/domains", headers=me, json={"name": "http-y.be", "registrant": "nobody"})
        [probed] = await tap.wait_for("command.failed")  # only the probe's: the 401 published nothing
    assert probed["payload"]["reference"] == probe.json()["reference"]


async def test_only_the_administrator_lists_the_users(registry: httpx.AsyncClient) -> None:
    admin = await login(registry)
    r = await registry.post("/api/registrar/users", headers=admin,
                            json={"user_id": "reader", "password": "Reader-123", "permissions": ["MY_REGISTRATIONS"]})
    assert r.status_code == 201, r.text
    reader = await login(registry, "reader", "Reader-123")
    refused = await registry.get("/api/registrar/users", headers=reader)
    assert refused.status_code == 403 and refused.json()["result_code"] == 2201, refused.text
    assert [u["user_id"] for u in (await registry.get("/api/registrar/users", headers=admin)).json()] == [
        "a100001", "reader"]


async def test_a_registrar_lists_its_groups(registry: httpx.AsyncClient) -> None:
    me = await login(registry)
    for name in ("http-b", "http-a"):
        r = await registry.post("/api/nsgroups", headers=me,
                                json={"name": name, "name_servers": ["ns1.example.net", "ns2.example.net"]})
        assert r.status_code == 201, r.text
    key = {"flags": 257, "protocol": 3, "algorithm": 13, "public_key": "AwEAAcZr"}
    assert (await registry.post("/api/keygroups", headers=me, json={"name": "http-k", "keys": [key]})).status_code == 201
    r = await registry.post("/api/domains", headers=me, json={"name": "http-grouped.be", "registrant": "a100001-demo",
                                                              "nsgroups": ["http-a"]})
    assert r.status_code == 201, r.text
    groups = (await registry.get("/api/nsgroups", headers=me)).json()["items"]  # a page (tests/integration/test_listing.py)
    assert [(g["name"], g["domains"]) for g in groups] == [("http-a", 1), ("http-b", 0)]
    assert groups[0]["name_servers"] == ["ns1.example.net", "ns2.example.net"]
    assert [g["name"] for g in (await registry.get("/api/keygroups", headers=me)).json()["items"]] == ["http-k"]


async def test_an_idn_shows_its_u_label(registry: httpx.AsyncClient) -> None:
    me = await login(registry)
    r = await registry.post("/api/domains", headers=me, json={"name": "http-café.be", "registrant": "a100001-demo"})
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["u_label"]) == ("xn--http-caf-i1a.be", "http-café.be")
    plain = await registry.post("/api/domains", headers=me, json={"name": "http-plain.be", "registrant": "a100001-demo"})
    assert plain.json()["u_label"] == "http-plain.be"


@pytest.mark.parametrize(("address", "words"), [
    ({"country": "XX"}, "ISO 3166-1"),
    ({"country": "BE", "postal_code": "30000"}, "4 digits"),
    ({"country": "NL", "postal_code": "1012"}, "4 digits and 2 capital letters"),
    ({"country": "FR", "postal_code": "7500"}, "5 digits"),
    ({"country": "DE", "postal_code": "ABCDE"}, "5 digits"),
    ({"country": "LU", "postal_code": "L-10"}, "L-"),
])
async def test_a_profile_address_is_checked_against_its_country(
        registry: httpx.AsyncClient, address: dict[str, str], words: str) -> None:
    me = await login(registry)
    profile = PROFILE | {"address": PROFILE["address"] | address}
    r = await registry.put("/api/registrar/profile", headers=me, json=profile)
    assert r.status_code == 422, r.text
    assert words in r.json()["message"], r.text
    ok = PROFILE | {"address": PROFILE["address"] | {"country": "NL", "postal_code": "1012 AB"}}
    assert (await registry.put("/api/registrar/profile", headers=me, json=ok)).status_code == 200


async def test_a_pending_registrar_becomes_active_only_by_its_activation(registry: httpx.AsyncClient) -> None:
    await ctx_of(registry).db["registrars"].update_one({"_id": "b200002"}, {"$set": {"status": "PENDING_ACTIVATION"}})
    r = await registry.put("/api/operator/registrars/b200002/status", headers=OPERATOR, json={"status": "ACTIVE"})
    assert r.status_code == 409 and "activation" in r.json()["message"], r.text
    assert (await ctx_of(registry).db["registrars"].find_one({"_id": "b200002"}) or {})["status"] == "PENDING_ACTIVATION"
    # suspending an active one and lifting it still work
    for status in ("SUSPENDED", "ACTIVE"):
        r = await registry.put("/api/operator/registrars/a100001/status", headers=OPERATOR, json={"status": status})
        assert r.status_code == 204, r.text
    back = await registry.put("/api/operator/registrars/a100001/status", headers=OPERATOR,
                              json={"status": "PENDING_ACTIVATION"})
    assert back.status_code == 422, back.text


async def test_the_openapi_documents_every_answer(registry: httpx.AsyncClient) -> None:
    spec = (await registry.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert {"registrar", "operator", "staff"} <= set(schemes), schemes
    assert "ErrorBody" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("description"), where
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert ok, where
            for code in ok:
                if code != "204":
                    assert op["responses"][code].get("content", {}).get("application/json", {}).get("schema"), where
            if path.startswith("/api/operator"):
                assert op.get("security") == [{"operator": []}], where
                assert "401" in op["responses"], where
            elif path.startswith("/api/staff/") and op.get("security"):
                assert op["security"] == [{"staff": []}], where
                assert "401" in op["responses"], where
            elif op.get("security"):
                assert op["security"] == [{"registrar": []}], where
                assert {"401", "422"} <= set(op["responses"]), where
            for code in op["responses"]:
                if code.startswith(("4", "5")) and code != "422":
                    schema = op["responses"][code]["content"]["application/json"]["schema"]
                    # the sign-in steps' 401 is ErrorBody with the two-step fields (LoginRefused)
                    body = "LoginRefused" if code == "401" and path.endswith(("/login", "/login/code")) else "ErrorBody"
                    assert schema == {"$ref": f"#/components/schemas/{body}"}, (where, code)
    domains = spec["paths"]["/api/domains"]["post"]["responses"]
    assert {"401", "402", "403", "404", "409", "422"} <= set(domains), domains
    assert "429" in spec["paths"]["/api/login"]["post"]["responses"]
