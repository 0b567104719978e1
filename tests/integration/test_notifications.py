"""The notifications service with the registry, through the real broker, the real database and a real SMTP
server on loopback (aiosmtpd): routing by EPP poll setting, the CPS mail byte for byte, the poll queue over
EPP (registry EPP server -> broker -> notifications -> reply) and over HTTP, categories and languages,
registrant mails with sealed values, bounces, transient SMTP failures, redelivery."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import aio_pika
import httpx
import pytest
from pymongo.asynchronous.client_session import AsyncClientSession

from services.notifications.app import build as build_notifications
from services.notifications.cps import cps, stamp
from services.notifications.messages import STRUCTURED
from services.notifications.poll_heads import READ_AHEAD, WINDOW
from services.notifications.service import notifications_of
from services.notifications.settings import NotificationsSettings
from services.registry.app import build as build_registry
from services.registry.epp.poll_commands import POLL_SWITCH_SECONDS
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from shared.clock import BRUSSELS, ManualClock
from shared.events import EventEnvelope, new_event
from shared.events.domains import TransferCodeSent
from shared.events.feeds import DomainInViolation, TransferUndone
from shared.events.hitpoints import HitpointsThresholdReached
from shared.events.reports import QuarterlyReportReady
from shared.events.verification import (
    VERIFICATION_LINK_SEAL,
    VerificationLinkResent,
    VerificationRequired,
    VerificationSupportNotice,
)
from shared.mongo.transactions import in_transaction
from shared.poll_rpc import POLL_QUEUE, PollReply, PollRequest
from shared.runtime import ServiceContext
from shared.sealing import Sealer
from tests.integration.epp_client import EppClient
from tests.integration.infra import AMQP_URL, OPERATOR, EventTap, eventually, login, running
from tests.integration.smtp_server import SmtpCatcher, body_of

START = datetime(2027, 3, 10, 9, 30, tzinfo=BRUSSELS)
DEMO, OTHER = "a100001", "b200002"


def notifications_settings(namespace: str, smtp_port: int, **extra: Any) -> NotificationsSettings:
    return NotificationsSettings(namespace=namespace, outbox_poll_seconds=0.05, operator_token="operator-dev-token",
                                 smtp_port=smtp_port, dispatch_poll_seconds=0.1, mail_retry_after_seconds=0.2,
                                 gauges_interval_seconds=0.5, **extra)


@dataclass
class Platform:
    registry: httpx.AsyncClient
    notifications: httpx.AsyncClient
    smtp: SmtpCatcher
    clock: ManualClock
    namespace: str

    @property
    def registry_ctx(self) -> ServiceContext:
        return self.registry._transport.app.state.ctx  # type: ignore[attr-defined]

    @property
    def ctx(self) -> ServiceContext:
        return self.notifications._transport.app.state.ctx  # type: ignore[attr-defined]

    async def publish(self, *events: EventEnvelope[Any]) -> None:
        """Through the registry's outbox, as the platform's own events travel."""
        ctx = self.registry_ctx

        async def work(session: AsyncClientSession) -> None:
            await ctx.outbox.add(list(events), session)

        await in_transaction(ctx.client, work)
        ctx.committed()

    def event(self, payload: Any, registrar_id: str | None = DEMO) -> EventEnvelope[Any]:
        return new_event(payload, registrar_id=registrar_id, correlation_id=None, clock=self.clock)

    async def registrar_known(self, registrar_id: str, accept: Callable[[dict], bool]) -> dict:
        async def probe() -> dict:
            return await self.ctx.db["registrars"].find_one({"_id": registrar_id}) or {}

        return await eventually(probe, accept)

    async def queue(self, headers: dict[str, str], count: int) -> dict[str, Any]:
        async def probe() -> dict[str, Any]:
            r = await self.notifications.get("/api/poll/messages", headers=headers)
            assert r.status_code == 200, r.text
            return r.json()

        # count and list are two reads: wait until both see the same queue
        return await eventually(probe, lambda q: q["count"] == count and len(q["messages"]) == min(count, 50))

    async def mails(self, address: str, count: int, timeout: float = 20) -> list:
        async def probe() -> list:
            return self.smtp.to(address)

        return await eventually(probe, lambda m: len(m) >= count, timeout=timeout)

    async def epp(self) -> EppClient:
        client = EppClient(self.registry_ctx.extras["epp_port"])
        await client.connect()
        assert (await client.login()).code == 1000
        return client


@pytest.fixture
async def platform(namespace: str, request: pytest.FixtureRequest) -> AsyncIterator[Platform]:
    clock = ManualClock(START)
    async with SmtpCatcher() as smtp:
        registry_settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                             operator_token="operator-dev-token", epp_port=0,
                                             **getattr(request, "param", {}))
        notifications = build_notifications(notifications_settings(namespace, smtp.port), clock=clock)
        async with running(notifications) as notes, running(build_registry(registry_settings, clock=clock)) as reg:
            platform = Platform(reg, notes, smtp, clock, namespace)
            await seed_demo_registrar(platform.registry_ctx, registry_settings, OTHER)
            await platform.registrar_known(DEMO, lambda d: d.get("poll") is True and "email" in d)
            await platform.registrar_known(OTHER, lambda d: d.get("poll") is True)
            yield platform


def threshold(percent: int = 80) -> HitpointsThresholdReached:
    return HitpointsThresholdReached(percent=percent, hitpoints=80, limit=100, reached_at=START)


async def test_poll_on_queues_the_message_and_epp_serves_it_once(platform: Platform) -> None:
    me = await login(platform.registry)
    first, second = platform.event(threshold(80)), platform.event(threshold(100))
    await platform.publish(first)
    await platform.queue(me, 1)
    platform.clock.advance(timedelta(seconds=2))
    await platform.publish(second)
    queue = await platform.queue(me, 2)
    assert [m["fields"]["percent"] for m in queue["messages"]] == ["80", "100"]  # oldest first
    assert platform.smtp.messages == []  # poll on: no CPS mail

    client = await platform.epp()
    req = await client.command('<poll op="req"/>')
    assert req.code == 1301 and req.message == "Command completed successfully; ack to dequeue"
    msgq = req.find("epp:response/epp:msgQ")
    assert msgq is not None and msgq.get("count") == "2"
    msg_id = msgq.get("id")
    assert msg_id == queue["messages"][0]["msg_id"]
    assert msg_id is not None and msg_id.isdigit(), msg_id  # numeric: what EPP clients read the id as
    assert req.text("epp:response/epp:msgQ/epp:qDate") == stamp(START)
    assert req.text("epp:response/epp:msgQ/epp:msg") == "Hitpoint threshold reached"  # demo languages: en, nl
    assert req.find("epp:response/epp:msgQ/epp:msg").get("lang") is None  # type: ignore[union-attr]  # en: default
    res = req.find("epp:response/epp:resData/dnsbe:pollRes")
    assert res is not None
    assert [(child.tag.split("}")[1], child.text) for child in res] == [
        ("type", "HITPOINTS"), ("action", "THRESHOLD REACHED"), ("percent", "80"), ("hitpoints", "80"),
        ("limit", "100"), ("date", stamp(START)), ("returncode", "1000")]
    assert (await client.command('<poll op="req"/>')).find("epp:response/epp:msgQ").get("id") == msg_id  # type: ignore[union-attr]

    ack = await client.command(f'<poll op="ack" msgID="{msg_id}"/>')
    assert ack.code == 1000
    assert ack.find("epp:response/epp:msgQ").get("count") == "1"  # type: ignore[union-attr]
    again = await client.command(f'<poll op="ack" msgID="{msg_id}"/>')
    assert again.code == 2303  # acknowledged once
    # the second message is acknowledged on the web site: EPP cannot acknowledge it again
    web_id = (await platform.queue(me, 1))["messages"][0]["msg_id"]
    assert int(web_id) == int(msg_id) + 1  # one sequence, in queueing order
    r = await platform.notifications.post(f"/api/poll/messages/{web_id}/ack", headers=me)
    assert r.status_code == 200 and r.json()["count"] == 0
    assert (await client.command(f'<poll op="ack" msgID="{web_id}"/>')).code == 2303
    assert (await platform.notifications.post(f"/api/poll/messages/{web_id}/ack", headers=me)).status_code == 404
    empty = await client.command('<poll op="req"/>')
    assert empty.code == 1300 and empty.find("epp:response/epp:msgQ") is None
    await client.close()


async def test_the_poll_msg_is_in_the_registrars_first_language_and_says_so(platform: Platform) -> None:
    me = await login(platform.registry)
    profile = (await platform.registry.get("/api/registrar", headers=me)).json()["profile"]
    r = await platform.registry.put("/api/registrar/profile", headers=me, json=profile | {"languages": ["nl", "en"]})
    assert r.status_code == 200, r.text
    await platform.registrar_known(DEMO, lambda d: d.get("languages") == ["nl", "en"])
    await platform.publish(platform.event(threshold(80)))
    await platform.queue(me, 1)
    client = await platform.epp()
    req = await client.command('<poll op="req"/>')
    msg = req.find("epp:response/epp:msgQ/epp:msg")
    assert msg is not None and (msg.text, msg.get("lang")) == ("Hitpointdrempel bereikt", "nl")
    await client.close()


async def test_registrars_see_only_their_own_queue(platform: Platform) -> None:
    await platform.publish(platform.event(threshold(), registrar_id=OTHER))
    other = await login(platform.registry, OTHER)
    queued = await platform.queue(other, 1)
    me = await login(platform.registry)
    assert (await platform.queue(me, 0))["messages"] == []
    r = await platform.notifications.post(f"/api/poll/messages/{queued['messages'][0]['msg_id']}/ack", headers=me)
    assert r.status_code == 404
    client = await platform.epp()
    answer = await client.command(f'<poll op="ack" msgID="{queued["messages"][0]["msg_id"]}"/>')
    assert answer.code == 2303
    await platform.queue(other, 1)
    assert (await platform.notifications.get("/api/poll/messages")).status_code == 401


async def test_registry_desk_feeds_reach_the_registrars(platform: Platform) -> None:
    """An outside tool publishes straight to the exchange (not through an outbox), as feeds do."""
    undone = TransferUndone(name="terug.be", gaining_registrar_id=OTHER, losing_registrar_id=DEMO, undone_at=START)
    await platform.ctx.publisher.publish(platform.event(undone))
    await platform.ctx.publisher.publish(platform.event(DomainInViolation(name="fout.be", reason="Incorrect data")))
    me, other = await login(platform.registry), await login(platform.registry, OTHER)
    mine = (await platform.queue(me, 2))["messages"]
    theirs = (await platform.queue(other, 1))["messages"]
    assert [(m["message"], m["fields"]["domainname"]) for m in mine] == [("transfer.undone", "terug.be"),
                                                                         ("domain.in_violation", "fout.be")]
    assert [(m["message"], m["fields"]["returncode"]) for m in theirs] == [("transfer.undone", "1000")]


async def test_poll_off_sends_the_cps_mail_at_once_byte_for_byte(platform: Platform) -> None:
    me = await login(platform.registry)
    r = await platform.registry.put("/api/registrar/epp-settings", headers=me,
                                    json={"poll": False, "ip_addresses": ["127.0.0.1", "::1"]})
    assert r.status_code == 200, r.text
    await platform.registrar_known(DEMO, lambda d: d.get("poll") is False)
    event = platform.event(threshold(80))
    await platform.publish(event)
    [mail] = await platform.mails("epp@demo-registrar.example", 1)
    expected = cps(STRUCTURED["hitpoints.threshold_reached"],
                   {"percent": "80", "hitpoints": "80", "limit": "100", "date": stamp(START)}, {"percent": "80"}, "en")
    assert mail["Subject"] == "80% of your hitpoint limit reached"
    assert body_of(mail) == expected.body
    assert body_of(mail).startswith("##SUBJECT: 80% of your hitpoint limit reached\n\n----BEGIN-OF-CPS----\n"
                                    "TYPE: HITPOINTS\nACTION: THRESHOLD REACHED\n")
    assert (await platform.queue(me, 0))["count"] == 0
    client = await platform.epp()
    assert (await client.command('<poll op="req"/>')).code == 2201  # polling while off: authorization error
    # the send is recorded
    record = (await platform.notifications.get("/api/operator/notifications/mails",
                                               params={"to": "epp@demo-registrar.example"}, headers=OPERATOR)).json()
    assert [(m["status"], m["message"], m["attempts"]) for m in record] == [("sent", "hitpoints.threshold_reached", 1)]
    # the same event delivered again (a redelivery) sends nothing more
    await platform.ctx.publisher.publish(event)
    await asyncio.sleep(1.0)
    assert len(platform.smtp.to("epp@demo-registrar.example")) == 1


async def test_category_mail_falls_back_and_follows_the_languages(platform: Platform) -> None:
    me = await login(platform.registry)
    r = await platform.registry.put("/api/registrar/email-categories", headers=me,
                                    json={"legal": ["legal1@demo.example", "legal2@demo.example"], "technical": [],
                                          "abuse": [], "newsletter": []})
    assert r.status_code == 200, r.text
    await platform.registrar_known(DEMO, lambda d: d.get("categories", {}).get("legal") == [
        "legal1@demo.example", "legal2@demo.example"])
    texts = {lang: {"subject": f"subject-{lang}", "body": f"body-{lang}\n"} for lang in ("nl", "fr", "en")}

    async def announce(category: str, multilingual: bool) -> int:
        r = await platform.notifications.post("/api/operator/notifications/mail", headers=OPERATOR, json={
            "category": category, "texts": texts, "multilingual": multilingual, "registrar_ids": [DEMO]})
        assert r.status_code == 202, r.text
        return r.json()["mails_queued"]

    assert await announce("legal", True) == 4
    for address in ("legal1@demo.example", "legal2@demo.example"):
        mails = await platform.mails(address, 2)
        assert [m["Subject"] for m in mails] == ["subject-en", "subject-nl"]  # the demo registrar's order: en, nl
        assert [m["Content-Language"] for m in mails] == ["en", "nl"]
    assert await announce("technical", False) == 1  # no technical address: the general one, first language only
    [tech] = await platform.mails("info@demo-registrar.example", 1)
    assert (tech["Subject"], body_of(tech)) == ("subject-en", "body-en\n")
    assert await announce("newsletter", True) == 0  # no newsletter address: no fallback
    # languages changed in the profile: fr first
    profile = (await platform.registry.get("/api/registrar", headers=me)).json()["profile"]
    r = await platform.registry.put("/api/registrar/profile", headers=me, json=profile | {"languages": ["fr", "en"]})
    assert r.status_code == 200, r.text
    await platform.registrar_known(DEMO, lambda d: d.get("languages") == ["fr", "en"])
    assert await announce("abuse", False) == 1
    assert [m["Subject"] for m in await platform.mails("info@demo-registrar.example", 2)][1] == "subject-fr"
    bad = await platform.notifications.post("/api/operator/notifications/mail", headers=OPERATOR,
                                            json={"category": "legal", "texts": {"de": texts["en"]}})
    assert bad.status_code == 422
    assert (await platform.notifications.post("/api/operator/notifications/mail", json={})).status_code == 401


async def test_transfer_code_mail_opens_the_seal_only_to_send_and_a_bounce_tells_the_registrars(
        platform: Platform) -> None:
    registrant = "registrant@demo-registrant.example"  # the demo registrant of both demo registrars
    sealer = Sealer(platform.registry_ctx.settings.internal_secret, "transfer-code")
    code = "123-456-789-012-345"
    sent = platform.event(TransferCodeSent(name="code.be", registrant=f"{DEMO}-demo", email=registrant,
                                           sealed_code=sealer.seal(code), valid_until=START + timedelta(days=7), sends=1))
    async with EventTap(platform.namespace, "email.bounced") as tap:
        await platform.publish(sent)
        [mail] = await platform.mails(registrant, 1)
        assert mail["Subject"] == "Transfer code for the domain name code.be"
        assert f"Your transfer code for code.be is {code}\n" in body_of(mail)
        stored = await platform.ctx.db["mails"].find_one({"to": registrant})
        assert code not in str(stored) and "[[code]]" in stored["body"]  # type: ignore[index]

        # the registrant's mailbox is gone: the next mail is refused for good
        platform.smtp.refused[registrant] = "550 5.1.1 Mailbox does not exist"
        await platform.publish(platform.event(TransferCodeSent(
            name="code.be", registrant=f"{DEMO}-demo", email=registrant, sealed_code=sealer.seal(code),
            valid_until=START + timedelta(days=7), sends=2)))
        [bounced] = await tap.wait_for("email.bounced")
    assert bounced["payload"] | {"reason": ""} == {
        "recipient": registrant, "message_type": "registrant.transfer_code", "audience": "registrant",
        "smtp_code": 550, "reason": "", "permanent": True, "object": "code.be", "detailed_code": "5.1.1"}
    # every registrar with a contact at that address hears of it; the one that asked for the code also gets 1159
    me, other = await login(platform.registry), await login(platform.registry, OTHER)
    mine = (await platform.queue(me, 2))["messages"]
    assert sorted(m["fields"]["type"] + "/" + m["fields"]["returncode"] for m in mine) == ["EMAIL/2000", "TRANSFER/1159"]
    email_msg = next(m for m in mine if m["fields"]["type"] == "EMAIL")
    assert email_msg["fields"] | {"date": ""} == {"type": "EMAIL", "action": "BOUNCED", "email": registrant,
                                                  "detailedcode": "5.1.1", "date": "", "returncode": "2000"}
    assert email_msg["text"] == "E-mail bounced"
    theirs = (await platform.queue(other, 1))["messages"]
    assert theirs[0]["fields"]["action"] == "BOUNCED"
    record = await platform.ctx.db["mails"].find({"to": registrant}).sort("queued_wall", 1).to_list()
    assert [m["status"] for m in record] == ["sent", "bounced"]
    assert len(platform.smtp.to(registrant)) == 1  # the refused mail was not retried


async def test_transient_smtp_failures_are_retried_and_sent_once(platform: Platform) -> None:
    me = await login(platform.registry)
    await platform.registry.put("/api/registrar/epp-settings", headers=me,
                                json={"poll": False, "ip_addresses": ["127.0.0.1", "::1"]})
    await platform.registrar_known(DEMO, lambda d: d.get("poll") is False)
    platform.smtp.transient_failures = 4  # more than one round of quick retries: the mail waits and comes back
    await platform.publish(platform.event(threshold(80)))
    await platform.mails("epp@demo-registrar.example", 1, timeout=30)
    await asyncio.sleep(1.0)
    assert len(platform.smtp.to("epp@demo-registrar.example")) == 1
    metrics = (await platform.notifications.get("/metrics")).text
    retried = [ln for ln in metrics.splitlines() if ln.startswith("notifications_mails_retried_total")]
    assert retried and float(retried[0].split()[-1]) >= 3
    assert 'notifications_mails_sent_total{kind="cps"} 1.0' in metrics


async def test_a_long_queue_is_served_in_order_whatever_is_acknowledged_where(platform: Platform) -> None:
    """The queue's head document (poll_heads.py) holds the first few messages: past it, after an ack beyond it,
    with messages queued while it drains, and when it is missing (messages from before it existed), req and ack
    give what the queue itself says."""
    me = await login(platform.registry)
    app = notifications_of(platform.ctx)

    def warning(hitpoints: int) -> EventEnvelope[Any]:
        return platform.event(HitpointsThresholdReached(percent=80, hitpoints=hitpoints, limit=1000, reached_at=START))

    await platform.publish(*(warning(i) for i in range(25)))
    queue = await platform.queue(me, 25)
    ids = [m["msg_id"] for m in queue["messages"]]  # the queue's order, as its own query gives it
    order = [m["fields"]["hitpoints"] for m in queue["messages"]]
    await platform.ctx.db["poll_heads"].delete_many({})  # as if queued before heads existed: rebuilt on demand
    beyond = WINDOW + 2  # past the head's window
    assert beyond < 25
    r = await platform.notifications.post(f"/api/poll/messages/{ids[beyond]}/ack", headers=me)
    assert r.status_code == 200 and r.json()["count"] == 24
    served, counts = [], []
    while True:
        req = await app.poll(PollRequest(registrar_id=DEMO, op="req"))
        if req.code == 1300:
            break
        assert req.code == 1301 and req.head is not None
        counts.append(req.count)
        served.append(req.head.fields["hitpoints"])
        ack = await app.poll(PollRequest(registrar_id=DEMO, op="ack", msg_id=req.head.msg_id))
        assert ack.code == 1000 and ack.count == req.count - 1
        assert (await app.poll(PollRequest(registrar_id=DEMO, op="ack", msg_id=req.head.msg_id))).code == 2303
        if len(served) == 5:
            await platform.publish(warning(25), warning(26))
            order += [m["fields"]["hitpoints"] for m in (await platform.queue(me, 21))["messages"][-2:]]
    assert served == [h for h in order if h != order[beyond]]
    assert sorted(served, key=int) == [str(i) for i in range(27) if str(i) != order[beyond]]
    assert counts == [24, 23, 22, 21, 20, *range(21, 0, -1)]
    assert (await platform.queue(me, 0))["count"] == 0


async def test_what_an_ack_read_past_the_window_serves_only_while_nobody_else_wrote_the_head(platform: Platform) -> None:
    """When the window empties, the ack reads the queue again past it and the process keeps what follows
    (poll_heads.py READ_AHEAD): the next windows come from it without a read while the stored head is still the one
    it wrote, and from the queue again once another replica acknowledged a message or messages were queued. Every
    req shows the queue's oldest open message and its count, as the queue itself orders them."""
    app = notifications_of(platform.ctx)
    total = WINDOW + READ_AHEAD + 10

    def warning(hitpoints: int) -> EventEnvelope[Any]:
        return platform.event(HitpointsThresholdReached(percent=80, hitpoints=hitpoints, limit=1000, reached_at=START))

    async def open_ids() -> list[str]:
        # the queue's open messages less the EPP acks recorded in the head and not settled yet (poll_settlement.py):
        # the head read first, so that an ack settled in between is acknowledged in poll_messages by the next read
        head = await platform.ctx.db["poll_heads"].find_one({"_id": DEMO}) or {}
        unsettled = {e["_id"] for e in head.get("acked") or []}
        docs = await platform.ctx.db["poll_messages"].find({"registrar_id": DEMO, "acked_at": None}).sort(
            [("queued_at", 1), ("_id", 1)]).to_list()
        return [str(d["_id"]) for d in docs if d["_id"] not in unsettled]

    await platform.publish(*(warning(i) for i in range(total)))
    expected = await eventually(open_ids, lambda ids: len(ids) == total)
    second = build_notifications(notifications_settings(platform.namespace, platform.smtp.port,
                                                        instance_id="replica-2"), clock=platform.clock)
    served = 0
    async with running(second) as replica:
        other = notifications_of(replica._transport.app.state.ctx)  # type: ignore[attr-defined]
        while expected:
            req = await app.poll(PollRequest(registrar_id=DEMO, op="req"))
            assert req.code == 1301 and req.head is not None
            assert (req.head.msg_id, req.count) == (expected[0], len(expected))
            ack = await app.poll(PollRequest(registrar_id=DEMO, op="ack", msg_id=req.head.msg_id))
            assert ack.code == 1000 and ack.count == len(expected) - 1
            expected.pop(0)
            served += 1
            if served == 2 * WINDOW:  # the third window came from what the second one's read kept, not from a read
                assert len(app._heads[DEMO].ahead) == READ_AHEAD - 2 * WINDOW
            if served == 2 * WINDOW + 3:  # the other replica acknowledges a kept message, and two more are queued
                gone = expected[2 * WINDOW]
                assert gone in [str(d["_id"]) for d in app._heads[DEMO].ahead]
                assert (await other.poll(PollRequest(registrar_id=DEMO, op="ack", msg_id=gone), "web")).code == 1000
                await platform.publish(warning(total), warning(total + 1))
                expected = await eventually(open_ids, lambda ids: len(ids) == len(expected) + 1)
                assert gone not in expected
    assert (await app.poll(PollRequest(registrar_id=DEMO, op="req"))).code == 1300
    assert served == total + 1


