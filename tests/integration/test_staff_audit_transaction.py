"""A staff action's "done" audit entry is written in the action's own transaction (shared/audit.py): the
registry's real app, unit of work and database. A done action leaves exactly one entry; an action whose
transaction is refused or fails leaves no "done" entry and none of its changes (only the entry saying it was
refused or failed); an action that committed and then failed keeps its "done" entry beside the failure."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter
from pydantic import SecretStr

from services.registry.app import build
from services.registry.http.staff import registry_staff_guard
from services.registry.results import CommandRefused, Result
from services.registry.settings import RegistrySettings
from services.registry.store import REGISTRARS, unit_of_work
from services.registry.uow import Tx
from shared.audit import AUDIT
from shared.runtime import ServiceContext
from shared.staff import Staff, StaffActor
from tests.integration.infra import OPERATOR, running


def trial_routes(ctx: ServiceContext) -> APIRouter:
    """A staff action as the registry's are written (guard, unit of work), that can be made to fail at each step."""
    api = APIRouter()
    Op = Annotated[StaffActor, Staff(registry_staff_guard(ctx))]

    @api.put("/api/operator/registrars/{registrar_id}/trial-note", status_code=204)
    async def note(registrar_id: str, how: str, _: Op) -> None:
        async def work(tx: Tx) -> None:
            await tx[REGISTRARS].update_one({"_id": registrar_id}, {"$set": {"trial_note": how}})
            if how == "refused":
                raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, "refused inside the transaction")
            if how == "failed":
                raise RuntimeError("failed inside the transaction")

        await unit_of_work(ctx).run(work)
        await unit_of_work(ctx).run(work)  # a second transaction of the same request: no second "done"
        if how == "failed-after":
            raise RuntimeError("failed after the commit")

    return api


@pytest.fixture
async def registry(namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                operator_token=SecretStr("operator-dev-token"), epp_port=0)
    app = build(settings)
    app.include_router(trial_routes(app.state.ctx))
    async with running(app) as client:
        yield client


async def entries(registry: httpx.AsyncClient) -> list[dict[str, Any]]:
    ctx: ServiceContext = registry._transport.app.state.ctx  # type: ignore[attr-defined]
    return await ctx.db[AUDIT].find({"action": {"$regex": "trial-note"}}).sort("at", 1).to_list()


async def note_of(registry: httpx.AsyncClient) -> Any:
    ctx: ServiceContext = registry._transport.app.state.ctx  # type: ignore[attr-defined]
    return ((await ctx.db[REGISTRARS].find_one({"_id": "a100001"})) or {}).get("trial_note")


async def test_a_refused_or_failed_transaction_leaves_no_done_entry_and_a_done_one_exactly_one(
        registry: httpx.AsyncClient) -> None:
    path = "/api/operator/registrars/a100001/trial-note"
    refused = await registry.put(path, headers=OPERATOR, params={"how": "refused"})
    assert refused.status_code >= 400
    assert [e["outcome"] for e in await entries(registry)] == ["refused"] and await note_of(registry) is None

    with pytest.raises(RuntimeError):  # in-process: the failure reaches the client
        await registry.put(path, headers=OPERATOR, params={"how": "failed"})
    assert [e["outcome"] for e in await entries(registry)] == ["refused", "failed"] and await note_of(registry) is None

    done = await registry.put(path, headers=OPERATOR, params={"how": "kept"})
    assert done.status_code == 204
    trail = await entries(registry)
    assert [e["outcome"] for e in trail] == ["refused", "failed", "done"]  # one, for two transactions
    assert trail[-1]["after"]["_id"] == "a100001" and trail[-1]["actor"] == "operator-token"
    assert await note_of(registry) == "kept"

    # committed, then failed: its change and its "done" stay, the failure is written beside them
    with pytest.raises(RuntimeError):
        await registry.put(path, headers=OPERATOR, params={"how": "failed-after"})
    assert [e["outcome"] for e in await entries(registry)][3:] == ["done", "failed"]
    assert await note_of(registry) == "failed-after"
