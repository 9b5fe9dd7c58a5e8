"""Open-shift queries over view records: filters, and the booking rules a worker's list applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rosterhub.events.models.common import MembershipType, StaffGroup
from rosterhub.streams.availability.query import ShiftFilter, WorkerProfile, as_json, open_shifts, worker_verdict
from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.booking.rules.passport import Clearance
from tests.unit.connectors.outbound_builders import view as availability_record

REPO = Path(__file__).resolve().parents[3]
POLICIES = load_booking_policies([REPO / "policies" / "booking"])
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLEARED = Clearance(cleared=True)
TIER_1_AGENCY = "northern-care-staffing"  # RHQ's agency.tiers


def view(
    shift_id: str = "s-1",
    *,
    trust: str = "RHQ",
    tier: str = "OWN_BANK",
    open_: bool = True,
    start: datetime = NOW + timedelta(days=2),
    grade: str = "BAND_5",
    ward: str = "Ward P3",
    group: str = "NURSING_MIDWIFERY_REGISTERED",
) -> dict:
    """A day shift's availability record, set where the queries filter and the booking rules look."""
    return availability_record(
        shift_id,
        1,
        open_=open_,
        host=trust,
        visible_to=(trust,),
        tier=tier,
        ward=ward,
        staff_group=group,
        grade=grade,
        shift_type="DAY",
        start=start,
        end=start + timedelta(hours=12),
    )


def nurse(home: str = "RCU", grade: str = "BAND_5", **kw: object) -> WorkerProfile:
    return WorkerProfile(
        person_id="p-1", staff_group=StaffGroup.NURSING_MIDWIFERY_REGISTERED, grade=grade, home_trust=home, **kw
    )  # type: ignore[arg-type]


def test_filters_and_order() -> None:
    views = [
        view("late", start=NOW + timedelta(days=5)),
        view("early", start=NOW + timedelta(days=1)),
        view("closed", open_=False),
        view("started", start=NOW - timedelta(hours=1)),
        view("rcu", trust="RCU"),
        view("ward", ward="Ward Q1"),
        view("doc", group="MEDICAL_DENTAL", grade="FY1"),
    ]
    ids = lambda f: [v["shift_id"] for v in open_shifts(views, f, now=NOW)]  # noqa: E731
    assert ids(ShiftFilter()) == ["early", "doc", "rcu", "ward", "late"]  # same start: by shift id
    nursing_p3 = ShiftFilter(trust="RHQ", ward="ward p3", staff_group="NURSING_MIDWIFERY_REGISTERED")
    assert ids(nursing_p3) == ["early", "late"]
    assert ids(ShiftFilter(start_from=NOW + timedelta(days=3))) == ["late"]
    assert ids(ShiftFilter(start_to=NOW + timedelta(days=2))) == ["early"]
    assert ids(ShiftFilter(grade="FY1")) == ["doc"]


@pytest.mark.parametrize(
    ("shift", "worker", "clearance", "codes"),
    [
        (view(tier="OWN_BANK"), nurse(home="RHQ"), CLEARED, []),
        (view(tier="OWN_BANK"), nurse(home="RCU"), CLEARED, ["NOT_RELEASED_TO_COLLABORATIVE"]),
        (view(tier="COLLABORATIVE_BANK"), nurse(home="RCU"), CLEARED, []),
        (view(tier="COLLABORATIVE_BANK"), nurse(home="XYZ"), CLEARED, ["NOT_COLLABORATIVE_MEMBER"]),
        (view(tier="COLLABORATIVE_BANK"), nurse(), Clearance(False, (("DBS", "EXPIRED"),)), ["PASSPORT_NOT_CLEARED"]),
        (view(tier="COLLABORATIVE_BANK"), nurse(), None, ["PASSPORT_UNKNOWN"]),
        # RHQ lets a band 5 nurse act up one band; a band 7 shift is too far
        (view(tier="COLLABORATIVE_BANK", grade="BAND_6"), nurse(), CLEARED, []),
        (view(tier="COLLABORATIVE_BANK", grade="BAND_7"), nurse(), CLEARED, ["GRADE_TOO_LOW"]),
        (
            view(tier="AGENCY_TIER_1", group="ADMIN_CLERICAL", grade="BAND_3"),
            WorkerProfile("p-2", StaffGroup.ADMIN_CLERICAL, "BAND_3", MembershipType.AGENCY, agency=TIER_1_AGENCY),
            CLEARED,
            ["AGENCY_BANK_ONLY_STAFF_GROUP"],
        ),
        (
            view(tier="AGENCY_TIER_1"),
            WorkerProfile(
                "p-2", StaffGroup.NURSING_MIDWIFERY_REGISTERED, "BAND_5", MembershipType.AGENCY, agency="pennine-locums"
            ),
            CLEARED,
            ["AGENCY_TIER_NOT_REACHED"],
        ),
        (view(trust="ZZZ"), nurse(), CLEARED, ["NO_BOOKING_POLICY"]),
    ],
)
def test_worker_verdict_uses_the_booking_rules(
    shift: dict, worker: WorkerProfile, clearance: Clearance | None, codes: list[str]
) -> None:
    assert [r.reason_code for r in worker_verdict(shift, worker, POLICIES, clearance)] == codes


def test_json_form() -> None:
    out = as_json(view())
    assert out["start"] == "2026-03-04T09:00:00Z" and out["trust"] == {"ods_code": "RHQ", "name": None}
