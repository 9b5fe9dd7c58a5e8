"""What the timesheet stage keeps per booking, and what one of its steps produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.streams.plain import TableRow

__all__ = ["BookingSheets", "Stage2"]


@dataclass(frozen=True, slots=True)
class BookingSheets(TableRow):
    """Stage 2's state for one booking: its facts, its timesheets, what was priced, what is due."""

    LISTS = ("early",)

    booking_id: str
    booking: dict[str, Any] | None = None
    sheets: dict[str, dict[str, Any]] = field(default_factory=dict)
    active: str | None = None
    priced: dict[str, str] = field(default_factory=dict)  # ref -> digest of the lines handed on
    early: tuple[dict[str, Any], ...] = ()  # approvals read before their timesheet
    missing_reported: bool = False


@dataclass(frozen=True, slots=True)
class Stage2:
    state: BookingSheets | None
    events: list[Envelope] = field(default_factory=list)  # TimesheetQueried / Approved / Missing
    priced: list[dict[str, Any]] = field(default_factory=list)  # for the batch stage, key "employer"
