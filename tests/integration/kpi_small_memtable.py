"""``python -m tests.integration.kpi_small_memtable``: ``rosterhub worker`` with 64 KB RocksDB memtables.

faust opens every table's RocksDB with 64 MB memtables, so a test month never fills one and RocksDB flushes only
when a worker stops cleanly. With 64 KB a memtable fills every few dozen KPI rows and RocksDB flushes it in the
background while the worker keeps writing: a SIGKILL then finds rows and changelog offsets on disk from the last
flush and later ones in memory only (tests/integration/test_kpi_crash.py). The size is set on each opened
database (RocksDB's ``SetOptions``): rocksdict reopens an existing database with the options stored in it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from faust.stores.rocksdb import RocksDBOptions

from rosterhub.cli.main import app

MEMTABLE_BYTES = 64 * 1024


def _small_memtables() -> None:
    plain_open = RocksDBOptions.open

    def open_(self: RocksDBOptions, path: Path, *, read_only: bool = False) -> Any:
        db = plain_open(self, path, read_only=read_only)
        if not read_only:
            db.set_options({"write_buffer_size": str(MEMTABLE_BYTES)})
        return db

    RocksDBOptions.open = open_  # type: ignore[method-assign]


if __name__ == "__main__":
    _small_memtables()
    sys.argv = ["rosterhub", "worker"]
    app()
