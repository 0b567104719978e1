"""Units of work: a callback run in one multi-document transaction, retried on transient faults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.mongo.client import Document
from shared.retry import database_retrying

T = TypeVar("T")


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
