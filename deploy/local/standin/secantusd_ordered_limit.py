# SPDX-License-Identifier: GPL-2.0-only
# A fix to the local MongoDB stand-in (SecantusDB 0.7.0b3, GPL-2.0-only), applied when it starts
# (deploy/local/ensure-mongodb.sh, bench/run_all.py). It runs in the stand-in's own process and virtualenv and is
# never imported by the project's code; like SecantusDB itself it is licensed GPL-2.0-only.
#
# The fault: a find with a sort and a limit, served by a compound index whose order is the sort's
# ({registrar_id: X, name: {$gt: after}} sorted by name, limit 51, over the index (registrar_id, name)), fetches and
# decodes EVERY document in the index range, then sorts them and keeps 51. MongoDB walks the index in order and
# stops at the limit. A registrar's page of 50 names out of 10,000 took over a second here (about 0.14 ms per
# document in the range). This walks the index range in order and stops once skip + limit documents match.
#
# Taken only where the result is provably the same: no hint, min/max, collation, $meta projection or user
# transaction; the filter is bare equalities (strings) on an index's leading fields plus at most a range
# ($gt/$gte/$lt/$lte) on the sort field, which is the index's next and last field, ascending, as is the sort;
# the index is neither sparse, partial, collated nor multikey. Every candidate still passes the stand-in's own
# matches(), so the index only decides the order and where to stop. Anything else takes the stand-in's path.
from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import bson
from secantus import storage as _storage
from secantus.cli import main
from secantus.projection import apply_projection_batch
from secantus.query import matches
from secantus.sortkey import COMPOUND_SEP, encode_value_directed

_RANGE = {"$gt", "$gte", "$lt", "$lte"}
_original_find_matching = _storage.Storage.find_matching


def _plain_scalar(value: Any) -> bool:
    return isinstance(value, str)  # strings only: one encoding per value, one type bracket


def _ordered_index(self: Any, db: str, coll: str, eq: Mapping[str, Any], sort_field: str
                   ) -> tuple[str, dict[str, Any]] | None:
    """An ascending index (eq fields in any order, then sort_field, nothing more) usable as the order."""
    options = self._index_options_map(db, coll)
    partials = self._partial_filters(db, coll)
    for name, key_spec, sparse, _unique in self._all_indexes(db, coll):
        fields = list(key_spec)
        if sparse or name in partials or len(fields) != len(eq) + 1:
            continue
        if set(fields[:-1]) != set(eq) or fields[-1] != sort_field or key_spec[sort_field] != 1:
            continue
        if any(key_spec[f] not in (1, -1) for f in fields):
            continue
        opts = options.get(name) or {}
        if opts.get("collation") or opts.get("multikey"):
            continue
        return name, dict(key_spec)
    return None


def _walk(self: Any, db: str, coll: str, name: str, prefix: bytes, lower: bytes | None, lower_inclusive: bool,
          upper: bytes | None, upper_inclusive: bool) -> Iterator[int]:
    """The RecordIds of an index range in index order, one at a time (Storage._range_scan_index, which lists the
    whole range first, as a generator)."""
    c = self._cursor(_storage._IDX_ENTRIES_TABLE)
    esc_prefix = _storage._escape_kb(prefix)
    esc_lower = _storage._escape_kb(lower) if lower is not None else None
    esc_upper = _storage._escape_kb(upper) if upper is not None else None
    c.set_key(db, coll, name, esc_lower + _storage._ENTRY_SEP if esc_lower is not None else esc_prefix)
    rc = c.search_near()
    if rc == _storage.wt.WT_NOTFOUND or (rc < 0 and c.next() != 0):
        return
    while True:
        k = c.get_key()
        if (k[0], k[1], k[2]) != (db, coll, name):
            return
        row_esc, row_id = _storage._unpack_entry(bytes(k[3]))
        if not row_esc.startswith(esc_prefix):
            return
        skip = esc_lower is not None and not lower_inclusive and row_esc == esc_lower
        if esc_upper is not None and (row_esc > esc_upper if upper_inclusive else row_esc >= esc_upper):
            return
        if row_id is not None and not skip:
            yield row_id
        if c.next() != 0:
            return


