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
