"""Agency rules: bank-only staff groups, approved frameworks, the price cap, break glass; bank staff exempt."""

from decimal import Decimal

import pytest

from rosterhub.events.models.common import StaffGroup
from rosterhub.streams.booking.rules.agency import agency_framework, agency_price_cap, agency_staff_group
from tests.unit.streams.booking_builders import agency_request, ctx, policy, request, shift

NO_BREAK_GLASS = policy(agency={"break_glass_allowed": False})
GLASS = {"break_glass": True, "break_glass_authoriser": "Director of Nursing (J. Patel)"}

STAFF_GROUP = [
    ("agency nurse", agency_request(), StaffGroup.NURSING_MIDWIFERY_REGISTERED, None, "may be filled by agency"),
    (
        "agency admin",
        agency_request(),
        StaffGroup.ADMIN_CLERICAL,
        "AGENCY_BANK_ONLY_STAFF_GROUP",
        "ADMIN_CLERICAL shifts at RHQ go to bank or substantive staff only",
    ),
    ("agency estates", agency_request(), StaffGroup.ESTATES_ANCILLARY, "AGENCY_BANK_ONLY_STAFF_GROUP", "ESTATES"),
    (
        "break glass does not open admin to agency",
        agency_request(**GLASS),
        StaffGroup.ADMIN_CLERICAL,
        "AGENCY_BANK_ONLY_STAFF_GROUP",
        "bank or substantive",
    ),
    ("bank admin", request(), StaffGroup.ADMIN_CLERICAL, None, "BANK booking: the agency rules do not apply"),
]


@pytest.mark.parametrize(
    ("req", "group", "code", "words"), [c[1:] for c in STAFF_GROUP], ids=[c[0] for c in STAFF_GROUP]
)
def test_agency_staff_group(req, group, code, words) -> None:
    result = agency_staff_group(ctx(shift(staff_group=group), req))
    assert (result.rule, result.passed, result.reason_code) == ("agency_staff_group", code is None, code)
    assert words in result.detail


FRAMEWORK = [
    ("approved framework", agency_request(), None, None, True, "northern-care-staffing supplies under CCS-RM6161"),
    (
        "unapproved framework",
        agency_request(framework="OFF-FRAMEWORK"),
        None,
        "AGENCY_FRAMEWORK_NOT_APPROVED",
        False,
        "supplies under OFF-FRAMEWORK, not approved by RHQ (approved: CCS-RM6161, HTE-WORKFORCE)",
    ),
    (
        "no framework given",
        agency_request(framework=None),
        None,
        "AGENCY_FRAMEWORK_NOT_APPROVED",
        False,
        "under no framework",
    ),
    (
        "off framework by break glass",
        agency_request(framework="OFF-FRAMEWORK", **GLASS),
        None,
        "AGENCY_BREAK_GLASS",
        True,
        "break glass authorised by Director of Nursing (J. Patel): northern-care-staffing supplies under OFF",
    ),
    (
        "break glass without an authoriser",
        agency_request(framework="OFF-FRAMEWORK", break_glass=True),
        None,
        "AGENCY_BREAK_GLASS_NO_AUTHORISER",
        False,
        "break glass without an authoriser",
    ),
    (
        "break glass where the trust forbids it",
        agency_request(framework="OFF-FRAMEWORK", **GLASS),
        NO_BREAK_GLASS,
        "AGENCY_BREAK_GLASS_NOT_ALLOWED",
        False,
        "break glass is not allowed at RHQ",
    ),
    ("bank worker", request(), None, None, True, "exempt"),
]


@pytest.mark.parametrize(
    ("req", "policy_", "code", "passed", "words"), [c[1:] for c in FRAMEWORK], ids=[c[0] for c in FRAMEWORK]
)
def test_agency_framework(req, policy_, code, passed, words) -> None:
    result = agency_framework(ctx(shift(), req, **({"policy_": policy_} if policy_ else {})))
    assert (result.rule, result.passed, result.reason_code) == ("agency_framework", passed, code), result.detail
    assert words in result.detail


# BAND_5 basic pay 15.33/h in POLICY's rate card: the cap is 15.33 x 1.55 = 23.76/h.
PRICE_CAP = [
    (
        "at the cap",
        agency_request(charge_rate=Decimal("23.76")),
        "BAND_5",
        None,
        None,
        True,
        "£23.76/h is within the cap £23.76/h (BAND_5 basic £15.33/h + 55%)",
    ),
    (
        "a penny over",
        agency_request(charge_rate=Decimal("23.77")),
        "BAND_5",
        None,
        "AGENCY_PRICE_CAP_EXCEEDED",
        False,
        "£23.77/h is £0.01 over the cap £23.76/h (BAND_5 basic £15.33/h + 55%)",
    ),
    (
        "the shift's grade sets the cap, not the worker's",
        agency_request(grade="BAND_6", charge_rate=Decimal("25")),
        "BAND_5",
        None,
        "AGENCY_PRICE_CAP_EXCEEDED",
        False,
        "£1.24 over",
    ),
    ("medical grade", agency_request(charge_rate=Decimal("46.93")), "ST3_5", None, None, True, "cap £46.93/h"),
    (
        "no rate given",
        agency_request(charge_rate=None),
        "BAND_5",
        None,
        "AGENCY_RATE_UNKNOWN",
        False,
        "gave no hourly charge; the cap is £23.76/h",
    ),
    (
        "grade missing from the rate card",
        agency_request(),
        "BAND_8C",
        None,
        "AGENCY_NO_RATE_CARD",
        False,
        "RHQ's rate card has no basic pay for BAND_8C",
    ),
    (
        "over the cap by break glass",
        agency_request(charge_rate=Decimal("60"), **GLASS),
        "BAND_5",
        None,
        "AGENCY_BREAK_GLASS",
        True,
        "break glass authorised by Director of Nursing (J. Patel): £60.00/h is £36.24 over",
    ),
    (
        "break glass not needed",
        agency_request(charge_rate=Decimal("20"), **GLASS),
        "BAND_5",
        None,
        None,
        True,
        "within",
    ),
    (
        "break glass, no authoriser",
        agency_request(charge_rate=Decimal("60"), break_glass=True),
        "BAND_5",
        None,
        "AGENCY_BREAK_GLASS_NO_AUTHORISER",
        False,
        "£36.24 over",
    ),
    (
        "break glass forbidden",
        agency_request(charge_rate=Decimal("60"), **GLASS),
        "BAND_5",
        NO_BREAK_GLASS,
        "AGENCY_BREAK_GLASS_NOT_ALLOWED",
        False,
        "not allowed at RHQ",
    ),
    (
        "a 40% uplift trust",
        agency_request(charge_rate=Decimal("22")),
        "BAND_5",
        policy(agency={"cap_uplift_percent": 40}),
        "AGENCY_PRICE_CAP_EXCEEDED",
        False,
        "cap £21.46/h (BAND_5 basic £15.33/h + 40%)",
    ),
    ("bank worker at any rate", request(charge_rate=Decimal("99")), "BAND_5", None, None, True, "exempt"),
]


@pytest.mark.parametrize(
    ("req", "grade", "policy_", "code", "passed", "words"), [c[1:] for c in PRICE_CAP], ids=[c[0] for c in PRICE_CAP]
)
def test_agency_price_cap(req, grade, policy_, code, passed, words) -> None:
    result = agency_price_cap(ctx(shift(grade=grade), req, **({"policy_": policy_} if policy_ else {})))
    assert (result.rule, result.passed, result.reason_code) == ("agency_price_cap", passed, code), result.detail
    assert words in result.detail
