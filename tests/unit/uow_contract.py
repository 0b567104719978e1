"""The unit of work's contract, written once and run against every implementation (eventsourcing's
tests/persistence.py pattern): tests/unit/test_uow_memory.py runs it on the in-memory one,
tests/integration/test_uow_mongo.py on MongoDB (the real stand-in). A subclass gives the `uow` fixture and
says how to read what was published."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.registry.uow import DuplicateKey, Tx, UnitOfWork
from shared.clock import ManualClock
from shared.events import EventEnvelope, new_event
from shared.events.groups import NameServerGroupDeleted

CLOCK = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


def event(name: str) -> EventEnvelope[Any]:
    return new_event(NameServerGroupDeleted(name=name), registrar_id="a1", correlation_id=None, clock=CLOCK)


class UnitOfWorkContract:
    """Subclasses provide the `uow` fixture (an empty store whose nsgroups are unique per (registrar_id, name))
    and `published`."""

    async def published(self, uow: UnitOfWork) -> list[str]:
        """The event ids committed so far, in order."""
        raise NotImplementedError

    async def seed(self, uow: UnitOfWork, collection: str, *docs: dict[str, Any]) -> None:
        async def work(tx: Tx) -> None:
            await tx[collection].insert_many([dict(d) for d in docs])

        await uow.run(work)

    async def test_a_committed_write_and_its_events_are_there_together(self, uow: UnitOfWork) -> None:
        first, second = event("one"), event("two")

        async def work(tx: Tx) -> str:
            await tx["domains"].insert_one({"_id": "a.be", "registrar_id": "a1"})
            tx.publish([first])
            tx.publish([second])
            return "done"

        assert await uow.run(work) == "done"
        assert await uow["domains"].find_one({"_id": "a.be"}) == {"_id": "a.be", "registrar_id": "a1"}
        assert await self.published(uow) == [str(first.event_id), str(second.event_id)]

    async def test_a_failed_work_leaves_nothing_behind(self, uow: UnitOfWork) -> None:
        await self.seed(uow, "domains", {"_id": "a.be", "n": 1})

        async def work(tx: Tx) -> None:
            await tx["domains"].update_one({"_id": "a.be"}, {"$set": {"n": 2}})
            await tx["domains"].insert_one({"_id": "b.be"})
            tx.publish([event("lost")])
            raise LookupError("refused")

        with pytest.raises(LookupError):
            await uow.run(work)
        assert await uow["domains"].find({}).to_list() == [{"_id": "a.be", "n": 1}]
        assert await self.published(uow) == []

    async def test_what_runs_after_the_commit_runs_then_and_never_for_a_failed_work(self, uow: UnitOfWork) -> None:
        ran: list[str] = []

        async def work(tx: Tx) -> None:
            await tx["domains"].insert_one({"_id": "a.be"})
            tx.after_commit(lambda: ran.append("a.be"))
            assert ran == []  # not before the commit

        await uow.run(work)
        assert ran == ["a.be"]

        async def failing(tx: Tx) -> None:
            tx.after_commit(lambda: ran.append("failed"))
            raise LookupError("refused")

        with pytest.raises(LookupError):
            await uow.run(failing)
        assert ran == ["a.be"]

    async def test_work_reads_its_own_writes(self, uow: UnitOfWork) -> None:
        async def work(tx: Tx) -> dict[str, Any] | None:
            await tx["contacts"].insert_one({"_id": "c1", "type": "TECH"})
            await tx["contacts"].update_one({"_id": "c1"}, {"$set": {"type": "BILLING"}})
            return await tx["contacts"].find_one({"_id": "c1"})

        assert await uow.run(work) == {"_id": "c1", "type": "BILLING"}

    async def test_an_id_or_unique_index_taken_is_a_duplicate_key(self, uow: UnitOfWork) -> None:
        await self.seed(uow, "domains", {"_id": "a.be"})
        await self.seed(uow, "nsgroups", {"registrar_id": "a1", "name": "g"})

        async def same_id(tx: Tx) -> None:
            await tx["domains"].insert_one({"_id": "a.be"})

        async def same_name(tx: Tx) -> None:
            await tx["nsgroups"].insert_one({"registrar_id": "a1", "name": "g"})

        async def other_registrar(tx: Tx) -> None:
            await tx["nsgroups"].insert_one({"registrar_id": "a2", "name": "g"})

        for work in (same_id, same_name):
            with pytest.raises(DuplicateKey):
                await uow.run(work)
        await uow.run(other_registrar)
        assert await uow["nsgroups"].count_documents({"name": "g"}) == 2

    async def test_an_insert_without_id_gets_one(self, uow: UnitOfWork) -> None:
        doc: dict[str, Any] = {"registrar_id": "a1", "name": "g"}

        async def work(tx: Tx) -> None:
            await tx["nsgroups"].insert_one(doc)

        await uow.run(work)
        assert (await uow["nsgroups"].find_one({"name": "g"}) or {})["_id"] == doc["_id"]

    async def test_queries(self, uow: UnitOfWork) -> None:
        t = datetime(2026, 3, 1, tzinfo=UTC)
        await self.seed(uow, "domains",
                        {"_id": "a.be", "registrar_id": "a1", "contacts": ["c1", "c2"], "at": t, "override": {"kind": "v"}},
                        {"_id": "b.be", "registrar_id": "a1", "contacts": ["c3"], "at": t + timedelta(days=1),
                         "flag": None},
                        {"_id": "c.be", "registrar_id": "a2", "contacts": [], "at": t + timedelta(days=2)})

        async def ids(filter: dict[str, Any]) -> list[str]:
            return sorted(d["_id"] for d in await uow["domains"].find(filter, {"_id": 1}).to_list())

        assert await ids({"registrar_id": "a1"}) == ["a.be", "b.be"]
        assert await ids({"contacts": "c2"}) == ["a.be"]  # an array holds the value
        assert await ids({"_id": {"$in": ["a.be", "c.be", "x.be"]}}) == ["a.be", "c.be"]
        assert await ids({"contacts": {"$in": ["c3", "c9"]}}) == ["b.be"]
        assert await ids({"registrar_id": {"$ne": "a1"}}) == ["c.be"]
        assert await ids({"override": {"$ne": None}}) == ["a.be"]
        assert await ids({"flag": None}) == ["a.be", "b.be", "c.be"]  # null matches missing too
        assert await ids({"override": {"$exists": True}}) == ["a.be"]
        assert await ids({"override.kind": "v"}) == ["a.be"]  # a dotted path
        assert await ids({"at": {"$lte": t + timedelta(days=1)}}) == ["a.be", "b.be"]
        assert await ids({"at": {"$gt": t, "$lt": t + timedelta(days=2)}}) == ["b.be"]
        assert await ids({"$or": [{"registrar_id": "a2"}, {"contacts": "c1"}]}) == ["a.be", "c.be"]
        assert await ids({"contacts.1": {"$exists": True}}) == ["a.be"]  # a position in an array
        assert await ids({"contacts.1": {"$exists": False}}) == ["b.be", "c.be"]
        assert await ids({"contacts.0": "c3"}) == ["b.be"]
        assert await uow["domains"].count_documents({"registrar_id": "a1", "contacts": {"$nin": ["c1"]}}) == 1

    async def test_projection_sort_and_limit(self, uow: UnitOfWork) -> None:
        await self.seed(uow, "registrars",
                        {"_id": "a1", "name": "B", "epp_settings": {"poll": True, "ip": ["::1"]}, "n": 2},
                        {"_id": "a2", "name": "A", "epp_settings": {"poll": False}, "n": 1},
                        {"_id": "a3", "name": "C", "n": 3})
        assert await uow["registrars"].find_one({"_id": "a1"}, {"epp_settings.poll": 1}) == \
            {"_id": "a1", "epp_settings": {"poll": True}}
        assert await uow["registrars"].find_one({"_id": "a2"}, {"name": 1, "_id": 0}) == {"name": "A"}
        names = [d["name"] for d in await uow["registrars"].find({}).sort("name", 1).to_list()]
        assert names == ["A", "B", "C"]
        newest = await uow["registrars"].find({}).sort([("n", -1)]).limit(2).to_list()
        assert [d["_id"] for d in newest] == ["a3", "a1"]
        assert [d["_id"] async for d in uow["registrars"].find({"n": {"$gte": 2}}).sort("_id", 1)] == ["a1", "a3"]

    async def test_updates(self, uow: UnitOfWork) -> None:
        await self.seed(uow, "domains", {"_id": "a.be", "statuses": ["x"], "balance": 10, "old": 1,
                                         "code": {"sends": 1, "hash": "h"}},
                        {"_id": "b.be", "statuses": []})

        async def work(tx: Tx) -> list[int]:
            d = tx["domains"]
            return [
                await d.update_one({"_id": "a.be"}, {"$addToSet": {"statuses": "y"}}),
                await d.update_one({"_id": "a.be"}, {"$addToSet": {"statuses": "y"}}),
                await d.update_one({"_id": "a.be"}, {"$pull": {"statuses": "x"}}),
                await d.update_one({"_id": "a.be"}, {"$inc": {"balance": -4, "code.sends": 1}}),
                await d.update_one({"_id": "a.be"}, {"$set": {"code.hash": "k", "new": [1]}, "$unset": {"old": ""}}),
                await d.update_one({"_id": "nope"}, {"$set": {"x": 1}}),
                await d.update_many({"statuses": {"$exists": True}}, {"$set": {"seen": True}}),
                await d.update_one({"_id": "a.be"}, {"$push": {"lines": {"n": 1}}}),  # a new array
                await d.update_one({"_id": "a.be"}, {"$push": {"lines": {"n": 2}}, "$inc": {"balance": 1}}),
            ]

        assert await uow.run(work) == [1, 1, 1, 1, 1, 0, 2, 1, 1]
        assert await uow["domains"].find_one({"_id": "a.be"}) == {
            "_id": "a.be", "statuses": ["y"], "balance": 7, "code": {"sends": 2, "hash": "k"}, "new": [1], "seen": True,
            "lines": [{"n": 1}, {"n": 2}]}

    async def test_deletes(self, uow: UnitOfWork) -> None:
        await self.seed(uow, "sessions", {"_id": 1, "user": "u"}, {"_id": 2, "user": "u"}, {"_id": 3, "user": "v"})

        async def work(tx: Tx) -> tuple[int, int, int]:
            return (await tx["sessions"].delete_one({"_id": 3}), await tx["sessions"].delete_many({"user": "u"}),
                    await tx["sessions"].delete_one({"_id": 3}))

        assert await uow.run(work) == (1, 2, 0)
        assert await uow["sessions"].count_documents({}) == 0

    async def test_datetimes_come_back_in_utc_to_the_millisecond(self, uow: UnitOfWork) -> None:
        brussels = timezone(timedelta(hours=1))
        await self.seed(uow, "ledger", {"_id": "x", "at": datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=brussels)})
        stored = await uow["ledger"].find_one({"_id": "x"})
        assert stored == {"_id": "x", "at": datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)}
        assert stored["at"].utcoffset() == timedelta(0)
