"""Rolling windows and rest gaps over a person's timeline, for the working-time rules.

"Any 7 days" and "any 17 weeks" are rolling: the hours in a window change only where a
shift starts or ends, so the busiest window touching the new shift is one that starts at
some shift's start or ends at some shift's end. :func:`windows` returns exactly those
candidates (each ``days`` *local* days long: 7 days across a clock change are 167 h or
169 h), and a rule takes the worst. Hours are counted over the *union* of shifts, so a
double booking (which ``no_overlap`` reports) is not counted twice.

Adding a booking never removes a candidate's hours nor a shift from a run, which is why
a failing check cannot turn into a pass by booking more (a property the tests check).

A person's timeline holds every booking inside the retention period (months), so the candidates are
found by bisection and each one's hours from running totals: summing every shift for every candidate
made a check cost the square of the person's bookings (~55 ms at 100 bookings, docs/benchmarks.md,
"The rules' cost per booking held"). The tests hold the result to the plain sums' on random timelines.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from rosterhub.streams.booking.rules.clock import add_local_days, overlap
from rosterhub.streams.booking.rules.context import WorkInterval

__all__ = ["Window", "busiest", "free_gaps", "merge", "windows"]


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    worked: timedelta
    nights: int  # night shifts that touch the window


def merge(intervals: Sequence[WorkInterval]) -> list[tuple[datetime, datetime]]:
    """The union of the intervals as disjoint, sorted (start, end) pairs; touching ones join."""
    out: list[tuple[datetime, datetime]] = []
    for iv in sorted(intervals, key=lambda i: i.start):
        if out and iv.start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], iv.end))
        else:
            out.append((iv.start, iv.end))
    return out


@dataclass(frozen=True, slots=True)
class _Totals:
    """Running totals over a sorted timeline and its union, so a window's hours and night shifts cost a bisection."""

    starts: list[datetime]  # the timeline's starts, in its order (by start)
    nights: list[int]  # nights[i]: night shifts among the first i of the timeline
    longest: timedelta  # the longest shift: one starting longer than this before a window ends before it starts
    busy_starts: list[datetime]
    busy_ends: list[datetime]
    before: list[timedelta]  # before[i]: time worked in the first i busy intervals

    @classmethod
    def of(cls, timeline: Sequence[WorkInterval]) -> _Totals:
        busy = merge(timeline)
        return cls(
            [iv.start for iv in timeline],
            [0, *accumulate(iv.night for iv in timeline)],
            max((iv.end - iv.start for iv in timeline), default=timedelta(0)),
            [s for s, _ in busy],
            [e for _, e in busy],
            list(accumulate((e - s for s, e in busy), initial=timedelta(0))),
        )

    def worked_before(self, t: datetime) -> timedelta:
        """Time worked before ``t``: the whole busy intervals starting before it, less what runs past it."""
        i = bisect_left(self.busy_starts, t)
        return self.before[i] - max(timedelta(0), self.busy_ends[i - 1] - t) if i else timedelta(0)

    def nights_touching(self, timeline: Sequence[WorkInterval], start: datetime, end: datetime) -> int:
        """Night shifts sharing time with [start, end): every one starting inside it, and the few before it that
        run into it (none starts more than the longest shift before it)."""
        first_inside = bisect_left(self.starts, start)
        last = bisect_left(self.starts, end)
        earliest = bisect_left(self.starts, start - self.longest)
        into = sum(iv.night for iv in timeline[earliest:first_inside] if iv.end > start)
        return into + self.nights[last] - self.nights[first_inside]


def windows(timeline: Sequence[WorkInterval], new: WorkInterval, days: int) -> list[Window]:
    """Every candidate window of ``days`` local days that shares time with ``new``.

    ``timeline`` is sorted by start (:meth:`RuleContext.timeline`).
    """
    totals = _Totals.of(timeline)
    # Only a shift starting before the new one ends opens a window reaching it, and only one ending after it starts
    # closes one: the other shifts' windows are not worked out.
    forward = sorted({(iv.start, add_local_days(iv.start, days)) for iv in timeline if iv.start < new.end})
    backward = sorted({(add_local_days(iv.end, -days), iv.end) for iv in timeline if iv.end > new.start} - set(forward))
    out = []
    for start, end in forward + backward:  # forward first: a tie is reported "from <a shift's start>"
        if overlap(start, end, new.start, new.end) <= timedelta(0):
            continue
        hours = totals.worked_before(end) - totals.worked_before(start)
        out.append(Window(start, end, hours, totals.nights_touching(timeline, start, end)))
    return out


def busiest(candidates: Iterable[Window]) -> Window:
    """The window with the most hours worked (the first of equals, so a tie is reported as :func:`windows` orders)."""
    return max(candidates, key=lambda w: w.worked)


def free_gaps(
    busy: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Uninterrupted free periods inside [start, end), clipped to it."""
    gaps = []
    cursor = start
    for s, e in busy:
        if e <= start or s >= end:
            continue
        if s > cursor:
            gaps.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps
