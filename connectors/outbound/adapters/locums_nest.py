"""Locum's Nest-style platform: REST calls (docs/vendors/locums_nest.md, "Updates from the hub").

The hub is an API client: ``Authorization: Bearer`` (the engine adds it from the destination's
secret, :data:`~rosterhub.connectors.outbound.contract.AUTH`) and ``Idempotency-Key`` (the update
key), which the platform keeps on the change it makes and shows on its feed as
``actor.idempotency_key``: the poll connector recognises that change as an echo.

Locum's Nest shifts are the platform's own (``/api/v2/shifts/{id}``); shifts of partner trusts
offered to its doctors are ``/api/v2/external_shifts/{hub shift id}``. Bookings its doctors made
are ``/api/v2/bookings/{id}``. An update about neither is not for this platform (None).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from rosterhub.connectors.outbound.adapters._facts import SHIFT_KINDS, Facts, facts, local, local_id
from rosterhub.connectors.outbound.adapters._json import dumps
from rosterhub.connectors.outbound.adapters._labels import label
from rosterhub.connectors.outbound.adapters._timesheet import TIMESHEET_KINDS, timesheet_facts
from rosterhub.connectors.outbound.contract import AUTH, Destination, HttpCall, Update

__all__ = ["ADAPTER", "LocumsNestAdapter"]

PLATFORM = "locums_nest"


def _wall(value: Any) -> str | None:
    """Locum's Nest writes local wall-clock times without an offset."""
    moment = local(value)
    return None if moment is None else moment.replace(tzinfo=None).isoformat()


def _doctor(f: Facts) -> dict[str, Any]:
    """The doctor as Locum's Nest knows them: its own id when the worker came through it, and the GMC number."""
    own = next(
        (v for k, v in f.worker_ids.items() if k.startswith(f"system:https://rosterhub.org/Id/{PLATFORM}/")), None
    )
    return {"id": own, "gmc_number": f.worker_ids.get("gmc"), "name": f.worker_name}


def _call(path: str, body: dict[str, Any], method: str = "POST") -> HttpCall:
    return HttpCall(method, path, dumps(body), headers={AUTH: "bearer"})


def _plan(f: Facts) -> HttpCall | None:
    own = f.own_shift(PLATFORM)
    booking = local_id(f.booking_id, PLATFORM)
    external = f"/api/v2/external_shifts/{quote(f.shift_id, safe=':')}"
    ref = {"reference": f.key}
    if f.kind == "shift_open":
        if own:
            return None  # its own shift: listed there already (a re-opening arrives as booking_cancelled)
        body: dict[str, Any] = {
            "external_id": f.shift_id,
            "organisation": f.trust,
            "department": f.ward,
            "grade": label(PLATFORM, "grade", f.grade),
            "shift_type": label(PLATFORM, "shift_type", f.shift_type),
            "start": _wall(f.start),
            "end": _wall(f.end),
            "escalation": label(PLATFORM, "tier", f.tier),
            "rate": None if f.hourly_rate is None else {"amount": float(f.hourly_rate), "per": "hour"},
            **ref,
        }
        return _call(external, body, "PUT")
    if f.kind == "shift_withdrawn":
        return None if own else _call(f"{external}/withdraw", ref)
    if f.kind == "booking_confirmed":
        if own or booking is None:
            return None  # its own shift: the shift_filled fill confirms the booking
        return _call(f"/api/v2/bookings/{booking}/confirm", {"external_id": f.shift_id, **ref})
    if f.kind == "booking_rejected":
        return (
            None
            if booking is None
            else _call(f"/api/v2/bookings/{booking}/decline", {"reasons": list(f.reason_codes), **ref})
        )
    if f.kind == "shift_filled":
        if own is None:
            return None  # a partner's shift: shift_withdrawn takes it off the list
        return _call(f"/api/v2/shifts/{own}/fill", {"booking_id": booking or f.booking_id, "doctor": _doctor(f), **ref})
    if f.kind == "booking_cancelled":
        if own:
            body = {
                "booking_id": booking or f.booking_id,
                "reopen": f.shift_reopened,
                "reason": label(PLATFORM, "cancel_reason", f.cancel_reason),
            }
            return _call(f"/api/v2/shifts/{own}/unfill", {**body, **ref})
        if booking is None:
            return None
        return _call(
            f"/api/v2/bookings/{booking}/cancel", {"reason": label(PLATFORM, "cancel_reason", f.cancel_reason), **ref}
        )
    if f.kind == "no_show":
        return None if own is None else _call(f"/api/v2/shifts/{own}/no_show", {"booking_id": f.booking_id, **ref})
    return None


#: Every kind it is told: its shifts and bookings, and its doctors' timesheets.
KINDS = frozenset({*SHIFT_KINDS, *TIMESHEET_KINDS})


def _timesheet(update: Update) -> HttpCall | None:
    """``POST /api/v2/timesheets/{id}/query`` or ``.../approve``: a timesheet of one of its doctors."""
    t = timesheet_facts(update, PLATFORM)
    if t is None:
        return None
    body: dict[str, Any]
    if t.kind == "timesheet_queried":
        body = {"reason": label(PLATFORM, "query_reason", t.reason), "comment": t.detail, "reference": t.key}
        return _call(f"/api/v2/timesheets/{quote(t.own_timesheet or '')}/query", body)
    body = {"approved_hours": t.hours, "approved_by": t.by, "reference": t.key}
    return _call(f"/api/v2/timesheets/{quote(t.own_timesheet or '')}/approve", body)


class LocumsNestAdapter:
    platform = PLATFORM
    kinds = KINDS

    def render(self, update: Update, destination: Destination) -> HttpCall | None:
        if update.kind in TIMESHEET_KINDS:
            return _timesheet(update)
        return _plan(facts(update)) if update.kind in KINDS else None


ADAPTER = LocumsNestAdapter()
