"""What the KPI processor remembers per shift, and how each event changes it: a pure, idempotent fold.

The state is a function of the *set* of events seen for the shift, not of their order, so a late,
replayed or duplicated event lands where it belongs:

* the shift's own facts (trust, ward, grade, times...) come from the ShiftPosted/ShiftUpdated with the
  highest version (an older version arriving late changes nothing; ``posted_at`` is kept from the
  ShiftPosted whenever it comes); the tier from the highest-version ShiftReleased; ShiftCancelled
  withdraws the shift;
* booking outcomes are kept per booking id (the hub's ShiftFilled, BookingCancelled, NoShow,
  BookingRejected: ``source`` ``/rosterhub/booking``), so a second copy of one overwrites it with the
  same value; the current fill is the latest ShiftFilled whose booking is not cancelled;
* clearance seen is the earliest decision per person (a minimum: order does not matter).

Event ids are remembered for the last :data:`SEEN_KEPT` events, so an exact redelivery is dropped
before its body is decoded; anything older is absorbed by the rules above.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from rosterhub.streams.plain import plain

__all__ = ["HUB_SOURCE", "SEEN_KEPT", "TYPES", "ShiftFacts", "apply", "reads", "to_ms"]

#: ce_source of the booking processor's outcomes: vendors' own cancellations and no-shows are its inputs.
HUB_SOURCE = "/rosterhub/booking"
SEEN_KEPT = 16

_SHIFT = "rosterhub.shift.v1."
_BOOKING = "rosterhub.booking.v1."
#: Event types the processor reads (any other ce_type is skipped without decoding), and whether only the
#: hub's own (booking processor) events of that type count.
TYPES: dict[str, bool] = {
    _SHIFT + "ShiftPosted": False,
    _SHIFT + "ShiftUpdated": False,
    _SHIFT + "ShiftReleased": False,
    _SHIFT + "ShiftCancelled": False,
    _BOOKING + "ShiftFilled": True,
    _BOOKING + "BookingCancelled": True,
    _BOOKING + "NoShow": True,
    _BOOKING + "BookingRejected": True,
}


def reads(ce_type: str, ce_source: str) -> bool:
    """Whether the processor folds this event: a type it reads, and for booking outcomes the hub's own."""
    hub_only = TYPES.get(ce_type)
    return hub_only is not None and (not hub_only or ce_source == HUB_SOURCE)


def to_ms(dt: datetime | int | None) -> int | None:
    if dt is None or isinstance(dt, int):
        return dt
    return int(dt.timestamp() * 1000)


def _ods(org: dict[str, Any] | None) -> str | None:
    return org.get("ods_code") if org else None


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


@dataclass(frozen=True, slots=True)
class ShiftFacts:
    shift_id: str
    revision: int = 0
    version: int = 0  # highest ShiftPosted/ShiftUpdated version applied (0: the facts come from a fill)
    posted: bool = False  # a ShiftPosted/ShiftUpdated was seen
    posted_at_ms: int | None = None
    trust: str = ""
    site: str | None = None
    ward: str = ""
    staff_group: str = "OTHER"
    grade: str = ""
    shift_type: str = "OTHER"
    start_ms: int = 0
    end_ms: int = 0
    break_minutes: int = 0
    hourly_rate: str | None = None  # the shift's bank rate (decimal text)
    tier: str = "OWN_BANK"
    tier_version: int = 0
    withdrawn: bool = False
    fills: dict[str, dict[str, Any]] = field(default_factory=dict)  # booking id -> ShiftFilled facts
    cancelled: dict[str, dict[str, Any]] = field(default_factory=dict)  # booking id -> cancellation
    no_shows: tuple[str, ...] = ()
    rejections: dict[str, dict[str, Any]] = field(default_factory=dict)  # booking id -> codes, decided_at
    cleared: dict[str, int] = field(default_factory=dict)  # person id -> earliest decided_at (ms)
    updated_ms: int = 0
    seen: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        """Enough is known to place the shift: a trust and a start (from a posting, or from a fill)."""
        return bool(self.trust) and self.start_ms > 0

    def to_table(self) -> dict[str, Any]:
        d = plain(self)
        d["no_shows"], d["seen"] = list(self.no_shows), list(self.seen)
        return d

    @classmethod
    def from_table(cls, value: dict[str, Any] | None) -> ShiftFacts | None:
        if value is None:
            return None
        data = dict(value)
        data["no_shows"], data["seen"] = tuple(data.get("no_shows", ())), tuple(data.get("seen", ()))
        return cls(**data)

    def semantically_equal(self, other: ShiftFacts | None) -> bool:
        """Equal but for the remembered event ids (and the revision that counts changes)."""
        return other is not None and replace(self, seen=other.seen, revision=other.revision) == other


