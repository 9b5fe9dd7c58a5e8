"""Working Time Regulations: daily rest, weekly rest, the 48 h average week and night workers' average. The cases:
cases/working_time.yaml; here, a property over random rotas."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.streams.booking.rules.junior_doctors import jd_72h_in_7_days
from rosterhub.streams.booking.rules.working_time import (
    wtr_daily_rest,
    wtr_night_average,
    wtr_weekly_average,
    wtr_weekly_rest,
)
from tests.unit.streams.booking_builders import ctx, other, policy, shift
from tests.unit.streams.rule_cases import RuleCase, rule_cases

WTR_RULES = {r.__name__: r for r in (wtr_daily_rest, wtr_weekly_rest, wtr_weekly_average, wtr_night_average)}


@pytest.mark.parametrize("case", rule_cases("working_time"))
def test_working_time_regulations(case: RuleCase) -> None:
    case.check(WTR_RULES[case.rule])


# Property: booking more never makes a failing check pass (the rules look only at the worst case).
# Limits are tightened so that random rotas fail each check often enough to test the property.
_minute = st.integers(min_value=0, max_value=365 * 24 * 60)
_start = _minute.map(lambda m: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m))
_offset = st.integers(min_value=-5 * 24 * 60, max_value=5 * 24 * 60)
_near = st.tuples(_offset, st.integers(min_value=60, max_value=14 * 60))
TIGHT = policy(
    working_time={
        "reference_weeks": 1,
        "average_weekly_hours": 30,
        "night_average_hours": 4,
        "weekly_rest_hours": 60,
        "fortnightly_rest_hours": 120,
    },
    junior_doctors={"training_grades": ["BAND_5"], "max_hours_in_7_days": 40},
)
CHECKS = [wtr_daily_rest, wtr_weekly_rest, wtr_weekly_average, wtr_night_average, jd_72h_in_7_days]


@settings(max_examples=200, deadline=None)
@given(_start, st.integers(min_value=60, max_value=13 * 60), st.lists(_near, max_size=10), _near)
def test_adding_a_booking_never_turns_a_failure_into_a_pass(start, minutes, near, extra) -> None:
    new = (start, start + timedelta(minutes=minutes))

    def booking(i, offset, length):
        s = start + timedelta(minutes=offset)
        return other(f"o{i}", s, s + timedelta(minutes=length))

    booked = [booking(i, *n) for i, n in enumerate(near)]
    before = ctx(shift(*new), others=booked, policy_=TIGHT)
    after = ctx(shift(*new), others=[*booked, booking("x", *extra)], policy_=TIGHT)
    for check in CHECKS:
        if not check(before).passed:
            assert not check(after).passed, check.__name__
