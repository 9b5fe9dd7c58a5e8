"""Stage 1 of payroll: the facts pay needs about each booking, gathered per shift and re-keyed by booking.

Pure. Reads events.shift and events.booking (both keyed by shift id, so one writer per shift):

* ShiftPosted / ShiftUpdated: the shift's grade, staff group, times, break, rate (newest version wins);
* a platform's BookingRequested: the worker's own grade, staff group, home trust and membership,
  kept until the hub decides the request;
* the hub's BookingConfirmed: the booking is on; its facts go out keyed by booking id;
* the hub's BookingCancelled / NoShow: the booking is off (with the late-cancellation fee hours);
* a ShiftUpdated that moves a confirmed booking's times or changes its grade: the facts again.

Facts for a booking are only sent once the shift is known (a confirmation read before its
shift waits in the state). Each message carries ``seq``, a per-booking counter, so the
timesheet stage ignores a repeat; ids and times come from the inputs, so a replay repeats them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.events.models.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    NoShow,
)
from rosterhub.events.models.shift import ShiftPosted, ShiftUpdated
from rosterhub.streams.booking.outcome import SOURCE as HUB_BOOKING
from rosterhub.streams.plain import TableRow

__all__ = ["ShiftFacts", "Stage1", "step"]

_POSTED, _UPDATED = ShiftPosted.AVRO_NAME, ShiftUpdated.AVRO_NAME
_REQUESTED, _CONFIRMED = BookingRequested.AVRO_NAME, BookingConfirmed.AVRO_NAME
_CANCELLED, _NO_SHOW = BookingCancelled.AVRO_NAME, NoShow.AVRO_NAME
_REQUEST_FIELDS = ("grade", "staff_group", "home_trust", "membership", "vendor")
_SHIFT_FIELDS = ("grade", "staff_group", "start", "end", "break_minutes", "hourly_rate", "ward", "cost_centre")


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class ShiftFacts(TableRow):
    """What stage 1 keeps per shift: small, JSON-able."""

    LISTS = ("waiting",)

    shift_id: str
    version: int = 0
    shift: dict[str, Any] = field(default_factory=dict)  # host, vendor and _SHIFT_FIELDS (instants ISO)
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # booking id -> worker's own facts
    booked: dict[str, Any] | None = None  # the confirmed booking: id, worker, vendor, request facts, seq
    waiting: tuple[dict[str, Any], ...] = ()  # messages held until the shift is known


@dataclass(frozen=True, slots=True)
class Stage1:
    state: ShiftFacts | None
    out: list[dict[str, Any]] = field(default_factory=list)  # messages for _rosterhub.payroll-bookings


def step(state: ShiftFacts | None, env: Envelope) -> Stage1:
    """One event of events.shift or events.booking."""
    data = env.data
    shift_id = str(data.get("shift_id") or "")
    st = state or ShiftFacts(shift_id)
    if env.type in (_POSTED, _UPDATED):
        return _shift(st, data)
    if env.type == _REQUESTED and env.source != HUB_BOOKING:
        extra = {k: data.get(k) for k in _REQUEST_FIELDS}
        return Stage1(replace(st, requests={**st.requests, str(data["booking_id"]): extra}))
    if env.source != HUB_BOOKING:
        return Stage1(state)  # a platform's own cancellation or no-show: the hub's decision follows
    if env.type == _CONFIRMED:
        return _confirmed(st, data)
    if env.type in (_CANCELLED, _NO_SHOW):
        return _ended(st, data, "cancelled" if env.type == _CANCELLED else "no_show")
    if env.type == BookingRejected.AVRO_NAME:
        requests = {k: v for k, v in st.requests.items() if k != data.get("booking_id")}
        return Stage1(replace(st, requests=requests) if state else None)
    return Stage1(state)


def _shift(st: ShiftFacts, data: dict[str, Any]) -> Stage1:
    version = int(data.get("version") or 1)
    if version < st.version:
        return Stage1(st)
    trust = data.get("trust") or {}
    shift = {k: _iso(data.get(k)) if k in ("start", "end") else data.get(k) for k in _SHIFT_FIELDS}
    shift["hourly_rate"] = None if shift["hourly_rate"] is None else str(shift["hourly_rate"])
    shift |= {"host": trust.get("ods_code"), "host_name": trust.get("name"), "vendor": data.get("vendor")}
    known = bool(st.shift)
    new = replace(st, version=version, shift=shift)
    out: list[dict[str, Any]] = []
    if not known and st.waiting:
        out = [_with_shift(m, new) for m in st.waiting]
        new = replace(new, waiting=())
    elif known and st.booked is not None and _pay_facts(st.shift) != _pay_facts(shift):
        booked = {**st.booked, "seq": st.booked["seq"] + 1}
        new = replace(new, booked=booked)
        out = [_facts(new, booked, "confirmed")]
    return Stage1(new, out)


def _pay_facts(shift: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(shift.get(k) for k in ("start", "end", "break_minutes", "grade", "staff_group", "hourly_rate"))


def _confirmed(st: ShiftFacts, data: dict[str, Any]) -> Stage1:
    booking_id = str(data["booking_id"])
    if st.booked is not None and st.booked["booking_id"] == booking_id:
        return Stage1(st)  # a repeat
    request = st.requests.get(booking_id, {})
    booked = {
        "booking_id": booking_id,
        "worker": data.get("worker") or {},
        "vendor": data.get("vendor") or request.get("vendor"),
        "request": request,
        "confirmed_at": _iso(data.get("decided_at")),
        "start": _iso(data.get("start")),
        "end": _iso(data.get("end")),
        "seq": 1,
    }
    requests = {k: v for k, v in st.requests.items() if k != booking_id}
    new = replace(st, booked=booked, requests=requests)
    return _send(new, _facts(new, booked, "confirmed"))


def _ended(st: ShiftFacts, data: dict[str, Any], status: str) -> Stage1:
    booking_id = str(data["booking_id"])
    if st.booked is None or st.booked["booking_id"] != booking_id:
        return Stage1(st)
    booked = {**st.booked, "seq": st.booked["seq"] + 1}
    msg = _facts(st, booked, status)
    if status == "cancelled":
        fee = data.get("fee_hours") if data.get("late_cancellation_fee") else None
        msg |= {"fee_hours": None if fee is None else str(fee), "cancelled_at": _iso(data.get("cancelled_at"))}
    return _send(replace(st, booked=None), msg)


def _send(st: ShiftFacts, msg: dict[str, Any]) -> Stage1:
    if not st.shift:  # the shift itself has not been read yet: hold the message
        return Stage1(replace(st, waiting=(*st.waiting, msg)))
    return Stage1(st, [_with_shift(msg, st)])


def _facts(st: ShiftFacts, booked: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "kind": "booking",
        "status": status,
        "booking_id": booked["booking_id"],
        "shift_id": st.shift_id,
        "seq": booked["seq"],
        "worker": booked["worker"],
        "vendor": booked["vendor"],
        "worker_grade": booked["request"].get("grade"),
        "worker_staff_group": booked["request"].get("staff_group"),
        "home_trust": booked["request"].get("home_trust"),
        "membership": booked["request"].get("membership"),
        "confirmed_start": booked["start"],
        "confirmed_end": booked["end"],
    }


def _with_shift(msg: dict[str, Any], st: ShiftFacts) -> dict[str, Any]:
    s = st.shift
    return {
        **msg,
        "host": s.get("host"),
        "host_name": s.get("host_name"),
        "shift_vendor": s.get("vendor"),
        "shift_grade": s.get("grade"),
        "staff_group": s.get("staff_group"),
        "start": s.get("start") or msg.get("confirmed_start"),
        "end": s.get("end") or msg.get("confirmed_end"),
        "break_minutes": int(s.get("break_minutes") or 0),
        "hourly_rate": s.get("hourly_rate"),
        "ward": s.get("ward"),
        "cost_centre": s.get("cost_centre"),
    }
