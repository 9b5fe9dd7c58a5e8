"""Stage 3 of payroll: the employing trust's batches, lines and recharges. Pure.

One writer per employing trust (``_rosterhub.payroll-priced`` is keyed by its ODS code), so
line numbers and closes are decided in one order:

* a **priced** timesheet (or fee) goes into the batch of the period its approval falls in, or,
  when that batch is closed, the first later one that is not. Its lines get the next numbers of
  the batch (``<batch id>:<n>``). If the same thing was priced before with other figures, every
  line issued before is first **reversed** (a line with negative hours and amount, ``reverses``
  naming it), whatever batch it was in: a closed batch is never touched. The same figures again
  change nothing;
* each line worked away from the employing trust raises a **recharge** of the host trust, on the
  statement of that pair for the month of the batch's period end, with the collaborative's on-costs;
* a **close** seals a batch (``PayrollBatchClosed`` with its control totals); nothing is added
  to it afterwards. Closing a batch that has no line yet seals it empty.

Event ids derive from line ids and batch ids, so a replay after a crash repeats them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.models.payroll import PayrollBatchClosed, PayrollLineIssued
from rosterhub.events.models.recharge import RechargeLineRaised
from rosterhub.streams.payroll.periods import Period, next_period, period_at, period_of
from rosterhub.streams.payroll.policy import PayPolicy
from rosterhub.streams.payroll.pricing import money
from rosterhub.streams.plain import row

__all__ = ["SOURCE", "Stage3", "TrustBatches", "close", "statement_id", "take"]

SOURCE = "/rosterhub/payroll"
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TrustBatches:
    """The employing trust's open batches (with running totals) and the ids of its closed ones."""

    trust: str
    open: dict[str, dict[str, Any]] = field(default_factory=dict)  # batch id -> period, lines, hours, amount
    closed: tuple[str, ...] = ()

    def to_table(self) -> dict[str, Any]:
        return row(self, lists=("closed",))

    @classmethod
    def from_table(cls, trust: str, value: dict[str, Any] | None) -> TrustBatches:
        if value is None:
            return cls(trust)
        return cls(value["trust"], value.get("open", {}), tuple(value.get("closed", ())))


@dataclass(frozen=True, slots=True)
class Stage3:
    batches: TrustBatches
    ref: dict[str, Any] | None = None  # what was issued for the priced thing (to reverse it later)
    events: list[Envelope] = field(default_factory=list)


def statement_id(raised_by: str, charged_to: str, period_end: date) -> str:
    return f"{raised_by}:{charged_to}:{period_end:%Y-%m}"


def _target(b: TrustBatches, pay: PayPolicy, at: datetime) -> Period:
    period = period_at(b.trust, pay, at)
    while period.batch_id in b.closed:
        period = next_period(b.trust, pay, period)
    if period.batch_id in b.open:  # a batch keeps the period it was opened with, whatever the policy says now
        return Period.from_json(b.open[period.batch_id]["period"])
    return period


def take(b: TrustBatches, ref: dict[str, Any] | None, msg: dict[str, Any], pay: PayPolicy, now: datetime) -> Stage3:
    """Issue a priced timesheet's lines (after reversing what it was priced at before)."""
    if msg.get("error") or (ref is not None and ref.get("digest") == msg["digest"]):
        return Stage3(b, ref)
    period = _target(b, pay, datetime.fromisoformat(msg["at"]))
    summary = b.open.get(period.batch_id) or {"period": period.to_json(), "lines": 0, "hours": "0", "amount": "0"}
    version = (ref or {}).get("version", 0) + 1
    issued: list[dict[str, Any]] = []
    for old in (ref or {}).get("lines", []):
        issued.append(
            {
                **old,
                "hours": None if old["hours"] is None else str(-Decimal(old["hours"])),
                "amount": str(-Decimal(old["amount"])),
                "reverses": old["line_id"],
                "context": ref["context"] if ref else None,
            }
        )
    issued += [{**line, "reverses": None, "context": None} for line in msg["lines"]]
    events: list[Envelope] = []
    kept: list[dict[str, Any]] = []
    n, hours, amount = summary["lines"], Decimal(summary["hours"]), Decimal(summary["amount"])
    for line in issued:
        n += 1
        line_id = f"{period.batch_id}:{n}"
        context = line.pop("context") or _context(msg)
        events += _line_events(line_id, n, period, line, context, version, now)
        amount += Decimal(line["amount"])
        if line["kind"] in ("basic", "late_cancellation") and line["hours"] is not None:
            hours += Decimal(line["hours"])
        if line["reverses"] is None:
            kept.append({k: line[k] for k in ("kind", "pay_code", "hours", "rate", "amount")} | {"line_id": line_id})
    summary = {**summary, "lines": n, "hours": str(hours), "amount": str(amount)}
    batches = replace(b, open={**b.open, period.batch_id: summary})
    new_ref = {"digest": msg["digest"], "version": version, "lines": kept, "context": _context(msg)}
    return Stage3(batches, new_ref, events)