def answered(ctx: ServiceContext) -> float:
    """Poll requests this replica answered (EPP and web)."""
    return sum(ctx.metrics.registry.get_sample_value("notifications_poll_requests_total", {"op": op, "code": code})
               or 0.0 for op, code in (("req", "1301"), ("req", "1300"), ("ack", "1000"), ("ack", "2303")))


async def test_two_replicas_serve_one_queue_exactly_whatever_the_other_wrote(platform: Platform) -> None:
    """Each replica remembers the poll head it last read or wrote and writes the next one only if nobody changed it
    since (service.py): with two replicas taking the EPP poll requests in turn, acks on the web site in between and
    messages queued while the queue drains, every req shows the oldest open message with the exact count, and an
    acknowledged message is never shown again."""
    me = await login(platform.registry)

    def warning(hitpoints: int) -> EventEnvelope[Any]:
        return platform.event(HitpointsThresholdReached(percent=80, hitpoints=hitpoints, limit=1000, reached_at=START))

    await platform.publish(*(warning(i) for i in range(8)))
    expected = 8
    second = build_notifications(notifications_settings(platform.namespace, platform.smtp.port,
                                                        instance_id="replica-2"), clock=platform.clock)
    async with running(second) as replica:
        replica_ctx: ServiceContext = replica._transport.app.state.ctx  # type: ignore[attr-defined]
        client = await platform.epp()
        acked: set[str] = set()
        for step in range(12):
            queue = await platform.queue(me, expected)  # the queue as its own query gives it
            req = await client.command('<poll op="req"/>')
            if expected == 0:
                assert req.code == 1300
                break
            msgq = req.find("epp:response/epp:msgQ")
            assert req.code == 1301 and msgq is not None
            msg_id = msgq.get("id")
            assert (msg_id, msgq.get("count")) == (queue["messages"][0]["msg_id"], str(expected))
            assert msg_id not in acked
            if step % 3 == 2:  # acknowledged on the web first: the replica's remembered head is stale
                r = await platform.notifications.post(f"/api/poll/messages/{msg_id}/ack", headers=me)
                assert r.status_code == 200 and r.json()["count"] == expected - 1
                assert (await client.command(f'<poll op="ack" msgID="{msg_id}"/>')).code == 2303
            else:
                ack = await client.command(f'<poll op="ack" msgID="{msg_id}"/>')
                assert ack.code == 1000 and ack.find("epp:response/epp:msgQ").get("count") == str(expected - 1)  # type: ignore[union-attr]
            acked.add(str(msg_id))
            expected -= 1
            if step in (1, 4):  # queued while it drains: both replicas' remembered heads are stale
                await platform.publish(warning(100 + step))
                expected += 1
        else:
            raise AssertionError("the queue did not drain")
        assert len(acked) == 10
        # both replicas answered (the broker hands the queue's requests out in turn: one may get every req and
        # the other every ack, which then never read the head the req showed)
        assert answered(platform.ctx) >= 3 and answered(replica_ctx) >= 3
        await client.close()


