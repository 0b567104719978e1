"""One registrar's paying creates, committed together: the commands that wait for the registrar's turn meanwhile
share its next transaction (group commit).

Every paying transaction writes its registrar's balance, and MongoDB lets only one open transaction write a
document: one registrar's paying commands run one at a time whatever is done (registrar_lock in money.py: in this
process they take turns; across replicas they conflict and retry). A command that writes its own documents,
pays and publishes (a domain create) therefore hands those writes to the registrar's queue instead of running
its own transaction: while one batch commits, the next one gathers, and it commits up to MAX_BATCH commands in
one transaction of four round trips (their inserts in one command per collection, one debit with their ledger
lines, their events, the commit) instead of four per command. One registrar's creates from many sessions then go
about as fast as the same load spread over many registrars.

What each command gets is what it would get alone, in the order the batch lists them:
- its writes and events are committed with its debit or not at all (they are in the batch's one transaction);
- the debit follows the prepayment rule for each command in turn (money.charge_many): when the balance turns
  negative, the commands after that one are refused (2104) and the others committed without them;
- an insert that finds its key taken (2302) fails the whole transaction: each command of that batch then runs
  alone, so only the one whose object exists is refused.
Nothing is kept outside the database but the queue: a crash loses the waiting commands (their clients got no
answer) and leaves at most the one open transaction the restart aborts (shared/mongo/transactions.py).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.registry.registrars.money import Charge, charge_many, registrar_lock
from services.registry.results import CommandRefused
from services.registry.store import unit_of_work
from services.registry.uow import Document, DuplicateKey, Tx
from shared.audit import PENDING_AUDIT
from shared.events import EventEnvelope
from shared.observability.tracing import current_carrier
from shared.runtime import ServiceContext

# at most this many commands in one transaction (money.OPEN_LINES or fewer: one batch's ledger lines fit the bucket)
MAX_BATCH = 10


@dataclass(eq=False)
class PayingWrite:
    """One command's part of a batch: the documents it inserts, what it pays, and the events it publishes."""

    charge: Charge
    correlation_id: str | None
    inserts: Sequence[tuple[str, Document]]  # (collection, document)
    # the command's events, given the payment's (money.charge_many), in the order to publish them
    events: Callable[[list[EventEnvelope[Any]]], list[EventEnvelope[Any]]]
    exists: CommandRefused  # the refusal when one of its inserts finds its key taken
    trace: Mapping[str, str] = field(default_factory=current_carrier)  # the command's trace, for its events


class _Taken(Exception):
    """An insert of the batch found its key taken."""


class _Unpaid(Exception):
    def __init__(self, paid: int, refusal: Callable[[], CommandRefused]) -> None:
        super().__init__(f"{paid} paid")
        self.paid, self.refusal = paid, refusal


@dataclass
class _Queue:
    waiting: list[tuple[PayingWrite, asyncio.Future[None]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


async def commit_paying(ctx: ServiceContext, registrar_id: str, write: PayingWrite) -> None:
    """Commit the command's writes with its debit and events in the registrar's next batch; raises its refusal."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    if PENDING_AUDIT.get() is not None:  # a staff request's audit entry commits with its own change only
        async with registrar_lock(ctx, registrar_id):
            await _commit(ctx, registrar_id, [(write, done)])
        return await done
    queues: dict[str, _Queue] = ctx.extras.setdefault("paying_batches", {})
    queue = queues.setdefault(registrar_id, _Queue())
    queue.waiting.append((write, done))
    if queue.task is None:
        # a context of its own: the batch is no one command's (each one's trace rides in its PayingWrite)
        queue.task = asyncio.create_task(_drain(ctx, registrar_id, queue), context=contextvars.Context())
    await done  # a caller that gives up before its batch starts is left out of it


async def _drain(ctx: ServiceContext, registrar_id: str, queue: _Queue) -> None:
    try:
        while queue.waiting:
            batch = [(w, f) for w, f in queue.waiting[:MAX_BATCH] if not f.done()]
            del queue.waiting[:MAX_BATCH]
            if batch:
                async with registrar_lock(ctx, registrar_id):
                    await _commit(ctx, registrar_id, batch)
    finally:
        queue.task = None
        for _, f in queue.waiting:  # only when cancelled (shut down)
            f.cancel()


async def _commit(ctx: ServiceContext, registrar_id: str, batch: list[tuple[PayingWrite, asyncio.Future[None]]]) -> None:
    """Commit the batch, or the part of it the rules allow; settles every future of it."""
    try:
        while batch:
            writes = [w for w, _ in batch]
            try:
                await unit_of_work(ctx).run(lambda tx: _work(ctx, tx, registrar_id, writes))  # noqa: B023 (awaited here)
            except _Taken:
                if len(batch) == 1:
                    _settle(batch[0][1], batch[0][0].exists)
                    return
                for one in batch:  # which one: each alone
                    await _commit(ctx, registrar_id, [one])
                return
            except _Unpaid as unpaid:
                for _, f in batch[unpaid.paid:]:
                    _settle(f, unpaid.refusal())
                batch = batch[:unpaid.paid]
                continue
            for _, f in batch:
                _settle(f, None)
            return
    except Exception as exc:  # a fault of the batch's transaction (the database away): each command's
        for _, f in batch:
            _settle(f, _own(exc))
    except BaseException:  # cancelled (shut down)
        for _, f in batch:
            f.cancel()
        raise


def _own(exc: Exception) -> Exception:
    """A refusal of its own for each command (execute marks it published)."""
    if isinstance(exc, CommandRefused):
        return CommandRefused(exc.result, exc.message, exc.cause, element=exc.element, value=exc.value)
    return exc


def _settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if future.done():  # its caller gave up meanwhile
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)


async def _work(ctx: ServiceContext, tx: Tx, registrar_id: str, writes: list[PayingWrite]) -> None:
    documents: dict[str, list[Document]] = {}
    for write in writes:
        for collection, document in write.inserts:
            documents.setdefault(collection, []).append(document)
    for collection, docs in documents.items():
        try:
            if len(docs) == 1:
                await tx[collection].insert_one(docs[0])
            else:
                await tx[collection].insert_many(docs)
        except DuplicateKey as exc:
            raise _Taken() from exc
    paid = await charge_many(ctx, tx, registrar_id, [(w.charge, w.correlation_id) for w in writes])
    if len(paid.events) < len(writes):
        raise _Unpaid(len(paid.events), paid.refusal)
    for write, charged in zip(writes, paid.events, strict=True):
        tx.publish(write.events(charged), trace=write.trace)
