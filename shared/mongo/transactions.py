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


async def in_transaction(
    client: AsyncMongoClient[Document], work: Callable[[AsyncClientSession], Awaitable[T]]
) -> T:
    """Run `work` in a transaction. PyMongo retries write conflicts and unknown commit results itself;
    a dropped connection is retried here, so `work` must touch nothing outside the session."""
    async for attempt in database_retrying():
        with attempt:
            async with client.start_session() as session:
                return await session.with_transaction(work)
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
