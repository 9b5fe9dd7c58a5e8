"""Moonlighting control: a collaborative may refuse to pay agency rates for its own staff.

When ``moonlighting.ban`` is on, a person substantively employed by a member trust of
the host trust's collaborative (or by the host trust itself) cannot be engaged through
an agency: the rule fails with ``MOONLIGHTING_ROUTE_TO_BANK`` and the detail says to
book them through the bank, where the same person costs the NHS less.

Who employs the person is what the hub holds, not what the request says: the substantive
assignments ESR sends (``MembershipChanged``), kept by identity for the person and handed to
the person stage (``RuleContext.employments``, docs/booking.md "moonlighting"), in force on the
shift's local date. An agency has every reason to leave the employer out of its request, so
a request that names none changes nothing; one that names a member trust is taken at its
word as well (it can only add, never clear, an employer).
"""

from __future__ import annotations

from rosterhub.events.models.common import MembershipType
from rosterhub.streams.booking.policy import MoonlightingPolicy
from rosterhub.streams.booking.rules.clock import local_date
from rosterhub.streams.booking.rules.context import RuleContext
from rosterhub.streams.booking.rules.registry import PERSON, Section, rule
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult

__all__ = ["employers", "moonlighting"]

MOONLIGHTING = Section("moonlighting", MoonlightingPolicy)

ESR = "ESR assignment"
DECLARED = "declared by the request"


def employers(ctx: RuleContext) -> dict[str, str]:
    """Trusts employing the person substantively on the shift's day, each with where the hub learnt it."""
    day = local_date(ctx.shift.start)
    found = {e.trust: ESR for e in ctx.employments or () if e.trust and e.substantive_on(day)}
    declared = ctx.request.substantive_employer
    if declared and declared not in found:
        found[declared] = DECLARED
    return found


@rule(
    "moonlighting",
    stage=PERSON,
    order=900,
    codes={
        "MOONLIGHTING_ROUTE_TO_BANK": "an agency booking of someone employed by a member trust: book via the bank",
    },
    config=(MOONLIGHTING,),
)
def moonlighting(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """No agency engagement of a member trust's substantive employee (by ESR's assignments)."""
    req, policy = ctx.request, ctx.policy
    if not policy.moonlighting.ban:
        return out.ok(f"no moonlighting control at {ctx.shift.trust}")
    if req.membership != MembershipType.AGENCY:
        return out.ok(f"{req.membership} booking, not through an agency")
    found = employers(ctx)
    partners = {*policy.members, ctx.shift.trust}
    hits = sorted(t for t in found if t in partners)
    if hits:
        employer = hits[0]
        text = (
            f"substantively employed by {employer} ({found[employer]}), a {policy.collaborative or ctx.shift.trust} "
            f"trust: book through the bank, not through {req.agency}"
        )
        return out.fail("MOONLIGHTING_ROUTE_TO_BANK", text)
    known = ", ".join(f"{t} ({src})" for t, src in sorted(found.items())) or "no substantive employer"
    unseen = "; the hub holds no ESR record of this person" if ctx.employments is None else ""
    return out.ok(f"not employed by a member trust ({known}{unseen})")
