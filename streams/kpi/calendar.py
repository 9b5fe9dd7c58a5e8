"""The KPIs' calendar: Europe/London days, weeks and months, and what kind of day a shift starts on.

Every fact of a shift belongs to the Europe/London calendar day its start falls on (a night
from 20:00 on Sunday to 08:00 on Monday is Sunday's); weeks start on Monday; months are
calendar months. Bank holidays are :mod:`rosterhub.bank_holidays`' (GB, subdivision ENG by default;
observed substitute days included), never from a list kept here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rosterhub.bank_holidays import ENGLAND, bank_holiday
from rosterhub.instants import LONDON

__all__ = [
    "day_kind",
    "kpi_shift_type",
    "london_day",
    "month_start",
    "week_start",
]


#: Posted shift types that count as a day shift in the KPIs' split (LONG_DAY and NIGHT stay themselves).
_DAYTIME = frozenset({"EARLY", "LATE", "DAY", "TWILIGHT"})


def london_day(ms: int) -> date:
    """The Europe/London calendar day of an instant given in epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(LONDON).date()


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def day_kind(day: date, subdivision: str = ENGLAND) -> str:
    """BANK_HOLIDAY (whatever the weekday), else WEEKEND on Saturday and Sunday, else WEEKDAY."""
    if bank_holiday(day, subdivision):
        return "BANK_HOLIDAY"
    return "WEEKEND" if day.weekday() >= 5 else "WEEKDAY"


def kpi_shift_type(shift_type: str, kind: str) -> str:
    """One shift type per shift for the KPIs: the day kind first, then the posted type."""
    if kind != "WEEKDAY":
        return kind
    if shift_type in ("NIGHT", "LONG_DAY"):
        return shift_type
    return "DAY" if shift_type in _DAYTIME else "OTHER"
