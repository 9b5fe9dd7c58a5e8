"""Does a timesheet agree with its confirmed booking? Pure, per the host trust's tolerances.

Compared on instants (a clock-change night is compared by real time): the actual start and end
against the booked ones, each within its tolerance either way, and the break taken against the
shift's break. A booking the hub saw cancelled, or recorded as a no-show, is not matched at all.
The first difference found is the reason the hub queries the timesheet with; the detail says by
how much, in minutes, so the platform can show the worker what to correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rosterhub.instants import LONDON
from rosterhub.streams.payroll.policy import TimesheetRules

__all__ = ["Mismatch", "match"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    reason: str  # a QueryReason symbol
    detail: str


def _minutes(a: datetime, b: datetime) -> int:
    return round((a.timestamp() - b.timestamp()) / 60)


def _local(value: datetime) -> str:
    return value.astimezone(LONDON).strftime("%d/%m/%Y %H:%M")


def match(sheet: dict[str, Any], booking: dict[str, Any] | None, rules: TimesheetRules) -> Mismatch | None:
    """``sheet``: actual_start, actual_end (aware), break_minutes; ``booking``: status, start, end (ISO) and
    break_minutes, or None when the hub knows no booking for it."""
    if booking is None:
        return Mismatch("NO_BOOKING", "the hub has no confirmed booking for this timesheet")
    if booking["status"] == "cancelled":
        return Mismatch("BOOKING_CANCELLED", "the booking was cancelled before the shift")
    if booking["status"] == "no_show":
        return Mismatch("NOT_WORKED", "the ward recorded this booking as a no-show")
    start, end = datetime.fromisoformat(booking["start"]), datetime.fromisoformat(booking["end"])
    ends = (  # each end of the shift: what the sheet says, what was booked, the tolerance, how to say it
        ("started", sheet["actual_start"], "booked from", start, rules.start_tolerance_minutes, ("late", "early")),
        ("finished", sheet["actual_end"], "booked until", end, rules.end_tolerance_minutes, ("later", "earlier")),
    )
    for did, actual, booked_as, booked, tolerance, (after, before) in ends:
        off = _minutes(actual, booked)
        if abs(off) > tolerance:
            return Mismatch(
                "HOURS_DIFFER",
                f"{did} {_local(actual)}, {booked_as} {_local(booked)}: {abs(off)} min "
                f"{after if off > 0 else before}, over the {tolerance} min allowed",
            )
    booked_break = int(booking.get("break_minutes") or 0)
    taken = int(sheet.get("break_minutes") or 0)
    if abs(taken - booked_break) > rules.break_tolerance_minutes:
        return Mismatch(
            "BREAK_DIFFERS",
            f"break of {taken} min claimed, the shift has {booked_break} min "
            f"(over the {rules.break_tolerance_minutes} min allowed)",
        )
    return None
