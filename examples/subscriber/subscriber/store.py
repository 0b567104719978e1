"""Your side effect and the record that an event was applied, in one SQLite transaction: a redelivered,
republished or replayed event (same event_id) changes nothing the second time."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, occurred_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS domains (name TEXT PRIMARY KEY, registrar_id TEXT, registered_at TEXT, deleted INTEGER DEFAULT 0);
"""


class Store:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)  # explicit transactions below
        self.db.executescript(SCHEMA)

    def apply(self, event: Any) -> bool:
        """Apply an event once; False when it was applied before (a duplicate)."""
        with self.db:  # one transaction: BEGIN ... COMMIT, ROLLBACK on error
            self.db.execute("BEGIN")
            inserted = self.db.execute(
                "INSERT OR IGNORE INTO processed VALUES (?, ?, ?)",
                (str(event.event_id), event.event_type, event.occurred_at.isoformat()),
            ).rowcount
            if not inserted:
                return False
            self._effect(event)
            return True

    def _effect(self, event: Any) -> None:
        # what your service does with the events: here, a list of domain names and their registrar
        if event.event_type == "domain.created":
            self.db.execute("INSERT OR REPLACE INTO domains VALUES (?, ?, ?, 0)",
                            (event.payload.name, event.registrar_id, event.payload.registered_at.isoformat()))
        elif event.event_type == "domain.released":
            self.db.execute("UPDATE domains SET deleted = 1 WHERE name = ?", (event.payload.name,))

    def processed(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT event_id, event_type, occurred_at FROM processed ORDER BY occurred_at")
        return [{"event_id": r[0], "event_type": r[1], "occurred_at": r[2]} for r in rows]

    def domains(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM domains WHERE deleted = 0 ORDER BY name")]

    def dump(self) -> str:
        return json.dumps({"processed": self.processed(), "domains": self.domains()}, indent=2)
