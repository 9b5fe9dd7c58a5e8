"""Run every enabled booking rule, in one fixed order, and keep every result.

The order (:data:`~rosterhub.streams.booking.policy.RULE_IDS`) follows the questions a
bank office asks: is the shift there and offered to this worker; are they cleared to
work at this trust; are they free; would it break working-time law or the junior
doctors' contract; are they the right grade; and, for agency workers, the agency rules
and moonlighting. Nothing stops at the first failure: a refusal lists every reason, so
the worker and the rota manager fix everything at once. A disabled rule (``rules:`` in
the policy) is left out, not reported as passed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rosterhub.streams.booking.policy import RULE_IDS
from rosterhub.streams.booking.rules import (
    agency,
    checks,
    grade,
    junior_doctors,
    moonlighting,
    overlap,
    passport,
    visibility,
    working_time,
)
from rosterhub.streams.booking.rules.context import RuleContext
from rosterhub.streams.booking.rules.result import RuleResult

__all__ = ["REASON_CODES", "RULES", "evaluate", "failed_codes"]

Rule = Callable[[RuleContext], RuleResult]

#: Rule id -> function, in evaluation order.
RULES: dict[str, Rule] = {
    "shift_open": visibility.shift_open_rule,
    "shift_visible": visibility.shift_visible,
    "passport_clearance": passport.passport_clearance,
    "no_overlap": overlap.no_overlap,
    "wtr_daily_rest": working_time.wtr_daily_rest,
    "wtr_weekly_rest": working_time.wtr_weekly_rest,
    "wtr_weekly_average": working_time.wtr_weekly_average,
    "wtr_night_average": working_time.wtr_night_average,
    "jd_shift_length": junior_doctors.jd_shift_length,
    "jd_72h_in_7_days": junior_doctors.jd_72h_in_7_days,
    "jd_consecutive_long_shifts": junior_doctors.jd_consecutive_long_shifts,
    "jd_consecutive_nights": junior_doctors.jd_consecutive_nights,
    "jd_consecutive_shifts": junior_doctors.jd_consecutive_shifts,
    "jd_weekends": junior_doctors.jd_weekends,
    "grade_match": grade.grade_match,
    "agency_staff_group": agency.agency_staff_group,
    "agency_framework": agency.agency_framework,
    "agency_price_cap": agency.agency_price_cap,
    "moonlighting": moonlighting.moonlighting,
}
assert tuple(RULES) == RULE_IDS, "RULES and policy.RULE_IDS must list the same rules in the same order"

#: Every reason code a booking rule can give, with its meaning (docs/booking.md lists the same).
REASON_CODES: dict[str, str] = {
    **visibility.CODES,
    **passport.CODES,
    **overlap.CODES,
    **working_time.CODES,
    **junior_doctors.CODES,
    **grade.CODES,
    **agency.CODES,
    **moonlighting.CODES,
    **checks.CODES,  # the saga's checks before any rule (not rules themselves)
}


def evaluate(ctx: RuleContext) -> list[RuleResult]:
    """One result per enabled rule, in :data:`RULES` order; a booking is confirmed when all passed."""
    return [rule(ctx) for rule_id, rule in RULES.items() if ctx.policy.enabled(rule_id)]


def failed_codes(results: Sequence[RuleResult]) -> list[str]:
    """Reason codes of the failed rules, in rule order (``BookingRejected.reason_codes``)."""
    return [r.reason_code for r in results if not r.passed and r.reason_code]
