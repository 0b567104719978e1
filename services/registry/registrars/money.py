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
    most transactions aborted). Correctness does not rest on it: the debit is conditional (`charge`), and other replicas
    or a crashed process's leftovers make a transaction conflict and retry, never overdraw. It lives in memory
    only: a crash takes it along."""
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
    """Debit a paying transaction inside the command's transaction; returns the events to publish with it.

    The debit is conditional: it applies only to the balance (and standing order) the rule was checked against,
    so a balance another command changed meanwhile matches nothing and is read again; a concurrent debit in
    another open transaction makes this one conflict and retry. Either way no debit is lost and the rule holds
    for every debit. The balance to try first is the one this process last wrote, or the one the command's
    standing check read: the usual debit costs one round trip (the update), not two."""
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
    price = settings.prices[charge.kind]
    # this process's last debit of the registrar: (balance, standing order, lines in the bucket) after it
    known: dict[str, tuple[int, bool, int]] = ctx.extras.setdefault("registrar_balances", {})
    doc: dict[str, Any] | None
    if registrar_id in known and known[registrar_id][2] < OPEN_LINES:
        doc = {"balance_cents": known[registrar_id][0], "standing_order": known[registrar_id][1]}
    elif registrar_id in known:
        doc = None  # the bucket is full: it moves on the fresh path, no guess to fail first
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
        if before < 0 and not standing_order and not allow_negative:
            if not fresh:  # a guess may be older than a top-up: refuse only on what the database says
                known.pop(registrar_id, None)
                doc = None
                continue
            raise CommandRefused(
                Result.BILLING_FAILURE,
                f"the prepayment balance is negative (EUR {before / 100:.2f}): no paying transactions until it is "
                "topped up",
                cause="negative_balance",
            )
        unchanged = {"_id": registrar_id, "balance_cents": before if "balance_cents" in doc else {"$exists": False},
                     "standing_order": True if standing_order else {"$ne": True}}
        line = _line(registrar_id, charge.kind.value, charge.obj, -price, before - price, charge.reference, now)
        if fresh:
            lines = await _book(tx, registrar_id, unchanged, -price, line, doc)
            break
        # a guess: the bucket must have room too (a full one is emptied on the fresh path)
        if await tx[REGISTRARS].update_one({**unchanged, f"{OPEN_LEDGER}.{OPEN_LINES - 1}": {"$exists": False}},
                                           {"$inc": {"balance_cents": -price}, "$push": {OPEN_LEDGER: line}}):
            lines = known[registrar_id][2] + 1 if registrar_id in known else OPEN_LINES  # unknown: read next time
            break
        known.pop(registrar_id, None)
        doc = None
    after = before - price
    known[registrar_id] = (after, standing_order, lines)  # a guess for the next debit; the condition checks it
    events: list[EventEnvelope[Any]] = [
        new_event(
            PayingTransactionRecorded(
                kind=charge.kind, object=charge.obj, amount_cents=price, balance_cents=after, reference=charge.reference
            ),
            registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock,
        )
    ]
    for level in crossed_watermarks(settings.watermarks_cents, before, after):
        events.append(
            new_event(
                WatermarkReached(level_cents=level, balance_cents=after),
                registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock,
            )
        )
    return events


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
                _line(registrar_id, "PREPAYMENT", registrar_id, amount_cents, balance, reference, ctx.clock.now()), doc)
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


async def _book(tx: Tx, registrar_id: str, condition: dict[str, Any], amount_cents: int, line: dict[str, Any],
                doc: dict[str, Any]) -> int:
    """Move the balance and add the ledger line, on a registrar document read in this transaction (`doc`): a
    full bucket goes to the ledger collection first. The update matches, or the transaction conflicts. Returns
    how many lines the bucket holds now."""
    bucket = doc.get(OPEN_LEDGER, [])
    if len(bucket) >= OPEN_LINES:
        await tx[LEDGER].insert_many(bucket)
        update: dict[str, Any] = {"$inc": {"balance_cents": amount_cents}, "$set": {OPEN_LEDGER: [line]}}
    else:
        update = {"$inc": {"balance_cents": amount_cents}, "$push": {OPEN_LEDGER: line}}
    if not await tx[REGISTRARS].update_one(condition, update):
        raise AssertionError(f"registrar [{registrar_id}] read in this transaction did not match its booking")
    return 1 if len(bucket) >= OPEN_LINES else len(bucket) + 1


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
