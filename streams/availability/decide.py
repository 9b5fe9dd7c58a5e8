"""One step of the availability processor: (state, event or tick, now) -> (new state, events out).

Pure: no Kafka, no clock. The faust agent reads the table, calls :func:`step` for a shift
or booking event (or :func:`tick` when the timer says something is due), sends what
comes back (ShiftReleased on events.shift, ShiftAvailability on views.availability) and
writes the table.

Ordering and idempotency:

* an event id already seen changes nothing (redelivery);
* the host platform's ShiftPosted/Updated/Cancelled/Released apply only above the highest
  version the platform sent before (``vendor_version``): a late or replayed older version
  never overwrites a newer one;
* the hub's own ShiftReleased is applied when it is made, so reading it back changes nothing;
* booking outcomes count only when the booking processor made them (source
  ``/rosterhub/booking``); a platform's own BookingCancelled/NoShow are its inputs to
  that processor, not facts yet. Booking ids already decided are remembered, so a
  redelivered request or decision changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.models import (
    BookingRequested,
    ShiftAvailability,
    ShiftCancelled,
    ShiftPosted,
    ShiftReleased,
    ShiftUpdated,
)
from rosterhub.events.models.common import ReleaseTier
from rosterhub.streams.availability.cascade import AGENCY_TIERS, next_release, visibility
from rosterhub.streams.availability.policy import TIERS, AvailabilityPolicy
from rosterhub.streams.availability.state import OPEN_STATUSES, SEEN_KEPT, ShiftView, from_ms, to_ms
from rosterhub.streams.booking.outcome import SOURCE as BOOKING_SOURCE

__all__ = ["SOURCE", "VIEW", "Step", "step", "tick", "view_data"]

SOURCE = "/rosterhub/availability"
VIEW = ShiftAvailability.AVRO_NAME
_BOOKING = BookingRequested.avro_namespace() + "."  # every booking event: requests and outcomes
POSTED, UPDATED, RELEASED, CANCELLED = (m.AVRO_NAME for m in (ShiftPosted, ShiftUpdated, ShiftReleased, ShiftCancelled))
TERMINAL = frozenset({"CANCELLED", "NO_SHOW", "COMPLETED"})


@dataclass(frozen=True, slots=True)
class Step:
    state: ShiftView | None
    outputs: list[Envelope] = field(default_factory=list)


def step(state: ShiftView | None, env: Envelope, *, policy: AvailabilityPolicy, now: datetime) -> Step:
    """Apply one event from events.shift or events.booking."""
    if state is not None and env.id in state.seen:
        return Step(state)
    shift_id = str(env.data.get("shift_id") or "")
    base = state or ShiftView(shift_id=shift_id)
    changed = _apply(base, env)
    if changed is None:
        return Step(state)
    changed = replace(changed, seen=(*base.seen, env.id)[-SEEN_KEPT:])
    return _finish(state, changed, [], policy=policy, now=now)


def tick(state: ShiftView, *, policy: AvailabilityPolicy, now: datetime) -> Step:
    """What the timer makes due: release down the cascade while due, complete a filled shift past its end."""
    current = state
    outputs: list[Envelope] = []
    if current.known and current.status == "FILLED" and now >= from_ms(current.end_ms):
        current = replace(current, status="COMPLETED")
    start = from_ms(current.start_ms)
    while current.open and now < start:
        release = next_release(
            policy.cascade(current.trust_ods),
            ReleaseTier(current.tier),
            tier_since=from_ms(current.tier_since_ms),
            start=start,
        )
        if release is None or release.at > now:
            break
        current, env = _release(current, release.to, now, policy)
        outputs.append(env)
    return _finish(state, current, outputs, policy=policy, now=now)


# --- transitions -------------------------------------------------------------------------------------------------


def _apply(s: ShiftView, env: Envelope) -> ShiftView | None:
    """The new state after ``env``, or ``None`` when the event changes nothing."""
    d = env.data
    if env.type in (POSTED, UPDATED):
        if d["version"] <= s.vendor_version:
            return None  # late or replayed: a newer version is already applied
        return _described(s, env)
    if env.type == CANCELLED:
        if d["version"] <= s.vendor_version:
            return None
        return replace(
            s, status="CANCELLED", pending=(), version=max(s.version, d["version"]), vendor_version=d["version"]
        )
    if env.type == RELEASED:
        own = env.source == SOURCE
        if d["version"] <= (s.version if own else s.vendor_version):
            return None
        moved = _to_tier(s, d["to_tier"], to_ms(d["released_at"]))
        return replace(
            moved, version=max(s.version, d["version"]), vendor_version=s.vendor_version if own else d["version"]
        )
    if env.type.startswith(_BOOKING):
        return _booking(s, env)
    return None


def _described(s: ShiftView, env: Envelope) -> ShiftView:
    d = env.data
    fresh = not s.known
    since = d.get("posted_at") or env.time
    rate = d.get("hourly_rate")
    described = replace(
        s,
        known=True,
        version=max(s.version, d["version"]),
        vendor_version=d["version"],
        trust_ods=d["trust"]["ods_code"],
        trust_name=d["trust"].get("name"),
        vendor=d["vendor"],
        vendor_shift_id=d["vendor_shift_id"],
        ward=d["ward"],
        staff_group=str(d["staff_group"]),
        grade=d["grade"],
        shift_type=str(d["shift_type"]),
        start_ms=to_ms(d["start"]),
        end_ms=to_ms(d["end"]),
        hourly_rate=None if rate is None else str(rate),
    )
    if fresh:  # the posting tier and the start of its clock; later updates never move the tier
        described = replace(described, tier=str(d.get("tier") or "OWN_BANK"), tier_since_ms=to_ms(since))
    return described


def _to_tier(s: ShiftView, tier: str, since_ms: int) -> ShiftView:
    if TIERS.index(ReleaseTier(tier)) <= TIERS.index(ReleaseTier(s.tier)):
        return s
    status = "RELEASED" if s.status == "POSTED" else s.status
    return replace(s, tier=str(tier), tier_since_ms=since_ms, released=True, status=status)


def _reopened(s: ShiftView) -> str:
    return "RELEASED" if s.released else "POSTED"


def _booking(s: ShiftView, env: Envelope) -> ShiftView | None:
    d, kind = env.data, env.type.removeprefix(_BOOKING)
    booking_id: str = d["booking_id"]  # every event of the booking namespace has one (its schema requires it)
    if kind == "BookingRequested":
        if booking_id in s.decided or booking_id in s.pending or s.status not in OPEN_STATUSES:
            return None
        return replace(s, pending=(*s.pending, booking_id), status="REQUESTED")
    if env.source != BOOKING_SOURCE or s.status in TERMINAL:
        return None  # platforms' own outcomes are inputs to the booking processor, not facts
    pending = tuple(p for p in s.pending if p != booking_id)
    decided = s.decided if booking_id in s.decided else (*s.decided, booking_id)
    if kind in ("BookingConfirmed", "ShiftFilled"):
        if s.status == "FILLED" and s.booking_id == booking_id:
            return None
        via = d.get("vendor") or (s.filled_via if s.booking_id == booking_id else None)
        return replace(
            s,
            status="FILLED",
            booking_id=booking_id,
            filled_by=d.get("worker"),
            filled_via=via,
            pending=pending,
            decided=decided,
        )
    if kind == "BookingRejected":
        status = _reopened(s) if s.status == "REQUESTED" and not pending else s.status
        return replace(s, status=status, pending=pending, decided=decided)
    if s.status != "FILLED" or s.booking_id not in (None, booking_id):
        return None  # a cancellation or no-show of a booking that does not hold the shift
    if kind == "BookingCancelled":
        if d.get("shift_reopened", True):
            return replace(s, status=_reopened(s), booking_id=None, filled_by=None, filled_via=None, pending=pending)
        return replace(s, status="CANCELLED", pending=pending)
    if kind == "NoShow":
        return replace(s, status="NO_SHOW", pending=pending)
    return None


def _release(s: ShiftView, to: ReleaseTier, now: datetime, policy: AvailabilityPolicy) -> tuple[ShiftView, Envelope]:
    version = s.version + 1
    cap = policy.price_cap(s.trust_ods, s.grade) if to in AGENCY_TIERS else None
    trigger = _trigger(s, to, policy)
    data = {
        "shift_id": s.shift_id,
        "version": version,
        "trust": {"ods_code": s.trust_ods, "name": s.trust_name},
        "from_tier": s.tier,
        "to_tier": str(to),
        "released_at": now,
        "automatic": True,
        "framework": None,
        "agency_rate": None,
        "price_cap_rate": cap,
        "break_glass": False,
        "authoriser": None,
        "reason": trigger,
    }
    env = Envelope(
        type=RELEASED,
        source=SOURCE,
        data=data,
        id=event_id("availability-release", s.shift_id, version),
        subject=s.shift_id,
        time=now,
    )
    moved = _to_tier(s, str(to), to_ms(now))
    return replace(moved, version=version, seen=(*s.seen, env.id)[-SEEN_KEPT:]), env


def _trigger(s: ShiftView, to: ReleaseTier, policy: AvailabilityPolicy) -> str:
    step_ = next(x for x in policy.cascade(s.trust_ods) if x.to == to)
    start = from_ms(s.start_ms)
    since = from_ms(s.tier_since_ms)
    if step_.after is not None and (step_.within is None or since + step_.after <= start - step_.within):
        return f"release cascade: not filled after {_hours(step_.after)} at {s.tier}"
    return f"release cascade: starts within {_hours(step_.within)}"


def _hours(td: Any) -> str:
    secs = td.total_seconds()
    return f"{secs / 3600:g} h" if secs >= 3600 else f"{secs:g} s"


# --- derived fields and the view ---------------------------------------------------------------------------------


def _derive(s: ShiftView, policy: AvailabilityPolicy, now: datetime) -> ShiftView:
    nxt_ms = nxt_tier = None
    start = from_ms(s.start_ms)
    if s.open and now < start:  # a started shift moves no further down the cascade
        r = next_release(
            policy.cascade(s.trust_ods), ReleaseTier(s.tier), tier_since=from_ms(s.tier_since_ms), start=start
        )
        if r is not None and r.at < start:
            nxt_ms, nxt_tier = to_ms(r.at), str(r.to)
    due = nxt_ms if s.open else (s.end_ms if s.known and s.status == "FILLED" else None)
    return replace(s, next_release_ms=nxt_ms, next_release_tier=nxt_tier, due_ms=due)


def view_data(s: ShiftView, policy: AvailabilityPolicy) -> dict[str, Any]:
    """The ShiftAvailability record of ``s`` (Avro-ready), without ``revision`` and ``updated_at``."""
    visible_to, agency = visibility(
        ReleaseTier(s.tier), host=s.trust_ods, members=policy.members(s.trust_ods), open_=s.open
    )
    return {
        "shift_id": s.shift_id,
        "version": s.version,
        "status": s.status,
        "open": s.open,
        "tier": s.tier,
        "trust": {"ods_code": s.trust_ods, "name": s.trust_name},
        "vendor": s.vendor,
        "vendor_shift_id": s.vendor_shift_id,
        "ward": s.ward,
        "staff_group": s.staff_group,
        "grade": s.grade,
        "shift_type": s.shift_type,
        "start": from_ms(s.start_ms),
        "end": from_ms(s.end_ms),
        "hourly_rate": None if s.hourly_rate is None else Decimal(s.hourly_rate),
        "booking_id": s.booking_id,
        "filled_by": s.filled_by,
        "filled_via": s.filled_via,
        "next_release_at": None if s.next_release_ms is None else from_ms(s.next_release_ms),
        "visible_to": visible_to,
        "agency_visible": agency,
    }


def _finish(
    before: ShiftView | None, after: ShiftView, outputs: list[Envelope], *, policy: AvailabilityPolicy, now: datetime
) -> Step:
    after = _derive(after, policy, now)
    if not after.known:
        return Step(after, outputs)
    old = view_data(before, policy) if before is not None and before.known else None
    new = view_data(after, policy)
    if new == old:
        return Step(after, outputs)
    after = replace(after, revision=after.revision + 1)
    data = {**new, "revision": after.revision, "updated_at": now}
    view = Envelope(
        type=VIEW,
        source=SOURCE,
        data=data,
        id=event_id("availability-view", after.shift_id, after.revision),
        subject=after.shift_id,
        time=now,
    )
    return Step(after, [*outputs, view])
