"""Portfolio read model: domains per registrar, derived from domain events only."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from pymongo import DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import DomainCreated, EventEnvelope
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes

PORTFOLIOS = "portfolios"
PORTFOLIO_INDEXES = (CollectionIndexes(PORTFOLIOS, (IndexModel([("domains", DESCENDING)]),)),)


class Portfolios:
    def __init__(self, db: AsyncDatabase[Document], counted: Counter) -> None:
        self.collection = db[PORTFOLIOS]
        self.counted = counted

    async def on_domain_created(self, event: EventEnvelope[DomainCreated], session: AsyncClientSession) -> None:
        await self.collection.update_one(
            {"_id": event.registrar_id},
            {"$inc": {"domains": 1}, "$max": {"last_event_at": event.occurred_at}},
            upsert=True,
            session=session,
        )
        self.counted.labels(event.payload.tld).inc()

    async def of(self, registrar_id: str) -> int:
        doc = await self.collection.find_one({"_id": registrar_id})
        return int(doc["domains"]) if doc else 0

    async def all(self) -> list[dict[str, Any]]:
        docs = await self.collection.find({}).sort("domains", DESCENDING).to_list()
        return [{"registrar_id": d["_id"], "domains": d["domains"]} for d in docs]