def _ordered_limited(self: Any, db: str, coll: str, filter: Mapping[str, Any] | None, *, skip: int, limit: int,
                     sort: Mapping[str, Any] | None, projection: Mapping[str, Any] | None, hint: Any, let: Any,
                     collation: Any, min_bound: Any, max_bound: Any) -> list[dict[str, Any]] | None:
    if hint is not None or min_bound or max_bound or collation is not None or limit <= 0:
        return None
    if not sort or len(sort) != 1 or not filter:
        return None
    sort_field, direction = next(iter(sort.items()))
    if direction != 1 or "." in sort_field or sort_field.startswith("$"):
        return None
    if projection and any(isinstance(v, Mapping) or isinstance(v, str) for v in projection.values()):
        return None  # $meta, $slice, $elemMatch, expressions: the stand-in's path
    eq: dict[str, Any] = {}
    bounds: dict[str, Any] = {}
    for field, value in filter.items():
        if field.startswith("$") or "." in field:
            return None
        if field == sort_field:
            if not isinstance(value, Mapping) or not value or set(value) - _RANGE:
                return None
            if not all(_plain_scalar(v) for v in value.values()):
                return None
            bounds = dict(value)
        elif _plain_scalar(value):
            eq[field] = value
        else:
            return None
    if not eq:
        return None
    if getattr(self._tls, "user_txn", None) is not None:
        return None  # a transaction's own writes: the stand-in's path knows where they are
    if self._is_oplog_rs(db, coll) or self._is_timeseries(db, coll) or db in ("admin", "config", "local"):
        return None
    self._refresh_read_snapshot()
    with self._lock:
        picked = _ordered_index(self, db, coll, eq, sort_field)
        if picked is None:
            return None
        name, key_spec = picked
        prefix = COMPOUND_SEP.join(encode_value_directed(eq[f], int(key_spec[f]), collation=None)
                                   for f in list(key_spec)[:-1]) + COMPOUND_SEP
        if bounds:
            lower: bytes | None = None
            upper: bytes | None = None
            lower_inclusive = upper_inclusive = True
            for op, bound in bounds.items():
                encoded = prefix + encode_value_directed(bound, 1, collation=None)
                if op in ("$gt", "$gte"):
                    lower, lower_inclusive = encoded, op == "$gte"
                else:
                    upper, upper_inclusive = encoded, op == "$lte"
            if sum(op in ("$gt", "$gte") for op in bounds) > 1 or sum(op in ("$lt", "$lte") for op in bounds) > 1:
                return None  # two lower (or upper) bounds: the stand-in's path
            recordids = _walk(self, db, coll, name, prefix, lower, lower_inclusive, upper, upper_inclusive)
        else:
            recordids = _walk(self, db, coll, name, prefix, None, True, None, True)
        cursor = self._cursor_optional(_storage._doc_table_for(db, coll))
        out: list[dict[str, Any]] = []
        if cursor is not None:
            for recordid in recordids:  # not multikey: each document once
                cursor.reset()
                cursor.set_key(db, coll, recordid)
                if cursor.search() != 0:
                    continue
                doc = bson.decode(_storage._unframe_doc_value(bytes(cursor.get_value()))[1])
                if matches(doc, dict(filter), vars=let):  # `let` holds $$NOW and the like
                    out.append(doc)
                    if len(out) >= skip + limit:
                        break
    out = out[skip:skip + limit]
    if projection:
        out = apply_projection_batch(out, projection, dict(filter), metas=None, has_sort=True)
    return out


# The second fault: a find of a whole collection sorted by _id with a limit (the outbox relay's oldest batch:
# `find({}).sort("_id", 1).limit(200)`) decodes and sorts EVERY document, so each batch costs the whole backlog
# (about 170 ms at 3,000 waiting events, 20 ms at 300). MongoDB walks the _id index and stops at the limit. The
# stand-in keeps its _id index as the table _NAT_SEQ_TABLE, keyed by (db, coll, id_key) in _id order; this walks
# it and stops once skip + limit documents are found. Taken only for an empty filter, an ascending _id sort and
# the same conditions as above; a document whose _id is not a scalar sends the query back to the stand-in's path
# (the index orders scalar types as MongoDB does; documents and arrays as _id are left to the stand-in).


def _id_ordered_limited(self: Any, db: str, coll: str, filter: Mapping[str, Any] | None, *, skip: int, limit: int,
                        sort: Mapping[str, Any] | None, projection: Mapping[str, Any] | None, hint: Any,
                        collation: Any, min_bound: Any, max_bound: Any) -> list[dict[str, Any]] | None:
    if hint is not None or min_bound or max_bound or collation is not None or limit <= 0 or filter:
        return None
    if not sort or dict(sort) != {"_id": 1}:
        return None
    if projection and any(isinstance(v, Mapping) or isinstance(v, str) for v in projection.values()):
        return None
    if getattr(self._tls, "user_txn", None) is not None:
        return None
    if self._is_oplog_rs(db, coll) or self._is_timeseries(db, coll) or db in ("admin", "config", "local"):
        return None
    self._refresh_read_snapshot()
    out: list[dict[str, Any]] = []
    with self._lock:
        ids = self._cursor(_storage._NAT_SEQ_TABLE)
        ids.reset()
        ids.set_key(db, coll, b"")
        rc = ids.search_near()
        if rc == _storage.wt.WT_NOTFOUND or (rc < 0 and ids.next() != 0):
            return []
        docs = self._cursor_optional(_storage._doc_table_for(db, coll))
        if docs is None:
            return []
        while len(out) < skip + limit:
            k = ids.get_key()
            if (k[0], k[1]) != (db, coll):
                break
            docs.reset()
            docs.set_key(db, coll, int(ids.get_value()))
            if docs.search() == 0:
                doc = bson.decode(_storage._unframe_doc_value(bytes(docs.get_value()))[1])
                if isinstance(doc.get("_id"), (Mapping, list)):
                    return None
                out.append(doc)
            if ids.next() != 0:
                break
    out = out[skip:skip + limit]
    if projection:
        out = apply_projection_batch(out, projection, {}, metas=None, has_sort=True)
    return out


def find_matching(self: Any, db: str, coll: str, filter: dict[str, Any] | None = None, *, skip: int = 0,
                  limit: int = 0, sort: Mapping[str, Any] | None = None, projection: Mapping[str, Any] | None = None,
                  hint: Any = None, let: Any = None, collation: Any = None, min_bound: Any = None,
                  max_bound: Any = None) -> list[dict[str, Any]]:
    fast = _ordered_limited(self, db, coll, filter, skip=skip, limit=limit, sort=sort, projection=projection,
                            hint=hint, let=let, collation=collation, min_bound=min_bound, max_bound=max_bound)
    if fast is None:
        fast = _id_ordered_limited(self, db, coll, filter, skip=skip, limit=limit, sort=sort, projection=projection,
                                   hint=hint, collation=collation, min_bound=min_bound, max_bound=max_bound)
    if fast is not None:
        return fast
    return _original_find_matching(self, db, coll, filter, skip=skip, limit=limit, sort=sort, projection=projection,
                                   hint=hint, let=let, collation=collation, min_bound=min_bound, max_bound=max_bound)


_storage.Storage.find_matching = find_matching  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    sys.exit(main())
