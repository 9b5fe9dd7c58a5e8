"""Due instants per key (a person, a shift), in memory, derived from a table.

Shared by the passport, availability, booking and payroll timers (first written for the passport).

The timer must find due notices without scanning 1.5 million passports every second,
and faust tables can only be written while handling a record. So the worker keeps a
heap of (due instant, person) for the notices due within a *horizon* (a day by
default), rebuilt from the table after every rebalance and whenever the horizon runs
out; the agent updates it after each write. It is never the source of truth: a stale
entry only causes a tick, and a tick re-decides from the table, so nothing is sent twice.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

__all__ = ["TICKS_PER_BEAT", "Schedule"]

#: At most this many ticks per timer beat (passport, availability, booking): the rest wait for the next beat, so a
#: beat's work stays bounded and the agents' inputs keep flowing when many instants fall due at once.
TICKS_PER_BEAT = 500


class Schedule:
    """Person -> next due instant (ms), for instants before ``horizon_end``; lazy deletion in the heap."""

    def __init__(self, horizon_ms: int) -> None:
        self.horizon_ms = horizon_ms
        self.horizon_end = 0  # complete up to here; 0: must be rebuilt
        self._due: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []
        self._pending: dict[str, int | None] | None = None  # updates made while a rebuild scans the table

    def __len__(self) -> int:
        return len(self._due)

    @property
    def stale(self) -> bool:
        return self.horizon_end == 0

    def invalidate(self, *_args: object, **_kwargs: object) -> None:
        """After a rebalance: the set of partitions (people) this worker owns has changed. Each timer connects it to
        faust's ``on_rebalance_complete`` signal (whose arguments it ignores)."""
        self.horizon_end = 0

    def begin_rebuild(self) -> None:
        """A scan starts: remember updates made meanwhile, they are newer than what the scan reads."""
        self._pending = {}

    def rebuild(self, entries: Iterable[tuple[str, int | None]], now_ms: int) -> None:
        pending, self._pending = self._pending or {}, None
        self._due.clear()
        self._heap.clear()
        self.horizon_end = now_ms + self.horizon_ms
        for person, due in entries:
            self.set(person, pending.pop(person, due))
        for person, due in pending.items():
            self.set(person, due)

    def set(self, person: str, due: int | None) -> None:
        if self._pending is not None:
            self._pending[person] = due
        if due is None or (self.horizon_end and due >= self.horizon_end):
            self._due.pop(person, None)
            return
        if self._due.get(person) == due:
            return
        self._due[person] = due
        heapq.heappush(self._heap, (due, person))

    def pop_due(self, now_ms: int, limit: int | None = None) -> list[str]:
        """People with a notice due at ``now_ms``, each once, earliest first; their entries are removed.

        ``limit``: at most this many per beat (the rest stay due for the next beat), so a timer's work per beat is
        bounded however many instants fall due at once (a backlog after downtime, a bulk load's releases).
        """
        found: list[str] = []
        while self._heap and self._heap[0][0] <= now_ms and (limit is None or len(found) < limit):
            due, person = heapq.heappop(self._heap)
            if self._due.get(person) == due:
                del self._due[person]
                found.append(person)
        return found