def apply(state: ShiftFacts | None, type_: str, data: dict[str, Any], *, event_id: str, at: datetime) -> ShiftFacts:
    """``state`` after one decoded event of :data:`TYPES` (source already checked by the caller)."""
    shift_id = str(data["shift_id"])
    s = state or ShiftFacts(shift_id)
    name = type_.rsplit(".", 1)[-1]
    handler = _HANDLERS[name]
    new = handler(s, data)
    seen = (*s.seen[-(SEEN_KEPT - 1) :], event_id)
    if new.semantically_equal(s):
        return replace(s, seen=seen)
    return replace(new, seen=seen, revision=s.revision + 1, updated_ms=max(s.updated_ms, to_ms(at) or 0))


def _shift(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    posted_at = to_ms(d.get("posted_at"))  # ShiftPosted only: the earliest one seen starts the clock
    if posted_at is not None:
        s = replace(s, posted_at_ms=posted_at if s.posted_at_ms is None else min(s.posted_at_ms, posted_at))
    version = int(d.get("version") or 1)
    if version <= s.version:
        return replace(s, posted=True)
    return replace(
        s,
        version=version,
        posted=True,
        trust=_ods(d["trust"]) or "",
        site=_ods(d.get("site")),
        ward=str(d.get("ward") or ""),
        staff_group=str(d["staff_group"]),
        grade=str(d.get("grade") or ""),
        shift_type=str(d["shift_type"]),
        start_ms=to_ms(d["start"]) or 0,
        end_ms=to_ms(d["end"]) or 0,
        break_minutes=int(d.get("break_minutes") or 0),
        hourly_rate=_dec(d.get("hourly_rate")),
        tier=s.tier if s.tier_version else str(d.get("tier") or "OWN_BANK"),
    )


def _released(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    version = int(d["version"])
    if version <= s.tier_version:
        return s
    return replace(s, tier=str(d["to_tier"]), tier_version=version, trust=s.trust or (_ods(d["trust"]) or ""))


def _withdrawn(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    return replace(s, withdrawn=True, trust=s.trust or (_ods(d["trust"]) or ""))


def _filled(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    booking = str(d["booking_id"])
    worker = d.get("worker") or {}
    fill = {
        "tier": str(d["tier"]),
        "membership": str(d.get("membership_type") or "OTHER"),
        "home_trust": _ods(d.get("home_trust")),
        "person_id": worker.get("person_id"),
        "filled_at": to_ms(d["filled_at"]),
        "posted_at": to_ms(d.get("posted_at")),
        "hourly_rate": _dec(d.get("hourly_rate")),
        "price_cap_rate": _dec(d.get("price_cap_rate")),
        "agency": d.get("agency"),
        "framework": d.get("framework"),
        "framework_approved": d.get("framework_approved"),
        "break_glass": bool(d.get("break_glass")),
        "authoriser": d.get("break_glass_authoriser"),
        "substantive_employer": d.get("substantive_employer"),
    }
    s = replace(s, fills={**s.fills, booking: fill})
    if d.get("passport_cleared") and fill["person_id"]:
        s = _clear(s, fill["person_id"], fill["filled_at"])
    if s.version == 0:  # no posting seen yet: place the shift by what the fill says (a posting overrides)
        s = replace(
            s,
            trust=_ods(d["host_trust"]) or s.trust,
            staff_group=str(d["staff_group"]),
            shift_type=str(d["shift_type"]),
            start_ms=to_ms(d["start"]) or 0,
            end_ms=to_ms(d["end"]) or 0,
        )
    return s


def _cancelled(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    entry = {
        "cancelled_at": to_ms(d["cancelled_at"]),
        "notice_hours": _dec(d["notice_hours"]),
        "cancelled_by": str(d.get("cancelled_by") or "UNKNOWN"),
        "reason": str(d.get("reason") or "OTHER"),
        "reopened": bool(d.get("shift_reopened", True)),
    }
    return replace(s, cancelled={**s.cancelled, str(d["booking_id"]): entry})


def _no_show(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    booking = str(d["booking_id"])
    return s if booking in s.no_shows else replace(s, no_shows=tuple(sorted((*s.no_shows, booking))))


def _rejected(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    decided = to_ms(d["decided_at"])
    entry = {"codes": [str(c) for c in d.get("reason_codes") or []], "decided_at": decided}
    s = replace(s, rejections={**s.rejections, str(d["booking_id"]): entry})
    person = (d.get("worker") or {}).get("person_id")
    cleared = any(r["rule"] == "passport_clearance" and r["passed"] for r in d.get("rule_results") or [])
    if cleared and person:
        s = _clear(s, person, decided)
    if not s.trust and d.get("host_trust"):
        s = replace(s, trust=_ods(d["host_trust"]) or "")
    return s


def _clear(s: ShiftFacts, person: str, at: int | None) -> ShiftFacts:
    if at is None or (person in s.cleared and s.cleared[person] <= at):
        return s
    return replace(s, cleared={**s.cleared, person: at})


_HANDLERS = {
    "ShiftPosted": _shift,
    "ShiftUpdated": _shift,
    "ShiftReleased": _released,
    "ShiftCancelled": _withdrawn,
    "ShiftFilled": _filled,
    "BookingCancelled": _cancelled,
    "NoShow": _no_show,
    "BookingRejected": _rejected,
}
