"""Payroll policy files: merged per trust, validated, and a mistake named by file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.errors import ConfigError
from rosterhub.streams.payroll.load import load_payroll_policies
from tests.unit.streams.payroll_harness import REPO

COLLAB = """kind: collaborative
id: c1
members: [RHQ, RCU]
employment: {model: lead_employer, lead_employer: RHQ}
pay: {rate_card: {BAND_5: 17.00}}
"""


def _write(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return tmp_path


def test_the_shipped_policies_load_with_their_figures() -> None:
    policies = load_payroll_policies([REPO / "policies" / "payroll"])
    assert set(policies.trusts) == {"RHQ", "RCU", "RFR"}
    rfr = policies.get("RFR")
    assert rfr is not None and rfr.approval.steps == ["ward_manager", "bank_office"] and rfr.pay.cycle == "monthly"
    assert str(policies.get("RCU").pay.holiday_pay_percent) == "12.07"  # type: ignore[union-attr]


def test_a_trust_overrides_its_collaborative_key_by_key(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        c=COLLAB,
        rcu="kind: trust\ntrust: RCU\nextends: c1\npay: {rate_card: {BAND_6: 21.00}, cycle: monthly}\n",
    )
    rcu = load_payroll_policies([folder]).get("RCU")
    assert rcu is not None and rcu.pay.cycle == "monthly" and rcu.employment.lead_employer == "RHQ"
    assert {k: str(v) for k, v in rcu.pay.rate_card.items()} == {"BAND_5": "17.0", "BAND_6": "21.0"}


@pytest.mark.parametrize(
    ("trust_file", "message", "key"),
    [
        ("pay: {rate_card: {BAND_55: 10}}", "unknown grade 'BAND_55'", "pay.rate_card"),
        (
            "pay: {unsocial: {percent: {midnight: {default: 10}}}}",
            "unknown unsocial-hours category",
            "pay.unsocial.percent",
        ),
        ("approval: {mode: steps, steps: [a, b, c]}", "at most 2", "approval.steps"),
        ("pay: {weekly_cutoff: {weekday: sunday, at: 23:59}}", "write times quoted", "pay.weekly_cutoff.at"),
        ("employment: {model: distributed}", "the collaborative's, not a trust's", None),
    ],
)
def test_a_bad_trust_file_is_refused_naming_the_file_and_key(
    tmp_path: Path, trust_file: str, message: str, key: str | None
) -> None:
    folder = _write(tmp_path, c=COLLAB, rcu=f"kind: trust\ntrust: RCU\nextends: c1\n{trust_file}\n")
    with pytest.raises(ConfigError) as err:
        load_payroll_policies([folder])
    assert message in str(err.value) and "rcu.yaml" in str(err.value)
    if key:
        assert err.value.context.get("key") == key


def test_a_lead_employer_must_be_named_and_a_non_member_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="names the lead_employer"):
        load_payroll_policies([_write(tmp_path, c=COLLAB.replace(", lead_employer: RHQ", ""))])
    with pytest.raises(ConfigError, match="not a member"):
        load_payroll_policies([_write(tmp_path, c=COLLAB, x="kind: trust\ntrust: RXX\nextends: c1\n")])
