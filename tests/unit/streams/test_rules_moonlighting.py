"""moonlighting: no agency engagement of someone a member trust employs; they book through the bank.

Who employs the person is what ESR says (the memberships identity hands the person stage), in force
on the shift's local day; a request naming an employer can only add one, never clear ESR's.
"""

from dataclasses import replace
from datetime import date

import pytest

from rosterhub.events.models.common import MembershipType
from rosterhub.streams.booking.rules import Employment
from rosterhub.streams.booking.rules.moonlighting import moonlighting
from tests.unit.streams.booking_builders import agency_request, ctx, policy, request, shift

NO_BAN = policy(moonlighting={"ban": False})
SUBSTANTIVE = MembershipType.SUBSTANTIVE


def esr(trust: str, start: str = "2019-09-01", end: str | None = None, *, ended: bool = False) -> Employment:
    return Employment(trust, SUBSTANTIVE, date.fromisoformat(start), end and date.fromisoformat(end), ended)


CASES = [
    (
        "ESR: employed by a partner trust, the agency says nothing",
        agency_request(),
        (esr("RCU"),),
        None,
        "MOONLIGHTING_ROUTE_TO_BANK",
        "substantively employed by RCU (ESR assignment), a south-yorkshire-bassetlaw trust: book through the bank, "
        "not through northern-care-staffing",
    ),
    (
        "ESR: employed by the host trust itself",
        agency_request(substantive_employer="RXX"),  # what the request declares does not clear ESR's fact
        (esr("RHQ"),),
        None,
        "MOONLIGHTING_ROUTE_TO_BANK",
        "employed by RHQ (ESR assignment)",
    ),
    (
        "ESR: the assignment ended before the shift",
        agency_request(),
        (esr("RCU", end="2026-02-28"),),
        None,
        None,
        "not employed by a member trust (no substantive employer)",
    ),
    (
        "ESR: an assignment that starts after the shift",
        agency_request(),
        (esr("RCU", start="2026-04-01"),),
        None,
        None,
        "no substantive employer",
    ),
    (
        "ESR: ended without an end date",
        agency_request(),
        (esr("RCU", ended=True),),
        None,
        None,
        "no substantive employer",
    ),
    (
        "ESR: a bank membership is not substantive employment",
        agency_request(),
        (Employment("RCU", MembershipType.BANK, date(2025, 1, 1)),),
        None,
        None,
        "no substantive employer",
    ),
    (
        "ESR: employed outside the collaborative",
        agency_request(),
        (esr("RXX"),),
        None,
        None,
        "not employed by a member trust (RXX (ESR assignment))",
    ),
    (
        "no ESR record, the request admits a partner employer",
        agency_request(substantive_employer="RCU"),
        None,
        None,
        "MOONLIGHTING_ROUTE_TO_BANK",
        "substantively employed by RCU (declared by the request)",
    ),
    (
        "no ESR record, agency-only worker",
        agency_request(),
        None,
        None,
        None,
        "no substantive employer; the hub holds no ESR record of this person",
    ),
    (
        "partner's employee through the bank",
        request(home_trust="RCU", substantive_employer="RCU"),
        (esr("RCU"),),
        None,
        None,
        "BANK booking, not through an agency",
    ),
    (
        "control switched off",
        agency_request(),
        (esr("RCU"),),
        NO_BAN,
        None,
        "no moonlighting control at RHQ",
    ),
]


@pytest.mark.parametrize(
    ("req", "employments", "policy_", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_moonlighting(req, employments, policy_, code, words) -> None:
    context = replace(ctx(shift(), req, **({"policy_": policy_} if policy_ else {})), employments=employments)
    result = moonlighting(context)
    assert (result.rule, result.passed, result.reason_code) == ("moonlighting", code is None, code)
    assert words in result.detail


def test_employment_read_from_identitys_message() -> None:
    given = {"key": "RCU|SUBSTANTIVE|1004-2", "type": "SUBSTANTIVE", "trust": "RCU", "from": "2019-09-01", "to": None}
    found = Employment.from_json(given)
    assert found == Employment("RCU", SUBSTANTIVE, date(2019, 9, 1), None, False)
    assert found.substantive_on(date(2026, 3, 4)) and not found.substantive_on(date(2019, 8, 31))
    assert Employment.from_json({"type": "SOMETHING_NEW", "trust": "RCU"}).membership == MembershipType.OTHER