@pytest.mark.parametrize("platform", [{"epp_rate_limits": {}}], indirect=True)  # more than 60 polls a minute
async def test_sessions_of_one_registrar_polling_at_once_acknowledge_each_message_once(platform: Platform) -> None:
    """Four EPP sessions of one registrar drain its queue at once through two replicas: each message is
    acknowledged exactly once (a session that loses the race for a message gets 2303), a req never shows a
    message whose ack was answered before it was sent, one notification.acknowledged per message, and the
    queue's head ends empty."""
    me = await login(platform.registry)
    await platform.publish(*(platform.event(HitpointsThresholdReached(
        percent=80, hitpoints=i, limit=1000, reached_at=START)) for i in range(16)))
    ids = [m["msg_id"] for m in (await platform.queue(me, 16))["messages"]]
    second = build_notifications(notifications_settings(platform.namespace, platform.smtp.port,
                                                        instance_id="replica-2"), clock=platform.clock)
    async with running(second), EventTap(platform.namespace, "notification.acknowledged") as tap:
        clients = [await platform.epp() for _ in range(4)]
        done: list[str] = []

        async def drain(client: EppClient) -> None:
            while True:
                before = set(done)
                req = await client.command('<poll op="req"/>')
                if req.code == 1300:
                    return
                msgq = req.find("epp:response/epp:msgQ")
                assert req.code == 1301 and msgq is not None, req.xml
                msg_id = str(msgq.get("id"))
                assert msg_id not in before, f"{msg_id} was shown after its ack was answered"
                ack = await client.command(f'<poll op="ack" msgID="{msg_id}"/>')
                assert ack.code in (1000, 2303), ack.xml
                if ack.code == 1000:
                    done.append(msg_id)

        await asyncio.wait_for(asyncio.gather(*(drain(c) for c in clients)), 60)
        assert sorted(done, key=int) == sorted(ids, key=int)  # each once
        assert (await platform.queue(me, 0))["count"] == 0
        head = await platform.ctx.db["poll_heads"].find_one({"_id": DEMO})
        assert head is not None and (head["count"], head["next"]) == (0, [])
        await tap.wait_for("notification.acknowledged", 16)
        await asyncio.sleep(0.5)  # anything more would be a second one
        assert sorted(e["payload"]["msg_id"] for e in tap.of("notification.acknowledged")) == sorted(ids)
        for client in clients:
            await client.close()


