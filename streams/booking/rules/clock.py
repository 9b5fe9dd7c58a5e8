"""Instants, local days, weeks, weekends and nights: the time facts every rule shares.

Durations are measured between UTC instants, so the night of 24-25 Oct 2026 from 20:00
to 08:00 is 13 h and the night of 28-29 Mar 2026 is 11 h. Days, weeks, weekends and
night time are Europe/London wall-clock notions, because that is how rotas and the
regulations speak. Each helper says which of the two it uses.

Never subtract two datetimes that share a ``ZoneInfo``: Python then compares *wall* times
and loses the clock-change hour. Everything here converts to UTC first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from rosterhub.instants import LONDON
from rosterhub.streams.booking.policy import NightPeriod

__all__ = [
    "add_local_days",
    "at_local",
    "fmt",
    "fmt_h",
    "hours",
    "is_night",
    "local_date",
    "night_hours",
    "overlap",
    "utc",
    "week_start",
    "weekend_period",
    "weekends_worked",
]

_WEEKEND_START = time(0, 1)  # 2016 TCS: weekend work is work between 00:01 Saturday and 23:59 Sunday
_WEEKEND_END = time(23, 59)


def utc(dt: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused (they are a bug upstream, not input)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()}: booking rules need aware instants")
    return dt.astimezone(UTC)


def hours(td: timedelta) -> float:
    return td.total_seconds() / 3600


def overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> timedelta:
    """Time two half-open intervals share (zero when they only touch)."""
    return max(timedelta(0), min(a_end, b_end) - max(a_start, b_start))


def at_local(day: date, wall: time) -> datetime:
    """The UTC instant of a Europe/London wall-clock time on ``day``."""
    return datetime.combine(day, wall, tzinfo=LONDON).astimezone(UTC)


def local_date(instant: datetime) -> date:
    return instant.astimezone(LONDON).date()


def add_local_days(instant: datetime, days: int) -> datetime:
    """Same wall-clock time ``days`` local days later (or earlier): 167 h or 169 h across a clock change."""
    return (instant.astimezone(LONDON) + timedelta(days=days)).astimezone(UTC)


def week_start(instant: datetime) -> datetime:
    """Monday 00:00 local of the week holding ``instant`` (WTR reg. 11(6) weeks), as a UTC instant."""
    day = local_date(instant)
    return at_local(day - timedelta(days=day.weekday()), time(0, 0))


def night_hours(start: datetime, end: datetime, night: NightPeriod) -> float:
    """Hours of [start, end) inside local night time (real hours: 6 h on 28-29 Mar 2026, 8 h on 24-25 Oct)."""
    return _night_hours(utc(start), utc(end), night.start, night.end)


@lru_cache(maxsize=1 << 16)
def _night_hours(start: datetime, end: datetime, night_start: time, night_end: time) -> float:
    """Cached: every check of a person's classifies each of their bookings (months of them) again, the same way."""
    crosses = night_start >= night_end
    total = timedelta(0)
    day = local_date(start) - timedelta(days=1)
    while day <= local_date(end):
        n0 = at_local(day, night_start)
        n1 = at_local(day + timedelta(days=1) if crosses else day, night_end)
        total += overlap(start, end, n0, n1)
        day += timedelta(days=1)
    return hours(total)


def is_night(start: datetime, end: datetime, night: NightPeriod) -> bool:
    """A night shift: at least ``night.min_hours`` of it in night time (WTR reg. 2 and the 2016 TCS)."""
    return night_hours(start, end, night) >= night.min_hours - 1e-9


def weekend_period(saturday: date) -> tuple[datetime, datetime]:
    """The 2016 TCS weekend starting on ``saturday``: 00:01 Saturday to 23:59 Sunday, local."""
    return at_local(saturday, _WEEKEND_START), at_local(saturday + timedelta(days=1), _WEEKEND_END)


def weekends_worked(start: datetime, end: datetime) -> list[date]:
    """Saturdays of the weekends that [start, end) works in (a Friday night into Saturday counts)."""
    start, end = utc(start), utc(end)
    day = local_date(start) - timedelta(days=1)
    found: list[date] = []
    while day <= local_date(end):
        if day.weekday() == 5 and overlap(start, end, *weekend_period(day)) > timedelta(0):
            found.append(day)
        day += timedelta(days=1)
    return found


def fmt(instant: datetime) -> str:
    """``Mon 02 Mar 07:00`` in London time: what a rota manager reads."""
    return instant.astimezone(LONDON).strftime("%a %d %b %H:%M")


def fmt_h(value: float) -> str:
    """``72.5 h``, ``72 h``: hours to one decimal place, no trailing zero."""
    text = f"{round(value, 1):.1f}".removesuffix(".0")
    return f"{text} h"
