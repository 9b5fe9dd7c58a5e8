"""The payroll ledger as its consumers see it: batches of lines and monthly recharge statements. Pure.

Folded from the events on events.payroll and events.recharge, deduplicated on their own ids
(``line_id``, ``recharge_id``, ``batch_id``): a re-sent batch, or a record a producer repeated,
changes nothing. What the CLI lists, the API serves and the CSV export writes. A batch's figures
are the sum of its lines, reversals included; a statement's the sum of its recharges.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.events.models.payroll import PayrollBatchClosed, PayrollLineIssued
from rosterhub.events.models.recharge import RechargeLineRaised
from rosterhub.leaves import map_leaves

__all__ = ["CSV_COLUMNS", "Batch", "Ledger", "Statement", "lines_csv"]

_ZERO = Decimal(0)


@dataclass
class Batch:
    batch_id: str
    employing_trust: str
    cycle: str = ""
    period_start: str = ""
    period_end: str = ""
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed: dict[str, Any] | None = None

    @property
    def amount(self) -> Decimal:
        return sum((Decimal(str(line["amount"])) for line in self.lines.values()), _ZERO)

    def ordered(self) -> list[dict[str, Any]]:
        return sorted(self.lines.values(), key=lambda line: line["line_number"])

    def summary(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "employing_trust": self.employing_trust,
            "cycle": self.cycle,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "status": "closed" if self.closed else "open",
            "lines": len(self.lines),
            "amount": f"{self.amount:.2f}",
            "closed_at": self.closed["closed_at"] if self.closed else None,
            "closed_by": self.closed["closed_by"] if self.closed else None,
            "control_total": self.closed["amount"] if self.closed else None,
        }


@dataclass
class Statement:
    statement_id: str
    raised_by: str
    charged_to: str
    month: str
    recharges: dict[str, dict[str, Any]] = field(default_factory=dict)

    def totals(self) -> dict[str, str]:
        def total(name: str) -> Decimal:
            return sum((Decimal(str(r[name])) for r in self.recharges.values()), _ZERO)

        return {k: f"{total(k):.2f}" for k in ("pay_amount", "on_cost_amount", "amount")}

    def document(self) -> dict[str, Any]:
        lines = sorted(self.recharges.values(), key=lambda r: (r["batch_id"], r["line_id"]))
        return {
            "statement_id": self.statement_id,
            "raised_by": self.raised_by,
            "charged_to": self.charged_to,
            "month": self.month,
            "recharges": len(lines),
            **self.totals(),
            "lines": lines,
        }


@dataclass
class Ledger:
    batches: dict[str, Batch] = field(default_factory=dict)
    statements: dict[str, Statement] = field(default_factory=dict)
    seen: int = 0

    def apply(self, env: Envelope) -> None:
        """Fold one event in; anything else is ignored, a repeat changes nothing."""
        d = map_leaves(env.data, _jsonable)
        if env.type == PayrollLineIssued.AVRO_NAME:
            batch = self._batch(d["batch_id"], d["employing_trust"]["ods_code"])
            batch.cycle, batch.period_start, batch.period_end = d["cycle"], d["period_start"], d["period_end"]
            batch.lines.setdefault(d["line_id"], d)
        elif env.type == PayrollBatchClosed.AVRO_NAME:
            batch = self._batch(d["batch_id"], d["employing_trust"]["ods_code"])
            batch.cycle, batch.period_start, batch.period_end = d["cycle"], d["period_start"], d["period_end"]
            batch.closed = batch.closed or d
        elif env.type == RechargeLineRaised.AVRO_NAME:
            sid = d["statement_id"]
            st = self.statements.get(sid) or Statement(
                sid, d["raised_by"]["ods_code"], d["charged_to"]["ods_code"], d["month"]
            )
            self.statements[sid] = st
            st.recharges.setdefault(d["recharge_id"], d)
        else:
            return
        self.seen += 1

    def _batch(self, batch_id: str, trust: str) -> Batch:
        if batch_id not in self.batches:
            self.batches[batch_id] = Batch(batch_id, trust)
        return self.batches[batch_id]

    def of_trust(self, trust: str | None) -> list[Batch]:
        return sorted(
            (b for b in self.batches.values() if trust is None or b.employing_trust == trust),
            key=lambda b: (b.employing_trust, b.period_end, b.batch_id),
        )

    def statements_between(self, a: str, b: str, month: str | None = None) -> list[Statement]:
        """The statements of the pair (either way round), for a month or all."""
        pair = {a, b}
        return sorted(
            (
                s
                for s in self.statements.values()
                if {s.raised_by, s.charged_to} == pair and (month is None or s.month == month)
            ),
            key=lambda s: s.statement_id,
        )


def _jsonable(value: Any) -> Any:
    """A leaf as JSON text: a decimal as its digits, an instant or date as ISO text."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


#: Columns of the payroll CSV export (`rosterhub payroll export` and the payroll API's CSV): one line per row. The
#: example consumer (examples/payroll_csv.py) writes its own, shorter set: it imports nothing of rosterhub.
CSV_COLUMNS = (
    "batch_id",
    "line_number",
    "line_id",
    "employing_trust",
    "host_trust",
    "person_id",
    "worker_name",
    "register_number",
    "staff_group",
    "grade",
    "pay_code",
    "hours",
    "rate",
    "amount",
    "worked_start",
    "worked_end",
    "booking_id",
    "timesheet_id",
    "reverses",
)


def _register(worker: dict[str, Any]) -> str:
    for ident in worker.get("identifiers") or []:
        if str(ident.get("system", "")).startswith("https://fhir.hl7.org.uk/Id/"):
            return str(ident.get("value"))
    return ""


def lines_csv(lines: list[dict[str, Any]]) -> str:
    """Lines as CSV with a header row (``CSV_COLUMNS``), in the order given."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in lines:
        worker = d.get("worker") or {}
        row = {
            **d,
            "employing_trust": d["employing_trust"]["ods_code"],
            "host_trust": d["host_trust"]["ods_code"],
            "person_id": worker.get("person_id") or "",
            "worker_name": worker.get("display_name") or "",
            "register_number": _register(worker),
        }
        writer.writerow(["" if row.get(c) is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()