def _context(msg: dict[str, Any]) -> dict[str, Any]:
    """What every line of one pricing shares (kept with the ref, so a reversal names the same facts)."""
    keys = (
        "employer",
        "employer_name",
        "host",
        "host_name",
        "model",
        "grade",
        "staff_group",
        "booking_id",
        "shift_id",
        "timesheet_id",
        "worker",
        "worked_start",
        "worked_end",
        "fingerprint",
        "on_cost_percent",
    )
    return {k: msg.get(k) for k in keys}


def _event(type_: str, kind: str, subject: str, now: datetime, data: dict[str, Any]) -> Envelope:
    """The payroll processor's event about ``subject`` (a line, a recharge, a batch), its id derived from it so
    that pricing the same input again gives the same event."""
    return Envelope(type=type_, source=SOURCE, id=event_id(kind, subject), subject=subject, time=now, data=data)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _line_events(
    line_id: str, n: int, period: Period, line: dict[str, Any], c: dict[str, Any], version: int, now: datetime
) -> list[Envelope]:
    employer = {"ods_code": c["employer"], "name": c.get("employer_name")}
    host = {"ods_code": c["host"], "name": c.get("host_name")}
    data = {
        "line_id": line_id,
        "batch_id": period.batch_id,
        "line_number": n,
        "cycle": period.cycle,
        "period_start": period.start,
        "period_end": period.end,
        "employing_trust": employer,
        "host_trust": host,
        "employment_model": c["model"],
        "booking_id": c["booking_id"],
        "shift_id": c["shift_id"],
        "timesheet_id": c.get("timesheet_id"),
        "worker": c["worker"],
        "staff_group": c["staff_group"],
        "grade": c["grade"],
        "pay_code": line["pay_code"],
        "hours": _dec(line["hours"]),
        "rate": _dec(line["rate"]),
        "amount": Decimal(line["amount"]),
        "worked_start": _when(c.get("worked_start")),
        "worked_end": _when(c.get("worked_end")),
        "reverses": line["reverses"],
        "pricing_version": version,
        "policy_fingerprint": c.get("fingerprint"),
        "created_at": now,
    }
    out = [_event(PayrollLineIssued.AVRO_NAME, "payroll-line", line_id, now, data)]
    if c["host"] != c["employer"]:
        pay_amount = Decimal(line["amount"])
        on_cost = money(pay_amount * Decimal(c.get("on_cost_percent") or "0") / 100)
        recharge_id = f"{line_id}:recharge"
        out.append(
            _event(
                RechargeLineRaised.AVRO_NAME,
                "payroll-recharge",
                recharge_id,
                now,
                {
                    "recharge_id": recharge_id,
                    "statement_id": statement_id(c["employer"], c["host"], period.end),
                    "line_id": line_id,
                    "batch_id": period.batch_id,
                    "booking_id": c["booking_id"],
                    "timesheet_id": c.get("timesheet_id"),
                    "raised_by": employer,
                    "charged_to": host,
                    "employment_model": c["model"],
                    "pay_code": line["pay_code"],
                    "hours": _dec(line["hours"]),
                    "pay_amount": pay_amount,
                    "on_cost_amount": on_cost,
                    "amount": pay_amount + on_cost,
                    "month": f"{period.end:%Y-%m}",
                    "raised_at": now,
                },
            )
        )
    return out


def close(b: TrustBatches, batch_id: str, pay: PayPolicy, *, by: str, now: datetime, name: str | None = None) -> Stage3:
    """Seal a batch; a closed or unknown batch id changes nothing (an unknown one is reported by the caller)."""
    if batch_id in b.closed:
        return Stage3(b)
    summary = b.open.get(batch_id)
    if summary is None:
        period = period_of(b.trust, pay, batch_id)
        if period is None:
            return Stage3(b)
        summary = {"period": period.to_json(), "lines": 0, "hours": "0", "amount": "0"}
    period = Period.from_json(summary["period"])
    event = _event(
        PayrollBatchClosed.AVRO_NAME,
        "payroll-batch-closed",
        batch_id,
        now,
        {
            "batch_id": batch_id,
            "employing_trust": {"ods_code": b.trust, "name": name},
            "cycle": period.cycle,
            "period_start": period.start,
            "period_end": period.end,
            "line_count": summary["lines"],
            "hours": Decimal(summary["hours"]),
            "amount": Decimal(summary["amount"]),
            "closed_by": by,
            "closed_at": now,
        },
    )
    opened = {k: v for k, v in b.open.items() if k != batch_id}
    return Stage3(replace(b, open=opened, closed=tuple(sorted({*b.closed, batch_id}))), None, [event])