async def test_a_poll_switch_turned_off_is_seen_within_a_second_by_a_session_that_polled(platform: Platform) -> None:
    """The EPP server trusts a registrar's poll switch for POLL_SWITCH_SECONDS (no read per command); after that
    a session that polled before is refused like a new one."""
    client = await platform.epp()
    assert (await client.command('<poll op="req"/>')).code == 1300
    me = await login(platform.registry)
    r = await platform.registry.put("/api/registrar/epp-settings", headers=me,
                                    json={"poll": False, "ip_addresses": ["127.0.0.1", "::1"]})
    assert r.status_code == 200, r.text
    await asyncio.sleep(POLL_SWITCH_SECONDS + 0.1)
    answer = await client.command('<poll op="req"/>')
    assert answer.code == 2201 and "switched off" in answer.message
    await client.close()


async def test_unacknowledged_messages_expire_after_a_year(platform: Platform) -> None:
    me = await login(platform.registry)
    await platform.publish(platform.event(threshold()))
    await platform.queue(me, 1)
    platform.clock.advance(timedelta(days=364))
    await platform.queue(await login(platform.registry), 1)  # a new session: the clock moved past the old one
    platform.clock.advance(timedelta(days=2))
    await platform.queue(await login(platform.registry), 0)
    client = await platform.epp()
    assert (await client.command('<poll op="req"/>')).code == 1300


