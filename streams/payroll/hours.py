"""Split paid time into its unsocial-hours categories, exactly, on instants (Europe/London).

A shift is cut at every local midnight and at the night window's start and end on each local
day it touches; each piece then lies wholly on one local date and wholly inside or outside the
night, so it has one category. Lengths are differences of UTC instants, never of wall clocks:
the night the clocks go forward, 20:00-08:00 is 11 hours, and 13 the night they go back.

Bank holidays are England's, from :mod:`rosterhub.bank_holidays` (the ``holidays`` package, a maintained
calendar, not a hand list): a date it lists, including a substitute ("observed") day, is a bank holiday.

The unpaid break is taken out of the middle of the paid time: an interval of the break's length
centred on the midpoint, so which categories lose it follows from when the shift is, not from a
guess; the same rule for every trust (docs/payroll.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from rosterhub.bank_holidays import bank_holiday
from rosterhub.instants import LONDON
from rosterhub.streams.payroll.policy import CATEGORIES, NightWindow

__all__ = ["Segment", "bank_holiday", "category_seconds", "hours", "paid_segments", "split"]

_HOUR = Decimal(3600)
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of paid time on one local date, inside or outside the night window."""

    start: datetime  # aware, UTC
    end: datetime
    local_date: date
    night: bool

    @property
    def seconds(self) -> int:
        return round(self.end.timestamp() - self.start.timestamp())

    def categories(self) -> tuple[str, ...]:
        """Every unsocial-hours category this piece falls in (the pay policy picks the best-paid)."""
        found = []
        if bank_holiday(self.local_date):
            found.append("bank_holiday")
        weekday = self.local_date.weekday()
        if weekday == 6:
            found.append("sunday")
        if weekday == 5:
            found.append("saturday")
        if self.night:
            found.append("night")
        return tuple(c for c in CATEGORIES if c in found)


def _local(day: date, at: time) -> datetime:
    """The instant of a local wall-clock time (a time the clocks skip is read as after the change)."""
    wall = datetime.combine(day, at, LONDON)
    return wall.astimezone(UTC)


def _in_night(local: datetime, night: NightWindow) -> bool:
    t = local.time().replace(tzinfo=None)
    if night.start <= night.end:
        return night.start <= t < night.end
    return t >= night.start or t < night.end


def split(start: datetime, end: datetime, night: NightWindow) -> list[Segment]:
    """``[start, end)`` cut at local midnights and the night window's edges; both aware, end after start."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"paid time needs aware instants, got {start!r} .. {end!r}")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    first = start.astimezone(LONDON).date() - timedelta(days=1)
    last = end.astimezone(LONDON).date() + timedelta(days=1)
    cuts = {start, end}
    day = first
    while day <= last:
        for at in (time(0, 0), night.start, night.end):
            instant = _local(day, at)
            if start < instant < end:
                cuts.add(instant)
        day += timedelta(days=1)
    edges = sorted(cuts)
    out = []
    for a, b in itertools.pairwise(edges):
        local = a.astimezone(LONDON)
        out.append(Segment(a, b, local.date(), _in_night(local, night)))
    return out


def paid_segments(start: datetime, end: datetime, break_minutes: int, night: NightWindow) -> list[Segment]:
    """The pieces of ``[start, end)`` left once the break, centred on the midpoint, is taken out."""
    pieces = split(start, end, night)
    total = sum(p.seconds for p in pieces)
    brk = min(max(break_minutes, 0) * 60, total)
    if brk == 0:
        return pieces
    mid = start.astimezone(UTC) + timedelta(seconds=total / 2)
    gap_start, gap_end = mid - timedelta(seconds=brk / 2), mid + timedelta(seconds=brk / 2)
    out = []
    for p in pieces:
        if p.end <= gap_start or p.start >= gap_end:
            out.append(p)
            continue
        if p.start < gap_start:
            out.append(Segment(p.start, gap_start, p.local_date, p.night))
        if p.end > gap_end:
            out.append(Segment(gap_end, p.end, p.local_date, p.night))
    return out


def hours(seconds: int | Decimal) -> Decimal:
    """Seconds as hours, 2 places, rounded half-up."""
    return (Decimal(seconds) / _HOUR).quantize(_CENT, rounding=ROUND_HALF_UP)


def category_seconds(segments: Iterable[Segment], pick: Callable[[tuple[str, ...]], str | None]) -> dict[str, int]:
    """Seconds per enhancement category; ``pick`` chooses the one paid among a piece's categories (None: none)."""
    out: dict[str, int] = {}
    for seg in segments:
        chosen = pick(seg.categories())
        if chosen:
            out[chosen] = out.get(chosen, 0) + seg.seconds
    return out
