"""The first flow end to end, in-process services on the real broker and database:
registry HTTP create -> domain + outbox in one transaction -> relay -> RabbitMQ -> reporting read model."""

import asyncio
from typing import Any

from services.registry.app import build as build_registry
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from tests.integration.infra import eventually, login, running


def settings(namespace: str) -> tuple[RegistrySettings, ReportingSettings]:
    fast: dict[str, Any] = {"namespace": namespace, "outbox_poll_seconds": 0.05}
    return RegistrySettings(seed_demo_registrar=True, **fast), ReportingSettings(**fast)


async def test_created_domains_are_counted_once_each_and_refusals_publish_command_failed(namespace: str) -> None:
    reg_settings, rep_settings = settings(namespace)
    reporting_app = build_reporting(rep_settings)
    async with running(reporting_app) as reporting, running(build_registry(reg_settings)) as registry:
        auth = await login(registry)
        names = [f"flow-{i}.be" for i in range(25)]
        responses = await asyncio.gather(
            *(registry.post("/api/domains", json={"registrant": "a100001-demo", "name": n}, headers=auth) for n in names)
        )
        assert [r.status_code for r in responses] == [201] * len(names)

        dup = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": names[0]}, headers=auth)
        assert dup.status_code == 409
        assert {k: dup.json()[k] for k in ("result_code", "message")} == {"result_code": 2302, "message": f"Object exists: domain [{names[0]}]"}
        bad = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "a.be"}, headers=auth)
        assert bad.status_code == 422 and bad.json()["result_code"] == 2005

        async def counted() -> int:
            return (await reporting.get("/api/portfolios/a100001", headers=auth)).json()["domains"]

        assert await eventually(counted, lambda n: n >= len(names)) == len(names)
        await asyncio.sleep(0.3)  # nothing more may arrive
        assert await counted() == len(names)

        registry_ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
        assert await registry_ctx.db["domains"].count_documents({}) == len(names)
        assert await eventually(lambda: registry_ctx.db["outbox"].count_documents({}), lambda n: n == 0) == 0

        metrics = (await registry.get("/metrics")).text
        assert 'outbox_relayed_events_total{event_type="domain.created"} 25.0' in metrics
        assert 'outbox_relayed_events_total{event_type="command.failed"} 2.0' in metrics
        assert 'outbox_relayed_events_total{event_type="payment.transaction_recorded"} 25.0' in metrics
        rep_metrics = (await reporting.get("/metrics")).text
        assert 'events_consumed_total{event_type="domain.created",outcome="processed"} 25.0' in rep_metrics


async def test_a_refused_create_changes_nothing_and_unknown_credentials_are_refused(namespace: str) -> None:
    reg_settings, _ = settings(namespace)
    async with running(build_registry(reg_settings)) as registry:
        ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
        auth = await login(registry)
        assert (await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "taken.be"}, headers=auth)).status_code == 201
        before = await ctx.db["domains"].find_one({"_id": "taken.be"})
        again = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "TAKEN.be"}, headers=auth)
        assert again.status_code == 409
        assert await ctx.db["domains"].find_one({"_id": "taken.be"}) == before

        for user, password in [("a100001", "Wrong-Pass-1"), ("nobody", "Demo-Web-2026")]:
            r = await registry.post("/api/login", json={"user_id": user, "password": password})
            assert r.status_code == 401 and r.json()["result_code"] == 2200
        r = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "other.be"}, headers={"Authorization": "Bearer forged"})
        assert r.status_code == 401
        assert await ctx.db["domains"].count_documents({"_id": "other.be"}) == 0
        assert (await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "x.com"}, headers=auth)).json()[
            "result_code"
        ] == 2306


async def test_a_registrar_sees_only_its_own_domains(namespace: str) -> None:
    reg_settings, _ = settings(namespace)
    async with running(build_registry(reg_settings)) as registry:
        ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
        await seed_demo_registrar(ctx, reg_settings, "b200002")
        auth = await login(registry)
        assert (await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "mine.be"}, headers=auth)).status_code == 201
        assert (await registry.get("/api/domains/mine.be", headers=auth)).status_code == 200
        theirs = await registry.get("/api/domains/mine.be", headers=await login(registry, "b200002"))
        assert theirs.status_code == 404  # not 403: another registrar's domain is not even acknowledged


async def test_racing_registrars_exactly_one_wins(namespace: str) -> None:
    reg_settings, _ = settings(namespace)
    async with running(build_registry(reg_settings)) as registry:
        ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
        await seed_demo_registrar(ctx, reg_settings, "b200002")
        mine, theirs = await login(registry), await login(registry, "b200002")
        results = await asyncio.gather(
            registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "contested.be"}, headers=mine),
            registry.post("/api/domains", json={"registrant": "b200002-demo", "name": "contested.be"}, headers=theirs),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        assert await ctx.db["domains"].count_documents({"_id": "contested.be"}) == 1


async def test_services_report_health_metrics_and_asyncapi(namespace: str) -> None:
    reg_settings, rep_settings = settings(namespace)
    async with running(build_registry(reg_settings)) as registry, running(build_reporting(rep_settings)) as reporting:
        for client in (registry, reporting):
            assert (await client.get("/health/live")).status_code == 200
            ready = await client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"broker": True, "database": True, "started": True}
            assert "service_info" in (await client.get("/metrics")).text
        spec = (await registry.get("/asyncapi.json")).json()
        channels = " ".join(spec["channels"])
        assert "domain.created" in channels and "command.failed" in channels
        assert "AsyncApiStandalone" in (await registry.get("/asyncapi")).text or "asyncapi" in (
            await registry.get("/asyncapi")
        ).text.lower()
