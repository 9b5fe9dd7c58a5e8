"""The KPI agent's table of shift facts: encoded once, as JSON, behind a write-through cache emptied on rebalance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faust.serializers import codecs

from rosterhub.streams.kpi.facts_table import FactsTable, decode_facts, encode_facts, without_wal
from tests.unit.streams.kpi_builders import cancelled, filled, fold, posted


class CountingTable(dict[str, Any]):
    """A dict standing in for the faust table, counting what the agent asks of it."""

    def __init__(self) -> None:
        super().__init__()
        self.gets = 0
        self.sets = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.gets += 1
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.sets += 1
        super().__setitem__(key, value)


def _facts() -> dict[str, Any]:
    return fold(posted(), filled(), cancelled())


def test_facts_are_stored_as_compact_json_bytes_that_earlier_json_values_decode_like() -> None:
    facts = _facts()
    raw = encode_facts(facts)
    assert isinstance(raw, bytes) and json.loads(raw) == facts
    # A changelog or RocksDB row written by an earlier version (faust's json serializer) reads the same.
    assert decode_facts(codecs.get_codec("json").dumps(facts)) == facts


def test_a_folded_event_reads_the_table_once_per_shift_and_writes_once() -> None:
    table = CountingTable()
    facts = FactsTable(table)
    assert facts.get("s1") is None
    first = _facts()
    facts.set("s1", first)
    for _ in range(5):  # the shift's next events: served from the cache, each written once
        assert facts.get("s1") is first
        facts.set("s1", first)
    assert table.gets == 1 and table.sets == 6 and facts.reads == 0
    assert decode_facts(table["s1"]) == first


def test_after_a_rebalance_rows_are_read_from_the_table_again() -> None:
    table = CountingTable()
    facts = FactsTable(table)
    facts.set("s1", _facts())
    changed = {**_facts(), "revision": 99}
    table["s1"] = encode_facts(changed)  # written elsewhere while the partition was away (or recovered)
    facts.forget(object(), revoked=set())  # the signal's (sender, **kwargs) call
    assert facts.get("s1") == changed and facts.reads == 1


def test_the_cache_keeps_the_most_recently_used_shifts_up_to_its_limit() -> None:
    table = CountingTable()
    facts = FactsTable(table, limit=2)
    for key in ("a", "b", "c"):
        facts.set(key, {**_facts(), "shift_id": key})
    facts.get("b")
    assert facts.reads == 0
    facts.get("a")  # the oldest: out of the cache, read back from the table
    assert facts.reads == 1
    assert [facts.get(k)["shift_id"] for k in ("a", "b", "c")] == ["a", "b", "c"]


def test_a_row_is_loaded_when_read_from_the_table_until_this_worker_writes_it() -> None:
    """What the agent sends again after a restart or a rebalance (decision 0014): rows it did not write itself."""
    table = CountingTable()
    facts = FactsTable(table, limit=2)
    facts.set("a", _facts())
    assert not facts.loaded("a")  # written here: its record was sent before the write
    table["b"] = encode_facts(_facts())  # recovered from the changelog, or written by the worker before a crash
    assert facts.get("b") is not None and facts.loaded("b")
    assert facts.get("b") is not None and facts.loaded("b")  # a cached read: still not written by this worker
    facts.set("b", facts.get("b"))
    assert not facts.loaded("b")
    facts.forget()
    assert facts.get("a") is not None and facts.loaded("a")  # partitions moved: every row is read again
    for key in ("c", "d"):  # "a" leaves the cache, and is loaded again when read back
        facts.set(key, {**_facts(), "shift_id": key})
    assert not facts.loaded("a") and facts.get("a") is not None and facts.loaded("a")
    assert facts.get("zz") is None and not facts.loaded("zz")  # a new shift: nothing was ever sent for it


class _Store:
    def __init__(self, options: Any) -> None:
        self.rocksdb_options = options


class _Table:
    def __init__(self, store: _Store) -> None:
        self._new_store = lambda: store


def test_the_kpi_tables_rocksdb_databases_are_written_without_the_write_ahead_log(tmp_path: Path) -> None:
    from faust.stores.rocksdb import RocksDBOptions

    table = _Table(_Store(RocksDBOptions()))
    without_wal(table)
    store = table._new_store()
    db = store.rocksdb_options.open(tmp_path / "p0")
    db.put(b"k", b"v")
    assert not any(p.stat().st_size for p in (tmp_path / "p0").glob("*.log"))  # nothing went to the WAL
    db.close()
    again = RocksDBOptions().open(tmp_path / "p0")  # a clean close flushed the memtable
    assert again.get(b"k") == b"v"
    again.close()
