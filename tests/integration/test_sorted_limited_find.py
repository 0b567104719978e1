"""A find sorted along a compound index and limited (the console's keyset pages) answers what MongoDB answers:
the documents in sort order, the first `limit` of them. The local stand-in takes a path of its own for this shape
(deploy/local/standin/, it stops at the limit instead of reading the whole range), so the answers are checked
against the order and filter computed here from every document."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from tests.integration.infra import MONGODB_URL


@pytest.fixture
async def items(namespace: str) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL)
    collection = client[f"{namespace}_sorted"]["items"]
    await collection.create_index([("owner", ASCENDING), ("name", ASCENDING)])
    docs: list[dict[str, Any]] = [{"_id": f"{owner}-{n}", "owner": owner, "name": f"{owner}-{(n * 37) % 60:03d}.be",
                                   "even": n % 2 == 0} for owner in ("a", "b") for n in range(60)]
    docs += [{"_id": "a-noname", "owner": "a"}, {"_id": "a-number", "owner": "a", "name": 7},
             {"_id": "a-upper", "owner": "a", "name": "A-999.be"}]
    await collection.insert_many(docs)
    await collection.delete_one({"_id": "a-3"})  # a removed document leaves no entry behind
    await collection.update_one({"_id": "a-4"}, {"$set": {"name": "a-000.ba"}})  # an entry moved
    try:
        yield collection
    finally:
        await client.drop_database(f"{namespace}_sorted")
        await client.close()


async def test_sorted_limited_pages_are_the_first_documents_in_order(items: AsyncCollection[dict[str, Any]]) -> None:
    everything = await items.find({"owner": "a"}).to_list()
    strings = sorted((d for d in everything if isinstance(d.get("name"), str)), key=lambda d: d["name"])

    async def page(query: dict[str, Any], limit: int, skip: int = 0) -> list[str]:
        docs = await items.find(query, {"name": 1}).sort("name", 1).skip(skip).limit(limit).to_list()
        assert all(set(d) == {"_id", "name"} or set(d) == {"_id"} for d in docs)  # the projection holds
        return [d["_id"] for d in docs]

    # no range: a missing name sorts first (null), then numbers, then strings, as MongoDB orders types
    assert await page({"owner": "a"}, 3) == ["a-noname", "a-number", strings[0]["_id"]]
    assert await page({"owner": "b"}, 100) == [d["_id"] for d in sorted(
        await items.find({"owner": "b"}).to_list(), key=lambda d: d["name"])]
    after = strings[20]["name"]
    assert await page({"owner": "a", "name": {"$gt": after}}, 5) == [d["_id"] for d in strings[21:26]]
    assert await page({"owner": "a", "name": {"$gte": after}}, 2, skip=1) == [d["_id"] for d in strings[21:23]]
    ranged = [d["_id"] for d in strings if "a-01" <= d["name"] < "a-02"]
    assert await page({"owner": "a", "name": {"$gte": "a-01", "$lt": "a-02"}}, 50) == ranged
    assert await page({"owner": "a", "name": {"$gt": "a-015.be", "$lte": "a-019.be"}}, 50) == [
        d["_id"] for d in strings if "a-015.be" < d["name"] <= "a-019.be"]
    assert await page({"owner": "a", "name": {"$gt": "z"}}, 5) == []
    assert await page({"owner": "c"}, 5) == []
    # a filter beyond the index is still applied to every document
    evens = [d["_id"] for d in strings if d.get("even")]
    assert await page({"owner": "a", "even": True}, 4) == evens[:4]


async def test_a_whole_collection_sorted_by_id_and_limited_is_the_first_documents_in_id_order(namespace: str) -> None:
    """The outbox relay's read (every document, sorted by _id, limited): the stand-in walks its _id index for it
    (deploy/local/standin/). Checked against the order computed here, with mixed _id types, a removed document, a
    projection, a skip, and a transaction that sees its own insert."""
    from datetime import UTC, datetime

    from bson import Int64, ObjectId

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    collection = client[f"{namespace}_by_id"]["outbox"]
    try:
        ids = [ObjectId() for _ in range(300)]
        await collection.insert_many([{"_id": i, "n": n} for n, i in enumerate(reversed(ids))])  # inserted backwards
        await collection.delete_one({"_id": ids[1]})
        rest = [i for i in ids if i != ids[1]]

        async def first(limit: int, skip: int = 0, **kwargs: Any) -> list[Any]:
            docs = await collection.find({}, {"n": 1}, **kwargs).sort("_id", 1).skip(skip).limit(limit).to_list()
            assert all(set(d) == {"_id", "n"} for d in docs)
            return [d["_id"] for d in docs]

        assert await first(200) == rest[:200]
        assert await first(5, skip=10) == rest[10:15]
        assert await first(1000) == rest
        async with client.start_session() as session, await session.start_transaction():
            await collection.insert_one({"_id": ObjectId("000000000000000000000001"), "n": -1}, session=session)
            assert (await first(1, session=session))[0] == ObjectId("000000000000000000000001")
        assert await first(1) == [ObjectId("000000000000000000000001")]
        # other scalar types sort as MongoDB orders types: null, numbers, strings, ObjectIds, booleans, dates
        mixed = client[f"{namespace}_by_id"]["mixed"]
        await mixed.insert_many([{"_id": v, "n": 0} for v in (True, "b", 2.5, ObjectId(), None, Int64(7), -3, "a",
                                                               datetime(2020, 1, 1, tzinfo=UTC))])
        order = [d["_id"] for d in await mixed.find({}).sort("_id", 1).limit(20).to_list()]
        assert order[:7] == [None, -3, 2.5, 7, "a", "b", order[6]] and isinstance(order[6], ObjectId)
        assert order[7:] == [True, datetime(2020, 1, 1, tzinfo=UTC)]
    finally:
        await client.drop_database(f"{namespace}_by_id")
        await client.close()
