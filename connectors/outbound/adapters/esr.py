"""ESR-style interface: a pipe-delimited booking file per update (docs/vendors/esr.md, "Updates from the hub").

ESR is the trust's HR and payroll: it hosts no shifts and takes no bookings, but pays bank
work. So it is told only what changes pay at its trust: a shift filled (``F``), a booking
cancelled (``C``, with the notice and the late-cancellation fee flag) and a no-show (``N``);
and, as the **employing trust's** payroll, every pay line of its batches (a ``PAY`` file, see
:mod:`._pay_file`) and each batch's close with its control totals (a ``CTL`` file).
Offers, withdrawals and booking decisions are None; so is anything at another trust.

The layout is ESR's own inbound layout turned around: ``HDR``, one ``BKG`` record, ``TRL``
with the record count; dates ``DD-MON-YYYY``, local times, UTF-8, ``\\n`` line ends. The
update key is the ``BKG`` record's second field.
"""

from __future__ import annotations

from rosterhub.connectors.outbound.adapters._facts import Facts, facts, local
from rosterhub.connectors.outbound.adapters._files import drop_name
from rosterhub.connectors.outbound.adapters._pay_file import PAY_KINDS, pay_file
from rosterhub.connectors.outbound.contract import Destination, FileDrop, Update

__all__ = ["ACTIONS", "ADAPTER", "BKG_FIELDS", "EsrAdapter", "lines"]

ACTIONS = {"shift_filled": "F", "booking_cancelled": "C", "no_show": "N"}
BKG_FIELDS = (
    "hub_reference",
    "action",
    "hub_shift_id",
    "booking_id",
    "person_number",
    "register",
    "registration_number",
    "worker_name",
    "duty_date",
    "start_time",
    "end_time",
    "hours",
    "staff_group",
    "grade",
    "notice_hours",
    "late_cancellation_fee",
)


def _oracle(f: Facts) -> str:
    start = local(f.start)
    return start.strftime("%d-%b-%Y").upper() if start else ""


def lines(f: Facts, action: str) -> list[list[str]]:
    """The file's records as lists of fields (HDR, BKG, TRL)."""
    start, end, made = local(f.start), local(f.end), local(f.at)
    assert made is not None
    register = f.register()
    person = f.worker_ids.get(f"system:https://rosterhub.org/Id/esr-person/{f.trust}", "")
    hours = "" if f.start is None or f.end is None else f"{(f.end - f.start).total_seconds() / 3600:.2f}"
    bkg = [
        f.key,
        action,
        f.shift_id,
        f.booking_id or "",
        person,
        register[0].upper() if register else "",
        register[1] if register else "",
        f.worker_name or "",
        _oracle(f),
        start.strftime("%H:%M") if start else "",
        end.strftime("%H:%M") if end else "",
        hours,
        f.staff_group or "",
        f.grade or "",
        "" if f.notice_hours is None or action != "C" else f"{f.notice_hours:.2f}",
        ("Y" if f.late_fee else "N") if action == "C" else "",
    ]
    return [
        ["HDR", f.trust or "", "RHUB", made.strftime("%Y%m%d"), made.strftime("%H%M%S"), "BOOKING"],
        ["BKG", *(v.replace("|", "/") for v in bkg)],
        ["TRL", "1"],
    ]


class EsrAdapter:
    platform = "esr"
    kinds = frozenset({*ACTIONS, *PAY_KINDS})

    def render(self, update: Update, destination: Destination) -> FileDrop | None:
        if update.kind in PAY_KINDS:
            return pay_file(update, destination)
        f = facts(update)
        action = ACTIONS.get(f.kind)
        if action is None or (f.trust and f.trust != destination.trust):
            return None
        content = "".join("|".join(line) + "\n" for line in lines(f, action)).encode()
        name = drop_name(f"RHUB_{destination.trust}", f.at, f.key, "dat")
        return FileDrop(name, content)


ADAPTER = EsrAdapter()
