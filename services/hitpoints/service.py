"""The hitpoints application: applies events to the counters, serves the screen, unblocks, runs the jobs.

The rules live in scoring.py, limits.py, blocks.py, portfolio.py and periods.py; this module reads and
writes MongoDB around them. Every count is an atomic $inc (or a compare-and-set) in the consumer's
transaction, together with the processed-event record, so a redelivered command.failed counts once and
concurrent consumers never lose an increment: two transactions that touch the same counter conflict,
and MongoDB retries the loser.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.hitpoints.blocks import Block, Tally, self_unblock_refusal, tally
from services.hitpoints.limits import LimitFormula
from services.hitpoints.metrics import HitpointsMetrics
from services.hitpoints.offences import newest_offences, offence_runs
from services.hitpoints.periods import day_of, day_start, month_of, next_day_start
from services.hitpoints.portfolio import portfolio_changes
from services.hitpoints.scoring import (
    Creation,
    Failure,
    Score,
    ScoringRules,
    needs_last_creation,
    needs_revoked,
    score,
)
from services.hitpoints.settings import HitpointsSettings
from services.hitpoints.store import ACCOUNTS, COUNTERS, CREATIONS, JOBS, OFFENCES, REVOKED, counter_id
from shared.events import CommandFailed, EventEnvelope, new_event
from shared.events.domains import DomainCreated, DomainReleased
from shared.events.hitpoints import (
    HitpointsThresholdReached,
    RegistrarBlocked,
    RegistrarUnblocked,
    UnblockedBy,
)
from shared.mongo.client import Document
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


class Refused(Exception):
    """An unblock that cannot be done; the message is for the registrar or operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ChangedMeanwhile(Exception):
    """A compare-and-set found the account changed by a concurrent transaction: the caller retries."""


@dataclass(frozen=True)
class Scored:
    event: EventEnvelope[Any]
    failure: Failure
    score: Score


@dataclass(frozen=True)
class Offence:
    at: datetime
    object: str
    command: str
    reference: str
    hitpoints: int
    result_code: int
    message: str
    channel: str
    user_id: str


@dataclass(frozen=True)
class Standing:
    """A registrar's hitpoints situation now: what the screen shows."""

    registrar_id: str
    hitpoints: int
    limit: int
    since: datetime
    unblocks_used: int
    unblocks_allowed: int
    blocked_until: datetime | None
    exceeded_at: datetime | None
    transactions: list[Offence]

    @property
    def blocked(self) -> bool:
        return self.blocked_until is not None

    @property
    def can_unblock(self) -> bool:
        return self.blocked and self.unblocks_used < self.unblocks_allowed


def _failure(event: EventEnvelope[CommandFailed]) -> Failure:
    p = event.payload
    return Failure(registrar_id=event.registrar_id or "", command=p.command, result_code=p.result_code,
                   message=p.message, cause=p.cause, object=p.object.strip().lower(), occurred_at=event.occurred_at)