async def consumers(queue: str) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        declared = await (await connection.channel()).declare_queue(queue, passive=True)
        return declared.declaration_result.consumer_count or 0


async def test_the_poll_queue_is_consumed_and_documented(platform: Platform) -> None:
    """The poll responder (a plain aio-pika consumer) consumes the poll queue, and the service's AsyncAPI document
    still names it."""
    channels = (await platform.notifications.get("/asyncapi.json")).json()["channels"]
    assert any(POLL_QUEUE in name for name in channels), sorted(channels)
    assert await consumers(f"{platform.namespace}.{POLL_QUEUE}") == 1


async def test_the_catalogue_is_published(platform: Platform) -> None:
    catalogue = (await platform.notifications.get("/api/notifications/catalogue")).json()
    bounced = next(c for c in catalogue if c["key"] == "email.bounced")
    assert (bounced["type"], bounced["action"], bounced["returncode"]) == ("EMAIL", "BOUNCED", 2000)
    assert bounced["subject"]["en"] == "E-mail to ${email} bounced: Permanent Failure"
    assert {c["key"] for c in catalogue} >= {"verification.required.domain", "hitpoints.blocked", "transfer.away",
                                             "registrant.transfer_code", "registrar.quarterly_report"}


async def test_verification_required_tells_the_registrar_and_mails_the_registrant_the_link(platform: Platform) -> None:
    link = "https://verify.example/v/secret-token-1"
    sealed = Sealer(platform.ctx.settings.internal_secret, VERIFICATION_LINK_SEAL).seal(link)
    await platform.publish(platform.event(VerificationRequired(
        contact=f"{DEMO}-demo", domain="nieuw.be", case_id="case-1", first=True, email="jan@registrant.example",
        language="fr", sealed_link=sealed)))
    me = await login(platform.registry)
    queue = (await platform.queue(me, 2))["messages"]
    assert [(m["fields"]["type"], m["fields"]["action"], m["fields"]["returncode"]) for m in queue] == [
        ("CONTACT", "VERIFICATION REQUIRED", "1505"), ("DOMAIN", "VERIFICATION REQUIRED", "1505")]
    assert queue[1]["fields"]["domain"] == "nieuw.be"  # dnsbe:domain, as the digest's verification messages
    [mail] = await platform.mails("jan@registrant.example", 1)
    assert mail["Subject"] == "Vérification requise pour votre nom de domaine .be"
    assert link in body_of(mail)
    stored = await platform.ctx.db["mails"].find_one({"to": "jan@registrant.example"})
    assert link not in str(stored)


