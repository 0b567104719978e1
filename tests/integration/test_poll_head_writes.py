"""The ack's write of the poll head (services/notifications/poll_heads.py acknowledge) on the real store: one update
that makes the stored head exactly the head the responder computed and remembers (the acknowledged message pulled
out, or the whole window when it was read again) and records the ack in the head's `acked` list; not at all when
another writer changed the head since, or when the head holds ACKED_MAX unsettled acks. A refill of the window and
a rebuild never take a message whose ack the head holds."""

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from services.notifications.poll_heads import WINDOW, Head, PollHeads
from services.notifications.poll_settlement import ACKED_MAX, ack_entry
from tests.integration.infra import MONGODB_URL

T0 = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)
RETENTION = timedelta(days=90)


def message(msg_id: int) -> dict[str, Any]:
    return {"_id": msg_id, "registrar_id": "a100001", "message": "hitpoints.threshold_reached",
            "queued_at": T0 + timedelta(seconds=msg_id), "acked_at": None, "expires_at": T0 + timedelta(days=365),
            "text": f"message {msg_id}", "fields": {"n": str(msg_id)}, "event_id": f"e{msg_id}"}


async def test_the_stored_head_becomes_the_remembered_one_or_stays_when_it_moved(namespace: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    db = client[f"{namespace}_notifications"]
    heads = PollHeads(db)
    messages = [message(i) for i in range(1, WINDOW + 3)]
    try:
        await db["poll_messages"].insert_many(messages)
        async with client.start_session() as session, await session.start_transaction():
            head = await heads.rebuild("a100001", T0, session)
        assert head.count == WINDOW + 2 and len(head.next) == WINDOW

        async def ack(before: Head, msg_id: int) -> tuple[Head, dict[str, Any], bool]:
            after = await heads.after_ack(before, msg_id, T0)
            assert after is not None
            entry = ack_entry(msg_id, "epp", T0, RETENTION)
            return after, entry, await heads.acknowledge(before, after, entry)

        def stored_as(after: Head, acked: list[dict[str, Any]]) -> dict[str, Any]:
            return {"_id": after.registrar_id, "count": after.count, "next": after.next,
                    "expires_min": after.expires_min, "rev": after.rev, "acked": acked}

        # an ack inside the window: the message pulled out, the rest as it was, the ack recorded
        after, first, written = await ack(head, 1)
        assert written
        assert await db["poll_heads"].find_one({"_id": "a100001"}) == stored_as(after, [first])
        assert [d["_id"] for d in after.next] == list(range(2, WINDOW + 1)) and after.count == WINDOW + 1
        assert first["event_id"] and (first["via"], first["at"], first["until"]) == ("epp", T0, T0 + RETENTION)
        # poll_messages still says open: the head is where the ack is, until it is settled
        assert (await db["poll_messages"].find_one({"_id": 1}) or {})["acked_at"] is None

        # written by someone else since (another replica, the web site): nothing written
        _, _, written = await ack(head, 2)
        assert not written
        assert await db["poll_heads"].find_one({"_id": "a100001"}) == stored_as(after, [first])

        # down to the window's last message: the next ack reads the queue again, leaves out what the head holds
        # acknowledged (message 1, unsettled; WINDOW + 1 too, recorded by this process), and sets the whole window
        acked_beyond = ack_entry(WINDOW + 1, "epp", T0, RETENTION)
        await db["poll_messages"].update_many({"_id": {"$gt": 1, "$lt": WINDOW}}, {"$set": {"acked_at": T0}})
        before = Head("a100001", count=2, next=[message(WINDOW)], expires_min=after.expires_min)
        await db["poll_heads"].update_one({"_id": "a100001"}, {"$set": before.fields(),
                                                               "$push": {"acked": acked_beyond}})
        after, last, written = await ack(before, WINDOW)
        assert written and [d["_id"] for d in after.next] == [WINDOW + 2] and after.count == 1
        assert await db["poll_heads"].find_one({"_id": "a100001"}) == stored_as(after, [first, acked_beyond, last])

        # a rebuild settles what the head holds first: none of it is counted open again
        async with client.start_session() as session, await session.start_transaction():
            rebuilt = await heads.rebuild("a100001", T0, session)
        assert [d["_id"] for d in rebuilt.next] == [WINDOW + 2] and rebuilt.count == 1
        stored = await db["poll_heads"].find_one({"_id": "a100001"})
        assert stored is not None and stored["acked"] == []
        for entry in (first, acked_beyond, last):
            settled = await db["poll_messages"].find_one({"_id": entry["_id"]})
            assert settled is not None and (settled["acked_at"], settled["acked_via"], settled["expires_at"]) == (
                T0, "epp", T0 + RETENTION)
        events = await db["outbox"].find({"event_type": "notification.acknowledged"}).to_list()
        assert sorted(e["event_id"] for e in events) == sorted(e["event_id"] for e in (first, acked_beyond, last))

        # the last one: an empty head with no expiry
        after, _, written = await ack(rebuilt, WINDOW + 2)
        assert written and (after.count, after.next, after.expires_min) == (0, [], None)
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_a_head_takes_no_more_than_acked_max_unsettled_acks(namespace: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    db = client[f"{namespace}_notifications"]
    heads = PollHeads(db)
    try:
        await db["poll_messages"].insert_many([message(i) for i in range(1, 4)])
        async with client.start_session() as session, await session.start_transaction():
            head = await heads.rebuild("a100001", T0, session)
        full = [ack_entry(1000 + i, "epp", T0, RETENTION) for i in range(ACKED_MAX)]
        await db["poll_heads"].update_one({"_id": "a100001"}, {"$set": {"acked": full}})
        after = await heads.after_ack(head, 1, T0)
        assert after is not None
        assert not await heads.acknowledge(head, after, ack_entry(1, "epp", T0, RETENTION))
        await db["poll_heads"].update_one({"_id": "a100001"}, {"$pop": {"acked": 1}})
        assert await heads.acknowledge(head, after, ack_entry(1, "epp", T0, RETENTION))
    finally:
        await client.drop_database(db.name)
        await client.close()
