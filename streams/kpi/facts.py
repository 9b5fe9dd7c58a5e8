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

from datetime import datetime
from decimal import Decimal
from typing import Any

from rosterhub.events import models as m
from rosterhub.instants import optional_ms
from rosterhub.ods import ods_of
from rosterhub.streams.booking.outcome import SOURCE as HUB_SOURCE

__all__ = ["SEEN_KEPT", "TYPES", "ShiftFacts", "apply", "known", "new_facts", "reads"]

SEEN_KEPT = 4

#: Event types the processor reads (any other ce_type is skipped without decoding), and whether only the
#: hub's own (booking processor, ``HUB_SOURCE``) events of that type count: vendors' own cancellations and no-shows
#: are its inputs.
TYPES: dict[str, bool] = {
    m.ShiftPosted.AVRO_NAME: False,
    m.ShiftUpdated.AVRO_NAME: False,
    m.ShiftReleased.AVRO_NAME: False,
    m.ShiftCancelled.AVRO_NAME: False,
    m.ShiftFilled.AVRO_NAME: True,
    m.BookingCancelled.AVRO_NAME: True,
    m.NoShow.AVRO_NAME: True,
    m.BookingRejected.AVRO_NAME: True,
}


def reads(ce_type: str, ce_source: str) -> bool:
    """Whether the processor folds this event: a type it reads, and for booking outcomes the hub's own."""
    hub_only = TYPES.get(ce_type)
    return hub_only is not None and (not hub_only or ce_source == HUB_SOURCE)


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


#: A shift's facts: the table value itself (a JSON-able dict), so nothing is converted per event.
ShiftFacts = dict[str, Any]

_DEFAULTS: dict[str, Any] = {
    "revision": 0,
    "version": 0,  # highest ShiftPosted/ShiftUpdated version applied (0: the facts come from a fill)
    "posted": False,  # a ShiftPosted/ShiftUpdated was seen
    "posted_at_ms": None,
    "trust": "",
    "site": None,
    "ward": "",
    "staff_group": "OTHER",
    "grade": "",
    "shift_type": "OTHER",
    "start_ms": 0,
    "end_ms": 0,
    "break_minutes": 0,
    "tier": "OWN_BANK",
    "tier_version": 0,
    "withdrawn": False,
    "fills": {},  # booking id -> ShiftFilled facts
    "cancelled": {},  # booking id -> cancellation
    "no_shows": [],  # booking ids, sorted
    "rejections": {},  # booking id -> {codes, decided_at}
    "cleared": {},  # person id -> earliest decision seen cleared (ms)
    "updated_ms": 0,
    "seen": [],  # recent event ids
}
#: Keys that are not facts: bookkeeping a semantic comparison ignores.
_BOOKKEEPING = ("revision", "seen", "updated_ms")


def new_facts(shift_id: str) -> ShiftFacts:
    return {"shift_id": shift_id, **_DEFAULTS}


def known(f: ShiftFacts) -> bool:
    """Enough is known to place the shift: a trust and a start (from a posting, or from a fill)."""
    return bool(f["trust"]) and f["start_ms"] > 0


def _same(a: ShiftFacts, b: ShiftFacts) -> bool:
    return all(a[k] == b[k] for k in a if k not in _BOOKKEEPING)


def apply(state: ShiftFacts | None, type_: str, data: dict[str, Any], *, event_id: str, at: datetime) -> ShiftFacts:
    """``state`` after one decoded event of :data:`TYPES` (source already checked by the caller).

    Never changes ``state``: a changed shift is a new dict (values shared where unchanged)."""
    s = state if state is not None else new_facts(str(data["shift_id"]))
    new = _HANDLERS[type_.rsplit(".", 1)[-1]](s, data)
    seen = [*s["seen"][-(SEEN_KEPT - 1) :], event_id]
    if new is s or _same(new, s):
        return {**s, "seen": seen}
    return {
        **new,
        "seen": seen,
        "revision": s["revision"] + 1,
        "updated_ms": max(s["updated_ms"], optional_ms(at) or 0),
    }


