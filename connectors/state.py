"""Durable connector state: which events were already published, and where each source stands.

Two jobs, one SQLite file per connector process (:func:`state_file`: the ingress has one,
each ``rosterhub connect <vendor>`` process its own):

* **dedupe** — a redelivered webhook, a re-dropped file or an overlapping poll page maps
  to events with the same deterministic ids; :meth:`ConnectorState.claim` lets only ids
  never published before through (atomically, so two concurrent deliveries cannot both
  publish). A claim is released when publishing fails and confirmed once the broker
  acknowledged the event. Claims a crashed process left unconfirmed are dropped when the
  state is opened again, so a retry publishes them: a crash can cause a duplicate (which
  consumers drop by event id), never a loss. One process per state file.
* **positions** — poll cursors and similar progress markers (Kafka Connect's "source
  offsets"). The runtime stores a position only after the raw write and the canonical
  events were acknowledged, so a crash in between repeats work (which dedupe absorbs)
  and never skips it.

Why SQLite and not a Kafka topic: claims must be atomic and answered in microseconds on
the ingest path, and the store must hold millions of ids with a retention window;
SQLite gives that in the standard library. Keep ``state_dir`` on persistent storage.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

__all__ = ["ConnectorState", "Dedupe", "state_file"]


def state_file(state_dir: Path, owner: str | None = None) -> Path:
    """The state file of one process: ``ingress`` (webhook and FHIR vendors) or a polled/file vendor's id."""
    return state_dir / ("connectors.sqlite" if owner is None else f"connectors-{owner}.sqlite")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    vendor TEXT NOT NULL,
    key TEXT NOT NULL,
    seen_at REAL NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vendor, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS positions (
    vendor TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (vendor, name)
) WITHOUT ROWID;
"""


class Dedupe(Protocol):
    """What ingest asks of the state: :class:`ConnectorState` itself, or a view of it for one unit of work (a
    dropped file's claims are recorded with the file: ``connectors/kinds/filedrop/fence.py``)."""

    def claim(self, vendor: str, keys: Sequence[str]) -> list[str]: ...
    def confirm(self, vendor: str, keys: Iterable[str]) -> None: ...
    def release(self, vendor: str, keys: Iterable[str]) -> None: ...
    def seen(self, vendor: str, key: str) -> bool: ...
    def position(self, vendor: str, name: str) -> str | None: ...
    def set_position(self, vendor: str, name: str, value: str) -> None: ...


class ConnectorState:
    """Thread-safe; one instance per process, shared by every connector in it."""

    def __init__(self, path: Path | str, *, recover: bool = True) -> None:
        """``recover``: drop claims left unconfirmed by a crashed owner. Only the file's owning
        process may do that; a tool reading alongside a live process (replay) passes False."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.recovered = self._db.execute("DELETE FROM seen WHERE confirmed = 0").rowcount if recover else 0

    def claim(self, vendor: str, keys: Sequence[str]) -> list[str]:
        """Mark ``keys`` as published; return those that were not already (in input order)."""
        now = time.time()
        fresh: list[str] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for key in keys:
                    cur = self._db.execute(
                        "INSERT OR IGNORE INTO seen (vendor, key, seen_at) VALUES (?, ?, ?)", (vendor, key, now)
                    )
                    if cur.rowcount == 1:
                        fresh.append(key)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return fresh

    def confirm(self, vendor: str, keys: Iterable[str]) -> None:
        """The broker acknowledged what these claims stand for: keep them."""
        with self._lock:
            self._db.executemany(
                "UPDATE seen SET confirmed = 1 WHERE vendor = ? AND key = ?", [(vendor, k) for k in keys]
            )

    def release(self, vendor: str, keys: Iterable[str]) -> None:
        """Undo claims whose publishing failed, so a retry may publish them."""
        with self._lock:
            self._db.executemany("DELETE FROM seen WHERE vendor = ? AND key = ?", [(vendor, k) for k in keys])

    def seen(self, vendor: str, key: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM seen WHERE vendor = ? AND key = ?", (vendor, key)).fetchone()
        return row is not None

    def position(self, vendor: str, name: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM positions WHERE vendor = ? AND name = ?", (vendor, name)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_position(self, vendor: str, name: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO positions (vendor, name, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (vendor, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (vendor, name, value, time.time()),
            )

    def prune(self, older_than_s: float) -> int:
        """Forget dedupe keys older than the retention window; returns how many."""
        with self._lock:
            cur = self._db.execute("DELETE FROM seen WHERE seen_at < ?", (time.time() - older_than_s,))
        return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
