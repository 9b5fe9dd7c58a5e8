"""What the adapters read from a timesheet update (the hub's query or approval), read once. Pure.

Timesheet updates are about one timesheet of the platform that sent it: its own id is the last
part of the hub's ``<vendor>:<trust>:<id>``, and so are the booking's when it was made there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rosterhub.connectors.outbound.adapters._facts import local_id
from rosterhub.connectors.outbound.contract import Update

__all__ = ["TIMESHEET_KINDS", "TimesheetFacts", "timesheet_facts"]

TIMESHEET_KINDS = frozenset({"timesheet_queried", "timesheet_approved"})


@dataclass(frozen=True, slots=True)
class TimesheetFacts:
    key: str
    kind: str
    at: datetime
    timesheet_id: str  # hub id
    own_timesheet: str | None  # the platform's own id
    booking_id: str
    own_booking: str | None
    shift_id: str
    trust: str | None  # the trust of the platform's timesheet (its organisation)
    reason: str | None  # QueryReason symbol
    detail: str | None
    hours: Decimal | None  # approved hours
    by: str | None


def timesheet_facts(update: Update, platform: str) -> TimesheetFacts | None:
    """The facts of a timesheet update for ``platform``, or None when the timesheet is not that platform's."""
    if update.kind not in TIMESHEET_KINDS:
        return None
    d = update.event.data
    ts_id = str(d["timesheet_id"])
    own = local_id(ts_id, platform)
    if own is None:
        return None
    parts = ts_id.split(":")
    return TimesheetFacts(
        key=update.key,
        kind=update.kind,
        at=update.event.time,
        timesheet_id=ts_id,
        own_timesheet=own,
        booking_id=str(d["booking_id"]),
        own_booking=local_id(str(d["booking_id"]), platform),
        shift_id=str(d["shift_id"]),
        trust=parts[1] if len(parts) >= 3 else None,
        reason=d.get("reason"),
        detail=d.get("detail"),
        hours=d.get("approved_hours"),
        by=d.get("queried_by") or d.get("approver"),
    )
