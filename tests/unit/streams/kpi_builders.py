"""Events for the KPI processor's tests, as the connectors and the booking processor write them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rosterhub.instants import LONDON
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.kpi.facts import ShiftFacts, apply
from rosterhub.streams.kpi.policy import KpiPolicies, KpiPolicy
from rosterhub.streams.kpi.view import shift_kpi
from tests.unit.streams.booking_builders import POLICY

COLLAB = "south-yorkshire-bassetlaw"
POLICIES = KpiPolicies(
    {COLLAB: KpiPolicy(collaborative=COLLAB, agency_reference_rates={"BAND_5": Decimal("23.50")})},
    {"RHQ": COLLAB, "RCU": COLLAB, "RFR": COLLAB},
    {COLLAB: ("RCU", "RFR", "RHQ")},
)
BOOKING_POLICIES = BookingPolicies({"RHQ": POLICY})


def local(day: str, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=LONDON).replace(hour=h, minute=m)


def posted(
    shift: str = "s1",
    *,
    day: str = "2026-11-10",
    start: str = "08:00",
    hours: float = 12.5,
    version: int = 1,
    trust: str = "RHQ",
    kind: str = "ShiftPosted",
    shift_type: str = "LONG_DAY",
    posted_at: datetime | None = None,
    rate: str | None = "21.40",
    break_minutes: int = 30,
) -> tuple[str, dict[str, Any]]:
    begin = local(day, start)
    data: dict[str, Any] = {
        "shift_id": shift,
        "version": version,
        "vendor": "healthroster",
        "vendor_shift_id": shift,
        "trust": {"ods_code": trust, "name": None},
        "site": {"ods_code": trust + "01", "name": None},
        "ward": "Ward 3",
        "staff_group": "NURSING_MIDWIFERY_REGISTERED",
        "grade": "BAND_5",
        "shift_type": shift_type,
        "start": begin,
        "end": begin.astimezone(UTC) + timedelta(hours=hours),
        "break_minutes": break_minutes,
        "tier": "OWN_BANK",
        "hourly_rate": Decimal(rate) if rate else None,
    }
    if kind == "ShiftPosted":
        data["posted_at"] = posted_at or begin - timedelta(days=5)
    else:
        data["updated_at"] = begin - timedelta(days=1)
    return f"rosterhub.shift.v1.{kind}", data


def filled(
    shift: str = "s1",
    booking: str = "b1",
    *,
    filled_at: datetime | None = None,
    membership: str = "BANK",
    home: str | None = "RCU",
    person: str = "p1",
    rate: str | None = "21.40",
    tier: str = "COLLABORATIVE_BANK",
    **extra: Any,
) -> tuple[str, dict[str, Any]]:
    return "rosterhub.booking.v1.ShiftFilled", {
        "shift_id": shift,
        "booking_id": booking,
        "worker": {"person_id": person, "identifiers": [], "display_name": "Never Shown"},
        "host_trust": {"ods_code": "RHQ", "name": None},
        "home_trust": {"ods_code": home, "name": None} if home else None,
        "staff_group": "NURSING_MIDWIFERY_REGISTERED",
        "shift_type": "LONG_DAY",
        "tier": tier,
        "membership_type": membership,
        "start": local("2026-11-10", "08:00"),
        "end": local("2026-11-10", "20:30"),
        "posted_at": None,
        "filled_at": filled_at or local("2026-11-06", "10:00"),
        "hourly_rate": Decimal(rate) if rate else None,
        "passport_cleared": True,
        **extra,
    }


def cancelled(shift: str = "s1", booking: str = "b1", *, notice: str = "30.00", by: str = "WORKER") -> tuple[str, dict]:
    return "rosterhub.booking.v1.BookingCancelled", {
        "booking_id": booking,
        "shift_id": shift,
        "worker": {"person_id": "p1", "identifiers": [], "display_name": None},
        "host_trust": {"ods_code": "RHQ", "name": None},
        "cancelled_by": by,
        "reason": "WORKER_UNAVAILABLE",
        "start": local("2026-11-10", "08:00"),
        "cancelled_at": local("2026-11-09", "02:00"),
        "notice_hours": Decimal(notice),
        "shift_reopened": True,
    }


def rejected(shift: str = "s1", booking: str = "b9", *, codes: tuple[str, ...] = ("SHIFT_ALREADY_FILLED",)) -> tuple:
    return "rosterhub.booking.v1.BookingRejected", {
        "booking_id": booking,
        "shift_id": shift,
        "worker": {"person_id": "p9", "identifiers": [], "display_name": None},
        "host_trust": {"ods_code": "RHQ", "name": None},
        "reason_codes": list(codes),
        "rule_results": [{"rule": "passport_clearance", "passed": True, "reason_code": None, "detail": None}],
        "decided_at": local("2026-11-07", "09:00"),
    }


def fold(*events: tuple[str, dict[str, Any]], state: ShiftFacts | None = None) -> ShiftFacts:
    for n, (type_, data) in enumerate(events):
        state = apply(state, type_, data, event_id=f"{type_}-{data.get('booking_id', '')}-{n}", at=_time(data))
    assert state is not None
    return state


def _time(data: dict[str, Any]) -> datetime:
    for key in ("filled_at", "cancelled_at", "decided_at", "posted_at", "updated_at", "recorded_at"):
        if data.get(key):
            return data[key]
    return datetime(2026, 11, 1, tzinfo=UTC)


def row(state: ShiftFacts) -> dict[str, Any]:
    r = shift_kpi(state, POLICIES)
    assert r is not None
    return r
