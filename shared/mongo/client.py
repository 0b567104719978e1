"""The MongoDB client factory: one AsyncMongoClient per process, created inside the running event loop."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.retry import connect_retrying
from shared.settings import ServiceSettings

Document = dict[str, Any]


def make_client(settings: ServiceSettings) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        settings.mongodb_url,
        uuidRepresentation="standard",
        tz_aware=True,
        serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
        appname=f"{settings.service_name}/{settings.instance_id}",
    )


async def connect(settings: ServiceSettings) -> AsyncMongoClient[Document]:
    """A client that has answered a ping; retried with back-off until the connect timeout."""
    client = make_client(settings)
    try:
        async for attempt in connect_retrying("MongoDB", settings.connect_timeout_seconds):
            with attempt:
                await client.admin.command("ping")
    except BaseException:
        await client.close()
        raise
    return client


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.client.admin.command("ping")
