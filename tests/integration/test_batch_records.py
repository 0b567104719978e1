"""One processed-event record per batch (shared/mongo/idempotency.py) on the real database: the unique index on
the records' event_ids array is enforced across documents (what exactly-once rests on), records of the earlier
shape (one per event, the id as _id) are still honoured, and the journal replays both of its shapes."""

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.reporting import journal
from shared.clock import SystemClock
from shared.events import DomainCreated, EventEnvelope, new_event
from shared.mongo.idempotency import RECORDS_INDEX, BatchHandler, ProcessedEvents
from shared.mongo.transactions import in_transaction
from tests.integration.infra import MONGODB_URL


def created(i: int) -> EventEnvelope[DomainCreated]:
    return new_event(DomainCreated(name=f"rec-{i}.be", tld="be", registered_at=datetime.now(UTC)),
                     registrar_id="a100001", correlation_id=None, clock=SystemClock())


@pytest.fixture
async def store(namespace: str) -> AsyncIterator[tuple[AsyncMongoClient[dict[str, Any]], AsyncDatabase[dict[str, Any]]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    try:
        yield client, client[f"{namespace}_records"]
    finally:
        await client.close()


async def effects(db: AsyncDatabase[dict[str, Any]]) -> dict[str, int]:
    return {d["_id"]: d["n"] for d in await db["effects"].find({}).to_list()}


def counting(db: AsyncDatabase[dict[str, Any]]) -> Any:
    async def handler(event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        await db["effects"].update_one({"_id": event.payload.name}, {"$inc": {"n": 1}}, upsert=True, session=session)

    return handler


async def test_the_records_index_refuses_an_id_held_by_another_document_also_inside_a_transaction(store: Any) -> None:
    client, db = store
    records = db["records"]
    await records.create_indexes([RECORDS_INDEX])
    await records.insert_one({"event_ids": ["a", "b"]})
    with pytest.raises(DuplicateKeyError):
        await records.insert_one({"event_ids": ["c", "b"]})

    async def work(session: AsyncClientSession) -> None:
        await records.insert_one({"event_ids": ["d"]}, session=session)
        await records.insert_one({"event_ids": ["e", "a"]}, session=session)

    with pytest.raises(DuplicateKeyError):
        await in_transaction(client, work)
    # documents without the field (records of the earlier shape) are not in the index
    await records.insert_many([{"_id": "c:1"}, {"_id": "c:2"}])
    assert sorted(i for d in await records.find({}).to_list() for i in d.get("event_ids", [])) == ["a", "b"]


async def test_a_batch_is_one_record_that_expires_and_an_event_recorded_the_earlier_way_is_not_applied_again(
    store: Any,
) -> None:
    client, db = store
    processed = ProcessedEvents(client, db, timedelta(days=1))
    handler = counting(db)
    old, new1, new2, new3 = created(0), created(1), created(2), created(3)
    # as the code before recorded an event (and its effect)
    await db["processed_events"].insert_one({"_id": f"c:{old.event_id}", "event_type": old.event_type,
                                             "applied_at": datetime.now(UTC), "expires_at": datetime.now(UTC)})
    await db["effects"].insert_one({"_id": "rec-0.be", "n": 1})

    assert await processed.apply_batch("c", [(new1, handler), (new2, handler)]) == [True, True]
    [record] = await db["processed_events"].find({"event_ids": {"$exists": True}}).to_list()
    assert record["event_ids"] == [f"c:{new1.event_id}", f"c:{new2.event_id}"]
    assert timedelta(hours=23) < record["expires_at"] - datetime.now(UTC) <= timedelta(days=1)  # the TTL index's

    flags = await processed.apply_batch("c", [(new3, handler), (old, handler), (new1, handler)])
    assert flags == [True, False, False]
    assert await effects(db) == {"rec-0.be": 1, "rec-1.be": 1, "rec-2.be": 1, "rec-3.be": 1}
    assert await processed.apply_once("c", old, handler) is False
    assert await processed.apply_once("other", old, handler) is True  # another consumer's record is not ours
    assert (await effects(db))["rec-0.be"] == 2


async def test_a_handlers_own_duplicate_key_fails_the_event_and_is_not_taken_for_applied_before(store: Any) -> None:
    client, db = store
    processed = ProcessedEvents(client, db, timedelta(days=1))

    async def inserts(event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        await db["names"].insert_one({"_id": event.payload.name}, session=session)

    await db["names"].insert_one({"_id": "rec-1.be"})
    with pytest.raises(DuplicateKeyError):
        await processed.apply_batch("c", [(created(1), inserts)])
    assert await db["processed_events"].count_documents({}) == 0  # nothing recorded: it is delivered again


async def test_the_journal_honours_and_replays_entries_of_both_shapes(store: Any) -> None:
    client, db = store
    processed = ProcessedEvents(client, db, timedelta(days=1))
    applied: list[str] = []

    async def apply_many(events: Sequence[EventEnvelope[Any]], session: AsyncClientSession) -> None:
        applied.extend(e.payload.name for e in events)

    handler = BatchHandler(apply_many, ledger=journal.Journal(lambda: db))
    old, new1, new2 = created(0), created(1), created(2)
    # an entry as the journal was written before: one per event
    await db["journal"].insert_one({"_id": str(old.event_id), "seq": ObjectId(), "event_type": old.event_type,
                                    "occurred_at": old.occurred_at, "body": old.to_json().decode()})
    assert await processed.apply_batch("reporting", [(old, handler), (new1, handler), (new2, handler)]) == [
        False, True, True]
    assert applied == ["rec-1.be", "rec-2.be"]
    assert await processed.apply_batch("reporting", [(new2, handler)]) == [False]
    assert await journal.event_ids(db) == [str(e.event_id) for e in (old, new1, new2)]
    assert await journal.event_ids(db, "domain.updated") == []
    replayed = [e for chunk in [c async for c in journal.replay(db, 2)] for e in chunk]
    assert [e.event_id for e in replayed] == [old.event_id, new1.event_id, new2.event_id]
