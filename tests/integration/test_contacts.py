"""Contacts through the registry's HTTP API on the real broker and database: roles, limits, links,
isolation, validation, and the events each command publishes."""

from collections.abc import AsyncIterator

import httpx
import pytest

from services.registry.app import build
from services.registry.contacts.billing import billing_contact
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from tests.integration.infra import EventTap, login, running


def contact(alias: str, kind: str, **extra: object) -> dict:
    return {"alias": alias, "type": kind, "name": "Jan Peeters", "street": ["Markt 1"], "city": "Brugge",
            "postal_code": "8000", "country": "BE", "phone": "+32.50000000", "email": "jan@example.be",
            "language": "nl"} | extra


@pytest.fixture
async def registry(namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05)
    async with running(build(settings)) as client:
        await seed_demo_registrar(client._transport.app.state.ctx, settings, "b200002")  # type: ignore[attr-defined]
        yield client


async def test_contact_lifecycle_and_its_events(registry: httpx.AsyncClient, namespace: str) -> None:
    me = await login(registry)
    async with EventTap(namespace, "contact.*") as tap:
        created = await registry.post("/api/contacts", json=contact("jan-1", "REGISTRANT"), headers=me)
        assert created.status_code == 201, created.text
        assert created.json()["verification"] == "UNVERIFIED"
        event = (await tap.wait_for("contact.created"))[0]
        assert (event["registrar_id"], event["payload"]["alias"], event["payload"]["country"]) == ("a100001", "jan-1", "BE")

        changed = contact("jan-1", "REGISTRANT", city="Gent")
        changed.pop("alias"), changed.pop("type")
        assert (await registry.put("/api/contacts/jan-1", json=changed, headers=me)).json()["city"] == "Gent"
        assert (await tap.wait_for("contact.updated"))[0]["payload"]["city"] == "Gent"

        # linked to a domain: not deletable (2305); once the domain's registrant is... still linked
        assert (await registry.post("/api/domains", headers=me, json={
            "name": "jans.be", "registrant": "jan-1", "tech": ["a100001-tech"]})).status_code == 201
        refused = await registry.delete("/api/contacts/jan-1", headers=me)
        assert refused.status_code == 409
        assert {k: refused.json()[k] for k in ("result_code", "message")} == {"result_code": 2305, "message": "Contact [jan-1] still linked to 1 domain(s)"}

        assert (await registry.post("/api/contacts", json=contact("spare", "ONSITE"), headers=me)).status_code == 201
        assert (await registry.delete("/api/contacts/spare", headers=me)).status_code == 204
        assert (await tap.wait_for("contact.deleted"))[0]["payload"] == {"alias": "spare", "type": "ONSITE", "by_registry": False}
    checked = (await registry.get("/api/contacts/check", params={"alias": ["jan-1", "free-one"]}, headers=me)).json()
    assert checked == {"jan-1": False, "free-one": True}


async def test_aliases_are_unique_registry_wide_and_contacts_are_private(registry: httpx.AsyncClient) -> None:
    me, other = await login(registry), await login(registry, "b200002")
    assert (await registry.post("/api/contacts", json=contact("shared", "TECH"), headers=me)).status_code == 201
    taken = await registry.post("/api/contacts", json=contact("shared", "TECH"), headers=other)
    assert taken.status_code == 409 and taken.json()["result_code"] == 2302
    for call in (registry.get("/api/contacts/shared", headers=other),
                 registry.delete("/api/contacts/shared", headers=other)):
        assert (await call).status_code == 404
    # nor can another registrar's contact be used on a domain
    r = await registry.post("/api/domains", headers=other, json={"name": "borrow.be", "registrant": "a100001-demo"})
    assert r.status_code == 404 and r.json()["result_code"] == 2303


async def test_a_contact_is_used_only_in_its_role_and_limits_hold(registry: httpx.AsyncClient) -> None:
    me = await login(registry)
    r = await registry.post("/api/domains", headers=me, json={"name": "role.be", "registrant": "a100001-tech"})
    assert r.status_code == 422 and r.json()["result_code"] == 2306
    second_billing = await registry.post("/api/contacts", json=contact("bill-2", "BILLING"), headers=me)
    assert second_billing.status_code == 409 and second_billing.json()["result_code"] == 2308
    assert (await registry.delete("/api/contacts/a100001-bill", headers=me)).status_code == 409
    for i in range(9):  # the seeded tech contact plus nine: the limit of ten
        assert (await registry.post("/api/contacts", json=contact(f"tech-{i}", "TECH"), headers=me)).status_code == 201
    eleventh = await registry.post("/api/contacts", json=contact("tech-x", "TECH"), headers=me)
    assert eleventh.status_code == 409 and "at most 10" in eleventh.json()["message"]
    six = await registry.post("/api/domains", headers=me, json={
        "name": "six.be", "registrant": "a100001-demo", "tech": [f"tech-{i}" for i in range(6)]})
    assert six.status_code == 422  # at most five tech contacts per domain


async def test_a_registrar_needs_billing_and_tech_contacts_before_its_first_domain(registry: httpx.AsyncClient) -> None:
    ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
    await ctx.db["contacts"].delete_many({"_id": {"$in": ["b200002-tech"]}})
    other = await login(registry, "b200002")
    r = await registry.post("/api/domains", headers=other, json={"name": "early.be", "registrant": "b200002-demo"})
    assert r.status_code == 409 and "billing contact and at least one tech contact" in r.json()["message"]


async def test_the_billing_contact_is_read_until_it_exists_then_kept(registry: httpx.AsyncClient) -> None:
    """EPP info shows the sponsor's billing contact: it is read until the registrar has one, then kept (it can be
    neither deleted nor replaced), so that an info costs one read."""
    ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
    await ctx.db["contacts"].delete_many({"_id": "b200002-bill"})
    assert await billing_contact(ctx, "b200002") is None
    other = await login(registry, "b200002")
    created = await registry.post("/api/contacts", json=contact("b2-billing", "BILLING"), headers=other)
    assert created.status_code == 201, created.text
    assert await billing_contact(ctx, "b200002") == "b2-billing"  # the None was not kept
    refused = await registry.delete("/api/contacts/b2-billing", headers=other)
    assert refused.status_code == 409
    await ctx.db["contacts"].delete_many({"_id": "b2-billing"})  # behind the registry's back: not read again
    assert await billing_contact(ctx, "b200002") == "b2-billing"


@pytest.mark.parametrize(
    "bad",
    [{"alias": "a@b"}, {"alias": "ab"}, {"phone": "0032 50 00 00 00"}, {"country": "Belgium"}, {"email": "not-mail"},
     {"type": "OWNER"}, {"name": "Ивaн"}, {"street": []}, {"language": "de"}],
)
async def test_invalid_contacts_are_refused_and_change_nothing(registry: httpx.AsyncClient, bad: dict) -> None:
    me = await login(registry)
    body = contact("valid-1", "TECH") | bad
    r = await registry.post("/api/contacts", json=body, headers=me)
    assert r.status_code == 422, (bad, r.text)
    ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
    assert await ctx.db["contacts"].count_documents({"_id": body["alias"]}) == 0
