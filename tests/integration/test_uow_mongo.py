"""The unit-of-work contract on MongoDB (the real stand-in), with the registry's indexes and the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure

from services.registry.store import INDEXES
from services.registry.uow import UnitOfWork
from services.registry.uow.mongo import MongoTx, MongoUnitOfWork
from shared.mongo.indexes import ensure_indexes
from shared.mongo.outbox import OUTBOX, Outbox
from shared.mongo.transactions import in_transaction
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


async def test_a_joined_transaction_runs_its_after_commit_once_its_owner_committed(namespace: str) -> None:
    """The event consumer owns the transaction a handler joins (uow.joining): what the handler asks to run after
    the commit runs once in_transaction committed, not before, and not for an attempt that was aborted and retried."""
    client: AsyncMongoClient = AsyncMongoClient(MONGODB_URL, tz_aware=True, uuidRepresentation="standard")
    db = client[f"{namespace}_registry"]
    uow = MongoUnitOfWork(client, db, Outbox(db))
    attempts: list[int] = []
    ran: list[int] = []
    try:
        async def handler(tx: MongoTx) -> None:
            attempt = len(attempts)
            await tx["registrars"].insert_one({"_id": "r1", "attempt": attempt})
            tx.after_commit(lambda: ran.append(attempt))

        async def consumer(session: AsyncClientSession) -> None:
            attempts.append(1)
            await uow.joining(session, handler)
            assert ran == []  # not before the commit
            if len(attempts) == 1:
                raise OperationFailure("a write conflict", code=112, details={"errorLabels": ["TransientTransactionError"]})

        await in_transaction(client, consumer)
        assert ran == [2]  # once, for the attempt that committed
        assert await db["registrars"].find_one({"_id": "r1"}) == {"_id": "r1", "attempt": 2}
    finally:
        await client.close()
