"""moonlighting: no agency engagement of someone a member trust employs; they book through the bank."""

import pytest

from rosterhub.streams.booking.rules.moonlighting import moonlighting
from tests.unit.streams.booking_builders import agency_request, ctx, policy, request, shift

NO_BAN = policy(moonlighting={"ban": False})

CASES = [
    (
        "employed by a partner trust, via agency",
        agency_request(substantive_employer="RCU"),
        None,
        "MOONLIGHTING_ROUTE_TO_BANK",
        "substantively employed by RCU, a south-yorkshire-bassetlaw trust: book through the bank, not through "
        "northern-care-staffing",
    ),
    (
        "employed by the host trust itself",
        agency_request(substantive_employer="RHQ"),
        None,
        "MOONLIGHTING_ROUTE_TO_BANK",
        "employed by RHQ",
    ),
    (
        "employed outside the collaborative",
        agency_request(substantive_employer="RXX"),
        None,
        None,
        "not employed by a member trust (RXX)",
    ),
    ("agency-only worker", agency_request(), None, None, "no substantive employer"),
    (
        "partner's employee through the bank",
        request(home_trust="RCU", substantive_employer="RCU"),
        None,
        None,
        "BANK booking, not through an agency",
    ),
    (
        "control switched off",
        agency_request(substantive_employer="RCU"),
        NO_BAN,
        None,
        "no moonlighting control at RHQ",
    ),
]


@pytest.mark.parametrize(("req", "policy_", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_moonlighting(req, policy_, code, words) -> None:
    result = moonlighting(ctx(shift(), req, **({"policy_": policy_} if policy_ else {})))
    assert (result.rule, result.passed, result.reason_code) == ("moonlighting", code is None, code)
    assert words in result.detail
