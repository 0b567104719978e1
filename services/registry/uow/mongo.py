"""The unit of work on MongoDB: a multi-document transaction (retried on transient faults) whose events go to
the transactional outbox in the same transaction; the relay is woken once it committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from opentelemetry import context as otel_context
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.registry.uow import Cursor, Document, DuplicateKey, Filter
from shared.audit import AUDIT, PENDING_AUDIT, pending_audit_document
from shared.events import EventEnvelope
from shared.mongo.outbox import OUTBOX, Outbox
from shared.mongo.transactions import after_commit, in_transaction
from shared.observability.tracing import context_from

T = TypeVar("T")


class MongoCollection:
    """A collection bound to a session (or to none): the session argument is given for the caller."""

    def __init__(self, collection: AsyncCollection[Document], session: AsyncClientSession | None) -> None:
        self._c, self._s = collection, session

    async def find_one(self, filter: Filter, projection: Mapping[str, Any] | None = None) -> Document | None:
        return await self._c.find_one(filter, projection, session=self._s)

    def find(self, filter: Filter | None = None, projection: Mapping[str, Any] | None = None) -> Cursor:
        return self._c.find(filter or {}, projection, session=self._s)  # type: ignore[return-value]

    async def count_documents(self, filter: Filter) -> int:
        return await self._c.count_documents(filter, session=self._s)

    async def insert_one(self, document: Document) -> None:
        try:
            await self._c.insert_one(document, session=self._s)
        except DuplicateKeyError as exc:
            raise DuplicateKey(str(exc)) from exc

    async def insert_many(self, documents: Iterable[Document]) -> None:
        try:
            await self._c.insert_many(list(documents), session=self._s)
        except BulkWriteError as exc:  # what insert_many raises for a taken key (not DuplicateKeyError)
            if any(error.get("code") == 11000 for error in exc.details.get("writeErrors", [])):
                raise DuplicateKey(str(exc)) from exc
            raise

    async def update_one(self, filter: Filter, update: Mapping[str, Any]) -> int:
        return (await self._c.update_one(filter, update, session=self._s)).matched_count

    async def update_many(self, filter: Filter, update: Mapping[str, Any]) -> int:
        return (await self._c.update_many(filter, update, session=self._s)).matched_count

    async def delete_one(self, filter: Filter) -> int:
        return (await self._c.delete_one(filter, session=self._s)).deleted_count

    async def delete_many(self, filter: Filter) -> int:
        return (await self._c.delete_many(filter, session=self._s)).deleted_count


class MongoTx:
    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession) -> None:
        self.db, self.session = db, session
        self.events: list[EventEnvelope[Any]] = []
        # events published with a trace context of their own: (where they start in `events`, how many, context)
        self.traced: list[tuple[int, int, Mapping[str, str]]] = []

    def __getitem__(self, name: str) -> MongoCollection:
        return MongoCollection(self.db[name], self.session)

    def publish(self, events: Iterable[EventEnvelope[Any]], trace: Mapping[str, str] | None = None) -> None:
        start = len(self.events)
        self.events.extend(events)
        if trace is not None:
            self.traced.append((start, len(self.events) - start, trace))

    def after_commit(self, callback: Callable[[], None]) -> None:
        after_commit(self.session, callback)  # in_transaction runs it, whoever started the transaction

    async def write_outbox(self, outbox: Outbox) -> None:
        """The events into the outbox in this transaction, each with the trace context it was published in."""
        if not self.traced:
            await outbox.add(self.events, self.session)
            return
        records: list[Document] = []
        done = 0
        for start, count, trace in self.traced:
            records += outbox.records(self.events[done:start])  # the running task's context
            token = otel_context.attach(context_from(trace))
            try:
                records += outbox.records(self.events[start:start + count])
            finally:
                otel_context.detach(token)
            done = start + count
        records += outbox.records(self.events[done:])
        if records:
            await self.db[OUTBOX].insert_many(records, ordered=True, session=self.session)


class MongoUnitOfWork:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], outbox: Outbox,
                 on_commit: Callable[[], None] = lambda: None) -> None:
        self.client, self.db, self.outbox, self.on_commit = client, db, outbox, on_commit

    def __getitem__(self, name: str) -> MongoCollection:
        return MongoCollection(self.db[name], None)

    async def run(self, work: Callable[[MongoTx], Awaitable[T]]) -> T:
        published: list[bool] = []
        audited: list[bool] = []
        pending = PENDING_AUDIT.get()

        async def attempt(session: AsyncClientSession) -> T:
            tx = MongoTx(self.db, session)  # a retried attempt starts with no events
            result = await work(tx)
            # a staff request's "done" entry commits with its change, or not at all (shared/audit.py)
            audit = await pending_audit_document(tx)
            if audit is not None:
                await tx[AUDIT].insert_one(audit)
            audited.append(audit is not None)
            await tx.write_outbox(self.outbox)
            published.append(bool(tx.events))
            return result

        result = await in_transaction(self.client, attempt)
        if pending is not None and audited and audited[-1]:
            pending.written = True
        if published and published[-1]:
            self.on_commit()
        return result

    async def joining(self, session: AsyncClientSession, work: Callable[[MongoTx], Awaitable[T]]) -> T:
        """Run `work` inside a transaction someone else owns (an event consumer's, which also records the
        event as handled): its events go to the outbox in that transaction."""
        tx = MongoTx(self.db, session)
        result = await work(tx)
        await tx.write_outbox(self.outbox)
        return result
