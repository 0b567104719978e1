"""Top 100 and Top 30 (seed 000): registrars ranked by portfolio size, and by paying transactions of the
last calendar month with the position each had the month before. Pure rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Ranked:
    position: int
    registrar_id: str
    count: int
    share: float  # percent of the total


def rank(counts: Mapping[str, int]) -> list[Ranked]:
    """Highest first; equal counts share a position (1, 2, 2, 4), ties listed by registrar id."""
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    out: list[Ranked] = []
    for i, (registrar, count) in enumerate(ordered):
        position = out[-1].position if out and out[-1].count == count else i + 1
        out.append(Ranked(position, registrar, count, round(100 * count / total, 3) if total else 0.0))
    return out


def position_of(ranked: list[Ranked], registrar_id: str) -> Ranked | None:
    return next((r for r in ranked if r.registrar_id == registrar_id), None)
