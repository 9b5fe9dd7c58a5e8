"""grade_match: the shift's grade, or within the host trust's tolerance, on the AfC or medical ladder."""

import pytest

from rosterhub.events.codes import GRADES
from rosterhub.events.models.common import StaffGroup
from rosterhub.streams.booking.rules.grade import LADDERS, grade_match, rank
from tests.unit.streams.booking_builders import MEDICAL, NURSING, ctx, request, shift

ADMIN = StaffGroup.ADMIN_CLERICAL

# POLICY: nursing up 1 / down 1, medical up 0 / down 1, everyone else exact; X-RHQ-BAND_5_PRECEPTOR ranks as BAND_5.
CASES = [
    # (case, worker grade, worker group, shift grade, shift group, expected code, words in the detail)
    ("same grade", "BAND_5", NURSING, "BAND_5", NURSING, None, "BAND_5 worker on a BAND_5 shift"),
    (
        "different staff group",
        "BAND_5",
        NURSING,
        "BAND_5",
        ADMIN,
        "STAFF_GROUP_MISMATCH",
        "a NURSING_MIDWIFERY_REGISTERED worker on a ADMIN_CLERICAL shift",
    ),
    (
        "nurse one up, allowed",
        "BAND_5",
        NURSING,
        "BAND_6",
        NURSING,
        "GRADE_TOLERANCE_USED",
        "BAND_5 worker on a BAND_6 shift: 1 grade(s) up; RHQ allows 1 up for NURSING_MIDWIFERY_REGISTERED",
    ),
    ("nurse two up", "BAND_5", NURSING, "BAND_7", NURSING, "GRADE_TOO_LOW", "2 grade(s) up; RHQ allows 1 up"),
    ("nurse one down, allowed", "BAND_6", NURSING, "BAND_5", NURSING, "GRADE_TOLERANCE_USED", "1 grade(s) down"),
    ("nurse two down", "BAND_7", NURSING, "BAND_5", NURSING, "GRADE_TOO_HIGH", "2 grade(s) down; RHQ allows 1 down"),
    ("band 7 to 8a is one step", "BAND_7", NURSING, "BAND_8A", NURSING, "GRADE_TOLERANCE_USED", "1 grade(s) up"),
    ("admin exact only", "BAND_3", ADMIN, "BAND_4", ADMIN, "GRADE_TOO_LOW", "allows 0 up for ADMIN_CLERICAL"),
    (
        "specialty doctor on a registrar shift",
        "SPECIALTY",
        MEDICAL,
        "ST3_5",
        MEDICAL,
        None,
        "SPECIALTY ranks with ST3_5 on the medical ladder",
    ),
    (
        "FY2 on a CT1-2 shift: no acting up for doctors",
        "FY2",
        MEDICAL,
        "CT1_2",
        MEDICAL,
        "GRADE_TOO_LOW",
        "1 grade(s) up",
    ),
    (
        "ST6-8 on an ST3-5 shift: one down",
        "ST6_8",
        MEDICAL,
        "ST3_5",
        MEDICAL,
        "GRADE_TOLERANCE_USED",
        "1 grade(s) down",
    ),
    ("consultant on an FY1 shift", "CONSULTANT", MEDICAL, "FY1", MEDICAL, "GRADE_TOO_HIGH", "5 grade(s) down"),
    (
        "a band on a medical shift",
        "BAND_7",
        MEDICAL,
        "ST3_5",
        MEDICAL,
        "GRADE_LADDER_MISMATCH",
        "BAND_7 (Agenda for Change) cannot be compared with ST3_5 (medical)",
    ),
    ("mapped local grade", "X-RHQ-BAND_5_PRECEPTOR", NURSING, "BAND_5", NURSING, None, "ranks with BAND_5"),
    (
        "mapped local grade one up",
        "X-RHQ-BAND_5_PRECEPTOR",
        NURSING,
        "BAND_6",
        NURSING,
        "GRADE_TOLERANCE_USED",
        "1 grade",
    ),
    ("unmapped local grade", "X-RHQ-WARD_CLERK", ADMIN, "BAND_2", ADMIN, "GRADE_LADDER_MISMATCH", "not ranked"),
]


@pytest.mark.parametrize(
    ("worker", "wgroup", "grade", "sgroup", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_grade_match(worker, wgroup, grade, sgroup, code, words) -> None:
    result = grade_match(ctx(shift(grade=grade, staff_group=sgroup), request(grade=worker, staff_group=wgroup)))
    assert result.rule == "grade_match"
    assert result.passed == (code in {None, "GRADE_TOLERANCE_USED"})
    assert result.reason_code == code, result.detail
    assert words in result.detail


def test_every_national_grade_is_on_exactly_one_ladder() -> None:
    for grade in GRADES.codes:
        places = [(ladder, i) for ladder, rungs in LADDERS.items() for i, rung in enumerate(rungs) if grade in rung]
        assert len(places) == 1, grade
        assert rank(grade) == places[0]
    assert rank("X-RHQ-ANYTHING") is None
