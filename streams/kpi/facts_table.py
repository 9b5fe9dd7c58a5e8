"""The ``kpi-shift-facts`` table as the KPI agent uses it: one JSON value per shift, encoded once, behind a cache.

Per folded event the agent reads the shift's facts and writes them back. Through faust's own JSON serializer on
RocksDB that read was two RocksDB gets (faust checks the key, then reads it) and a JSON decode, and the write was
two JSON encodes of the same value (one for the RocksDB put, one for the changelog record). Here:

* the table's values are ``bytes`` (faust's ``raw`` serializer): the facts are encoded once, as compact JSON,
  and the same bytes go to the store and to the changelog. The bytes are JSON as before, so a changelog or a
  RocksDB directory written by an earlier version is read unchanged, and the reverse;
* a bounded cache of decoded facts (least recently used first out) sits in front of the table. The agent is the
  only writer of its partitions' rows and writes through the cache, so a cached row is the stored row. The
  cache is emptied whenever partitions are revoked or a rebalance completes: a row this worker did not write
  (recovered from the changelog, or written by another worker while it held the partition) is always read
  from the table.

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
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import Any

from rosterhub.streams.kpi.facts import ShiftFacts

__all__ = ["CACHED_SHIFTS", "FactsTable", "decode_facts", "encode_facts", "without_wal"]

#: Decoded shifts kept in memory per worker (a shift's facts are ~0.7 KB of JSON, a few KB as Python objects).
CACHED_SHIFTS = 20_000


def encode_facts(facts: ShiftFacts) -> bytes:
    return json.dumps(facts, separators=(",", ":")).encode()


def decode_facts(raw: bytes | str) -> ShiftFacts:
    value: ShiftFacts = json.loads(raw)
    return value


class FactsTable:
    """Read and write a shift's facts; ``table`` is the faust table (bytes values) or any mapping."""

    def __init__(self, table: MutableMapping[str, Any], limit: int = CACHED_SHIFTS) -> None:
        self._table = table
        self._limit = limit
        self._cache: OrderedDict[str, ShiftFacts] = OrderedDict()
        self._loaded: set[str] = set()  # cached rows read from the table, not written by this worker since
        self.reads = 0  # rows read from the table (cache misses that found a row)

    def get(self, key: str) -> ShiftFacts | None:
        facts = self._cache.get(key)
        if facts is not None:
            self._cache.move_to_end(key)
            return facts
        raw = self._table.get(key)
        if raw is None:
            return None
        self.reads += 1
        facts = decode_facts(raw)
        self._remember(key, facts)
        self._loaded.add(key)
        return facts

    def loaded(self, key: str) -> bool:
        """The row was read from the table (a restart, a rebalance, an eviction), not written by this worker since:
        whether its record reached views.kpi is not known here."""
        return key in self._loaded

    def set(self, key: str, facts: ShiftFacts) -> None:
        """Write the row (the agent has sent its record first, when it has one): this worker's own from now on."""
        self._table[key] = encode_facts(facts)
        self._remember(key, facts)
        self._loaded.discard(key)

    def forget(self, *_args: object, **_kwargs: object) -> None:
        """Empty the cache (connected to faust's rebalance signals)."""
        self._cache.clear()
        self._loaded.clear()

    def _remember(self, key: str, facts: ShiftFacts) -> None:
        self._cache[key] = facts
        self._cache.move_to_end(key)
        if len(self._cache) > self._limit:
            gone, _ = self._cache.popitem(last=False)
            self._loaded.discard(gone)  # read again, it is loaded again


def without_wal(table: Any) -> None:
    """Open the faust table's RocksDB databases (when its store is RocksDB) with the write-ahead log off."""
    new_store = table._new_store  # faust builds the store lazily from the app's (or the table's) store URL

    def _new_store() -> Any:
        store = new_store()
        options = getattr(store, "rocksdb_options", None)
        if options is not None and options.use_rocksdict:
            plain_open = options.open

            def open_(path: Any, *, read_only: bool = False) -> Any:
                db = plain_open(path, read_only=read_only)
                if not read_only:
                    import rocksdict

                    writes = rocksdict.WriteOptions()
                    # rocksdict's stub declares disable_wal a method; at run time it is a settable attribute
                    writes.disable_wal = True  # type: ignore[method-assign, assignment]
                    db.set_write_options(writes)
                return db

            options.open = open_
        return store

    table._new_store = _new_store
