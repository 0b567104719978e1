"""The ack's write of the poll head (services/notifications/poll_heads.py ack_write) on the real store: the
stored head becomes exactly the head the responder computed and remembers (a $pull of the acknowledged message,
or the whole head when the window was read again), and not at all when another writer changed it since."""

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient, ReplaceOne, UpdateOne

from services.notifications.poll_heads import WINDOW, Head, PollHeads
from tests.integration.infra import MONGODB_URL

T0 = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)


def message(msg_id: int) -> dict[str, Any]:
    return {"_id": msg_id, "registrar_id": "a100001", "queued_at": T0 + timedelta(seconds=msg_id), "acked_at": None,
            "expires_at": T0 + timedelta(days=365), "text": f"message {msg_id}", "fields": {"n": str(msg_id)}}


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

        async def ack(before: Head, msg_id: int) -> tuple[Head, UpdateOne | ReplaceOne, int]:
            await db["poll_messages"].update_one({"_id": msg_id}, {"$set": {"acked_at": T0}})
            async with client.start_session() as session, await session.start_transaction():
                after = await heads.after_ack(before, msg_id, T0, session)
                write = heads.ack_write(before, after, msg_id)
                done = await client.bulk_write([write], session=session)
            return after, write, done.matched_count

        def stored_as(after: Head) -> dict[str, Any]:
            return {"_id": after.registrar_id, "count": after.count, "next": after.next,
                    "expires_min": after.expires_min, "rev": after.rev}

        # an ack inside the window: the message pulled out, the rest as it was
        after, write, matched = await ack(head, 1)
        assert isinstance(write, UpdateOne) and matched == 1
        assert await db["poll_heads"].find_one({"_id": "a100001"}) == stored_as(after)
        assert [d["_id"] for d in after.next] == list(range(2, WINDOW + 1)) and after.count == WINDOW + 1

        # written by someone else since (another replica, the web site): nothing written
        _, _, matched = await ack(head, 2)
        assert matched == 0
        assert await db["poll_heads"].find_one({"_id": "a100001"}) == stored_as(after)

        # down to the window's last message: the next ack reads the queue again and writes the whole head
        before = Head("a100001", count=3, next=[message(WINDOW)], expires_min=after.expires_min, rev=after.rev)
        await db["poll_heads"].replace_one({"_id": "a100001"}, before.document())
        await db["poll_messages"].update_many({"_id": {"$lt": WINDOW}}, {"$set": {"acked_at": T0}})
        after, write, matched = await ack(before, WINDOW)
        assert isinstance(write, ReplaceOne) and matched == 1
        assert [d["_id"] for d in after.next] == [WINDOW + 1, WINDOW + 2]
        assert await db["poll_heads"].find_one({"_id": "a100001"}) == stored_as(after)

        # the last ones: an empty head with no expiry
        after, _, _ = await ack(after, WINDOW + 1)
        after, write, matched = await ack(after, WINDOW + 2)
        assert isinstance(write, UpdateOne) and matched == 1 and (after.count, after.next) == (0, [])
        assert await db["poll_heads"].find_one({"_id": "a100001"}) == stored_as(after)
        assert after.expires_min is None
    finally:
        await client.close()
