"""Weekly and monthly cut-offs in Europe/London, and batch ids that name their period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rosterhub.streams.payroll.periods import next_period, period_at, period_of
from rosterhub.streams.payroll.policy import MonthlyCutoff, PayPolicy, WeeklyCutoff
from tests.unit.streams.payroll_harness import local

WEEKLY = PayPolicy(cycle="weekly", weekly_cutoff=WeeklyCutoff(weekday="sunday"))
MONTHLY = PayPolicy(cycle="monthly", monthly_cutoff=MonthlyCutoff(day=20, at="17:00"))


def test_a_week_ends_at_its_local_cut_off_in_summer_time_and_in_winter() -> None:
    bst = period_at("RCU", WEEKLY, local("2026-03-29 23:59"))  # the Sunday the clocks went forward
    assert (bst.batch_id, bst.start, bst.end) == ("RCU-BANK-2026-W13", date(2026, 3, 23), date(2026, 3, 29))
    assert bst.cutoff == datetime(2026, 3, 29, 22, 59, 59, tzinfo=UTC)  # 23:59:59 BST
    after = period_at("RCU", WEEKLY, local("2026-03-30 00:00"))
    assert after.batch_id == "RCU-BANK-2026-W14" and next_period("RCU", WEEKLY, bst) == after
    assert period_at("RCU", WEEKLY, local("2026-01-04 23:59")).cutoff == datetime(2026, 1, 4, 23, 59, 59, tzinfo=UTC)


def test_a_month_ends_on_its_cut_off_day_and_time() -> None:
    april = period_at("RFR", MONTHLY, local("2026-04-20 16:59"))
    assert (april.batch_id, april.start, april.end) == ("RFR-BANK-2026-04", date(2026, 3, 21), date(2026, 4, 20))
    assert period_at("RFR", MONTHLY, local("2026-04-20 17:01")).batch_id == "RFR-BANK-2026-05"
    december = period_at("RFR", MONTHLY, local("2026-12-24 09:00"))
    assert december.batch_id == "RFR-BANK-2027-01" and december.start == date(2026, 12, 21)
    last = PayPolicy(cycle="monthly", monthly_cutoff=MonthlyCutoff(day="last"))
    assert period_at("RFR", last, local("2028-02-29 12:00")).end == date(2028, 2, 29)


def test_a_batch_id_of_another_trust_or_cycle_is_no_period() -> None:
    assert period_of("RCU", WEEKLY, "RHQ-BANK-2026-W14") is None
    assert period_of("RCU", WEEKLY, "RCU-BANK-2026-04") is None
    assert period_of("RCU", WEEKLY, "RCU-BANK-2026-W54") is None


@given(
    instant=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC)),
    policy=st.sampled_from([WEEKLY, MONTHLY, PayPolicy(cycle="weekly", weekly_cutoff=WeeklyCutoff(weekday="tuesday"))]),
)
def test_every_instant_is_in_exactly_one_period_named_by_its_batch_id(instant: datetime, policy: PayPolicy) -> None:
    p = period_at("RCU", policy, instant)
    assert p.start <= p.end and instant <= p.cutoff
    assert period_of("RCU", policy, p.batch_id) == p
    following = next_period("RCU", policy, p)
    assert following.start == p.end + timedelta(days=1)
