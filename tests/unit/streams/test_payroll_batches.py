"""The batch stage: batches by cut-off, corrections as reversals (never into a closed batch), closes with
control totals, and recharges under each employment model."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from rosterhub.streams.payroll.load import load_payroll_policies
from tests.unit.streams.payroll_harness import REPO, Pipeline, local

SID, BID, TS = "healthroster:RHQ:D1", "patchwork:RCU:PB1", "patchwork:RCU:TS1"
START, END = local("2026-03-24 20:00"), local("2026-03-25 08:00")


def _paid(p: Pipeline) -> Pipeline:
    p.shift(SID, "RHQ", START, END)
    p.book(BID, SID, "RHQ", START, END)
    p.submit(TS, BID, SID, START, END)
    return p


def _total(lines: list[dict]) -> Decimal:
    return sum((d["amount"] for d in lines), Decimal(0))


def test_a_correction_after_the_batch_closed_reverses_in_the_next_batch_and_nets_to_the_new_figure() -> None:
    p = _paid(Pipeline())
    first = p.lines("RCU-BANK-2026-W13")
    p.close("RCU", "RCU-BANK-2026-W13", local("2026-03-30 10:00"))
    [closed] = [e.data for e in p.payroll if e.type.endswith("PayrollBatchClosed")]
    assert closed["line_count"] == 3 and closed["amount"] == _total(first) and closed["hours"] == Decimal("11.00")
    # the ward corrects the hours the next week: the closed batch is not touched
    p.approve(TS, BID, SID, "10.00", local("2026-03-31 09:00"))
    assert p.lines("RCU-BANK-2026-W13") == first
    w14 = p.lines("RCU-BANK-2026-W14")
    assert [d["reverses"] for d in w14[:3]] == [d["line_id"] for d in first]
    assert [d["line_number"] for d in w14] == list(range(1, 7))
    assert all(d["pricing_version"] == 2 for d in w14)
    new = price_of(p, hours="10.00")
    assert _total(first) + _total(w14) == new


def price_of(p: Pipeline, hours: str) -> Decimal:
    """What a fresh pipeline pays for the same timesheet approved at ``hours`` at once."""
    q = _paid(Pipeline(policies=p.policies))
    q.approve(TS, BID, SID, hours, local("2026-03-26 09:00"))
    return _total([d for d in q.lines() if d["pricing_version"] == 2 and d["reverses"] is None])


def test_a_batch_closed_before_its_first_line_sends_late_lines_to_the_next_one() -> None:
    p = Pipeline()
    p.close("RCU", "RCU-BANK-2026-W13", local("2026-03-24 10:00"))
    [closed] = [e.data for e in p.payroll]
    assert (closed["line_count"], closed["amount"]) == (0, Decimal(0))
    _paid(p)  # approved in W13, which is closed
    assert {d["batch_id"] for d in p.lines()} == {"RCU-BANK-2026-W14"}
    p.close("RCU", "RCU-BANK-2026-W13", local("2026-03-30 10:00"))  # closing again changes nothing
    assert sum(1 for e in p.payroll if e.type.endswith("PayrollBatchClosed")) == 1


def _policies(tmp_path: Path, employment: str) -> object:
    for f in ("RHQ", "RCU", "RFR"):
        (tmp_path / f"{f}.yaml").write_text((REPO / "policies" / "payroll" / f"{f}.yaml").read_text())
    collab = (REPO / "policies" / "payroll" / "collaborative.yaml").read_text()
    (tmp_path / "collaborative.yaml").write_text(collab.replace("  model: distributed", employment))
    return load_payroll_policies([tmp_path])


@pytest.mark.parametrize(
    ("employment", "payer", "rate", "recharged"),
    [
        ("  model: distributed", "RCU", "18.20", True),  # the worker's home trust pays, recharges the host
        ("  model: lead_employer\n  lead_employer: RFR", "RFR", "17.90", True),  # the lead employer pays everyone
        ("  model: lead_employer\n  lead_employer: RHQ", "RHQ", "17.40", False),  # ...and its own shifts are its own
    ],
)
def test_who_pays_and_who_is_recharged_follows_the_employment_model(
    tmp_path: Path, employment: str, payer: str, rate: str, recharged: bool
) -> None:
    p = _paid(Pipeline(policies=_policies(tmp_path, employment)))  # type: ignore[arg-type]
    lines = p.lines()
    assert {d["employing_trust"]["ods_code"] for d in lines} == {payer}
    assert str(lines[0]["rate"]) == rate
    if not recharged:
        assert p.recharges == []
        return
    assert [r.data["line_id"] for r in p.recharges] == [d["line_id"] for d in lines]
    statement = {r.data["statement_id"] for r in p.recharges}
    assert statement == {f"{payer}:RHQ:{lines[0]['period_end']:%Y-%m}"}
    for r, d in zip(p.recharges, lines, strict=True):
        assert r.data["pay_amount"] == d["amount"]
        assert r.data["on_cost_amount"] == (d["amount"] * Decimal("0.225")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert r.data["amount"] == r.data["pay_amount"] + r.data["on_cost_amount"]


def test_a_managed_service_pays_every_worker_and_recharges_every_host(tmp_path: Path) -> None:
    policies = _policies(tmp_path, "  model: managed_service\n  provider: NQR\n  provider_name: NHS Professionals")
    (tmp_path / "NQR.yaml").write_text(
        "kind: trust\ntrust: NQR\nextends: south-yorkshire-bassetlaw\npay: {rate_card: {BAND_5: 19.00}}\n"
    )
    p = _paid(Pipeline(policies=load_payroll_policies([tmp_path])))
    assert {(d["employing_trust"]["ods_code"], str(d["rate"])) for d in p.lines() if d["pay_code"] == "BASIC"} == {
        ("NQR", "19.00")
    }
    assert {r.data["charged_to"]["ods_code"] for r in p.recharges} == {"RHQ"} and policies
