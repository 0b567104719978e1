"""Indexes are declared next to the code that needs them and created at start-up (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo.client import Document


@dataclass(frozen=True)
class CollectionIndexes:
    collection: str
    indexes: tuple[IndexModel, ...]


async def ensure_indexes(db: AsyncDatabase[Document], specs: Iterable[CollectionIndexes]) -> None:
    for spec in specs:
        if spec.indexes:
            await db[spec.collection].create_indexes(list(spec.indexes))
