"""Decisions before new input: while the saga's own checks and answers wait in a worker, its shifts and requests
wait in Kafka.

Every processor of a worker reads the new shifts and requests (booking, availability, KPIs, payroll, outbound),
and faust hands a worker's records to its agents in the order it fetched them. Under an overload (#16) the saga's
checks and answers queued behind that input: at twice the rate a worker can decide, thousands of them waited while
the input was read as fast as it came, and decisions came in bursts between gaps of 10-30 s (docs/benchmarks.md,
"Overload: where the bursts come from" and "Overload: decisions first, again"). Reading no new input while the
saga has work waiting keeps the work in progress small: a request read is decided before many more are read, the
backlog stays in the input topics, in order, and the ingress sees it there (its 429s:
connectors/kinds/backpressure.py).

A hold takes effect within a fetch: faust fetches at most ``stream_fetch_partition_bytes`` a partition at a time,
and hands over everything fetched before fetching again. Only the records the saga sends itself count (checks on
``booking-person``, answers on ``booking-requests``), and those topics are never paused: holding input back lets
them drain, so input always resumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Admission", "waiting"]

Partition = TypeVar("Partition")


@dataclass(frozen=True, slots=True)
class Admission:
    """Hold input back from ``pause_at`` saga records waiting until they are down to ``resume_at``.

    The gap between the two keeps a worker from pausing and resuming on every beat; ``pause_at`` 0 never pauses.
    """

    pause_at: int
    resume_at: int

    @classmethod
    def from_setting(cls, pause_at: int) -> Admission:
        return cls(pause_at, pause_at // 4)

    def paused(self, waiting: int, *, paused: bool) -> bool:
        """Whether input should be held back now, given whether it is."""
        if not self.pause_at:
            return False
        return waiting > self.resume_at if paused else waiting >= self.pause_at


def waiting(ends: Mapping[Partition, int | None], read: Mapping[Partition, int]) -> int:
    """Records of the saga's partitions this worker holds and has not processed: each one's end less the next
    offset after the last one processed. A partition whose end the consumer has not learnt yet, or that no record
    has been processed from since this worker took it, counts none: it is either new or not behind."""
    total = 0
    for tp, end in ends.items():
        done = read.get(tp)
        if end is not None and done is not None and end > done:
            total += end - done
    return total
