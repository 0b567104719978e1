"""The month-end renewal (digest 4.2, 5.5): .be renews automatically, never on request.

On the first day of each month (Brussels time) every REGISTERED name whose anniversary (`expires_at`)
fell in a previous month is renewed for a year and invoiced: the sponsoring registrar is charged a
RENEWAL even when its balance is negative (the debt is booked; a renewal cannot be refused).

- Names in quarantine are not renewed; a name with a delete date is renewed while it is still
  REGISTERED, unless that date has already come (the lifecycle job is about to quarantine it).
- An out-of-service name is not renewed (digest 4.1: its registrar's contract ended, no one is charged): it
  leaves the zone at the end of its expiry month and is released two months later (lifecycle.py) unless a
  transfer or an operator brings it back into service first; a run after that renews it as any other.
- One transaction per domain. The job is a query, not a schedule: a run finds what is left, so a crash
  mid-run loses nothing and a second run in the month renews nothing twice (`renewed_month` also keeps a
  name that is more than a year behind from being renewed twice in one month).
- It runs on the injectable clock, every RENEWAL_INTERVAL_SECONDS, under a lease so one replica runs it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from prometheus_client import Counter

from services.registry.domains.model import REGISTERED
from services.registry.registrars.money import Charge, charge, registrar_lock
from services.registry.settings import RegistrySettings
from services.registry.store import DOMAINS, unit_of_work
from services.registry.uow import Tx
from shared.clock import brussels_month, brussels_month_start, one_year_after
from shared.events import EventEnvelope, new_event
from shared.events.domains import DomainRenewed
from shared.events.money import PayingTransactionRecorded, TransactionKind
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


def renewal_metrics(ctx: ServiceContext) -> Counter:
    counter = ctx.extras.get("renewals_counter")
    if counter is None:
        counter = ctx.extras["renewals_counter"] = Counter(
            "registry_domain_renewals", "Domains renewed by the month-end renewal, by TLD and whether the charge "
            "left the registrar's balance negative", ["tld", "in_debt"], registry=ctx.metrics.registry,
        )
    return counter


def is_due(doc: dict[str, Any], now: datetime) -> bool:
    """Whether the renewal run at `now` renews this domain."""
    expires_at, delete_date = doc.get("expires_at"), doc.get("delete_date")
    return (doc.get("status") == REGISTERED and expires_at is not None
            and expires_at < brussels_month_start(now) and doc.get("renewed_month") != brussels_month(now)
            and (delete_date is None or delete_date > now) and not doc.get("out_of_service_since"))


async def renew_domain(ctx: ServiceContext, tx: Tx, name: str, now: datetime) -> list[EventEnvelope[Any]]:
    """Renew one domain inside the caller's transaction; no events when it is not (or no longer) due."""
    doc = await tx[DOMAINS].find_one({"_id": name})
    if doc is None or not is_due(doc, now):
        return []  # deleted, quarantined, transferred or renewed meanwhile
    month, expires_at = brussels_month(now), one_year_after(doc["expires_at"])
    # conditional on what was read: a concurrent run (operator endpoint beside the loop) renews once
    updated = await tx[DOMAINS].update_one(
        {"_id": name, "status": REGISTERED, "expires_at": doc["expires_at"], "renewed_month": {"$ne": month},
         "out_of_service_since": None},
        {"$set": {"expires_at": expires_at, "renewed_month": month, "renewed_at": now}},
    )
    if updated != 1:
        return []
    registrar_id = doc["registrar_id"]
    # one reference per domain and month: the ledger line and the invoice name the same renewal
    charged = await charge(ctx, tx, registrar_id, Charge(TransactionKind.RENEWAL, name, f"renewal-{month}-{name}"),
                           None, allow_negative=True)
    renewed = new_event(DomainRenewed(name=name, registrar_id=registrar_id, expires_at=expires_at),
                        registrar_id=registrar_id, correlation_id=None, clock=ctx.clock)
    return [renewed, *charged]


async def run_renewal(ctx: ServiceContext) -> dict[str, int]:
    """Renew every domain due at the clock's now; one transaction per domain."""
    uow = unit_of_work(ctx)
    now = ctx.clock.now()
    month = brussels_month(now)
    due = await uow[DOMAINS].find(
        {"status": REGISTERED, "expires_at": {"$lt": brussels_month_start(now)}, "renewed_month": {"$ne": month},
         "out_of_service_since": None, "$or": [{"delete_date": None}, {"delete_date": {"$gt": now}}]},
        {"_id": 1, "registrar_id": 1, "tld": 1},
    ).to_list()
    counter = renewal_metrics(ctx)
    renewed = 0
    for doc in due:
        async def work(tx: Tx, name: str = doc["_id"]) -> list[EventEnvelope[Any]]:
            events = await renew_domain(ctx, tx, name, now)
            tx.publish(events)
            return events

        # the renewal writes the registrar's balance, as its paying commands do
        async with registrar_lock(ctx, doc["registrar_id"]):
            events = await uow.run(work)
        paid = [e.payload for e in events if isinstance(e.payload, PayingTransactionRecorded)]
        if paid:
            renewed += 1
            counter.labels(doc.get("tld", ""), str(paid[0].balance_cents < 0).lower()).inc()
    if renewed:
        log.info("renewal %s: %d domains renewed", month, renewed)
    return {"renewed": renewed}


async def start_renewal(ctx: ServiceContext) -> None:
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]

    async def run() -> None:
        await run_renewal(ctx)

    start_periodic(ctx, "domain-renewal", settings.renewal_interval_seconds, leader=run)


async def stop_renewal(ctx: ServiceContext) -> None:
    await stop_periodic(ctx, "domain-renewal")
