"""shift_open and shift_visible: the shift exists, is open, and its release tier has reached the worker."""

import pytest

from rosterhub.events.models.common import MembershipType, ReleaseTier
from rosterhub.streams.booking.rules import shift_open
from rosterhub.streams.booking.rules.visibility import shift_open_rule, shift_visible
from rosterhub.streams.booking.state import ShiftState
from tests.unit.streams.booking_builders import agency_request, ctx, request, shift

T = ReleaseTier
BANK, SUBSTANTIVE, OTHER = MembershipType.BANK, MembershipType.SUBSTANTIVE, MembershipType.OTHER


@pytest.mark.parametrize(
    ("state", "code", "detail"),
    [
        (None, "SHIFT_UNKNOWN", "no posted shift"),
        (ShiftState("s1", "filled", filled_by="b0"), "SHIFT_ALREADY_FILLED", "filled by booking b0"),
        (ShiftState("s1", "awaiting_shift"), "SHIFT_NOT_OPEN", "shift is awaiting_shift"),
        (ShiftState("s1", "open"), None, None),
    ],
)
def test_shift_open(state, code, detail) -> None:
    result = shift_open(state, "b1")
    assert (result.rule, result.passed, result.reason_code) == ("shift_open", code is None, code)
    assert detail is None or detail in result.detail


@pytest.mark.parametrize(
    ("status", "filled_by", "code"),
    [("open", None, None), ("filled", "b0", "SHIFT_ALREADY_FILLED"), ("awaiting_shift", None, "SHIFT_NOT_OPEN")],
)
def test_shift_open_from_context_gives_the_same_answer(status, filled_by, code) -> None:
    result = shift_open_rule(ctx(shift(status=status, filled_by=filled_by)))
    assert result == shift_open(ShiftState("s1", status, filled_by=filled_by), "b-new")
    assert result.reason_code == code


VISIBLE_CASES = [
    # (case, request, tier of RHQ's shift, expected code, words in the detail)
    ("own bank worker, own-bank tier", request(), T.OWN_BANK, None, "RHQ own bank"),
    (
        "substantive at the host, no home trust",
        request(membership=SUBSTANTIVE, home_trust=None, substantive_employer="RHQ"),
        T.OWN_BANK,
        None,
        "own bank",
    ),
    (
        "partner's bank worker, still own-bank tier",
        request(home_trust="RCU"),
        T.OWN_BANK,
        "NOT_RELEASED_TO_COLLABORATIVE",
        "worker belongs to RCU",
    ),
    (
        "partner's bank worker, collaborative tier",
        request(home_trust="RCU"),
        T.COLLABORATIVE_BANK,
        None,
        "RCU is a member",
    ),
    (
        "partner's bank worker, shift already at agency tier",
        request(home_trust="RFR"),
        T.AGENCY_TIER_2,
        None,
        "collaborative bank",
    ),
    (
        "bank worker from outside the collaborative",
        request(home_trust="RXX"),
        T.COLLABORATIVE_BANK,
        "NOT_COLLABORATIVE_MEMBER",
        "RXX is not a member",
    ),
    (
        "bank worker with no home trust",
        request(home_trust=None),
        T.COLLABORATIVE_BANK,
        "MEMBERSHIP_UNKNOWN",
        "without a home trust",
    ),
    ("membership OTHER", request(membership=OTHER), T.AGENCY_TIER_3, "MEMBERSHIP_UNKNOWN", "OTHER"),
    (
        "tier-1 agency, shift still with the banks",
        agency_request(),
        T.COLLABORATIVE_BANK,
        "NOT_RELEASED_TO_AGENCY",
        "not yet released",
    ),
    ("tier-1 agency at tier 1", agency_request(), T.AGENCY_TIER_1, None, "tier 1 agency"),
    (
        "tier-2 agency at tier 1",
        agency_request(agency="swift-medical-agency"),
        T.AGENCY_TIER_1,
        "AGENCY_TIER_NOT_REACHED",
        "tier 2 agency",
    ),
    ("tier-2 agency at tier 3", agency_request(agency="swift-medical-agency"), T.AGENCY_TIER_3, None, "tier 2"),
    (
        "unlisted agency takes the default tier 3",
        agency_request(agency="new-agency"),
        T.AGENCY_TIER_2,
        "AGENCY_TIER_NOT_REACHED",
        "tier 3 agency",
    ),
    ("unlisted agency at tier 3", agency_request(agency="new-agency"), T.AGENCY_TIER_3, None, "tier 3"),
    (
        "agency booking without an agency",
        agency_request(agency=None),
        T.AGENCY_TIER_3,
        "MEMBERSHIP_UNKNOWN",
        "without an agency id",
    ),
]


@pytest.mark.parametrize(
    ("req", "tier", "code", "words"), [c[1:] for c in VISIBLE_CASES], ids=[c[0] for c in VISIBLE_CASES]
)
def test_shift_visible(req, tier, code, words) -> None:
    result = shift_visible(ctx(shift(trust="RHQ", tier=tier), req))
    assert result.rule == "shift_visible"
    assert (result.passed, result.reason_code) == (code is None, code), result.detail
    assert words in result.detail
