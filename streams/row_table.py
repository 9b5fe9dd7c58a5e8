"""A processor's table as its agent uses it: each row encoded once, as JSON bytes, behind a cache of decoded rows.

Per input an agent reads its key's row and, when it changed, writes it back. Through faust's own JSON
serializer on RocksDB that read is two RocksDB gets (faust checks the key, then reads it), a JSON decode and the
row's ``from_table``; the write is two JSON encodes of the same value (one for the RocksDB put, one for the
changelog record). A py-spy profile of the booking worker flat out put those at about a fifth of its CPU
(docs/benchmarks.md, "Where the booking worker's CPU goes"). Here:

* the faust table's values are ``bytes`` (faust's ``raw`` serializer): a row is encoded once, as compact JSON,
  and the same bytes go to the store and to the changelog. The bytes are JSON as before, so a changelog or a
  RocksDB directory written by an earlier version (faust's ``json`` serializer) is read unchanged, and the
  reverse: no migration;
* a bounded cache of decoded rows (least recently used first out) sits in front of the table. The agent is the
  only writer of its partitions' rows and writes through the cache, so a cached row is the stored row. The cache
  is emptied whenever partitions are revoked or a rebalance completes (:func:`cached_table` connects it): a row
  this worker did not write (recovered from the changelog, or written by another worker while it held the
  partition) is always read from the table.

Rows are never changed in place (the processors' steps are pure and return new values), so the cache hands out
the object it holds, and a step that changes nothing returns a row equal to it: the agent's ``after != before``
then skips the write, no serialisation, no changelog record.

The table also knows which cached rows it *read* (:meth:`RowTable.loaded`) rather than wrote since the last
rebalance: the KPI agent sends such a row's record again (decision 0014).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import faust

__all__ = ["CACHED_ROWS", "RowTable", "cached_table", "json_bytes", "without_wal"]

#: Decoded rows kept in memory per table and worker (a row is ~1-10 KB of JSON, a few times that as objects).
CACHED_ROWS = 20_000

Row = TypeVar("Row")


def json_bytes(value: Any) -> bytes:
    """A table row as stored: compact JSON (faust's ``json`` serializer wrote the same value, spaced)."""
    return json.dumps(value, separators=(",", ":")).encode()


class RowTable(Generic[Row]):
    """Read and write a key's row; ``table`` is the faust table (bytes values) or any mapping of bytes."""

    def __init__(
        self,
        table: MutableMapping[str, Any],
        decode: Callable[[bytes | str], Row],
        encode: Callable[[Row], bytes],
        limit: int = CACHED_ROWS,
    ) -> None:
        self._table = table
        self._decode = decode
        self._encode = encode
        self._limit = limit
        self._cache: OrderedDict[str, Row] = OrderedDict()
        self._loaded: set[str] = set()  # cached rows read from the table, not written by this worker since
        self.reads = 0  # rows read from the table (cache misses that found a row)

    def get(self, key: str) -> Row | None:
        row = self._cache.get(key)
        if row is not None:
            self._cache.move_to_end(key)
            return row
        raw = self._table.get(key)
        if raw is None:
            return None
        self.reads += 1
        row = self._decode(raw)
        self._remember(key, row)
        self._loaded.add(key)
        return row

    def loaded(self, key: str) -> bool:
        """The row was read from the table (a restart, a rebalance, an eviction), not written by this worker since:
        whether what it sent before the write reached the broker is not known here."""
        return key in self._loaded

    def set(self, key: str, row: Row) -> None:
        """Write the row (the agent has sent its outputs first): this worker's own from now on."""
        self._table[key] = self._encode(row)
        self._remember(key, row)
        self._loaded.discard(key)

    def delete(self, key: str) -> None:
        """Remove the row (a tombstone on the changelog, so recovery forgets it too); no row: nothing to remove."""
        self._cache.pop(key, None)
        self._loaded.discard(key)
        with suppress(KeyError):
            del self._table[key]

    def items(self) -> Iterator[tuple[str, Row]]:
        """Every row of the partitions this worker holds, read from the table (a timer's rescan after recovery)."""
        for key, raw in self._table.items():
            yield str(key), self._decode(raw)

    def forget(self, *_args: object, **_kwargs: object) -> None:
        """Empty the cache (connected to faust's rebalance signals)."""
        self._cache.clear()
        self._loaded.clear()

    def _remember(self, key: str, row: Row) -> None:
        self._cache[key] = row
        self._cache.move_to_end(key)
        if len(self._cache) > self._limit:
            gone, _ = self._cache.popitem(last=False)
            self._loaded.discard(gone)  # read again, it is loaded again


def cached_table(
    app: faust.App,
    name: str,
    *,
    partitions: int,
    decode: Callable[[bytes | str], Row],
    encode: Callable[[Row], bytes],
    limit: int = CACHED_ROWS,
) -> RowTable[Row]:
    """The faust table ``name`` with bytes values (faust serialises nothing), behind its cache, emptied on rebalance."""
    table = app.Table(name, default=None, key_type=str, value_type=bytes, partitions=partitions)
    rows: RowTable[Row] = RowTable(table, decode, encode, limit)
    app.on_partitions_revoked.connect(rows.forget)
    app.on_rebalance_complete.connect(rows.forget)
    return rows


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
