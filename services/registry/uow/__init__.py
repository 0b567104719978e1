"""The unit of work: one command's transaction and the events it publishes (cosmicpython's pattern, with the
transactional outbox).

A command page asks for `uow.run(work)`: `work` receives a transaction (`Tx`), reads and writes collections
through `tx[name]` and hands its events to `tx.publish`. Either everything it wrote and every event it
published is committed together, or nothing is (a refusal raised inside `work` undoes its writes). `work`
may be run more than once (a transient database fault is retried), so it touches nothing outside `tx`.
Reads that need no transaction use `uow[name]`.

Two implementations keep the same contract (tests/unit/test_uow_contract.py and its integration twin run
one suite on both): `MongoUnitOfWork` (services/registry/uow/mongo.py), the real one, and
`InMemoryUnitOfWork` (services/registry/uow/memory.py), for the unit tests of the command pages.
A collection offers the subset of MongoDB's collection API the registry uses, with MongoDB's query and
update language (equality, $in/$nin/$ne/$exists/$gt/$gte/$lt/$lte/$or; $set/$unset/$inc/$addToSet/$pull/$push,
with $each).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from shared.events import EventEnvelope

T = TypeVar("T")
Document = dict[str, Any]
Filter = Mapping[str, Any]
SortKey = str | Sequence[tuple[str, int]]


class DuplicateKey(Exception):
    """An insert that a unique index (or _id) refuses: the object exists."""


class Cursor(Protocol):
    def sort(self, key: SortKey, direction: int | None = None) -> Cursor: ...

    def limit(self, count: int) -> Cursor: ...

    async def to_list(self, length: int | None = None) -> list[Document]: ...

    def __aiter__(self) -> AsyncIterator[Document]: ...


class Collection(Protocol):
    """One collection, inside the transaction it was taken from (or outside any, from the unit of work)."""

    async def find_one(self, filter: Filter, projection: Mapping[str, Any] | None = None) -> Document | None: ...

    def find(self, filter: Filter | None = None, projection: Mapping[str, Any] | None = None) -> Cursor: ...

    async def count_documents(self, filter: Filter) -> int: ...

    async def insert_one(self, document: Document) -> None:
        """Raises DuplicateKey when _id or a unique index is taken."""

    async def insert_many(self, documents: Iterable[Document]) -> None: ...

    async def update_one(self, filter: Filter, update: Mapping[str, Any]) -> int:
        """Returns how many documents matched (0 or 1)."""

    async def update_many(self, filter: Filter, update: Mapping[str, Any]) -> int: ...

    async def delete_one(self, filter: Filter) -> int: ...

    async def delete_many(self, filter: Filter) -> int: ...


class Reader(Protocol):
    """Where collections are read from: a transaction, or the unit of work itself outside any."""

    def __getitem__(self, name: str) -> Collection: ...


class Tx(Reader, Protocol):
    """A transaction in progress: its collections, and the events to publish if it commits."""

    def publish(self, events: Iterable[EventEnvelope[Any]], trace: Mapping[str, str] | None = None) -> None:
        """`trace`: the trace context the events continue (W3C headers), when it is not the running task's (a
        transaction that commits several commands' writes, registrars/batches.py)."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this transaction committed (also when it is an event consumer's that this one
        joined), never if it does not."""


class UnitOfWork(Reader, Protocol):
    """`uow[name]` reads outside a transaction; `run` runs one."""

    async def run(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one transaction and commit its writes with the events it published."""
