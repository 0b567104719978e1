"""Prepayment: every paying transaction is priced, debited and recorded in the ledger.

A registrar whose balance is already negative gets no new paying transaction (2104), unless it pays by
standing order or the transaction cannot be refused (the automatic renewal: the debt is booked).
Crossing a watermark level on the way down publishes payment.watermark_reached. Amounts are integer euro
cents.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Charge:
    kind: TransactionKind
    obj: str
    reference: str


def registrar_lock(ctx: ServiceContext, registrar_id: str) -> asyncio.Lock:
    """Paying commands of one registrar all write its balance: in this process they take turns for their
    transaction's writes and commit, instead of conflicting and backing off (MongoDB lets only one open transaction
    write a document). Correctness does not rest on it: the debit is conditional (`charge`), and other replicas
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
    known: dict[str, tuple[int, bool]] = ctx.extras.setdefault("registrar_balances", {})
    doc: dict[str, Any] | None
    if registrar_id in known:
        doc = {"balance_cents": known[registrar_id][0], "standing_order": known[registrar_id][1]}
    else:
        standing = standing_registrar(registrar_id)
        doc = standing if standing is not None and "balance_cents" in standing else None
    while True:
        fresh = doc is None  # read in this transaction: it matches the conditional debit, or the write conflicts
        if fresh:
            doc = await tx[REGISTRARS].find_one({"_id": registrar_id}, {"balance_cents": 1, "standing_order": 1})
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
        if await tx[REGISTRARS].update_one(unchanged, {"$inc": {"balance_cents": -price}}):
            break
        if fresh:
            raise AssertionError(f"registrar [{registrar_id}] read in this transaction did not match its debit")
        known.pop(registrar_id, None)
        doc = None
    after = before - price
    known[registrar_id] = (after, standing_order)  # a guess for the next debit; the condition checks it
    now = ctx.clock.now()
    await tx[LEDGER].insert_one(
        {
            "_id": ObjectId(), "registrar_id": registrar_id, "kind": charge.kind.value, "object": charge.obj,
            "amount_cents": -price, "balance_cents": after, "reference": charge.reference, "at": now,
        }
    )
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
    matched = await tx[REGISTRARS].update_one({"_id": registrar_id}, {"$inc": {"balance_cents": amount_cents}})
    if matched == 0:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: registrar [{registrar_id}]")
    doc = await tx[REGISTRARS].find_one({"_id": registrar_id}, {"balance_cents": 1})
    balance = int(doc["balance_cents"]) if doc else amount_cents
    await tx[LEDGER].insert_one(
        {
            "_id": ObjectId(), "registrar_id": registrar_id, "kind": "PREPAYMENT", "object": registrar_id,
            "amount_cents": amount_cents, "balance_cents": balance, "reference": reference, "at": ctx.clock.now(),
        }
    )
    return [
        new_event(
            PrepaymentReceived(amount_cents=amount_cents, balance_cents=balance, reference=reference),
            registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock,
        )
    ]


async def balance(ctx: ServiceContext, registrar_id: str) -> int:
    doc = await unit_of_work(ctx)[REGISTRARS].find_one({"_id": registrar_id}, {"balance_cents": 1})
    return int(doc.get("balance_cents", 0)) if doc else 0


async def ledger(ctx: ServiceContext, registrar_id: str, limit: int = 200) -> list[dict[str, Any]]:
    docs = await unit_of_work(ctx)[LEDGER].find({"registrar_id": registrar_id}).sort("at", -1).limit(limit).to_list()
    return [{k: v for k, v in d.items() if k != "_id"} for d in docs]
