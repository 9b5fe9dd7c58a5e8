"""Moonlighting control: a collaborative may refuse to pay agency rates for its own staff.

When ``moonlighting.ban`` is on, a person substantively employed by a member trust of
the host trust's collaborative (or by the host trust itself) cannot be engaged through
an agency: the rule fails with ``MOONLIGHTING_ROUTE_TO_BANK`` and the detail says to
book them through the bank, where the same person costs the NHS less.
"""

from __future__ import annotations

from rosterhub.events.models.common import MembershipType
from rosterhub.streams.booking.rules.context import RuleContext
from rosterhub.streams.booking.rules.result import RuleResult, fail, ok

__all__ = ["CODES", "moonlighting"]

RULE = "moonlighting"

CODES: dict[str, str] = {
    "MOONLIGHTING_ROUTE_TO_BANK": "an agency booking of someone employed by a member trust: book via the bank",
}


def moonlighting(ctx: RuleContext) -> RuleResult:
    """No agency engagement of a member trust's substantive employee."""
    req, policy = ctx.request, ctx.policy
    if not policy.moonlighting.ban:
        return ok(RULE, f"no moonlighting control at {ctx.shift.trust}")
    if req.membership != MembershipType.AGENCY:
        return ok(RULE, f"{req.membership} booking, not through an agency")
    employer = req.substantive_employer
    partners = {*policy.members, ctx.shift.trust}
    if employer and employer in partners:
        text = (
            f"substantively employed by {employer}, a {policy.collaborative or ctx.shift.trust} trust: "
            f"book through the bank, not through {req.agency}"
        )
        return fail(RULE, "MOONLIGHTING_ROUTE_TO_BANK", text)
    return ok(RULE, f"not employed by a member trust ({employer or 'no substantive employer'})")
