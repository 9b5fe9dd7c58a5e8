"""The ``kpi-shift-facts`` table as the KPI agent uses it: one JSON value per shift, encoded once, behind a cache.

Per folded event the agent reads the shift's facts and writes them back, through a
:class:`~rosterhub.streams.row_table.RowTable`: the bytes are JSON as faust's serializer wrote them, read
unchanged from an earlier version's changelog or RocksDB directory; the cache is emptied whenever partitions are
revoked or a rebalance completes.

The table also knows which cached rows it *read* (:meth:`FactsTable.loaded`) rather than wrote: their ShiftKpi
record may have been lost by a worker killed between sending it and writing the row, so the agent sends it again
and writes the row again (:mod:`.step`, decision 0014); once written by this worker, a row is no longer loaded.

Facts are never changed in place (:func:`.facts.apply` returns a new dict), so the cache hands out the same
dict it holds.

On RocksDB the table's databases are written without RocksDB's write-ahead log (:func:`without_wal`): a put
costs about a third. The changelog topic is the durable copy. A clean stop flushes the memtables to disk as
before; after a crash, RocksDB reopens at its last flush, whose row values and faust's persisted changelog
offset (a row of the same database, flushed with them) match, and faust replays the changelog from that
offset: the rows are recovered, only more of the changelog is read.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from rosterhub.streams.kpi.facts import ShiftFacts
from rosterhub.streams.row_table import RowTable, json_bytes, without_wal

__all__ = ["CACHED_SHIFTS", "FactsTable", "decode_facts", "encode_facts", "without_wal"]

#: Decoded shifts kept in memory per worker (a shift's facts are ~0.7 KB of JSON, a few KB as Python objects).
CACHED_SHIFTS = 20_000


def encode_facts(facts: ShiftFacts) -> bytes:
    return json_bytes(facts)


def decode_facts(raw: bytes | str) -> ShiftFacts:
    value: ShiftFacts = json.loads(raw)
    return value


class FactsTable(RowTable[ShiftFacts]):
    """Read and write a shift's facts; ``table`` is the faust table (bytes values) or any mapping."""

    def __init__(self, table: MutableMapping[str, Any], limit: int = CACHED_SHIFTS) -> None:
        super().__init__(table, decode_facts, encode_facts, limit)
