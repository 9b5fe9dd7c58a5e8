"""Identity resolution a batch at a time: every step as before, the tables written once per batch.

The resolver reads ``_rosterhub.identity-in`` (one partition) in batches (faust ``take_events``). Each record is
still one step, run in offset order on a :class:`~streams.identity.state.Store` whose tables are the faust tables
*seen through the writes of the batch's earlier steps* (:class:`Overlay`): every step reads exactly the state it
would have read had each step written the tables itself, so it produces the same outputs, crosswalk records and
fences, in the same order. The tables are written once, after every output of the batch was sent; a key written
by several steps of the batch gets its last value (what writing after every step leaves), in one changelog record
instead of one per step. An ESR refresh writes a worker's record once per credential (nine for a nurse), so this
is most of the resolver's table traffic (docs/decisions/0016-identity-keeps-up.md).

Crashes: faust acks a batch's records only after the agent is done with the batch, so a crash before the table
writes repeats the whole batch on the old tables, giving the same records again (ids derived from the input),
as a crash between one step's outputs and its table writes always did (docs/decisions/0012).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from rosterhub.streams.identity.state import TABLES, Store

__all__ = ["Batch", "Overlay", "write_tables"]


class Overlay(Mapping[str, Any]):
    """A table as the batch's later steps see it: ``pending`` (``None``: deleted) over ``base``."""

    def __init__(self, base: Mapping[str, Any], pending: Mapping[str, Any]) -> None:
        self._base, self._pending = base, pending

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._pending:
            value = self._pending[key]
            return default if value is None else value
        return self._base.get(key, default)

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:  # not used by a step; here so the overlay is a whole Mapping
        yield from (k for k in self._base if k not in self._pending)
        yield from (k for k, v in self._pending.items() if v is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Batch:
    """The pending table writes of one batch of identity steps."""

    def __init__(self, tables: Mapping[str, Mapping[str, Any]]) -> None:
        self.pending: dict[str, dict[str, Any]] = {name: {} for name in TABLES}
        self._view = {name: Overlay(tables[name], self.pending[name]) for name in TABLES}

    def store(self) -> Store:
        """A store for the next step: it reads the tables as every earlier step of the batch left them."""
        return Store(self._view)

    def done(self, store: Store) -> None:
        """Keep a finished step's writes (after ``crosswalk.changes``, which adds its version bumps)."""
        for name, writes in store.writes.items():
            self.pending[name].update(writes)


def write_tables(tables: Mapping[str, MutableMapping[str, Any]], writes: Mapping[str, Mapping[str, Any]]) -> None:
    """Apply table writes (``None``: delete the key), as the resolver has always done after a step."""
    for name, table_writes in writes.items():
        for key, value in table_writes.items():
            if value is None:
                tables[name].pop(key, None)
            else:
                tables[name][key] = value
