"""Queries over the availability view, as pure functions of view records.

* :func:`open_shifts`: open shifts per trust / ward / staff group / grade / start range.
* :func:`worker_verdict`: may this worker book this open shift? The booking processor's
  own pure rules decide (``shift_visible`` at the current tier, ``grade_match`` under the
  host trust's tolerance, ``agency_staff_group`` for agency workers, and
  ``passport_clearance`` from the passport's answer), each only when the host trust's
  booking policy has it switched on, so the list a worker sees and the decision they get
  cannot disagree on these rules. Rules about the worker's other bookings (overlap,
  working time) are left to the decision: they depend on bookings the view does not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from rosterhub.events.models.common import MembershipType, ReleaseTier, ShiftType, StaffGroup
from rosterhub.instants import iso_z
from rosterhub.leaves import map_leaves
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.booking.rules.agency import agency_staff_group
from rosterhub.streams.booking.rules.context import BookingRequest, RuleContext, ShiftSpec
from rosterhub.streams.booking.rules.grade import grade_match
from rosterhub.streams.booking.rules.passport import Clearance, passport_clearance
from rosterhub.streams.booking.rules.result import RuleResult, fail
from rosterhub.streams.booking.rules.visibility import shift_visible

__all__ = ["ShiftFilter", "WorkerProfile", "as_json", "open_shifts", "seen_by", "worker_verdict"]

#: Booking rules a worker's open-shift list applies, in the decision's order.
LIST_RULES: tuple[tuple[str, Callable[[RuleContext], RuleResult]], ...] = (
    ("shift_visible", shift_visible),
    ("passport_clearance", passport_clearance),
    ("grade_match", grade_match),
    ("agency_staff_group", agency_staff_group),
)


@dataclass(frozen=True, slots=True)
class ShiftFilter:
    trust: str | None = None
    ward: str | None = None
    staff_group: str | None = None
    grade: str | None = None
    start_from: datetime | None = None  # shifts starting at or after (default: now; started shifts are not bookable)
    start_to: datetime | None = None  # ... and before


@dataclass(frozen=True, slots=True)
class WorkerProfile:
    """What the query needs to know about the worker (given as query parameters: docs/availability.md)."""

    person_id: str
    staff_group: StaffGroup
    grade: str
    membership: MembershipType = MembershipType.BANK
    home_trust: str | None = None
    substantive_employer: str | None = None
    agency: str | None = None


def open_shifts(views: Iterable[dict[str, Any]], f: ShiftFilter, *, now: datetime) -> list[dict[str, Any]]:
    """Open shifts matching ``f`` that have not started, earliest start first."""
    start_from = f.start_from or now
    out = []
    for v in views:
        if not v["open"] or v["start"] < start_from or (f.start_to is not None and v["start"] >= f.start_to):
            continue
        if f.trust and v["trust"]["ods_code"] != f.trust:
            continue
        if f.ward and v["ward"].casefold() != f.ward.casefold():
            continue
        if (f.staff_group and v["staff_group"] != f.staff_group) or (f.grade and v["grade"] != f.grade):
            continue
        out.append(v)
    return sorted(out, key=lambda v: (v["start"], v["shift_id"]))


def seen_by(view: dict[str, Any], trust: str | None) -> bool:
    """A trust sees its own shifts, and another trust's while it is released to that trust (``visible_to``)."""
    return trust is not None and (view["trust"]["ods_code"] == trust or trust in (view.get("visible_to") or ()))


def worker_verdict(
    view: dict[str, Any], worker: WorkerProfile, policies: BookingPolicies, clearance: Clearance | None
) -> list[RuleResult]:
    """The failed list rules for this worker and shift (empty: the worker may book it)."""
    trust = view["trust"]["ods_code"]
    policy = policies.get(trust)
    if policy is None:
        return [fail("booking_policy", "NO_BOOKING_POLICY", f"no booking policy for trust {trust}")]
    request = BookingRequest(
        booking_id="availability-query",
        person_id=worker.person_id,
        membership=worker.membership,
        grade=worker.grade,
        staff_group=worker.staff_group,
        home_trust=worker.home_trust,
        substantive_employer=worker.substantive_employer,
        agency=worker.agency,
    )
    shift = ShiftSpec(
        shift_id=view["shift_id"],
        trust=trust,
        staff_group=StaffGroup(view["staff_group"]),
        grade=view["grade"],
        start=view["start"],
        end=view["end"],
        tier=ReleaseTier(view["tier"]),
        shift_type=ShiftType(view["shift_type"]),
    )
    ctx = RuleContext(request=request, shift=shift, policy=policy, clearance=clearance)
    results = [rule(ctx) for rule_id, rule in LIST_RULES if policy.enabled(rule_id)]
    return [r for r in results if not r.passed]


def as_json(view: dict[str, Any]) -> dict[str, Any]:
    """A view record for an HTTP answer: instants as ISO 8601 UTC, money as decimal text."""

    def conv(v: Any) -> Any:
        if isinstance(v, datetime):
            return iso_z(v)
        if isinstance(v, Decimal):
            return str(v)
        return v

    answer: dict[str, Any] = map_leaves(view, conv)
    return answer
