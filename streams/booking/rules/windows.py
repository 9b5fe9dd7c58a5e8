"""Rolling windows and rest gaps over a person's timeline, for the working-time rules.

"Any 7 days" and "any 17 weeks" are rolling: the hours in a window change only where a
shift starts or ends, so the busiest window touching the new shift is one that starts at
some shift's start or ends at some shift's end. :func:`windows` returns exactly those
candidates (each ``days`` *local* days long: 7 days across a clock change are 167 h or
169 h), and a rule takes the worst. Hours are counted over the *union* of shifts, so a
double booking (which ``no_overlap`` reports) is not counted twice.

Adding a booking never removes a candidate's hours nor a shift from a run, which is why
a failing check cannot turn into a pass by booking more (a property the tests check).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rosterhub.streams.booking.rules.clock import add_local_days, overlap
from rosterhub.streams.booking.rules.context import WorkInterval

__all__ = ["Window", "busiest", "free_gaps", "merge", "windows", "worked"]


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    worked: timedelta
    shifts: tuple[WorkInterval, ...]  # shifts that touch the window


def merge(intervals: Sequence[WorkInterval]) -> list[tuple[datetime, datetime]]:
    """The union of the intervals as disjoint, sorted (start, end) pairs; touching ones join."""
    out: list[tuple[datetime, datetime]] = []
    for iv in sorted(intervals, key=lambda i: i.start):
        if out and iv.start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], iv.end))
        else:
            out.append((iv.start, iv.end))
    return out


def worked(busy: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> timedelta:
    return sum((overlap(s, e, start, end) for s, e in busy), timedelta(0))


def windows(timeline: Sequence[WorkInterval], new: WorkInterval, days: int) -> list[Window]:
    """Every candidate window of ``days`` local days that shares time with ``new``."""
    busy = merge(timeline)
    forward = sorted({(iv.start, add_local_days(iv.start, days)) for iv in timeline})
    backward = sorted({(add_local_days(iv.end, -days), iv.end) for iv in timeline} - set(forward))
    out = []
    for start, end in forward + backward:  # forward first: a tie is reported "from <a shift's start>"
        if overlap(start, end, new.start, new.end) <= timedelta(0):
            continue
        touching = tuple(iv for iv in timeline if overlap(start, end, iv.start, iv.end) > timedelta(0))
        out.append(Window(start, end, worked(busy, start, end), touching))
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