class Hitpoints:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        s: HitpointsSettings = ctx.settings  # type: ignore[assignment]
        self.settings = s
        self.metrics = HitpointsMetrics(ctx.metrics.registry)
        self.formula = LimitFormula(s.limit_base, s.limit_domains_per_hitpoint, s.limit_min, s.limit_max)
        self.rules = ScoringRules(s.points_faulty_command, s.points_name_exists,
                                  timedelta(seconds=s.create_grace_seconds), frozenset(s.unscored_causes))
        self.retention = timedelta(days=s.retention_days)

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.ctx.db  # connected at start-up, after this object is made

    def limit_of(self, account: Document) -> int:
        """The limit fixed by the last nightly run; before its first, that of the current portfolio."""
        fixed = account.get("limit")
        return int(fixed) if fixed is not None else self.formula.limit(int(account.get("domains", 0)))

    def _event(self, payload: Any, registrar_id: str, correlation_id: str | None) -> EventEnvelope[Any]:
        return new_event(payload, registrar_id=registrar_id, correlation_id=correlation_id, clock=self.ctx.clock)

    # -- command.failed ---------------------------------------------------------------------------------------

    async def apply_failures(self, events: Sequence[EventEnvelope[CommandFailed]], session: AsyncClientSession) -> None:
        """A run of command.failed events, in order, in the consumer's transaction: one counter write per
        registrar and day, one insert for all offending transactions."""
        failures = [(e, _failure(e)) for e in events if e.registrar_id]
        # read only where a rule needs it (no round trip for a run of other failures, or of a blocked registrar's)
        creations = await self._creations({f.object for _, f in failures if needs_last_creation(f, self.rules)}, session)
        revoked = await self._revoked({f.object for _, f in failures if needs_revoked(f, self.rules)}, session)
        by_registrar: dict[str, list[Scored]] = defaultdict(list)
        for event, failure in failures:
            result = score(failure, self.rules, last_creation=creations.get(failure.object),
                           name_servers_revoked=failure.object in revoked)
            self.metrics.failures.labels(result.rule.value).inc()
            if result.points:
                by_registrar[failure.registrar_id].append(Scored(event, failure, result))
        if not by_registrar:
            return
        # every counter of the run in one write, then read back: inside the transaction the values read
        # are exactly those this run wrote (a concurrent run on the same counter conflicts and is retried)
        days: dict[str, dict[str, list[Scored]]] = {}
        for registrar_id, scored in by_registrar.items():
            days[registrar_id] = defaultdict(list)
            for item in scored:
                days[registrar_id][day_of(item.failure.occurred_at)].append(item)
        ids = [counter_id(registrar_id, day) for registrar_id, by_day in days.items() for day in by_day]
        increments = [
            UpdateOne({"_id": counter_id(registrar_id, day)},
                      {"$inc": {"hitpoints": sum(i.score.points for i in items)},
                       "$setOnInsert": {"registrar_id": registrar_id, "day": day, "period": 0,
                                        "reset_at": day_start(day), "expires_at": next_day_start(day) + self.retention}},
                      upsert=True)
            for registrar_id, by_day in days.items() for day, items in by_day.items()
        ]
        await self.db[COUNTERS].bulk_write(increments, ordered=False, session=session)
        counters = {d["_id"]: d for d in await self.db[COUNTERS].find(
            {"_id": {"$in": ids}}, session=session).to_list()}
        accounts = {d["_id"]: d for d in await self.db[ACCOUNTS].find(
            {"_id": {"$in": list(by_registrar)}}, session=session).to_list()}
        runs: list[Document] = []
        out: list[EventEnvelope[Any]] = []
        for registrar_id, by_day in days.items():
            out += await self._count(registrar_id, by_day, counters, accounts.get(registrar_id), runs, session)
        await self.db[OFFENCES].insert_many(runs, ordered=False, session=session)
        await self.ctx.outbox.add(out, session)

    async def _creations(self, names: set[str], session: AsyncClientSession) -> dict[str, Creation]:
        if not names:
            return {}
        docs = await self.db[CREATIONS].find({"_id": {"$in": sorted(names)}}, session=session).to_list()
        return {d["_id"]: Creation(d["registrar_id"], d["at"]) for d in docs}

    async def _revoked(self, names: set[str], session: AsyncClientSession) -> set[str]:
        if not names:
            return set()
        docs = await self.db[REVOKED].find({"_id": {"$in": sorted(names)}}, {"_id": 1}, session=session).to_list()
        return {d["_id"] for d in docs}

    async def _count(self, registrar_id: str, by_day: dict[str, list[Scored]], counters: dict[str, Document],
                     account: Document | None, runs: list[Document],
                     session: AsyncClientSession) -> list[EventEnvelope[Any]]:
        """The warnings and block that one registrar's counted run means (blocks.tally), and its offences (one
        document a day: offences.py)."""
        account = account or {}
        limit = self.limit_of(account)
        current = Block(account["blocked_until"], account["exceeded_at"]) if account.get("blocked_until") else None
        block, started, extended, hitpoints = current, False, False, 0
        out: list[EventEnvelope[Any]] = []
        for day, items in by_day.items():
            counter = counters[counter_id(registrar_id, day)]
            hitpoints = int(counter["hitpoints"])
            points = sum(i.score.points for i in items)
            result: Tally = tally(hitpoints - points, [(i.failure.occurred_at, i.score.points) for i in items], limit,
                                  self.settings.warning_percentages, self.settings.block_hours, block)
            block = result.block
            started = started or result.started
            extended = (extended or result.extended) and not started
            for w in result.warnings:
                self.metrics.warnings.labels(str(w.percent)).inc()
                out.append(self._event(HitpointsThresholdReached(percent=w.percent, hitpoints=w.hitpoints, limit=limit,
                                                                 reached_at=w.at), registrar_id, None))
            for i in items:
                self.metrics.scored.labels(i.failure.command.value).inc(i.score.points)
            runs += offence_runs(registrar_id, day, int(counter.get("period", 0)), [_offence(i) for i in items],
                                 self.retention)
        if block is not None and (started or extended):
            scored = [i for items in by_day.values() for i in items]
            out.append(await self._block(registrar_id, account, block, started, hitpoints, limit, scored, session))
        return out

    async def _block(self, registrar_id: str, account: Document, block: Block, started: bool, hitpoints: int,
                     limit: int, scored: list[Scored], session: AsyncClientSession) -> EventEnvelope[Any]:
        if not account:
            await self.db[ACCOUNTS].update_one({"_id": registrar_id}, {"$setOnInsert": {"domains": 0}}, upsert=True,
                                               session=session)
        now = self.ctx.clock.now()
        changes: Document = {"blocked_until": block.until, "exceeded_at": block.exceeded_at}
        if started:
            changes |= {"blocked_at": now, "blocked_hitpoints": hitpoints, "blocked_limit": limit}
        # compare-and-set on the block read at the start of the run
        done = await self.db[ACCOUNTS].update_one(
            {"_id": registrar_id, "blocked_until": account.get("blocked_until")}, {"$set": changes}, session=session
        )
        if done.matched_count != 1:
            raise ChangedMeanwhile(f"the block of {registrar_id} changed meanwhile")
        self.metrics.blocks.labels("started" if started else "extended").inc()
        if started:
            self.metrics.block_latency.observe(max(0.0, (now - block.exceeded_at).total_seconds()))
            log.warning("registrar %s reached its hitpoint limit (%d of %d): blocked until %s", registrar_id,
                        hitpoints, limit, block.until.isoformat())
        crossing = next((s.event for s in scored if s.failure.occurred_at == block.exceeded_at), scored[-1].event)
        return self._event(RegistrarBlocked(blocked_until=block.until, exceeded_at=block.exceeded_at,
                                            hitpoints=hitpoints, limit=limit),
                           registrar_id, crossing.correlation_id)

    # -- the portfolio and the facts scoring needs --------------------------------------------------------------

    async def apply_domain_event(self, event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        for registrar_id, change in portfolio_changes(event):
            await self.db[ACCOUNTS].update_one({"_id": registrar_id}, {"$inc": {"domains": change}}, upsert=True,
                                               session=session)
        payload = event.payload
        if isinstance(payload, DomainCreated) and event.registrar_id:
            await self.db[CREATIONS].update_one(
                {"_id": payload.name.lower()},
                {"$set": {"registrar_id": event.registrar_id, "at": payload.registered_at,
                          "expires_at": payload.registered_at + timedelta(days=1)}},
                upsert=True, session=session,
            )
        elif isinstance(payload, DomainReleased):
            await self.db[REVOKED].delete_one({"_id": payload.name.lower()}, session=session)

    async def set_revoked(self, name: str, revoked: bool, note: str | None = None) -> None:
        name = name.strip().lower()
        if revoked:
            await self.db[REVOKED].update_one({"_id": name}, {"$set": {"since": self.ctx.clock.now(), "note": note}},
                                              upsert=True)
        else:
            await self.db[REVOKED].delete_one({"_id": name})

    # -- the screen ---------------------------------------------------------------------------------------------

    async def standing(self, registrar_id: str) -> Standing:
        now = self.ctx.clock.now()
        day, month = day_of(now), month_of(now)
        account = await self.db[ACCOUNTS].find_one({"_id": registrar_id}) or {}
        counter = await self.db[COUNTERS].find_one({"_id": counter_id(registrar_id, day)}) or {}
        period = int(counter.get("period", 0))
        docs = await newest_offences(self.db[OFFENCES].find({"registrar_id": registrar_id, "day": day, "period": period})
                                     .sort("at", -1), self.settings.screen_transactions)
        blocked_until = account.get("blocked_until")
        blocked = blocked_until is not None and blocked_until > now
        return Standing(
            registrar_id=registrar_id,
            hitpoints=int(counter.get("hitpoints", 0)),
            limit=self.limit_of(account),
            since=counter.get("reset_at") or day_start(day),
            unblocks_used=int(account.get("self_unblocks", {}).get(month, 0)),
            unblocks_allowed=self.settings.self_unblocks_per_month,
            blocked_until=blocked_until if blocked else None,
            exceeded_at=account.get("exceeded_at") if blocked else None,
            transactions=[_offence_of(d) for d in docs],
        )

    async def offences_on(self, registrar_id: str, day: str) -> list[Offence]:
        """Every offending transaction of a past or present day, whatever the resets (newest first)."""
        docs = await newest_offences(self.db[OFFENCES].find({"registrar_id": registrar_id, "day": day}).sort("at", -1),
                                     10_000)
        return [_offence_of(d) for d in docs]

    # -- unblocking ---------------------------------------------------------------------------------------------

    async def unblock(self, registrar_id: str, by: UnblockedBy, correlation_id: str | None = None) -> None:
        """End a running block (SELF: within the month's allowance) and reset the day's counter to zero."""
        now = self.ctx.clock.now()
        month, day, allowed = month_of(now), day_of(now), self.settings.self_unblocks_per_month

        async def work(session: AsyncClientSession) -> None:
            account = await self.db[ACCOUNTS].find_one({"_id": registrar_id}, session=session)
            if not account or account.get("blocked_until") is None or account["blocked_until"] <= now:
                raise Refused(f"registrar [{registrar_id}] is not blocked")
            condition: Document = {"_id": registrar_id, "blocked_until": account["blocked_until"]}
            update: Document = {"$set": {"blocked_until": None, "exceeded_at": None, "unblocked_at": now,
                                         "unblocked_by": by.value}}
            if by is UnblockedBy.SELF:
                used = int(account.get("self_unblocks", {}).get(month, 0))
                if used >= allowed:
                    self.metrics.self_unblocks_refused.inc()
                    raise Refused(self_unblock_refusal(used, allowed))
                condition[f"self_unblocks.{month}"] = used if used else {"$exists": False}
                update["$inc"] = {f"self_unblocks.{month}": 1}
            done = await self.db[ACCOUNTS].update_one(condition, update, session=session)
            if done.modified_count != 1:
                raise ChangedMeanwhile(f"the account of {registrar_id} changed meanwhile; try again")
            await self.db[COUNTERS].update_one(
                {"_id": counter_id(registrar_id, day)},
                {"$set": {"hitpoints": 0, "reset_at": now}, "$inc": {"period": 1},
                 "$setOnInsert": {"registrar_id": registrar_id, "day": day,
                                  "expires_at": next_day_start(day) + self.retention}},
                upsert=True, session=session,
            )
            await self.ctx.outbox.add([self._event(RegistrarUnblocked(by=by), registrar_id, correlation_id)], session)

        await in_transaction(self.ctx.client, work)
        self.ctx.committed()
        self.metrics.unblocks.labels(by.value).inc()
        await self.refresh_gauge()
        log.info("registrar %s unblocked by %s", registrar_id, by.value)

    # -- the periodic job ---------------------------------------------------------------------------------------

    async def run_due(self, *, force_nightly: bool = False) -> dict[str, Any]:
        """What the job does each round: the 00:00 recalculation once per Brussels day, then end the blocks
        whose time is up."""
        limits = await self.recalculate_limits(force=force_nightly)
        expired = await self.expire_blocks()
        await self.refresh_gauge()
        self.metrics.jobs_last_run.set(time.time())
        return {"day": day_of(self.ctx.clock.now()), "limits_recalculated": limits, "blocks_expired": expired}

    async def recalculate_limits(self, *, force: bool = False) -> int | None:
        """Fix every registrar's limit from its portfolio, once per Brussels day (None: already done today).
        Counters need no clearing: each day has its own (periods.py)."""
        now = self.ctx.clock.now()
        day = day_of(now)

        async def work(session: AsyncClientSession) -> int | None:
            job = await self.db[JOBS].find_one({"_id": "nightly"}, session=session)
            if job and job.get("day") == day and not force:
                return None
            docs = await self.db[ACCOUNTS].find({}, {"domains": 1}, session=session).to_list()
            by_limit: dict[int, list[str]] = defaultdict(list)
            for d in docs:
                by_limit[self.formula.limit(int(d.get("domains", 0)))].append(d["_id"])
            for limit, ids in by_limit.items():
                await self.db[ACCOUNTS].update_many({"_id": {"$in": ids}}, {"$set": {"limit": limit, "limit_day": day}},
                                                    session=session)
            await self.db[JOBS].update_one({"_id": "nightly"}, {"$set": {"day": day, "ran_at": now}}, upsert=True,
                                           session=session)
            return len(docs)

        count = await in_transaction(self.ctx.client, work)
        if count is not None:
            log.info("hitpoint limits recalculated for %d registrars (day %s)", count, day)
        return count

    async def expire_blocks(self) -> int:
        now = self.ctx.clock.now()
        due = await self.db[ACCOUNTS].find({"blocked_until": {"$ne": None, "$lte": now}}, {"blocked_until": 1}).to_list()
        expired = 0
        for doc in due:
            async def work(session: AsyncClientSession, doc: Document = doc) -> bool:
                done = await self.db[ACCOUNTS].update_one(
                    {"_id": doc["_id"], "blocked_until": doc["blocked_until"]},  # not if pushed out meanwhile
                    {"$set": {"blocked_until": None, "exceeded_at": None, "unblocked_at": now,
                              "unblocked_by": UnblockedBy.EXPIRY.value}},
                    session=session,
                )
                if done.modified_count:
                    await self.ctx.outbox.add([self._event(RegistrarUnblocked(by=UnblockedBy.EXPIRY), doc["_id"], None)],
                                              session)
                return bool(done.modified_count)

            if await in_transaction(self.ctx.client, work):
                expired += 1
                self.metrics.unblocks.labels(UnblockedBy.EXPIRY.value).inc()
        if expired:
            self.ctx.committed()
            log.info("%d hitpoint blocks ended", expired)
        return expired

    async def refresh_gauge(self) -> None:
        self.metrics.blocked.set(await self.db[ACCOUNTS].count_documents({"blocked_until": {"$gt": self.ctx.clock.now()}}))


def _offence(item: Scored) -> Document:
    """One offence as its run stores it (offences.py): registrar, day and period are the run's."""
    p: CommandFailed = item.event.payload
    return {"event_id": str(item.event.event_id), "at": item.event.occurred_at, "object": p.object,
            "command": p.command.value, "reference": p.reference, "hitpoints": item.score.points,
            "rule": item.score.rule.value, "result_code": p.result_code, "message": p.message,
            "channel": p.channel.value, "user_id": p.user_id}


def _offence_of(doc: Document) -> Offence:
    return Offence(at=doc["at"], object=doc["object"], command=doc["command"], reference=doc["reference"],
                   hitpoints=doc["hitpoints"], result_code=doc["result_code"], message=doc["message"],
                   channel=doc["channel"], user_id=doc["user_id"])


def hitpoints_of(ctx: ServiceContext) -> Hitpoints:
    """The one Hitpoints of a running service (its metrics may be registered only once)."""
    if "hitpoints" not in ctx.extras:
        ctx.extras["hitpoints"] = Hitpoints(ctx)
    return ctx.extras["hitpoints"]
