"""Offending transactions stored in runs (services/hitpoints/offences.py): the screen's newest-first read over
runs gives what a sort of every offence would, and reads no more runs than it must."""

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from services.hitpoints.offences import RUN_MAX, newest_offences, offence_run, offence_runs, offences_of

T0 = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
RETENTION = timedelta(days=90)


def offence(n: int, seconds: float) -> dict[str, Any]:
    return {"event_id": f"e{n}", "at": T0 + timedelta(seconds=seconds), "reference": f"ref-{n}"}


class Runs:
    """Run documents as a cursor sorted on `at` descending gives them; counts how many were read."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = sorted(runs, key=lambda r: r["at"], reverse=True)
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for run in self.runs:
            self.read += 1
            yield run


def test_a_run_is_named_by_its_first_event_and_sorted_and_kept_by_its_newest_offence() -> None:
    run = offence_run("a100001", "2026-11-05", 2, [offence(1, 5), offence(2, 9), offence(3, 7)], RETENTION)
    assert run["_id"] == "e1" and run["period"] == 2 and run["count"] == 3
    assert run["at"] == T0 + timedelta(seconds=9) and run["expires_at"] == run["at"] + RETENTION
    assert [o["event_id"] for o in offences_of(run)] == ["e1", "e2", "e3"]


def test_a_long_run_is_split_so_a_document_stays_small() -> None:
    offences = [offence(n, n) for n in range(2 * RUN_MAX + 1)]
    runs = offence_runs("a100001", "2026-11-05", 0, offences, RETENTION)
    assert [r["count"] for r in runs] == [RUN_MAX, RUN_MAX, 1]
    assert [o for r in runs for o in offences_of(r)] == offences and len({r["_id"] for r in runs}) == 3


def test_a_document_from_before_the_runs_reads_as_one_offence() -> None:
    legacy = {"_id": "e7", "registrar_id": "a100001", "at": T0, "reference": "ref-7"}
    assert offences_of(legacy) == [legacy]


async def test_the_newest_offences_over_overlapping_runs_are_those_of_one_sort() -> None:
    rng = random.Random(18)
    for _ in range(200):
        offences = [offence(n, rng.uniform(0, 100)) for n in range(rng.randint(0, 60))]
        runs, i = [], 0
        while i < len(offences):  # runs of random sizes; concurrent consumers make their times overlap
            size = rng.randint(1, 12)
            runs.append(offence_run("a100001", "2026-11-05", 0, offences[i:i + size], RETENTION))
            i += size
        limit = rng.randint(1, 40)
        expected = sorted(offences, key=lambda o: o["at"], reverse=True)[:limit]
        assert await newest_offences(Runs(runs), limit) == expected


async def test_the_read_stops_at_the_first_run_older_than_the_offences_it_has() -> None:
    runs = [offence_run("a100001", "2026-11-05", 0, [offence(10 * r + k, 10 * r + k) for k in range(5)], RETENTION)
            for r in range(10)]  # ten runs of five, each newer than the one before
    cursor = Runs(runs)
    newest = await newest_offences(cursor, 7)
    assert [o["event_id"] for o in newest] == ["e94", "e93", "e92", "e91", "e90", "e84", "e83"]
    assert cursor.read == 3  # the third run's newest is older than the 7th found: nothing after it is read
