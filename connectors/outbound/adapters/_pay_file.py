"""ESR-style pay files: the employing trust's payroll lines and batch closes, for its ESR interface.

The same envelope as the booking files (``HDR``, records, ``TRL`` with the record count; pipe
separated, UTF-8, ``\\n``; dates ``DD-MON-YYYY``), one file per update, named so they sort in
batch order and a re-sent line replaces itself (the name is the batch, the line number and
the update key's hash):

* ``RHUB_PAY_<batch>_<line 00001>_<hash>.dat``: one ``PAY`` record, a line of the batch;
* ``RHUB_PAYCTL_<batch>_<hash>.dat``: one ``CTL`` record, the batch closed, with its line count,
  hours and amount, which the payroll office reconciles the ``PAY`` files with.

Only the employing trust's ESR destination is told (the router sends pay updates to the employing
trust's destinations); a line for another trust renders nothing. Workers are identified by the
hub person id and register number, never NI number or date of birth.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from rosterhub.connectors.outbound.adapters._facts import REGISTERS, local, short_hash
from rosterhub.connectors.outbound.contract import Destination, FileDrop, Update

__all__ = ["CTL_FIELDS", "PAY_FIELDS", "PAY_KINDS", "pay_file", "pay_records"]

PAY_KINDS = frozenset({"pay_line", "pay_batch_closed"})
PAY_FIELDS = (
    "hub_reference",
    "line_id",
    "batch_id",
    "line_number",
    "person_id",
    "register",
    "registration_number",
    "worker_name",
    "staff_group",
    "grade",
    "pay_code",
    "hours",
    "rate",
    "amount",
    "worked_date",
    "host_trust",
    "booking_id",
    "timesheet_id",
    "reverses",
)
CTL_FIELDS = (
    "hub_reference",
    "batch_id",
    "cycle",
    "period_start",
    "period_end",
    "line_count",
    "hours",
    "amount",
    "closed_by",
)


def _oracle(day: date | None) -> str:
    return "" if day is None else day.strftime("%d-%b-%Y").upper()


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _register(worker: dict[str, Any]) -> tuple[str, str]:
    by_system = {v: k for k, v in REGISTERS.items()}
    for ident in worker.get("identifiers") or []:
        reg = by_system.get(str(ident.get("system")))
        if reg:
            return reg.upper(), str(ident.get("value"))
    return "", ""


def pay_records(update: Update) -> list[list[str]]:
    """The file's records as lists of fields (HDR, PAY or CTL, TRL)."""
    d = update.event.data
    made = local(update.event.time)
    assert made is not None
    trust = (d.get("employing_trust") or {}).get("ods_code") or ""
    if update.kind == "pay_line":
        worker = d.get("worker") or {}
        register, number = _register(worker)
        worked = local(d.get("worked_start"))
        body = [
            "PAY",
            update.key,
            d["line_id"],
            d["batch_id"],
            str(d["line_number"]),
            worker.get("person_id") or "",
            register,
            number,
            worker.get("display_name") or "",
            str(d.get("staff_group") or ""),
            d["grade"],
            d["pay_code"],
            _money(d.get("hours")),
            _money(d.get("rate")),
            _money(d["amount"]),
            _oracle(worked.date() if worked else None),
            (d.get("host_trust") or {}).get("ods_code") or "",
            d["booking_id"],
            d.get("timesheet_id") or "",
            d.get("reverses") or "",
        ]
        kind = "PAY"
    else:
        body = [
            "CTL",
            update.key,
            d["batch_id"],
            str(d["cycle"]),
            _oracle(d["period_start"]),
            _oracle(d["period_end"]),
            str(d["line_count"]),
            _money(d["hours"]),
            _money(d["amount"]),
            d["closed_by"],
        ]
        kind = "PAYCTL"
    return [
        ["HDR", trust, "RHUB", made.strftime("%Y%m%d"), made.strftime("%H%M%S"), kind, d["batch_id"]],
        [v.replace("|", "/") for v in body],
        ["TRL", "1"],
    ]


def pay_file(update: Update, destination: Destination) -> FileDrop | None:
    d = update.event.data
    if (d.get("employing_trust") or {}).get("ods_code") != destination.trust:
        return None
    content = "".join("|".join(r) + "\n" for r in pay_records(update)).encode()
    if update.kind == "pay_line":
        name = f"RHUB_PAY_{d['batch_id']}_{int(d['line_number']):05d}_{short_hash(update.key)}.dat"
    else:
        name = f"RHUB_PAYCTL_{d['batch_id']}_{short_hash(update.key)}.dat"
    return FileDrop(name, content)
