"""EPP acks recorded in the registrar's poll head and settled afterwards (services/notifications/poll_settlement.py),
through the real broker and store: an ack answered before a crash is settled once by the next process, the web
page and the web ack treat an unsettled ack as done, an enqueue and a rebuild keep it, two settlers at once write
one event per ack, and a process that stops settles what it answered."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from services.notifications.app import build as build_notifications
from services.notifications.poll_settlement import AckSettlement
from services.notifications.service import Notifications, notifications_of
from shared.poll_rpc import PollRequest
from shared.runtime import ServiceContext
from tests.integration import test_notifications
from tests.integration.epp_client import EppClient
from tests.integration.infra import EventTap, eventually, login, running
from tests.integration.test_notifications import DEMO, START, Platform, notifications_settings, threshold

platform = test_notifications.platform  # registry (EPP on a free port) and notifications, demo registrars on poll


async def queued(p: Platform, count: int) -> list[str]:
    """`count` poll messages queued for the demo registrar; their ids in queue order."""
    await p.publish(*(p.event(threshold(80 + i)) for i in range(count)))
    return [m["msg_id"] for m in (await p.queue(await login(p.registry), count))["messages"]]


async def req_ack(client: EppClient) -> str:
    req = await client.command('<poll op="req"/>')
    msgq = req.find("epp:response/epp:msgQ")
    assert req.code == 1301 and msgq is not None, req.xml
    msg_id = str(msgq.get("id"))
    assert (await client.command(f'<poll op="ack" msgID="{msg_id}"/>')).code == 1000
    return msg_id


async def unsettled(p: Platform) -> list[str]:
    head = await p.ctx.db["poll_heads"].find_one({"_id": DEMO}) or {}
    return [str(e["_id"]) for e in head.get("acked") or []]


async def acked_at(p: Platform, msg_id: str) -> Any:
    return (await p.ctx.db["poll_messages"].find_one({"_id": int(msg_id)}) or {}).get("acked_at")


def settled_by(ctx: ServiceContext) -> float:
    return ctx.metrics.registry.get_sample_value("notifications_poll_acks_settled_total") or 0.0


async def test_an_ack_answered_before_a_crash_is_settled_once_by_the_next_process(platform: Platform) -> None:
    """The ack is in the head the moment it is answered: until settled, the web page leaves the message out, a web
    ack of it gets 404 (EPP 2303), a new message joins the queue beside it; the process dies without settling and
    the next one's start-up sweep marks the message acknowledged and publishes notification.acknowledged once."""
    app = notifications_of(platform.ctx)
    app.settlement.abandon()  # this process "crashes" before it settles anything
    ids = await queued(platform, 3)
    me = await login(platform.registry)
    async with EventTap(platform.namespace, "notification.acknowledged") as tap:
        client = await platform.epp()
        first = await req_ack(client)
        assert first == ids[0]
        assert await unsettled(platform) == [first] and await acked_at(platform, first) is None

        page = await platform.queue(me, 2)  # acknowledged for the web page too, before settlement
        assert [m["msg_id"] for m in page["messages"]] == ids[1:]
        r = await platform.notifications.post(f"/api/poll/messages/{first}/ack", headers=me)
        assert r.status_code == 404
        assert (await client.command(f'<poll op="ack" msgID="{first}"/>')).code == 2303

        # a message queued before settlement joins the queue; the head keeps the ack
        await platform.publish(platform.event(threshold(99)))
        page = await platform.queue(me, 3)
        assert first not in [m["msg_id"] for m in page["messages"]]
        assert await unsettled(platform) == [first]
        req = await client.command('<poll op="req"/>')
        assert req.code == 1301 and req.find("epp:response/epp:msgQ").get("count") == "3"  # type: ignore[union-attr]
        await asyncio.sleep(0.5)
        assert tap.of("notification.acknowledged") == [] and await acked_at(platform, first) is None

        second = build_notifications(notifications_settings(platform.namespace, platform.smtp.port,
                                                            instance_id="replica-2"), clock=platform.clock)
        async with running(second) as replica:
            replica_ctx: ServiceContext = replica._transport.app.state.ctx  # type: ignore[attr-defined]
            await eventually(lambda: acked_at(platform, first), lambda at: at is not None)
            assert await unsettled(platform) == []
            events = await tap.wait_for("notification.acknowledged")
            await asyncio.sleep(0.5)  # anything more would be a second one
            events = tap.of("notification.acknowledged")
            assert [(e["payload"]["msg_id"], e["payload"]["channel"]) for e in events] == [(first, "epp")]
            assert settled_by(replica_ctx) == 1
        stored = await platform.ctx.db["poll_messages"].find_one({"_id": int(first)})
        assert stored is not None and stored["acked_via"] == "epp"
        assert (await platform.queue(me, 3))["count"] == 3
        await client.close()


