"""Prepayment: every paying transaction is priced, debited and recorded in the ledger.

A registrar whose balance is already negative gets no new paying transaction (2104), unless it pays by
standing order or the transaction cannot be refused (the automatic renewal: the debt is booked).
Crossing a watermark level on the way down publishes payment.watermark_reached. Amounts are integer euro
cents.

The ledger: a line per prepayment and paying transaction, with the balance after it. The newest lines (at most
OPEN_LINES) ride in the registrar's document, pushed by the very update that moves its balance, so a debit and
its line are one write; when that bucket is full, the next booking moves its lines to the ledger collection in
the same transaction. `ledger` reads both: the bucket's lines are always newer than the collection's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Sequence
from typing import Any

from bson import ObjectId

from services.registry.commands import standing_registrar
from services.registry.results import CommandRefused, Result
from services.registry.settings import RegistrySettings
from services.registry.store import LEDGER, REGISTRARS, unit_of_work
from services.registry.uow import Tx
from shared.events import EventEnvelope, new_event
from shared.events.money import (
    PayingTransactionRecorded,
    PrepaymentReceived,
    TransactionKind,
    WatermarkReached,
)
from shared.runtime import ServiceContext


OPEN_LEDGER = "ledger_open"  # the registrar document's bucket of its newest ledger lines
# bounded because every debit rewrites the document (20: the stand-in's cost of a debit with its line is then
# about that of a debit and a separate insert; every 20th booking costs a read and an insert more)
OPEN_LINES = 20
BOOKING_FIELDS = {"balance_cents": 1, "standing_order": 1, OPEN_LEDGER: 1}


@dataclass(frozen=True)
class Charge:
    kind: TransactionKind
    obj: str
    reference: str


def registrar_lock(ctx: ServiceContext, registrar_id: str) -> asyncio.Lock:
    """Paying commands of one registrar all write its balance: in this process they take turns for their
    transaction's writes and commit, instead of conflicting and backing off (MongoDB lets only one open transaction
    write a document). The turn starts before the transaction does, not at the debit: a transaction whose snapshot
    is older than the last debit's commit conflicts on its own debit whatever the order (tried: at 10 sessions,
    most transactions aborted). Domain creates take it once per batch of them (registrars/batches.py), so one
    registrar's creates from many sessions do not queue one by one. Correctness does not rest on it: the debit is
    conditional (`charge_many`), and other replicas or a crashed process's leftovers make a transaction conflict and
    retry, never overdraw. It lives in memory only: a crash takes it along."""
    locks: dict[str, asyncio.Lock] = ctx.extras.setdefault("registrar_locks", {})
    return locks.setdefault(registrar_id, asyncio.Lock())


def crossed_watermarks(levels: tuple[int, ...], before: int, after: int) -> list[int]:
    """The levels passed on the way down from `before` to `after` (a level is reached when the balance
    drops below it)."""
    return sorted((lvl for lvl in levels if after < lvl <= before), reverse=True)


async def charge(
    ctx: ServiceContext, tx: Tx, registrar_id: str, charge: Charge, correlation_id: str | None,
    *, allow_negative: bool = False,
) -> list[EventEnvelope[Any]]:
    """Debit a paying transaction inside the command's transaction; returns the events to publish with it
    (charge_many says how)."""
    paid = await charge_many(ctx, tx, registrar_id, [(charge, correlation_id)], allow_negative=allow_negative)
    if not paid.events:
        raise paid.refusal()
    return paid.events[0]


@dataclass(frozen=True)
class Paid:
    """What charge_many debited: the events of each charge paid (the first ones, in order); the charges after
    them are refused, each with `refusal()`."""

    events: list[list[EventEnvelope[Any]]]
    balance_cents: int  # after the charges paid

    def refusal(self) -> CommandRefused:
        return CommandRefused(
            Result.BILLING_FAILURE,
            f"the prepayment balance is negative (EUR {self.balance_cents / 100:.2f}): no paying transactions until "
            "it is topped up",
            cause="negative_balance",
        )


async def charge_many(
    ctx: ServiceContext, tx: Tx, registrar_id: str, charges: Sequence[tuple[Charge, str | None]],
    *, allow_negative: bool = False,
) -> Paid:
    """Debit paying transactions of one registrar, in order, inside one transaction, as if each came alone one
    after the other: each is paid while the balance before it is not negative (or the registrar pays by standing
    order, or `allow_negative`), so those paid are the first ones and the rest are refused. One update moves the
    balance and adds their ledger lines.

    The debit is conditional: it applies only to the balance (and standing order) the rule was checked against,
    so a balance another command changed meanwhile matches nothing and is read again; a concurrent debit in
    another open transaction makes this one conflict and retry. Either way no debit is lost and the rule holds
    for every debit. The balance to try first is the one this process last wrote, or the one the command's
    standing check read: the usual debit costs one round trip (the update), not two. A refusal rests only on a
    balance read in this transaction."""
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
    prices = [settings.prices[c.kind] for c, _ in charges]
    # this process's last debit of the registrar: (balance, standing order, lines in the bucket) after it
    known: dict[str, tuple[int, bool, int]] = ctx.extras.setdefault("registrar_balances", {})
    doc: dict[str, Any] | None
    if registrar_id in known and known[registrar_id][2] + len(charges) <= OPEN_LINES:
        doc = {"balance_cents": known[registrar_id][0], "standing_order": known[registrar_id][1]}
    elif registrar_id in known:
        doc = None  # the bucket would overflow: it moves on the fresh path, no guess to fail first
    else:
        standing = standing_registrar(registrar_id)
        doc = standing if standing is not None and "balance_cents" in standing else None
    now = ctx.clock.now()
    while True:
        fresh = doc is None  # read in this transaction: it matches the conditional debit, or the write conflicts
        if fresh:
            doc = await tx[REGISTRARS].find_one({"_id": registrar_id}, BOOKING_FIELDS)
        if doc is None:
            raise CommandRefused(Result.AUTHORIZATION_ERROR, f"registrar [{registrar_id}] is unknown")
        before, standing_order = int(doc.get("balance_cents", 0)), bool(doc.get("standing_order"))
        balances = [before]  # the balance before each charge paid, then after the last
        for price in prices:
            if balances[-1] < 0 and not standing_order and not allow_negative:
                break
            balances.append(balances[-1] - price)
        count = len(balances) - 1
        if count < len(charges) and not fresh:  # a guess may be older than a top-up: refuse only on what the
            known.pop(registrar_id, None)       # database says
            doc = None
            continue
        if count == 0:
            return Paid([], before)
        unchanged = {"_id": registrar_id, "balance_cents": before if "balance_cents" in doc else {"$exists": False},
                     "standing_order": True if standing_order else {"$ne": True}}
        lines = [_line(registrar_id, c.kind.value, c.obj, -price, after, c.reference, now)
                 for (c, _), price, after in zip(charges, prices, balances[1:], strict=False)]
        total = before - balances[-1]
        if fresh:
            in_bucket = await _book(tx, registrar_id, unchanged, -total, lines, doc)
            break
        # a guess: the bucket must have room too (a full one is emptied on the fresh path)
        if await tx[REGISTRARS].update_one({**unchanged, f"{OPEN_LEDGER}.{OPEN_LINES - len(lines)}": {"$exists": False}},
                                           {"$inc": {"balance_cents": -total}, "$push": {OPEN_LEDGER: _each(lines)}}):
            # unknown (the standing check's copy): read next time
            in_bucket = known[registrar_id][2] + len(lines) if registrar_id in known else OPEN_LINES
            break
        known.pop(registrar_id, None)
        doc = None
    known[registrar_id] = (balances[-1], standing_order, in_bucket)  # a guess for the next debit; the condition checks it
    events: list[list[EventEnvelope[Any]]] = []
    for (c, correlation_id), price, was, after in zip(charges, prices, balances, balances[1:], strict=False):
        own: list[EventEnvelope[Any]] = [
            new_event(
                PayingTransactionRecorded(
                    kind=c.kind, object=c.obj, amount_cents=price, balance_cents=after, reference=c.reference
                ),
                registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock,
            )
        ]
        for level in crossed_watermarks(settings.watermarks_cents, was, after):
            own.append(
                new_event(
                    WatermarkReached(level_cents=level, balance_cents=after),
                    registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock,
                )
            )
        events.append(own)
    return Paid(events, balances[-1])


async def book_prepayment(
    ctx: ServiceContext, tx: Tx, registrar_id: str, amount_cents: int, reference: str,
    correlation_id: str,
) -> list[EventEnvelope[Any]]:
    if amount_cents <= 0:
        raise CommandRefused(Result.PARAMETER_VALUE_RANGE, "a prepayment is a positive amount")
    doc = await tx[REGISTRARS].find_one({"_id": registrar_id}, BOOKING_FIELDS)
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: registrar [{registrar_id}]")
    balance = int(doc.get("balance_cents", 0)) + amount_cents
    await _book(tx, registrar_id, {"_id": registrar_id}, amount_cents,
                [_line(registrar_id, "PREPAYMENT", registrar_id, amount_cents, balance, reference, ctx.clock.now())], doc)
    return [
        new_event(
            PrepaymentReceived(amount_cents=amount_cents, balance_cents=balance, reference=reference),
            registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock,
        )
    ]


def _line(registrar_id: str, kind: str, obj: str, amount_cents: int, balance_cents: int, reference: str,
          at: datetime) -> dict[str, Any]:
    return {"_id": ObjectId(), "registrar_id": registrar_id, "kind": kind, "object": obj,
            "amount_cents": amount_cents, "balance_cents": balance_cents, "reference": reference, "at": at}


def _each(lines: list[dict[str, Any]]) -> Any:
    return lines[0] if len(lines) == 1 else {"$each": lines}


async def _book(tx: Tx, registrar_id: str, condition: dict[str, Any], amount_cents: int, lines: list[dict[str, Any]],
                doc: dict[str, Any]) -> int:
    """Move the balance and add the ledger lines, on a registrar document read in this transaction (`doc`): a
    bucket they would overflow goes to the ledger collection first (with the oldest of the lines, when they alone
    overflow it). The update matches, or the transaction conflicts. Returns how many lines the bucket holds now."""
    bucket = doc.get(OPEN_LEDGER, [])
    if len(bucket) + len(lines) > OPEN_LINES:
        moved, kept = bucket + lines[:-OPEN_LINES], lines[-OPEN_LINES:]
        await tx[LEDGER].insert_many(moved)
        update: dict[str, Any] = {"$inc": {"balance_cents": amount_cents}, "$set": {OPEN_LEDGER: kept}}
    else:
        kept = bucket + lines
        update = {"$inc": {"balance_cents": amount_cents}, "$push": {OPEN_LEDGER: _each(lines)}}
    if not await tx[REGISTRARS].update_one(condition, update):
        raise AssertionError(f"registrar [{registrar_id}] read in this transaction did not match its booking")
    return len(kept)


async def balance(ctx: ServiceContext, registrar_id: str) -> int:
    doc = await unit_of_work(ctx)[REGISTRARS].find_one({"_id": registrar_id}, {"balance_cents": 1})
    return int(doc.get("balance_cents", 0)) if doc else 0


async def ledger(ctx: ServiceContext, registrar_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The newest `limit` lines, newest first: the registrar's open bucket, then the ledger collection."""
    uow = unit_of_work(ctx)
    registrar = await uow[REGISTRARS].find_one({"_id": registrar_id}, {OPEN_LEDGER: 1})
    docs = list(reversed((registrar or {}).get(OPEN_LEDGER, [])))[:limit]
    if len(docs) < limit:
        docs += await uow[LEDGER].find({"registrar_id": registrar_id}).sort("at", -1).limit(limit - len(docs)).to_list()
    return [{k: v for k, v in d.items() if k != "_id"} for d in docs]
