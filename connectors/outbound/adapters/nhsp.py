"""NHS Professionals-style managed bank: a CSV file per update (docs/vendors/nhsp.md, "Updates from the hub").

NHSP books its own workers into trusts' shifts. It is told: shifts released to it (``Offer``: a
new request), shifts no longer open (``Withdraw``), decisions on bookings its workers made
(``Confirm``/``Reject``), a request of its own filled through another platform (``Filled``),
cancellations (``Cancel``) and no-shows of its bookings (``NoShow``). An update about neither
its requests nor its bookings is not for it (None).

NHSP staffs only some staff groups (and grades): a partner's shift it cannot staff is neither offered nor
withdrawn (None), so it makes no request NHSP would decline. What it staffs is configuration, not logic: the
destination's ``options`` ``staff_groups`` / ``grades`` (lists of hub codes), else the codes of NHSP's own code
lists in its inbound mapping (``mapping/vendors/nhsp.yaml``): the labels NHSP writes are the ones it staffs.

NHSP staffs only some staff groups (and grades): a partner's shift it cannot staff is neither offered nor
withdrawn (None), so it makes no request NHSP would decline. What it staffs is configuration, not logic: the
destination's ``options`` ``staff_groups`` / ``grades`` (lists of hub codes), else the codes of NHSP's own code
lists in its inbound mapping (``mapping/vendors/nhsp.yaml``): the labels NHSP writes are the ones it staffs.

Like NHSP's own files: Windows cp1252, CRLF, a header line; one row per file; the update key is
the ``Hub Reference`` column, so NHSP dedupes a redelivered file.
"""

from __future__ import annotations

import csv
import io

from rosterhub.connectors.outbound.adapters._facts import SHIFT_KINDS, Facts, facts, local, local_id
from rosterhub.connectors.outbound.adapters._files import drop_name
from rosterhub.connectors.outbound.adapters._labels import codes, label
from rosterhub.connectors.outbound.adapters._timesheet import TIMESHEET_KINDS, TimesheetFacts, timesheet_facts
from rosterhub.connectors.outbound.contract import Destination, FileDrop, Update

__all__ = ["ADAPTER", "HEADER", "TIMESHEET_HEADER", "NhspAdapter", "row", "staffs", "timesheet_row"]

PLATFORM = "nhsp"
HEADER = [
    "Hub Reference",
    "Action",
    "Hub Shift ID",
    "Request ID",
    "Booking Reference",
    "Trust Code",
    "Bank Trust Code",
    "Ward",
    "Staff Group",
    "Grade",
    "Shift Date",
    "Start Time",
    "End Time",
    "Worker Name",
    "Registration Body",
    "Registration Number",
    "Reasons",
    "Pay Rate (£/hr)",
]


#: The hub's answer to a timesheet NHSP exported: a ``hub_timesheets_*.csv`` file of its own, like its timesheets file.
TIMESHEET_HEADER = [
    "Hub Reference",
    "Action",
    "Timesheet ID",
    "Booking Reference",
    "Trust Code",
    "Query Reason",
    "Query Detail",
    "Approved Hours",
]
#: Update kinds NHSP is told about (its requests, its bookings, its workers' timesheets).
KINDS = frozenset({*SHIFT_KINDS, *TIMESHEET_KINDS})


def timesheet_row(t: TimesheetFacts) -> list[str]:
    """``Query`` (with NHSP's query reason label) or ``Approve``, naming NHSP's own timesheet and booking ids."""
    query = t.kind == "timesheet_queried"
    return [
        t.key,
        "Query" if query else "Approve",
        t.own_timesheet or "",
        t.own_booking or t.booking_id,
        t.trust or "",
        (label("nhsp_timesheets", "query_reason", t.reason) or "") if query else "",
        (t.detail or "") if query else "",
        "" if query or t.hours is None else f"{t.hours:.2f}",
    ]


def _action(f: Facts) -> str | None:
    own_request = f.own_shift(PLATFORM) is not None
    own_booking = local_id(f.booking_id, PLATFORM) is not None
    return {
        "shift_open": None if own_request else "Offer",
        "shift_withdrawn": "Withdraw",
        "booking_confirmed": "Confirm" if own_booking else None,
        "booking_rejected": "Reject" if own_booking else None,
        "shift_filled": "Filled" if own_request and not own_booking else None,
        "booking_cancelled": "Cancel" if own_booking or own_request else None,
        "no_show": "NoShow" if own_booking else None,
    }.get(f.kind)


def staffs(f: Facts, destination: Destination) -> bool:
    """Whether NHSP, at this destination, staffs the shift's staff group and grade (see the module text)."""
    opts = destination.options or {}
    groups = _listed(opts.get("staff_groups")) or codes(PLATFORM, "staff_group")
    grades = _listed(opts.get("grades")) or codes(PLATFORM, "grade")
    return f.staff_group in groups and f.grade in grades


def _listed(value: object) -> frozenset[str]:
    """A list option as configured: a list, or one comma-separated string (an environment variable)."""
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list | tuple) else ()
    return frozenset(str(v).strip() for v in items if str(v).strip())


def row(f: Facts, action: str, bank_trust: str = "") -> list[str]:
    """One update row. ``bank_trust``: the trust whose bank NHSP runs for this destination; NHSP keeps it on a
    request made from an ``Offer`` and exports it on its bookings, as the home trust of the workers who book it."""
    start, end = local(f.start), local(f.end)
    person = action not in ("Offer", "Withdraw")
    register = f.register() if person else None
    cancelled = label(PLATFORM, "cancel_reason", f.cancel_reason) or ""
    reasons = ";".join(f.reason_codes) if action == "Reject" else cancelled if action == "Cancel" else ""
    return [
        f.key,
        action,
        f.shift_id,
        f.own_shift(PLATFORM) or "",
        local_id(f.booking_id, PLATFORM) or f.booking_id or "",
        f.trust or "",
        bank_trust,
        f.ward or "",
        label(PLATFORM, "staff_group", f.staff_group) or "",
        label(PLATFORM, "grade", f.grade) or "",
        start.strftime("%d/%m/%Y") if start else "",
        start.strftime("%H:%M") if start else "",
        end.strftime("%H:%M") if end else "",
        (f.worker_name or "") if person else "",
        register[0].upper() if register else "",
        register[1] if register else "",
        reasons,
        "" if f.hourly_rate is None or action != "Offer" else f"{f.hourly_rate:.2f}",
    ]


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("cp1252", errors="replace")


class NhspAdapter:
    platform = PLATFORM
    kinds = KINDS

    def render(self, update: Update, destination: Destination) -> FileDrop | None:
        if update.kind in TIMESHEET_KINDS:
            t = timesheet_facts(update, PLATFORM)
            if t is None:
                return None
            return FileDrop(drop_name("hub_timesheets", t.at, t.key, "csv"), _csv([TIMESHEET_HEADER, timesheet_row(t)]))
        if update.kind not in KINDS:
            return None
        f = facts(update)
        action = _action(f)
        if action is None or (
            action in ("Offer", "Withdraw") and f.own_shift(PLATFORM) is None and not staffs(f, destination)
        ):
            return None
        content = _csv([HEADER, row(f, action, destination.trust or "")])
        return FileDrop(drop_name("hub_updates", f.at, f.key, "csv"), content)


ADAPTER = NhspAdapter()
