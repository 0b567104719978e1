"""Name-server groups, key groups and name servers on domains, through HTTP on the real broker and database."""

from collections.abc import AsyncIterator

import httpx
import pytest

from services.registry.app import build
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from tests.integration.infra import EventTap, login, running

KEY = {"flags": 257, "protocol": 3, "algorithm": 13,
       "public_key": "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="}


@pytest.fixture
async def registry(namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05)
    async with running(build(settings)) as client:
        await seed_demo_registrar(client._transport.app.state.ctx, settings, "b200002")  # type: ignore[attr-defined]
        yield client


async def test_groups_are_created_used_by_domains_and_kept_while_linked(registry: httpx.AsyncClient, namespace: str) -> None:
    me = await login(registry)
    async with EventTap(namespace) as tap:
        r = await registry.post("/api/nsgroups", headers=me, json={"name": "hosting-1", "name_servers": ["NS1.Host.example.", "ns2.host.example"]})
        assert r.status_code == 201 and r.json()["name_servers"] == ["ns1.host.example", "ns2.host.example"]
        assert (await registry.post("/api/keygroups", headers=me, json={"name": "keys-1", "keys": [KEY]})).status_code == 201
        changed = (await tap.wait_for("nsgroup.changed"))[0]["payload"]
        assert changed == {"name": "hosting-1", "name_servers": ["ns1.host.example", "ns2.host.example"], "created": True}
        assert (await tap.wait_for("keygroup.changed"))[0]["payload"]["keys"][0]["algorithm"] == 13

        domain = await registry.post("/api/domains", headers=me, json={
            "name": "grouped.be", "registrant": "a100001-demo", "nsgroups": ["hosting-1"], "keygroups": ["keys-1"]})
        assert domain.status_code == 201, domain.text
        assert (domain.json()["nsgroups"], domain.json()["keygroups"]) == (["hosting-1"], ["keys-1"])
        linked = await registry.delete("/api/nsgroups/hosting-1", headers=me)
        assert linked.status_code == 409 and linked.json()["result_code"] == 2305

        upd = await registry.put("/api/nsgroups/hosting-1", headers=me, json={"name": "hosting-1", "name_servers": ["ns3.host.example"]})
        assert upd.status_code == 200
        assert (await registry.get("/api/nsgroups/hosting-1", headers=me)).json()["name_servers"] == ["ns3.host.example"]
        await registry.post("/api/nsgroups", headers=me, json={"name": "unused", "name_servers": ["ns.x.example"]})
        assert (await registry.delete("/api/nsgroups/unused", headers=me)).status_code == 204
        assert (await tap.wait_for("nsgroup.deleted"))[0]["payload"] == {"name": "unused"}
    assert (await registry.post("/api/nsgroups", headers=me, json={"name": "hosting-1", "name_servers": ["a.b.example"]})).status_code == 409


async def test_groups_are_private_to_their_registrar(registry: httpx.AsyncClient) -> None:
    me, other = await login(registry), await login(registry, "b200002")
    await registry.post("/api/nsgroups", headers=me, json={"name": "mine", "name_servers": ["ns1.mine.example"]})
    assert (await registry.get("/api/nsgroups/mine", headers=other)).status_code == 404
    assert (await registry.delete("/api/nsgroups/mine", headers=other)).status_code == 404
    r = await registry.post("/api/domains", headers=other, json={"name": "borrowed.be", "registrant": "b200002-demo", "nsgroups": ["mine"]})
    assert r.status_code == 404 and r.json()["result_code"] == 2303
    # the same name is free for another registrar
    assert (await registry.post("/api/nsgroups", headers=other, json={"name": "mine", "name_servers": ["ns1.other.example"]})).status_code == 201


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/nsgroups", {"name": "ten", "name_servers": [f"ns{i}.x.example" for i in range(10)]}),
        ("/api/nsgroups", {"name": "bad host", "name_servers": ["ns1.x.example"]}),
        ("/api/nsgroups", {"name": "ip", "name_servers": ["192.0.2.1"]}),
        ("/api/nsgroups", {"name": "dup", "name_servers": ["ns1.x.example", "NS1.x.example"]}),
        ("/api/keygroups", {"name": "zsk", "keys": [KEY | {"flags": 256}]}),
        ("/api/keygroups", {"name": "alg", "keys": [KEY | {"algorithm": 3}]}),
        ("/api/keygroups", {"name": "proto", "keys": [KEY | {"protocol": 4}]}),
        ("/api/keygroups", {"name": "b64", "keys": [KEY | {"public_key": "not base64!"}]}),
        ("/api/keygroups", {"name": "five", "keys": [KEY] * 5}),
    ],
)
async def test_invalid_groups_are_refused(registry: httpx.AsyncClient, path: str, body: dict) -> None:
    r = await registry.post(path, headers=await login(registry), json=body)
    assert r.status_code == 422, r.text


async def test_name_servers_on_a_domain_need_glue_exactly_when_inside_it(registry: httpx.AsyncClient) -> None:
    me = await login(registry)

    async def create(name: str, servers: list[dict]) -> httpx.Response:
        return await registry.post("/api/domains", headers=me, json={"name": name, "registrant": "a100001-demo", "name_servers": servers})

    missing = await create("glue-1.be", [{"name": "ns1.glue-1.be"}])
    assert missing.status_code == 422
    assert {k: missing.json()[k] for k in ("result_code", "message")} == {"result_code": 2005, "message": "missing glue for ns1.glue-1.be"}
    needless = await create("glue-2.be", [{"name": "ns1.elsewhere.example", "addresses": ["192.0.2.1"]}])
    assert needless.status_code == 422 and needless.json()["result_code"] == 2306
    ok = await create("glue-3.be", [{"name": "ns1.glue-3.be", "addresses": ["192.0.2.1", "2001:db8::53"]},
                                    {"name": "ns.elsewhere.example"}])
    assert ok.status_code == 201, ok.text
    assert ok.json()["name_servers"][0] == {"name": "ns1.glue-3.be", "addresses": ["192.0.2.1", "2001:db8::53"]}
    too_many = await create("glue-4.be", [{"name": f"ns{i}.x.example"} for i in range(10)])
    assert too_many.status_code == 422