async def test_two_settlers_at_once_write_one_event_per_ack(platform: Platform) -> None:
    app = notifications_of(platform.ctx)
    app.settlement.abandon()
    await queued(platform, 3)
    client = await platform.epp()
    acked = [await req_ack(client) for _ in range(3)]
    assert await unsettled(platform) == acked
    async with EventTap(platform.namespace, "notification.acknowledged") as tap:
        settlers = [app.settlement, *(AckSettlement(platform.ctx, app.metrics, 0.1) for _ in range(2))]
        done = await asyncio.gather(*(s.settle(DEMO) for s in settlers))
        assert sorted(done) == [0, 0, 3]
        await tap.wait_for("notification.acknowledged", 3)
        await asyncio.sleep(0.5)
        assert sorted(e["payload"]["msg_id"] for e in tap.of("notification.acknowledged")) == sorted(acked)
    assert await unsettled(platform) == []
    for msg_id in acked:
        assert await acked_at(platform, msg_id) is not None
    await client.close()


async def test_a_rebuilt_head_keeps_its_unsettled_acks_acknowledged(platform: Platform) -> None:
    """A head that must be rebuilt (a message in it may have expired) settles what it holds first: the message
    acknowledged over EPP is not served again, and its event is written once."""
    app = notifications_of(platform.ctx)
    app.settlement.abandon()
    ids = await queued(platform, 3)
    client = await platform.epp()
    first = await req_ack(client)
    await platform.ctx.db["poll_heads"].update_one({"_id": DEMO}, {"$set": {"expires_min": START}})  # stale
    async with EventTap(platform.namespace, "notification.acknowledged") as tap:
        req = await client.command('<poll op="req"/>')
        msgq = req.find("epp:response/epp:msgQ")
        assert req.code == 1301 and msgq is not None and (msgq.get("id"), msgq.get("count")) == (ids[1], "2")
        assert await unsettled(platform) == [] and await acked_at(platform, first) is not None
        await tap.wait_for("notification.acknowledged")
        await asyncio.sleep(0.5)
        assert [e["payload"]["msg_id"] for e in tap.of("notification.acknowledged")] == [first]
    await client.close()


async def test_a_stopping_process_settles_the_acks_it_answered(platform: Platform) -> None:
    await queued(platform, 2)
    second = build_notifications(notifications_settings(platform.namespace, platform.smtp.port,
                                                        instance_id="replica-2", poll_settle_seconds=10),
                                 clock=platform.clock)
    async with running(second) as replica:
        other: Notifications = notifications_of(replica._transport.app.state.ctx)  # type: ignore[attr-defined]
        req = await other.poll(PollRequest(registrar_id=DEMO, op="req"))
        assert req.head is not None
        assert (await other.poll(PollRequest(registrar_id=DEMO, op="ack", msg_id=req.head.msg_id))).code == 1000
        assert await unsettled(platform) == [req.head.msg_id]  # settled only in 10 s
    assert await unsettled(platform) == [] and await acked_at(platform, req.head.msg_id) is not None


async def test_a_message_close_to_its_expiry_is_acknowledged_and_settled_at_once(platform: Platform) -> None:
    """An ack recorded in the head must be settled before the TTL could remove the message: within SETTLE_MARGIN
    of its expiry the ack is written in a transaction instead (the message marked, its event written at once)."""
    notifications_of(platform.ctx).settlement.abandon()
    ids = await queued(platform, 2)
    client = await platform.epp()
    assert await req_ack(client) == ids[0]
    assert await unsettled(platform) == [ids[0]]  # through the head
    await client.close()
    platform.clock.advance(timedelta(days=360))  # five days left
    client = await platform.epp()
    assert await req_ack(client) == ids[1]
    assert await unsettled(platform) == [ids[0]] and await acked_at(platform, ids[1]) is not None
    await client.close()
