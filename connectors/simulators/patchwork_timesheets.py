"""Patchwork's timesheet webhooks, as the simulated app sends them (docs/vendors/patchwork.md, "Timesheets").

A worker clocks in and out in the app and submits (``timesheet.submitted``); the ward approves in one or two
steps (``timesheet.approved``, ``approval.step`` of ``approval.of``) or queries. Times carry their offset;
``payment_batch`` names Patchwork's own weekly or monthly payment batch (informational for the hub).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

__all__ = ["timesheet_approved", "timesheet_submitted"]


def timesheet_submitted(
    timesheet_id: str,
    booking_id: str,
    trust: str,
    clock_in: datetime,
    clock_out: datetime,
    *,
    worker: dict[str, Any],
    break_minutes: int = 60,
    hub_shift_id: str | None = None,
    shift_id: str | None = None,
    submitted_at: datetime | None = None,
) -> dict[str, Any]:
    """A ``timesheet.submitted`` webhook: the worker's clock-in and clock-out, with offsets."""
    at = submitted_at or clock_out + timedelta(minutes=30)
    return _webhook(
        "timesheet.submitted",
        f"evt-{timesheet_id}-{int(at.timestamp())}",
        at,
        {"timesheet_id": timesheet_id, "booking_id": booking_id, "shift_id": shift_id},
        hub_shift_id,
        trust,
        {
            "worker": worker,
            "clock_in": clock_in.isoformat(),
            "clock_out": clock_out.isoformat(),
            "break_minutes": break_minutes,
            "submitted_at": at.isoformat(),
            "payment_batch": {"id": f"PAY-{trust}-{at:%G-W%V}", "frequency": "weekly"},
        },
    )


def timesheet_approved(
    timesheet_id: str,
    booking_id: str,
    trust: str,
    hours: str,
    at: datetime,
    *,
    step: int = 1,
    of: int = 1,
    approver: str = "pw-approver-1",
    role: str | None = None,
    hub_shift_id: str | None = None,
    shift_id: str | None = None,
) -> dict[str, Any]:
    """A ``timesheet.approved`` webhook: one approval step (``step`` of ``of``)."""
    approval = {"step": step, "of": of, "approver_id": approver, "hours": hours, "approved_at": at.isoformat()}
    if role:
        approval["role"] = role
    ids = {"timesheet_id": timesheet_id, "booking_id": booking_id, "shift_id": shift_id}
    return _webhook(
        "timesheet.approved", f"evt-{timesheet_id}-a{step}", at, ids, hub_shift_id, trust, {"approval": approval}
    )


def _webhook(
    event: str,
    event_id: str,
    at: datetime,
    ids: dict[str, Any],
    hub_shift_id: str | None,
    trust: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """A timesheet webhook: its envelope, then the timesheet's ids, the hub's shift id (when the shift was offered
    through the hub), the trust and ``data``, in that order."""
    return {
        "event": event,
        "id": event_id,
        "created_at": at.isoformat(),
        "api_version": "2025-11-01",
        "data": {**ids, **({"hub_shift_id": hub_shift_id} if hub_shift_id else {}), "organisation_ods": trust, **data},
    }
