"""Units of work: a callback run in one multi-document transaction, retried on transient faults."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure

from shared.mongo.client import Document
from shared.retry import database_retrying

T = TypeVar("T")
log = logging.getLogger(__name__)

# what is to run once a session's transaction committed (after_commit), by session
_AFTER_COMMIT: dict[int, list[Callable[[], None]]] = {}


def after_commit(session: AsyncClientSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the transaction `session` is in has committed (in_transaction runs it), never if it
    does not: for what other tasks must not see before the writes are visible, such as a cache invalidation that
    a concurrent read would otherwise undo by caching what it read before the commit."""
    _AFTER_COMMIT.setdefault(id(session), []).append(callback)


async def in_transaction(
    client: AsyncMongoClient[Document], work: Callable[[AsyncClientSession], Awaitable[T]]
) -> T:
    """Run `work` in a transaction. PyMongo retries write conflicts and unknown commit results itself;
    a dropped connection is retried here, so `work` must touch nothing outside the session."""
    async def attempt_work(session: AsyncClientSession) -> T:
        _AFTER_COMMIT.pop(id(session), None)  # a retried attempt starts afresh: the aborted one's callbacks go
        return await work(session)

    done, committed = False, []
    async for attempt in database_retrying():
        with attempt:
            async with client.start_session() as session:
                try:
                    result = await session.with_transaction(attempt_work)
                    committed, done = _AFTER_COMMIT.pop(id(session), []), True
                finally:
                    _AFTER_COMMIT.pop(id(session), None)
        if done:  # outside the retrying: the transaction committed, whatever a callback might raise
            for callback in committed:
                callback()
            return result
    raise AssertionError("unreachable: database_retrying reraises")


async def abort_orphaned_transactions(client: AsyncMongoClient[Document]) -> None:
    """End the server sessions of this service's database user, aborting their open transactions.

    A process killed inside a transaction leaves it open on the server, holding its uncommitted writes: every
    transaction that writes those documents (a registrar's balance) conflicts until MongoDB aborts the orphan after
    transactionLifetimeLimitSeconds (60 s by default; the local stand-in may stall longer). A restarting service
    ends them at once. A live replica's open transaction (same user) aborts too and is retried like any transient
    fault. Without the killAnySession privilege the orphans stay until they lapse: said once, start-up goes on."""
    status = await client.admin.command("connectionStatus")
    users = [{"user": u["user"], "db": u["db"]} for u in status.get("authInfo", {}).get("authenticatedUsers", [])]
    try:
        await client.admin.command("killAllSessions", users)  # [] without authentication: every session
    except OperationFailure as exc:
        log.warning("could not end the sessions a crashed predecessor may have left (%s); their transactions "
                    "lapse after the server's transactionLifetimeLimitSeconds", exc)
