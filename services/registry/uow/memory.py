"""The unit of work in memory, for the unit tests of the command pages: dictionaries of documents, MongoDB's
query and update language for the part the registry uses, and all-or-nothing transactions (a failed `work`
leaves the data as it found it). Documents are stored as MongoDB would return them: copies, datetimes in UTC
cut to milliseconds, tuples as lists. The contract suite (tests/unit/test_uow_contract.py) keeps it honest
against the real database."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId

from services.registry.uow import Document, DuplicateKey, Filter, SortKey
from shared.audit import AUDIT, PENDING_AUDIT, pending_audit_document
from shared.events import EventEnvelope

T = TypeVar("T")
_MISSING = object()


def _stored(value: Any) -> Any:
    """A value as it comes back from the database."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, Mapping):
        return {str(k): _stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    return copy.deepcopy(value)


def _get(doc: Any, path: str) -> Any:
    """The value at a dotted path; a number on a list is a position in it ("lines.49": the 50th element);
    another key on a list yields the list of its elements' values."""
    value = doc
    for i, part in enumerate(path.split(".")):
        if isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else _MISSING
            if value is _MISSING:
                return value
            continue
        if isinstance(value, list):
            rest = ".".join(path.split(".")[i:])
            found = [_get(v, rest) for v in value if isinstance(v, dict)]
            return [f for f in found if f is not _MISSING] or _MISSING
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _candidates(value: Any) -> list[Any]:
    """What a condition is tested against: the value, and each element of an array value."""
    if value is _MISSING:
        return []
    return [value, *value] if isinstance(value, list) else [value]


def _comparable(a: Any, b: Any) -> bool:
    return (isinstance(a, int | float) and isinstance(b, int | float)) or type(a) is type(b)


def _condition(value: Any, cond: Any) -> bool:
    if isinstance(cond, Mapping) and cond and all(str(k).startswith("$") for k in cond):
        return all(_operator(value, op, arg) for op, arg in cond.items())
    if isinstance(cond, re.Pattern):
        return any(isinstance(v, str) and cond.search(v) for v in _candidates(value))
    cond = _stored(cond)
    return any(v == cond for v in _candidates(value)) or (cond is None and value is _MISSING)


def _operator(value: Any, op: str, arg: Any) -> bool:
    values = _candidates(value)
    if op == "$eq":
        return _condition(value, arg)
    if op == "$ne":
        return not _condition(value, arg)
    if op == "$in":
        return any(_condition(value, a) for a in arg)
    if op == "$nin":
        return not any(_condition(value, a) for a in arg)
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    compare = {"$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b, "$lt": lambda a, b: a < b,
               "$lte": lambda a, b: a <= b}.get(op)
    if compare is None:
        raise NotImplementedError(f"query operator {op} (add it here and to the contract suite)")
    arg = _stored(arg)
    return any(_comparable(v, arg) and compare(v, arg) for v in values)


def matches(doc: Document, filter: Filter) -> bool:
    for key, cond in filter.items():
        if key == "$or":
            if not any(matches(doc, f) for f in cond):
                return False
        elif key == "$and":
            if not all(matches(doc, f) for f in cond):
                return False
        elif key.startswith("$"):
            raise NotImplementedError(f"query operator {key}")
        elif not _condition(_get(doc, key), cond):
            return False
    return True


def _parent(doc: Document, path: str, create: bool) -> tuple[dict[str, Any] | None, str]:
    parts = path.split(".")
    node: Any = doc
    for part in parts[:-1]:
        if not isinstance(node, dict):
            return None, parts[-1]
        if part not in node:
            if not create:
                return None, parts[-1]
            node[part] = {}
        node = node[part]
    return (node if isinstance(node, dict) else None), parts[-1]


def apply_update(doc: Document, update: Mapping[str, Any]) -> None:
    for op, fields in update.items():
        for path, arg in fields.items():
            parent, key = _parent(doc, path, create=op != "$unset")
            if parent is None:
                continue
            if op == "$set":
                parent[key] = _stored(arg)
            elif op == "$unset":
                parent.pop(key, None)
            elif op == "$inc":
                parent[key] = parent.get(key, 0) + arg
            elif op == "$addToSet":
                current = parent.setdefault(key, [])
                if _stored(arg) not in current:
                    current.append(_stored(arg))
            elif op == "$push":  # one value, or several with $each
                items = arg["$each"] if isinstance(arg, dict) and set(arg) == {"$each"} else [arg]
                parent.setdefault(key, []).extend(_stored(item) for item in items)
            elif op == "$pull":
                if isinstance(parent.get(key), list):
                    parent[key] = [v for v in parent[key] if not _condition(v, arg)]
            else:
                raise NotImplementedError(f"update operator {op}")


def _project(doc: Document, projection: Mapping[str, Any] | None) -> Document:
    if not projection:
        return copy.deepcopy(doc)
    included = [k for k, v in projection.items() if v and k != "_id"]
    excluded = [k for k, v in projection.items() if not v]
    out: Document
    if not included:  # an exclusion projection
        out = copy.deepcopy(doc)
        for path in excluded:
            parent, key = _parent(out, path, create=False)
            if parent is not None:
                parent.pop(key, None)
        return out
    out = {}
    if projection.get("_id", 1) and "_id" in doc:
        out["_id"] = copy.deepcopy(doc["_id"])
    for path in included:
        value = _get(doc, path)
        if value is _MISSING:
            continue
        node = out
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = copy.deepcopy(value)
    return out


class _SortValue:
    """MongoDB's order across types that matter here: missing/None first, then numbers, strings, dates."""

    RANK = {type(None): 0, int: 1, float: 1, str: 2, datetime: 3}

    def __init__(self, value: Any) -> None:
        self.value = None if value is _MISSING else value

    def key(self) -> tuple[int, Any]:
        return (self.RANK.get(type(self.value), 4), self.value if self.value is not None else 0)


class MemoryCursor:
    def __init__(self, docs: list[Document], projection: Mapping[str, Any] | None) -> None:
        self._docs, self._projection, self._limit = docs, projection, 0

    def sort(self, key: SortKey, direction: int | None = None) -> MemoryCursor:
        keys = [(key, direction or 1)] if isinstance(key, str) else list(key)
        for path, order in reversed(keys):
            def by(doc: Document, path: str = path) -> tuple[int, Any]:
                return _SortValue(_get(doc, path)).key()

            self._docs.sort(key=by, reverse=order < 0)
        return self

    def limit(self, count: int) -> MemoryCursor:
        self._limit = count
        return self

    async def to_list(self, length: int | None = None) -> list[Document]:
        docs = self._docs[: self._limit] if self._limit else self._docs
        docs = docs[:length] if length else docs
        return [_project(d, self._projection) for d in docs]

    async def __aiter__(self) -> AsyncIterator[Document]:  # type: ignore[override]
        for doc in await self.to_list():
            yield doc


class MemoryCollection:
    def __init__(self, store: InMemoryUnitOfWork, name: str) -> None:
        self._store, self._name = store, name

    @property
    def _docs(self) -> dict[Any, Document]:
        return self._store.collections.setdefault(self._name, {})

    def _matching(self, filter: Filter | None) -> list[Document]:
        return [d for d in self._docs.values() if matches(d, filter or {})]

    def _check_unique(self, doc: Document, ignore: Any = _MISSING) -> None:
        for fields in self._store.unique.get(self._name, ()):
            key = [_get(doc, f) for f in fields]
            if any(v is _MISSING for v in key):
                continue
            for other_id, other in self._docs.items():
                if other_id != ignore and [_get(other, f) for f in fields] == key:
                    raise DuplicateKey(f"E11000 duplicate key error collection: {self._name} index: {fields}")

    async def find_one(self, filter: Filter, projection: Mapping[str, Any] | None = None) -> Document | None:
        found = self._matching(filter)
        return _project(found[0], projection) if found else None

    def find(self, filter: Filter | None = None, projection: Mapping[str, Any] | None = None) -> MemoryCursor:
        return MemoryCursor(self._matching(filter), projection)

    async def count_documents(self, filter: Filter) -> int:
        return len(self._matching(filter))

    async def insert_one(self, document: Document) -> None:
        if "_id" not in document:
            document["_id"] = ObjectId()  # as the driver does: the caller's dict gets its id
        doc = _stored(document)
        if doc["_id"] in self._docs:
            raise DuplicateKey(f"E11000 duplicate key error collection: {self._name} index: _id_")
        self._check_unique(doc)
        self._docs[doc["_id"]] = doc

    async def insert_many(self, documents: Iterable[Document]) -> None:
        for document in documents:
            await self.insert_one(document)

    async def update_one(self, filter: Filter, update: Mapping[str, Any]) -> int:
        found = self._matching(filter)[:1]
        for doc in found:
            self._update(doc, update)
        return len(found)

    async def update_many(self, filter: Filter, update: Mapping[str, Any]) -> int:
        found = self._matching(filter)
        for doc in found:
            self._update(doc, update)
        return len(found)

    def _update(self, doc: Document, update: Mapping[str, Any]) -> None:
        changed = copy.deepcopy(doc)
        apply_update(changed, update)
        self._check_unique(changed, ignore=doc["_id"])
        self._docs[doc["_id"]] = changed

    async def delete_one(self, filter: Filter) -> int:
        found = self._matching(filter)[:1]
        for doc in found:
            del self._docs[doc["_id"]]
        return len(found)

    async def delete_many(self, filter: Filter) -> int:
        found = self._matching(filter)
        for doc in found:
            del self._docs[doc["_id"]]
        return len(found)


class MemoryTx:
    def __init__(self, store: InMemoryUnitOfWork) -> None:
        self.store = store
        self.events: list[EventEnvelope[Any]] = []
        self.committed: list[Callable[[], None]] = []

    def __getitem__(self, name: str) -> MemoryCollection:
        return MemoryCollection(self.store, name)

    def publish(self, events: Iterable[EventEnvelope[Any]], trace: Mapping[str, str] | None = None) -> None:
        self.events.extend(events)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.committed.append(callback)


class InMemoryUnitOfWork:
    """`published` holds every committed event in order (what the outbox relay would send)."""

    def __init__(self, unique: Mapping[str, Sequence[Sequence[str]]] | None = None) -> None:
        self.collections: dict[str, dict[Any, Document]] = {}
        self.unique = dict(unique or {})
        self.published: list[EventEnvelope[Any]] = []
        self.commits = 0

    def __getitem__(self, name: str) -> MemoryCollection:
        return MemoryCollection(self, name)

    async def run(self, work: Callable[[MemoryTx], Awaitable[T]]) -> T:
        before = copy.deepcopy(self.collections)
        tx = MemoryTx(self)
        pending = PENDING_AUDIT.get()
        try:
            result = await work(tx)
            audit = await pending_audit_document(tx)  # as MongoUnitOfWork: the staff entry commits with the change
            if audit is not None:
                await tx[AUDIT].insert_one(audit)
        except BaseException:
            self.collections = before  # all or nothing
            raise
        if pending is not None and audit is not None:
            pending.written = True
        self.published.extend(tx.events)
        self.commits += 1
        for callback in tx.committed:
            callback()
        return result

    async def joining(self, session: object, work: Callable[[MemoryTx], Awaitable[T]]) -> T:
        return await self.run(work)
