"""Is the shift open, and has its release cascade reached this worker?

A shift goes to the host trust's own bank first, then to the collaborative bank, then to
agency tiers 1-3 (``ReleaseTier``); each step *widens* the audience, so a bank worker can
still book a shift that has reached the agency tiers. Who is "own bank" follows the
request's membership: the host trust is the worker's home trust or substantive employer.
An agency's tier comes from the host trust's policy (``agency.tiers``, else
``agency.default_tier``): a tier-2 agency sees AGENCY_TIER_2 and AGENCY_TIER_3 shifts.
"""

from __future__ import annotations

from rosterhub.events.models.common import MembershipType, ReleaseTier
from rosterhub.streams.booking.policy import AgencyPolicy
from rosterhub.streams.booking.rules.context import RuleContext
from rosterhub.streams.booking.rules.registry import SHIFT, Section, get, rule
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult
from rosterhub.streams.booking.state import ShiftState

__all__ = ["shift_open", "shift_open_rule", "shift_visible"]

AGENCY = Section("agency", AgencyPolicy)

OPEN = "shift_open"


_ORDER = list(ReleaseTier)
_AGENCY_TIERS = {ReleaseTier.AGENCY_TIER_1: 1, ReleaseTier.AGENCY_TIER_2: 2, ReleaseTier.AGENCY_TIER_3: 3}


def shift_open(state: ShiftState | None, booking_id: str) -> RuleResult:
    """The shift is known to the hub and nobody holds it yet (the booking processor's check, before a context)."""
    return _open(state, get(OPEN).outcomes)


def _open(state: ShiftState | None, out: Outcomes) -> RuleResult:
    if state is None:
        return out.fail("SHIFT_UNKNOWN", "the hub has no posted shift with this id")
    if state.status == "filled":
        return out.fail("SHIFT_ALREADY_FILLED", f"filled by booking {state.filled_by}")
    if state.status != "open":
        return out.fail("SHIFT_NOT_OPEN", f"shift is {state.status}")
    return out.ok()


@rule(
    OPEN,
    stage=SHIFT,
    order=100,
    codes={
        "SHIFT_UNKNOWN": "the hub has no posted shift with this id",
        "SHIFT_ALREADY_FILLED": "another booking holds the shift",
        "SHIFT_NOT_OPEN": "the shift is not open for booking (e.g. awaiting its posting)",
        "BOOKING_WITHDRAWN": "the platform cancelled the request before the hub decided it",
    },
    always_on=True,
)
def shift_open_rule(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """:func:`shift_open` over the context's view of the shift (same codes, same details)."""
    s = ctx.shift
    return _open(ShiftState(shift_id=s.shift_id, status=s.status, filled_by=s.filled_by), out)


@rule(
    "shift_visible",
    stage=SHIFT,
    order=200,
    codes={
        "NOT_RELEASED_TO_COLLABORATIVE": (
            "the shift is still with the host trust's own bank; the worker belongs elsewhere"
        ),
        "NOT_COLLABORATIVE_MEMBER": "the worker's home trust is not a member of the host trust's collaborative",
        "NOT_RELEASED_TO_AGENCY": "an agency worker asked for a shift not yet released to agency tiers",
        "AGENCY_TIER_NOT_REACHED": "the shift is at an agency tier above the one the worker's agency is on",
        "MEMBERSHIP_UNKNOWN": "the request does not say how the worker is engaged (home trust or agency missing)",
    },
    config=(AGENCY,),
)
def shift_visible(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """The shift's current release tier includes this worker."""
    req, shift = ctx.request, ctx.shift
    tier = ReleaseTier(shift.tier)
    if req.membership == MembershipType.AGENCY:
        return _agency(ctx, tier, out)
    if req.membership not in {MembershipType.BANK, MembershipType.SUBSTANTIVE}:
        return out.fail("MEMBERSHIP_UNKNOWN", f"membership {req.membership} cannot book shifts")
    trusts = [t for t in (req.home_trust, req.substantive_employer) if t]
    if not trusts:
        return out.fail("MEMBERSHIP_UNKNOWN", "bank booking without a home trust")
    if shift.trust in trusts:
        return out.ok(f"{shift.trust} own bank: the worker belongs to {shift.trust} ({tier})")
    if tier == ReleaseTier.OWN_BANK:
        where = ", ".join(trusts)
        text = f"the shift is still with {shift.trust}'s own bank; the worker belongs to {where}"
        return out.fail("NOT_RELEASED_TO_COLLABORATIVE", text)
    member = next((t for t in trusts if t in ctx.policy.members), None)
    if member is None:
        members = ", ".join(ctx.policy.members) or "none"
        text = f"{', '.join(trusts)} is not a member of {shift.trust}'s collaborative (members: {members})"
        return out.fail("NOT_COLLABORATIVE_MEMBER", text)
    return out.ok(f"collaborative bank: {member} is a member with {shift.trust} ({tier})")


def _agency(ctx: RuleContext, tier: ReleaseTier, out: Outcomes) -> RuleResult:
    agency = ctx.request.agency
    if not agency:
        return out.fail("MEMBERSHIP_UNKNOWN", "agency booking without an agency id")
    if tier not in _AGENCY_TIERS:
        return out.fail("NOT_RELEASED_TO_AGENCY", f"the shift is at {tier}, not yet released to agencies")
    policy = ctx.policy.agency
    own_tier = policy.tiers.get(agency, policy.default_tier)
    if own_tier > _AGENCY_TIERS[tier]:
        text = f"{agency} is a tier {own_tier} agency at {ctx.shift.trust}; the shift is at {tier}"
        return out.fail("AGENCY_TIER_NOT_REACHED", text)
    return out.ok(f"{agency} is a tier {own_tier} agency; the shift is at {tier}")