def _shift(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    s = {**s, "posted": True}
    posted_at = optional_ms(d.get("posted_at"))  # ShiftPosted only: the earliest one seen starts the clock
    if posted_at is not None:
        held = s["posted_at_ms"]
        s["posted_at_ms"] = posted_at if held is None else min(held, posted_at)
    version = int(d.get("version") or 1)
    if version <= s["version"]:
        return s
    s.update(
        version=version,
        trust=ods_of(d["trust"]) or "",
        site=ods_of(d.get("site")),
        ward=str(d.get("ward") or ""),
        staff_group=str(d["staff_group"]),
        grade=str(d.get("grade") or ""),
        shift_type=str(d["shift_type"]),
        start_ms=optional_ms(d["start"]) or 0,
        end_ms=optional_ms(d["end"]) or 0,
        break_minutes=int(d.get("break_minutes") or 0),
    )
    if not s["tier_version"]:
        s["tier"] = str(d.get("tier") or "OWN_BANK")
    return s


def _released(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    version = int(d["version"])
    if version <= s["tier_version"]:
        return s
    return {**s, "tier": str(d["to_tier"]), "tier_version": version, "trust": s["trust"] or (ods_of(d["trust"]) or "")}


def _withdrawn(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    return {**s, "withdrawn": True, "trust": s["trust"] or (ods_of(d["trust"]) or "")}


def _filled(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    booking = str(d["booking_id"])
    worker = d.get("worker") or {}
    fill: dict[str, Any] = {
        "tier": str(d["tier"]),
        "membership": str(d.get("membership_type") or "OTHER"),
        "home_trust": ods_of(d.get("home_trust")),
        "person_id": worker.get("person_id"),
        "filled_at": optional_ms(d["filled_at"]),
        "posted_at": optional_ms(d.get("posted_at")),
        "hourly_rate": _dec(d.get("hourly_rate")),
        "price_cap_rate": _dec(d.get("price_cap_rate")),
        "agency": d.get("agency"),
        "framework": d.get("framework"),
        "framework_approved": d.get("framework_approved"),
        "break_glass": bool(d.get("break_glass")),
        "authoriser": d.get("break_glass_authoriser"),
        "substantive_employer": d.get("substantive_employer"),
    }
    s = {**s, "fills": {**s["fills"], booking: fill}}
    if d.get("passport_cleared") and fill["person_id"]:
        _clear(s, fill["person_id"], fill["filled_at"])
    if s["version"] == 0:  # no posting seen yet: place the shift by the latest fill (a posting overrides)
        latest = max(s["fills"].values(), key=lambda x: x["filled_at"] or 0)
        if latest is fill:
            s.update(
                trust=ods_of(d["host_trust"]) or s["trust"],
                staff_group=str(d["staff_group"]),
                shift_type=str(d["shift_type"]),
                start_ms=optional_ms(d["start"]) or 0,
                end_ms=optional_ms(d["end"]) or 0,
            )
    return s


def _cancelled(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    entry = {
        "cancelled_at": optional_ms(d["cancelled_at"]),
        "notice_hours": _dec(d["notice_hours"]),
        "cancelled_by": str(d.get("cancelled_by") or "UNKNOWN"),
        "reason": str(d.get("reason") or "OTHER"),
        "reopened": bool(d.get("shift_reopened", True)),
    }
    return {**s, "cancelled": {**s["cancelled"], str(d["booking_id"]): entry}}


def _no_show(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    booking = str(d["booking_id"])
    return s if booking in s["no_shows"] else {**s, "no_shows": sorted([*s["no_shows"], booking])}


def _rejected(s: ShiftFacts, d: dict[str, Any]) -> ShiftFacts:
    decided = optional_ms(d["decided_at"])
    entry = {"codes": [str(c) for c in d.get("reason_codes") or []], "decided_at": decided}
    s = {**s, "rejections": {**s["rejections"], str(d["booking_id"]): entry}}
    person = (d.get("worker") or {}).get("person_id")
    cleared = any(r["rule"] == "passport_clearance" and r["passed"] for r in d.get("rule_results") or [])
    if cleared and person:
        _clear(s, person, decided)
    if not s["trust"] and d.get("host_trust"):
        s["trust"] = ods_of(d["host_trust"]) or ""
    return s


def _clear(s: ShiftFacts, person: str, at: int | None) -> None:
    """Record the earliest clearance seen (``s`` is already a fresh copy owned by the caller)."""
    held = s["cleared"].get(person)
    if at is not None and (held is None or at < held):
        s["cleared"] = {**s["cleared"], person: at}


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
