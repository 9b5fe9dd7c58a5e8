"""Bank holidays, from the ``holidays`` package (a maintained calendar, never a list kept here).

The one wrapper of that package: the KPIs' day kinds (streams/kpi/calendar.py, a GB subdivision a
collaborative chooses, England by default) and payroll's unsocial-hours categories
(streams/payroll/hours.py, England) both ask :func:`bank_holiday`. A date the package lists,
including a substitute ("observed") day, is a bank holiday.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

__all__ = ["ENGLAND", "bank_holiday", "subdivisions"]

#: The GB subdivision of England's bank holidays.
ENGLAND = "ENG"


@lru_cache(maxsize=8)
def _calendar(subdivision: str) -> holidays.HolidayBase:
    # Years are added on demand by the package when a date is looked up.
    return holidays.country_holidays("GB", subdiv=subdivision)


def bank_holiday(day: date, subdivision: str = ENGLAND) -> bool:
    """Whether ``day`` is a bank holiday in that GB subdivision (a substitute day included)."""
    return day in _calendar(subdivision)


def subdivisions() -> tuple[str, ...]:
    """The GB subdivisions the package knows (``ENG``, ``SCT``, ...)."""
    return tuple(holidays.country_holidays("GB").subdivisions)
