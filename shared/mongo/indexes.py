"""Indexes are declared next to the code that needs them and created at start-up (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pymongo import IndexModel
from pymongo.errors import OperationFailure
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo.client import Document


NAMESPACE_NOT_FOUND, INDEX_NOT_FOUND = 26, 27


@dataclass(frozen=True)
class CollectionIndexes:
    collection: str
    indexes: tuple[IndexModel, ...]
    # names of indexes an earlier version created and this one no longer wants: dropped at start-up, since every
    # index costs each insert and delete of the collection
    retired: tuple[str, ...] = ()


async def ensure_indexes(db: AsyncDatabase[Document], specs: Iterable[CollectionIndexes]) -> None:
    for spec in specs:
        if spec.indexes:
            await db[spec.collection].create_indexes(list(spec.indexes))
        for name in spec.retired:
            try:
                await db[spec.collection].drop_index(name)
            except OperationFailure as exc:
                if exc.code not in (NAMESPACE_NOT_FOUND, INDEX_NOT_FOUND):
                    raise
