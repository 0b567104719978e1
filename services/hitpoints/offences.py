"""Offending transactions as stored: one document per registrar, day and counted run (the bucket pattern).

A burst of failures is counted in runs of up to CONSUME_BATCH_SIZE events (service.apply_failures). Each run
writes one document per registrar and day, holding that run's offences, instead of one document per offence:
a run's offences are inserted with a few documents and index entries instead of hundreds, which was most of
the store's work per counted event. The screen reads the newest runs first and stops once no older run can
hold a newer offence than those it has.

A document written before the runs (one offence, its fields at the top) reads as a run of one, until its
retention ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from datetime import datetime, timedelta
from typing import Any

Document = dict[str, Any]

# offences a document holds at most: a run of CONSUME_BATCH_SIZE (up to 10,000) of one registrar is split, so a
# document stays far below MongoDB's 16 MB (an offence takes well under 1 kB)
RUN_MAX = 1000


def offence_runs(registrar_id: str, day: str, period: int, offences: Sequence[Document],
                 retention: timedelta) -> list[Document]:
    """The documents of one run's offences of a registrar on a day: one, or one per RUN_MAX."""
    return [offence_run(registrar_id, day, period, offences[i:i + RUN_MAX], retention)
            for i in range(0, len(offences), RUN_MAX)]


def offence_run(registrar_id: str, day: str, period: int, offences: Sequence[Document],
                retention: timedelta) -> Document:
    """The document of one run's offences (each with its event_id and at) of a registrar on a day. Its `at` is
    that of its newest offence: what the screen sorts on. The first event's id names it, so the same run
    written twice would collide rather than count twice."""
    newest: datetime = max(o["at"] for o in offences)
    return {"_id": offences[0]["event_id"], "registrar_id": registrar_id, "day": day, "period": period, "at": newest,
            "count": len(offences), "offences": list(offences), "expires_at": newest + retention}


def offences_of(doc: Document) -> list[Document]:
    """The offences a stored document holds (a document from before the runs is one offence)."""
    held: list[Document] | None = doc.get("offences")
    return held if held is not None else [doc]


async def newest_offences(runs: AsyncIterable[Document], limit: int) -> list[Document]:
    """The `limit` newest offences, newest first, from runs given newest first (sorted on `at` descending)."""
    found: list[Document] = []
    async for run in runs:
        if len(found) >= limit and run["at"] < found[limit - 1]["at"]:
            break  # this run and every later one hold only offences older than the limit-th newest
        found.extend(offences_of(run))
        found.sort(key=lambda o: o["at"], reverse=True)
    return found[:limit]
