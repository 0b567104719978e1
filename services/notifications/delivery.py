"""Sending the queued mails: every replica runs a dispatcher that claims due mails, sends them and records
each send.

Claiming moves a mail's next_attempt_at a lease ahead with a compare-and-set, so two replicas never
send the same mail at once and a crashed sender's mail becomes due again after the lease. A mail is
sent at most once per claim and marked sent right after the server's "250"; only a crash in between
can send it again (same Message-ID). 5xx: bounced, not retried, email.bounced published. Transient
failures: retried with back-off until MAIL_MAX_ATTEMPTS, then failed (email.bounced, permanent false).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from services.notifications.mailer import Connection, Mailer, Outgoing, PermanentFailure, TransientFailure
from services.notifications.service import Notifications, notifications_of, utcnow
from services.notifications.store import MAILS
from shared.mongo.client import Document
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext
from shared.sealing import Sealer, Unsealable

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, ctx: ServiceContext, app: Notifications, mailer: Mailer) -> None:
        self.ctx = ctx
        self.app = app
        self.settings = app.settings
        self.mailer = mailer
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                sent = await self.dispatch_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mail dispatch failed; tried again shortly")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.dispatch_poll_seconds)
                self._wake.clear()

    async def dispatch_once(self) -> int:
        """Claim the due mails (up to MAIL_BATCH) and send them; returns how many were claimed."""
        now = utcnow()
        due = await self.app.db[MAILS].find(
            {"status": "pending", "next_attempt_at": {"$lte": now}}, {"next_attempt_at": 1},
        ).sort("next_attempt_at", ASCENDING).limit(self.settings.mail_batch).to_list()
        if not due:
            return 0
        # one conditional update_many claims the batch: a mail another replica claimed meanwhile no longer
        # matches (its next_attempt_at moved a lease ahead), so each mail has one owner
        token = uuid.uuid4().hex
        await self.app.db[MAILS].update_many(
            {"_id": {"$in": [d["_id"] for d in due]}, "status": "pending", "next_attempt_at": {"$lte": now}},
            {"$set": {"next_attempt_at": now + timedelta(seconds=self.settings.mail_lease_seconds), "claim": token}})
        mails = await self.app.db[MAILS].find({"claim": token, "status": "pending"}).to_list()
        if not mails:
            return 0
        # one recipient's mails one after another, in queueing and language order; recipients side by side
        by_recipient: dict[str, list[Document]] = {}
        for m in sorted(mails, key=lambda m: (m["queued_wall"], m.get("order", 0))):
            by_recipient.setdefault(m["to"], []).append(m)
        lanes: list[list[Document]] = [[] for _ in range(min(self.settings.mail_concurrency, len(by_recipient)))]
        for i, run in enumerate(by_recipient.values()):
            lanes[i % len(lanes)].extend(run)
        await asyncio.gather(*(self._deliver_lane(lane) for lane in lanes))
        return len(mails)

    async def _deliver_lane(self, mails: list[Document]) -> None:
        """One SMTP session sends the lane's mails one after another."""
        async with self.mailer.connection() as smtp:
            for mail in mails:
                try:
                    await self._deliver(mail, smtp)
                except Exception:  # a database fault: the mail stays claimed and is tried again after the lease
                    log.exception("delivering mail %s failed", mail["_id"])

    def _open_sealed(self, mail: Document) -> str:
        body = mail["body"]
        for name, sealed in (mail.get("sealed") or {}).items():
            # opened only here, just before sending; never stored or logged in clear
            value = Sealer(self.ctx.settings.sealing_secrets, sealed["purpose"]).open(sealed["value"])
            body = body.replace(f"[[{name}]]", value)
        return body

    async def _deliver(self, mail: Document, smtp: Connection) -> None:
        try:
            body = self._open_sealed(mail)
        except Unsealable:
            log.error("mail %s holds a sealed value this secret cannot open; marked failed", mail["_id"])
            await self._finish(mail, "failed", "sealed value cannot be opened (INTERNAL_SECRET differs)")
            return
        try:
            reply = await smtp.send(Outgoing(mail["_id"], mail["to"], mail["subject"], body, mail["language"]))
        except PermanentFailure as exc:
            await self._bounced(mail, exc)
            return
        except TransientFailure as exc:
            await self._later(mail, exc)
            return
        await self._finish(mail, "sent", reply)
        self.app.metrics.mails_sent.labels(mail["kind"]).inc()
        self.app.metrics.delivery.observe(max(0.0, (utcnow() - mail["queued_wall"]).total_seconds()))

    async def _finish(self, mail: Document, status: str, reply: str) -> None:
        await self.app.db[MAILS].update_one(
            {"_id": mail["_id"], "status": "pending"},
            {"$set": {"status": status, "sent_at": self.ctx.clock.now(), "smtp_reply": reply[:500]},
             "$inc": {"attempts": 1}})

    async def _bounced(self, mail: Document, exc: PermanentFailure) -> None:
        log.warning("mail %s refused for good: %s", mail["_id"], exc.code)
        await self._close_with_event(mail, "bounced", exc.code, exc.reason, exc.detailed_code, permanent=True)
        self.app.metrics.mails_bounced.labels("refused").inc()

    async def _later(self, mail: Document, exc: TransientFailure) -> None:
        attempts = int(mail.get("attempts", 0)) + 1
        if attempts >= self.settings.mail_max_attempts:
            log.error("mail %s failed after %d attempts: %s", mail["_id"], attempts, exc)
            await self._close_with_event(mail, "failed", exc.code, exc.reason, None, permanent=False)
            self.app.metrics.mails_bounced.labels("retries_exhausted").inc()
            return
        self.app.metrics.mails_retried.inc()
        wait = min(self.settings.mail_retry_after_seconds * 2 ** (attempts - 1), self.settings.mail_retry_max_seconds)
        log.info("mail %s: transient failure (%s); attempt %d in %.0f s", mail["_id"], exc, attempts + 1, wait)
        await self.app.db[MAILS].update_one(
            {"_id": mail["_id"], "status": "pending"},
            {"$set": {"attempts": attempts, "next_attempt_at": utcnow() + timedelta(seconds=wait),
                      "smtp_reply": str(exc)[:500]}})

    async def _close_with_event(self, mail: Document, status: str, code: int | None, reason: str,
                                detailed: str | None, *, permanent: bool) -> None:
        async def work(session: AsyncClientSession) -> Any:
            r = await self.app.db[MAILS].update_one(
                {"_id": mail["_id"], "status": "pending"},
                {"$set": {"status": status, "smtp_reply": f"{code or ''} {reason}".strip()[:500],
                          "sent_at": self.ctx.clock.now()}, "$inc": {"attempts": 1}}, session=session)
            if r.modified_count == 1:
                await self.ctx.outbox.add(
                    [self.app.bounce_event(mail, code, reason, detailed, permanent, correlation_id=None)], session)

        await in_transaction(self.ctx.client, work)
        self.ctx.committed()


async def start_dispatcher(ctx: ServiceContext) -> None:
    app = notifications_of(ctx)
    dispatcher = Dispatcher(ctx, app, Mailer(app.settings, ctx.clock, on_retry=app.metrics.mails_retried.inc))
    ctx.extras["dispatcher"] = dispatcher
    if ctx.consumer is not None:
        # mails queued by a consumed event go out as soon as its transaction commits
        applied = ctx.consumer.on_applied

        def on_applied() -> None:
            if applied is not None:
                applied()
            dispatcher.wake()

        ctx.consumer.on_applied = on_applied
    ctx.extras["dispatch_task"] = asyncio.create_task(dispatcher.run(), name="mail-dispatcher")


async def stop_dispatcher(ctx: ServiceContext) -> None:
    task = ctx.extras.get("dispatch_task")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
