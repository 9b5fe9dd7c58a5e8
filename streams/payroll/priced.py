"""The hand-over from the timesheet stage to the batch stage: a timesheet (or a fee) priced. Pure.

A *priced* message names the employing trust (its key on ``_rosterhub.payroll-priced``), what
is paid (``ref``: the timesheet id, or ``<booking id>:late-cancellation``), the lines, and the
instant that chooses the pay period (the final approval, or the cancellation). Its ``digest``
covers everything that changes pay, so a repeat is recognised by the batch stage and a real
change (other hours approved, a corrected rate) becomes a reversal and new lines.
Decimals travel as strings, instants as ISO 8601: the same input gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rosterhub.streams.payroll.employer import employing_trust
from rosterhub.streams.payroll.load import PayrollPolicies
from rosterhub.streams.payroll.pricing import Pricing, price_fee, price_worked
from rosterhub.streams.payroll.state import BookingSheets, Stage2

__all__ = ["dec", "digest", "fee", "worked"]

_ZERO = Decimal(0)


def dec(value: str | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def digest(msg: dict[str, Any]) -> str:
    keys = ("employer", "host", "model", "grade", "staff_group", "worked_start", "worked_end", "lines")
    body = json.dumps({k: msg.get(k) for k in keys}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:20]


def _stage(st: BookingSheets, msgs: list[dict[str, Any]]) -> Stage2:
    fresh = [m for m in msgs if st.priced.get(m["ref"]) != m["digest"]]
    if not fresh:
        return Stage2(st)
    priced = {**st.priced, **{m["ref"]: m["digest"] for m in fresh}}
    return Stage2(replace(st, priced=priced), [], fresh)


def _common(st: BookingSheets, policies: PayrollPolicies, booking: dict[str, Any]) -> dict[str, Any] | None:
    """Employer, grade and policy for a booking, or None when no policy says who pays or how much."""
    host = policies.get(booking.get("host"))
    if host is None:
        return None
    employer, model = employing_trust(host, booking)
    paying = policies.get(employer)
    if employer is None or paying is None:
        return None
    pay = paying.pay
    grade = booking.get("shift_grade")
    if pay.basis == "worker_grade" and booking.get("worker_grade"):
        grade = booking["worker_grade"]
    return {
        "employer": employer,
        "employer_name": paying.name,
        "host": booking["host"],
        "host_name": booking.get("host_name"),
        "model": model,
        "pay": pay,
        "grade": grade,
        "staff_group": booking.get("staff_group") or "OTHER",
        "booking_id": st.booking_id,
        "shift_id": booking["shift_id"],
        "worker": booking.get("worker") or {},
        "fingerprint": paying.fingerprint,
        "on_cost_percent": str(host.recharge.on_cost_percent),
    }


def _message(common: dict[str, Any], pricing: Pricing, **extra: Any) -> dict[str, Any]:
    msg = {k: v for k, v in common.items() if k != "pay"}
    msg |= {"kind": "priced", "lines": [line.to_json() for line in pricing.lines], "error": pricing.error, **extra}
    msg["digest"] = digest(msg)
    return msg


def worked(st: BookingSheets, sheet: dict[str, Any], policies: PayrollPolicies, now: datetime) -> Stage2:
    """Price an approved timesheet: its actual start, the approved hours plus the break (exactly its
    actual end when the approved hours are the hours claimed)."""
    booking = st.booking
    common = _common(st, policies, booking) if booking else None
    if common is None:
        return Stage2(st)
    start = datetime.fromisoformat(sheet["actual_start"])
    end = datetime.fromisoformat(sheet["actual_end"])
    approved = Decimal(sheet["approved_hours"])
    if approved != Decimal(sheet["hours"]):
        end = start + timedelta(hours=float(approved), minutes=sheet["break_minutes"])
    pricing = price_worked(
        common["pay"],
        staff_group=common["staff_group"],
        grade=common["grade"],
        start=start,
        end=end,
        break_minutes=sheet["break_minutes"],
    )
    msg = _message(
        common,
        pricing,
        ref=sheet["timesheet_id"],
        timesheet_id=sheet["timesheet_id"],
        worked_start=start.isoformat(),
        worked_end=end.isoformat(),
        at=sheet.get("approved_at") or now.isoformat(),
    )
    return _stage(st, [msg])


def fee(st: BookingSheets, booking: dict[str, Any], policies: PayrollPolicies, now: datetime) -> Stage2:
    """A late cancellation by the trust: the fee hours the cancellation carries, if the employer pays fees."""
    common = _common(st, policies, booking)
    if common is None or not common["pay"].late_cancellation_fee or (dec(booking.get("fee_hours")) or _ZERO) <= 0:
        return Stage2(st)
    pricing = price_fee(
        common["pay"], staff_group=common["staff_group"], grade=common["grade"], fee_hours=Decimal(booking["fee_hours"])
    )
    msg = _message(
        common,
        pricing,
        ref=f"{st.booking_id}:late-cancellation",
        timesheet_id=None,
        worked_start=None,
        worked_end=None,
        at=booking.get("cancelled_at") or now.isoformat(),
    )
    return _stage(st, [msg])