async def test_a_registrar_that_informs_its_registrants_itself_gets_the_messages_but_no_link_is_mailed(
        platform: Platform) -> None:
    """Its registrar settings (the profile): the registry does not mail the verification link at selection;
    the registrar fetches the URL. The resend button is an explicit request: that mail goes."""
    # registrar.created carries the setting (off)
    await platform.registrar_known(DEMO, lambda d: d.get("inform_registrant_myself") is False)
    me = await login(platform.registry)
    profile = (await platform.registry.get("/api/registrar", headers=me)).json()["profile"]
    r = await platform.registry.put("/api/registrar/profile", headers=me,
                                    json=profile | {"inform_registrant_myself": True})
    assert r.status_code == 200, r.text
    await platform.registrar_known(DEMO, lambda d: d.get("inform_registrant_myself") is True)
    link, registrant = "https://verify.example/v/t2", "piet@registrant.example"
    sealed = Sealer(platform.ctx.settings.internal_secret, VERIFICATION_LINK_SEAL).seal(link)
    await platform.publish(
        platform.event(VerificationRequired(contact=f"{DEMO}-demo", domain="zelf.be", case_id="case-2",
                                            first=True, email=registrant, language="nl", sealed_link=sealed)),
        platform.event(VerificationLinkResent(contact=f"{DEMO}-demo", case_id="case-2", email=registrant,
                                              language="nl", sealed_link=sealed)))
    assert [m["fields"]["returncode"] for m in (await platform.queue(me, 2))["messages"]] == ["1505", "1505"]
    [mail] = await platform.mails(registrant, 1)
    assert link in body_of(mail)
    # by now both events are applied: only the resend was queued, none for the selection
    record = await platform.ctx.db["mails"].find({"to": registrant}).to_list()
    assert [m["about"] for m in record] == ["case-2:resent"]


