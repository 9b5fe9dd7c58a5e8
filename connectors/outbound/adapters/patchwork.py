"""Patchwork-style bank app: one signed webhook per update (docs/vendors/patchwork.md, "Updates from the hub").

``POST /webhooks/rosterhub`` with a JSON body shaped like Patchwork's own webhooks (``event``,
``id``, ``created_at``, ``data``), signed by the engine at send time the way Patchwork signs its
own (HMAC-SHA256 over ``<timestamp>.<body>``; :data:`~rosterhub.connectors.outbound.contract.SIGN`).
``id`` and ``data.hub_reference`` are the idempotency key: Patchwork dedupes on it and sends it
back with any change it makes because of the update, which is how the hub recognises the echo.
Every shift and booking kind is rendered: Patchwork is both a host (its own shifts) and a bank app
whose workers book partners' shifts. Its workers' timesheets come back queried or approved by the hub
(``timesheet.queried`` / ``timesheet.approved``, with its own timesheet id) when they came through it.
"""

from __future__ import annotations

from typing import Any

from rosterhub.connectors.outbound.adapters._facts import WORKER_KINDS, Facts, facts, local
from rosterhub.connectors.outbound.adapters._json import dumps
from rosterhub.connectors.outbound.adapters._labels import label
from rosterhub.connectors.outbound.adapters._timesheet import TimesheetFacts, timesheet_facts
from rosterhub.connectors.outbound.contract import SIGN, Destination, HttpCall, Update

__all__ = ["ADAPTER", "EVENTS", "PatchworkAdapter"]

#: update kind -> Patchwork event name
EVENTS = {
    "shift_open": "shift.offered",
    "shift_withdrawn": "shift.withdrawn",
    "booking_confirmed": "booking.confirmed",
    "booking_rejected": "booking.rejected",
    "shift_filled": "shift.filled",
    "booking_cancelled": "booking.cancelled",
    "no_show": "booking.no_show",
    "timesheet_queried": "timesheet.queried",
    "timesheet_approved": "timesheet.approved",
}
PATH = "/webhooks/rosterhub"
PLATFORM = "patchwork"


def _data(f: Facts) -> dict[str, Any]:
    own = f.own_shift("patchwork")
    data: dict[str, Any] = {
        "hub_reference": f.key,
        "hub_shift_id": f.shift_id,
        "shift_id": own,  # Patchwork's id when the shift is Patchwork's own, else null (a partner's shift)
        "organisation_ods": f.trust,
    }
    if f.kind == "shift_open":
        data |= {
            "ward": f.ward,
            "staff_group": label(PLATFORM, "staff_group", f.staff_group),
            "grade": label(PLATFORM, "grade", f.grade),
            "start_time": local(f.start),
            "end_time": local(f.end),
            "rate": f.hourly_rate,
            "visibility": label(PLATFORM, "tier", f.tier),
        }
    if f.booking_id is not None and f.kind != "shift_open":
        data["booking_id"] = f.booking_id
    if f.kind in WORKER_KINDS:
        data["worker"] = f.worker_json()
    if f.kind == "booking_rejected":
        data["reasons"] = list(f.reason_codes)
    if f.kind == "booking_cancelled":
        data |= f.cancellation_json(label(PLATFORM, "cancel_reason", f.cancel_reason))
    return data


def _timesheet(t: TimesheetFacts) -> dict[str, Any]:
    """A timesheet the hub queried or approved, in Patchwork's words (its own ids, its query reason labels)."""
    data: dict[str, Any] = {
        "hub_reference": t.key,
        "timesheet_id": t.own_timesheet,
        "booking_id": t.own_booking,
        "hub_shift_id": t.shift_id,
        "organisation_ods": t.trust,
    }
    if t.kind == "timesheet_queried":
        data["query"] = {"reason": label(PLATFORM, "query_reason", t.reason), "detail": t.detail, "by": t.by}
    else:
        data["approval"] = {"approver_id": t.by, "hours": t.hours}
    return data


class PatchworkAdapter:
    platform = PLATFORM
    kinds = frozenset(EVENTS)

    def render(self, update: Update, destination: Destination) -> HttpCall | None:
        if update.kind not in EVENTS:
            return None
        t = timesheet_facts(update, PLATFORM)
        if t is not None or update.kind.startswith("timesheet_"):
            if t is None:
                return None
            body = {"event": EVENTS[t.kind], "id": t.key, "created_at": t.at, "api_version": "rosterhub-1"}
            return HttpCall("POST", PATH, dumps({**body, "data": _timesheet(t)}), headers={SIGN: "hmac-sha256"})
        f = facts(update)
        body = {
            "event": EVENTS[f.kind],
            "id": f.key,
            "created_at": f.at,
            "api_version": "rosterhub-1",
            "data": _data(f),
        }
        return HttpCall("POST", PATH, dumps(body), headers={SIGN: "hmac-sha256"})


ADAPTER = PatchworkAdapter()
