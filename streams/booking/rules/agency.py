"""NHS agency rules, for bookings that engage the worker through an agency.

Bank and substantive bookings are exempt: each rule passes for them with a sentence
saying so (the family's ``exempt=`` check, declared once on ``_agency_rule``).

- ``agency_staff_group``: admin & clerical and estates & ancillary shifts (the policy's
  ``bank_only_staff_groups``) go to bank or substantive staff only. Break glass does not
  lift this one.
- ``agency_framework``: the agency supplies under one of the host trust's approved
  frameworks.
- ``agency_price_cap``: the agency's all-in hourly charge is at most the cap: basic pay
  for the *shift's* grade from the trust's rate card, plus 55% (``cap_uplift_percent``).
  A grade missing from the rate card fails: the cap cannot be shown to hold.

Break glass (a trust overriding the framework or the cap for patient safety) passes the
rule only when the policy allows it and the request names an authoriser; the pass then
carries ``AGENCY_BREAK_GLASS`` and the authoriser, so reports count and attribute it.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from rosterhub.events.models.common import MembershipType
from rosterhub.streams.booking.policy import AgencyPolicy
from rosterhub.streams.booking.rules.context import RuleContext
from rosterhub.streams.booking.rules.registry import SHIFT, Section, rule
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult

__all__ = ["agency_framework", "agency_price_cap", "agency_staff_group"]

AGENCY = Section("agency", AgencyPolicy)

#: Break glass: given by both the framework and the cap rule.
_BREAK_GLASS: dict[str, str] = {
    "AGENCY_BREAK_GLASS": "(pass) framework or cap overridden by break glass, with the named authoriser",
    "AGENCY_BREAK_GLASS_NOT_ALLOWED": "break glass was invoked but the host trust's policy does not allow it",
    "AGENCY_BREAK_GLASS_NO_AUTHORISER": "break glass was invoked without naming who authorised it",
}


def _not_agency(ctx: RuleContext) -> str | None:
    """None for an agency booking; otherwise the sentence the agency rules pass with."""
    membership = ctx.request.membership
    if membership == MembershipType.AGENCY:
        return None
    return f"{membership} booking: the agency rules do not apply (bank and substantive staff are exempt)"


#: The agency rules: run by the shift stage, configured by ``agency``, for agency bookings only.
_agency_rule = partial(rule, stage=SHIFT, config=(AGENCY,), exempt=_not_agency)


@_agency_rule(
    "agency_staff_group",
    order=800,
    codes={
        "AGENCY_BANK_ONLY_STAFF_GROUP": (
            "admin & clerical and estates & ancillary shifts go to bank or substantive staff"
        ),
    },
)
def agency_staff_group(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """Admin & clerical and estates & ancillary shifts are not filled by agency."""
    group = ctx.shift.staff_group
    if group in ctx.policy.agency.bank_only_staff_groups:
        text = f"{group} shifts at {ctx.shift.trust} go to bank or substantive staff only"
        return out.fail("AGENCY_BANK_ONLY_STAFF_GROUP", text)
    return out.ok(f"{group} shifts may be filled by agency")


@_agency_rule(
    "agency_framework",
    order=810,
    codes={
        "AGENCY_FRAMEWORK_NOT_APPROVED": "the agency's framework is not approved by the host trust (or none was given)",
        **_BREAK_GLASS,
    },
)
def agency_framework(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """The agency supplies under a framework the host trust approved (or break glass)."""
    req = ctx.request
    approved = ctx.policy.agency.approved_frameworks
    if req.framework and req.framework in approved:
        return out.ok(f"{req.agency} supplies under {req.framework}, approved by {ctx.shift.trust}")
    problem = (
        f"{req.agency} supplies under {req.framework or 'no framework'}, not approved by {ctx.shift.trust} "
        f"(approved: {', '.join(approved) or 'none'})"
    )
    if req.break_glass:
        return _break_glass(ctx, out, problem)
    return out.fail("AGENCY_FRAMEWORK_NOT_APPROVED", problem)


@_agency_rule(
    "agency_price_cap",
    order=820,
    codes={
        "AGENCY_PRICE_CAP_EXCEEDED": "the agency's hourly charge is above basic pay for the grade + 55%",
        "AGENCY_RATE_UNKNOWN": "an agency booking without the agency's hourly charge",
        "AGENCY_NO_RATE_CARD": "the host trust's rate card has no basic pay for the shift's grade",
        **_BREAK_GLASS,
    },
)
def agency_price_cap(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """The agency's hourly charge is within basic pay for the shift's grade + 55% (or break glass)."""
    req, policy = ctx.request, ctx.policy.agency
    grade = ctx.shift.grade
    cap = policy.cap(grade)
    if cap is None:
        return out.fail("AGENCY_NO_RATE_CARD", f"{ctx.shift.trust}'s rate card has no basic pay for {grade}")
    if req.charge_rate is None:
        return out.fail("AGENCY_RATE_UNKNOWN", f"{req.agency} gave no hourly charge; the cap is {_gbp(cap)}/h")
    basic = policy.rate_card[grade]
    cap_text = f"the cap {_gbp(cap)}/h ({grade} basic {_gbp(basic)}/h + {policy.cap_uplift_percent.normalize():f}%)"
    if req.charge_rate <= cap:
        return out.ok(f"{_gbp(req.charge_rate)}/h is within {cap_text}")
    problem = f"{_gbp(req.charge_rate)}/h is {_gbp(req.charge_rate - cap)} over {cap_text}"
    if req.break_glass:
        return _break_glass(ctx, out, problem)
    return out.fail("AGENCY_PRICE_CAP_EXCEEDED", problem)


def _break_glass(ctx: RuleContext, out: Outcomes, problem: str) -> RuleResult:
    who = ctx.request.break_glass_authoriser
    if not ctx.policy.agency.break_glass_allowed:
        return out.fail("AGENCY_BREAK_GLASS_NOT_ALLOWED", f"break glass is not allowed at {ctx.shift.trust}: {problem}")
    if not who:
        return out.fail("AGENCY_BREAK_GLASS_NO_AUTHORISER", f"break glass without an authoriser: {problem}")
    return out.note("AGENCY_BREAK_GLASS", f"break glass authorised by {who}: {problem}")


def _gbp(amount: Decimal) -> str:
    return f"£{amount.quantize(Decimal('0.01'))}"
