"""The unit-of-work contract on MongoDB (the real stand-in), with the registry's indexes and the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient

from services.registry.store import INDEXES
from services.registry.uow import UnitOfWork
from services.registry.uow.mongo import MongoUnitOfWork
from shared.mongo.indexes import ensure_indexes
from shared.mongo.outbox import OUTBOX, Outbox
from tests.integration.infra import MONGODB_URL
from tests.unit.uow_contract import UnitOfWorkContract


class TestMongoUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    async def uow(self, namespace: str) -> AsyncIterator[MongoUnitOfWork]:
        client: AsyncMongoClient = AsyncMongoClient(MONGODB_URL, tz_aware=True, uuidRepresentation="standard")
        db = client[f"{namespace}_registry"]
        await ensure_indexes(db, INDEXES)
        woken: list[int] = []
        yield MongoUnitOfWork(client, db, Outbox(db), lambda: woken.append(1))
        await client.close()

    async def published(self, uow: UnitOfWork) -> list[str]:
        assert isinstance(uow, MongoUnitOfWork)
        return [d["event_id"] for d in await uow.db[OUTBOX].find({}).sort("_id", 1).to_list()]
