"""Pay periods and batch ids from the employing trust's cut-offs, in Europe/London.

A period ends at its cut-off instant (weekly: a weekday at a local time; monthly: a day of the
month, or the last, at a local time) and holds everything at or before it since the previous
cut-off. Cut-offs are local wall-clock times, so a weekly batch that ends 23:59:59 on a Sunday
ends then whether that Sunday is in GMT or BST. The batch id names the employing trust and the
period end: ``RCU-BANK-2026-W14`` (ISO week of the period end) or ``RFR-BANK-2026-04``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from rosterhub.instants import LONDON
from rosterhub.ods import ODS_CODE
from rosterhub.streams.payroll.policy import WEEKDAYS, PayPolicy

__all__ = ["Period", "next_period", "period_at", "period_of"]

_BATCH = re.compile(rf"^(?P<trust>{ODS_CODE})-BANK-(?P<year>\d{{4}})-(?:W(?P<week>\d{{2}})|(?P<month>\d{{2}}))$")


@dataclass(frozen=True, slots=True)
class Period:
    batch_id: str
    cycle: str  # WEEKLY | MONTHLY
    start: date
    end: date
    cutoff: datetime  # aware UTC instant at which the period ends

    def to_json(self) -> dict[str, str]:
        return {
            "batch_id": self.batch_id,
            "cycle": self.cycle,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "cutoff": self.cutoff.isoformat(),
        }

    @classmethod
    def from_json(cls, doc: dict[str, str]) -> Period:
        return cls(
            doc["batch_id"],
            doc["cycle"],
            date.fromisoformat(doc["start"]),
            date.fromisoformat(doc["end"]),
            datetime.fromisoformat(doc["cutoff"]),
        )


def _instant(day: date, pay: PayPolicy, monthly: bool) -> datetime:
    at = pay.monthly_cutoff.at if monthly else pay.weekly_cutoff.at
    return datetime.combine(day, at, LONDON).astimezone(UTC)


def _month_cutoff_day(year: int, month: int, pay: PayPolicy) -> date:
    day = pay.monthly_cutoff.day
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day == "last" else int(day))


def _add_month(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def period_at(trust: str, pay: PayPolicy, instant: datetime) -> Period:
    """The period of ``trust``'s payroll that ``instant`` (aware) falls in."""
    local = instant.astimezone(LONDON)
    if pay.cycle == "weekly":
        target = WEEKDAYS.index(pay.weekly_cutoff.weekday)
        end = local.date() + timedelta(days=(target - local.weekday()) % 7)
        if instant.astimezone(UTC) > _instant(end, pay, False):
            end += timedelta(days=7)
        year, week, _ = end.isocalendar()
        return Period(
            f"{trust}-BANK-{year}-W{week:02d}", "WEEKLY", end - timedelta(days=6), end, _instant(end, pay, False)
        )
    year, month = local.year, local.month
    end = _month_cutoff_day(year, month, pay)
    if instant.astimezone(UTC) > _instant(end, pay, True):
        year, month = _add_month(year, month, 1)
        end = _month_cutoff_day(year, month, pay)
    py, pm = _add_month(year, month, -1)
    start = _month_cutoff_day(py, pm, pay) + timedelta(days=1)
    return Period(f"{trust}-BANK-{end.year}-{end.month:02d}", "MONTHLY", start, end, _instant(end, pay, True))


def next_period(trust: str, pay: PayPolicy, period: Period) -> Period:
    """The period after ``period``."""
    return period_at(trust, pay, period.cutoff + timedelta(seconds=1))


def period_of(trust: str, pay: PayPolicy, batch_id: str) -> Period | None:
    """The period a batch id names under ``pay``'s cycle and cut-offs; None when it is not one of them."""
    m = _BATCH.match(batch_id)
    if m is None or m["trust"] != trust:
        return None
    year = int(m["year"])
    try:
        if m["week"] is not None and pay.cycle == "weekly":
            end = date.fromisocalendar(year, int(m["week"]), WEEKDAYS.index(pay.weekly_cutoff.weekday) + 1)
            found = period_at(trust, pay, _instant(end, pay, False))
        elif m["month"] is not None and pay.cycle == "monthly":
            found = period_at(trust, pay, _instant(_month_cutoff_day(year, int(m["month"]), pay), pay, True))
        else:
            return None
    except ValueError:
        return None
    return found if found.batch_id == batch_id else None