async def test_a_verification_support_notice_is_mailed_to_the_support_desk(platform: Platform) -> None:
    support = cast(NotificationsSettings, platform.ctx.settings).support_email
    assert support == "support@registry.example"  # SUPPORT_EMAIL's default
    await platform.publish(platform.event(VerificationSupportNotice(
        contact="gone-1", case_id="case-9", reason="attempts_exhausted", detail="3 attempts used")))
    [mail] = await platform.mails(support, 1)
    assert mail["Subject"] == "Registrant verification: attempts_exhausted (contact gone-1)"
    assert mail["Content-Language"] == "en"  # SUPPORT_LANGUAGE's default
    body = body_of(mail)
    assert "Contact: gone-1 (registrar a100001)\nCase: case-9\nDetail: 3 attempts used\n" in body

    async def record() -> list[dict]:
        return await platform.ctx.db["mails"].find({"to": support}).to_list()

    # marked sent just after the server's 250: wait for it
    [sent] = await eventually(record, lambda found: [m["status"] for m in found] == ["sent"])
    assert (sent["audience"], sent["registrar_id"]) == ("support", None)
    me = await login(platform.registry)
    assert (await platform.queue(me, 0))["count"] == 0  # not a registrar's message


async def test_a_malformed_poll_request_gets_an_answer_not_silence(platform: Platform) -> None:
    raw = await platform.registry_ctx.broker.request(b'{"op": "drain"}', queue=platform.ctx.settings._ns(POLL_QUEUE),
                                                     timeout=5)
    reply = PollReply.model_validate_json(raw.body)
    assert reply.code == 2001 and "malformed" in (reply.message or "")


async def test_the_quarterly_report_mail_goes_in_each_of_the_registrars_languages(platform: Platform) -> None:
    await platform.publish(platform.event(QuarterlyReportReady(quarter="2027-Q1", url="https://r.example/q1",
                                                               zip_name="q1.zip")))
    mails = await platform.mails("info@demo-registrar.example", 2)
    assert [m["Subject"] for m in mails] == ["Your .be registrar report 2027-Q1", "Uw .be-registrarrapport 2027-Q1"]
    assert "https://r.example/q1" in body_of(mails[1])
