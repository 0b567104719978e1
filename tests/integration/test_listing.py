"""The registry's paged, searchable lists (GET /api/domains, /api/contacts, /api/nsgroups, /api/keygroups) over
HTTP on the real database: name order, keyset pages without gaps or repeats, a prefix search, only the
registrar's own objects, and the read permission."""

from collections.abc import AsyncIterator

import httpx
import pytest

from services.registry.app import build
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from tests.integration.infra import login, running


@pytest.fixture
async def registry(namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05, epp_port=0)
    async with running(build(settings)) as client:
        await seed_demo_registrar(client._transport.app.state.ctx, settings, "b200002")  # type: ignore[attr-defined]
        yield client


async def test_domains_come_in_keyset_pages_by_name_and_by_prefix_for_their_registrar_only(
        registry: httpx.AsyncClient) -> None:
    me, other = await login(registry), await login(registry, "b200002")
    names = [f"list-{n:03d}.be" for n in range(23)] + ["other-one.be"]
    for name in names:
        made = await registry.post("/api/domains", headers=me, json={"name": name, "registrant": "a100001-demo"})
        assert made.status_code == 201, made.text
    assert (await registry.post("/api/domains", headers=other,
                                json={"name": "list-theirs.be", "registrant": "b200002-demo"})).status_code == 201

    seen: list[str] = []
    after = None
    while True:
        page = (await registry.get("/api/domains", headers=me, params={"limit": 10} | ({"after": after} if after else {})
                                   )).json()
        assert len(page["items"]) <= 10
        seen += [d["name"] for d in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == sorted(names)  # every one once, in order, never another registrar's

    found = (await registry.get("/api/domains", headers=me, params={"q": "LIST-01"})).json()
    assert [d["name"] for d in found["items"]] == [f"list-{n:03d}.be" for n in range(10, 20)]
    assert found["next"] is None and found["items"][0]["status"] == "REGISTERED"
    assert (await registry.get("/api/domains", headers=me, params={"q": ".*"})).json()["items"] == []  # no regex
    searched: list[str] = []
    after = None  # pages of a search: from the prefix, past the previous page, never past the prefix
    while True:
        query: dict[str, str | int] = {"q": "list-00", "limit": 4}
        if after:
            query["after"] = after
        page = (await registry.get("/api/domains", headers=me, params=query)).json()
        searched += [d["name"] for d in page["items"]]
        if (after := page["next"]) is None:
            break
    assert searched == [f"list-{n:03d}.be" for n in range(10)]
    before_prefix = (await registry.get("/api/domains", headers=me, params={"q": "list-01", "after": "a.be"})).json()
    assert [d["name"] for d in before_prefix["items"]] == [f"list-{n:03d}.be" for n in range(10, 20)]
    assert [d["name"] for d in (await registry.get("/api/domains", headers=other)).json()["items"]] == ["list-theirs.be"]
    assert (await registry.get("/api/domains", headers=me, params={"limit": 1000})).status_code == 422
    assert (await registry.get("/api/domains")).status_code == 401


async def test_contacts_and_groups_are_listed_too(registry: httpx.AsyncClient) -> None:
    me = await login(registry)
    contacts = (await registry.get("/api/contacts", headers=me)).json()["items"]
    assert {c["name"] for c in contacts} >= {"a100001-demo", "a100001-tech", "a100001-bill"}
    demo = next(c for c in contacts if c["name"] == "a100001-demo")
    assert demo["type"] == "REGISTRANT" and demo["holder"] == "Demo Registrant"
    assert all(not c["name"].startswith("b200002") for c in contacts)
    await registry.post("/api/nsgroups", headers=me, json={"name": "hosting-1", "name_servers": ["ns1.host.example"]})
    groups = (await registry.get("/api/nsgroups", headers=me)).json()["items"]
    assert groups == [{"name": "hosting-1", "name_servers": ["ns1.host.example"], "domains": 0}]
    assert (await registry.get("/api/keygroups", headers=me)).json() == {"items": [], "next": None}


async def test_a_user_without_access_to_my_registrations_gets_no_list(registry: httpx.AsyncClient) -> None:
    me = await login(registry)
    made = await registry.post("/api/registrar/users", headers=me,
                               json={"user_id": "noaccess", "password": "No-Access-1", "permissions": []})
    assert made.status_code == 201, made.text
    user = await login(registry, "noaccess", "No-Access-1")
    refused = await registry.get("/api/domains", headers=user)
    assert refused.status_code == 403 and "MY_REGISTRATIONS" in refused.text
