"""Builders for booking-rule tests: a context in one call, with only the interesting parts named."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rosterhub.events.models.common import MembershipType, ReleaseTier, StaffGroup
from rosterhub.instants import LONDON
from rosterhub.streams.booking.policy import (
    AgencyPolicy,
    BookingPolicy,
    GradePolicy,
    GradeTolerance,
    MoonlightingPolicy,
)
from rosterhub.streams.booking.rules import BookingRequest, Clearance, OtherBooking, RuleContext, ShiftSpec

NURSING = StaffGroup.NURSING_MIDWIFERY_REGISTERED
MEDICAL = StaffGroup.MEDICAL_DENTAL


def at(day: str, hhmm: str = "00:00", fold: int = 0) -> datetime:
    """A Europe/London wall-clock time: ``at("2026-03-02", "07:00")``; ``fold=1`` is the second 01:xx in October."""
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=LONDON).replace(
        hour=h, minute=m, fold=fold
    )


def span(day: str, start: str, end: str) -> tuple[datetime, datetime]:
    """A shift on ``day`` from ``start`` to ``end`` (local); an end at or before the start is next day."""
    s = at(day, start)
    e = at(day, end)
    if (e.hour, e.minute) <= (s.hour, s.minute):
        e = at((date.fromisoformat(day) + timedelta(days=1)).isoformat(), end)
    return s, e


POLICY = BookingPolicy(
    trust="RHQ",
    collaborative="south-yorkshire-bassetlaw",
    members=("RHQ", "RCU", "RFR"),
    grades=GradePolicy(
        default=GradeTolerance(),
        staff_groups={NURSING: GradeTolerance(up=1, down=1), MEDICAL: GradeTolerance(up=0, down=1)},
        local={"X-RHQ-BAND_5_PRECEPTOR": "BAND_5"},
    ),
    agency=AgencyPolicy(
        rate_card={"BAND_5": Decimal("15.33"), "BAND_6": Decimal("19.10"), "ST3_5": Decimal("30.28")},
        approved_frameworks=["CCS-RM6161", "HTE-WORKFORCE"],
        tiers={"northern-care-staffing": 1, "swift-medical-agency": 2},
        break_glass_allowed=True,
    ),
    moonlighting=MoonlightingPolicy(ban=True),
)


def policy(**sections: Any) -> BookingPolicy:
    """POLICY with whole sections (or nested fields, as ``working_time={"reference_weeks": 1}``) replaced."""
    update: dict[str, Any] = {}
    for name, value in sections.items():
        current = getattr(POLICY, name)
        if isinstance(value, dict) and hasattr(current, "model_copy"):
            update[name] = type(current).model_validate({**current.model_dump(by_alias=True), **value})
        else:
            update[name] = value
    return BookingPolicy.model_validate({**POLICY.model_dump(by_alias=True), **update})


def request(**kw: Any) -> BookingRequest:
    base: dict[str, Any] = dict(
        booking_id="b-new",
        person_id="p1",
        membership=MembershipType.BANK,
        grade="BAND_5",
        staff_group=NURSING,
        home_trust="RHQ",
    )
    return BookingRequest(**{**base, **kw})


def agency_request(**kw: Any) -> BookingRequest:
    base: dict[str, Any] = dict(
        membership=MembershipType.AGENCY,
        home_trust=None,
        agency="northern-care-staffing",
        framework="CCS-RM6161",
        charge_rate=Decimal("22.00"),
    )
    return request(**{**base, **kw})


def shift(start: datetime | None = None, end: datetime | None = None, **kw: Any) -> ShiftSpec:
    if start is None or end is None:
        start, end = span("2026-03-04", "07:30", "20:00")
    base: dict[str, Any] = dict(
        shift_id="patchwork:RHQ:s1",
        trust="RHQ",
        staff_group=NURSING,
        grade="BAND_5",
        tier=ReleaseTier.OWN_BANK,
    )
    return ShiftSpec(start=start, end=end, **{**base, **kw})


def other(
    booking_id: str, start: datetime, end: datetime, trust: str = "RHQ", night: bool | None = None
) -> OtherBooking:
    return OtherBooking(booking_id, trust, start, end, night)


def others_daily(
    first_day: str, days: int, start: str, end: str, prefix: str = "o", step: int = 1
) -> list[OtherBooking]:
    """One booking a day (every ``step`` days) for ``days`` days from ``first_day``, same wall-clock times."""
    out = []
    d0 = date.fromisoformat(first_day)
    for i in range(0, days, step):
        day = (d0 + timedelta(days=i)).isoformat()
        out.append(other(f"{prefix}{i}", *span(day, start, end)))
    return out


def ctx(
    shift_: ShiftSpec | None = None,
    request_: BookingRequest | None = None,
    others: list[OtherBooking] | tuple[OtherBooking, ...] = (),
    clearance: Clearance | None = Clearance(cleared=True),
    policy_: BookingPolicy = POLICY,
) -> RuleContext:
    return RuleContext(
        request=request_ or request(),
        shift=shift_ or shift(),
        policy=policy_,
        others=tuple(others),
        clearance=clearance,
    )


def with_shift(c: RuleContext, start: datetime, end: datetime) -> RuleContext:
    return replace(c, shift=replace(c.shift, start=start, end=end))
