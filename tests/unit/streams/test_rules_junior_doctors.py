"""2016 junior doctors' contract limits, for doctors in training only. The cases: cases/junior_doctors.yaml."""

import pytest

from rosterhub.streams.booking.rules.junior_doctors import (
    jd_72h_in_7_days,
    jd_consecutive_long_shifts,
    jd_consecutive_nights,
    jd_consecutive_shifts,
    jd_shift_length,
    jd_weekends,
)
from tests.unit.streams.booking_builders import MEDICAL, ctx, others_daily, request, shift, span
from tests.unit.streams.rule_cases import RuleCase, rule_cases

JD_RULES = {
    r.__name__: r
    for r in (
        jd_shift_length,
        jd_72h_in_7_days,
        jd_consecutive_long_shifts,
        jd_consecutive_nights,
        jd_consecutive_shifts,
        jd_weekends,
    )
}


@pytest.mark.parametrize("rule", JD_RULES.values(), ids=JD_RULES)
def test_rules_pass_for_anyone_not_in_training(rule) -> None:
    # Seven 14 h nights would break every limit, but a consultant is not on the 2016 contract.
    nights = others_daily("2026-03-02", 6, "19:00", "09:00")
    new = shift(*span("2026-03-07", "19:00", "09:00"), staff_group=MEDICAL, grade="ST3_5")
    result = rule(ctx(new, request(grade="CONSULTANT", staff_group=MEDICAL), others=nights))
    assert result.passed and result.reason_code is None
    assert "doctors in training only; the worker's grade is CONSULTANT" in result.detail


@pytest.mark.parametrize("case", rule_cases("junior_doctors"))
def test_junior_doctors_contract(case: RuleCase) -> None:
    case.check(JD_RULES[case.rule])
