"""Shift events on the shift stage: a posting or update opens the shift (and decides what waited for it); a
release widens its tier; new times for a filled or held shift go to the person stage as a :class:`~.messages.Retime`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from rosterhub.envelope import Envelope
from rosterhub.events.base import symbol
from rosterhub.events.models.common import ReleaseTier
from rosterhub.streams.booking.messages import Check, Retime
from rosterhub.streams.booking.outcome import Step, ToPerson
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.booking.queue import drain
from rosterhub.streams.booking.saga import shift_json
from rosterhub.streams.booking.state import ShiftState, to_ms

__all__ = ["posted", "released"]

#: The release cascade's order, as the schema's ReleaseTier enum declares it (own bank first).
_RANK = {tier.value: i for i, tier in enumerate(ReleaseTier)}


def posted(state: ShiftState | None, env: Envelope, now: datetime, policies: BookingPolicies) -> Step:
    d = env.data
    if state is not None and state.version >= d["version"]:
        return Step(state)  # a replayed or late older version never overwrites a newer one
    rate = d.get("hourly_rate")
    base = state or ShiftState(shift_id=d["shift_id"], status="awaiting_shift")
    opened = replace(
        base,
        version=d["version"],
        status="open" if base.status == "awaiting_shift" else base.status,
        trust_ods=d["trust"]["ods_code"],
        trust_name=d["trust"].get("name"),
        start_ms=to_ms(d["start"]),
        end_ms=to_ms(d["end"]),
        staff_group=symbol(d["staff_group"]) if d.get("staff_group") else base.staff_group,
        grade=d.get("grade", base.grade),
        tier=_wider(base.tier, symbol(d["tier"])) if d.get("tier") else base.tier,
        shift_type=symbol(d["shift_type"]) if d.get("shift_type") else base.shift_type,
        rate=str(rate) if rate is not None else None,
        vendor=d.get("vendor", base.vendor),
        posted_at_ms=to_ms(d["posted_at"]) if d.get("posted_at") else base.posted_at_ms,
        parked=(),
        queue=(*base.queue, *base.parked),  # requests that arrived first, in arrival order
    )
    opened, person = _retimed(base, opened, env)
    return drain(opened, now, policies, [], person)


def released(state: ShiftState, env: Envelope) -> Step:
    """ShiftReleased: the shift reaches a wider tier (never a narrower one)."""
    if state.status == "awaiting_shift":
        return Step(state)
    return Step(replace(state, tier=_wider(state.tier, symbol(env.data["to_tier"]))))


def _wider(current: str, offered: str) -> str:
    """The release cascade only widens: a platform's ShiftUpdated (whose ``tier`` defaults to OWN_BANK) or a
    late ShiftReleased never takes a shift back from workers the hub already released it to."""
    return max(current, offered, key=lambda t: _RANK.get(t, 0))


def _retimed(before: ShiftState, after: ShiftState, cause: Envelope) -> tuple[ShiftState, list[ToPerson]]:
    """New times for a filled or held shift: the person stage must move the booking (overlap and working-time
    checks of the person's later requests read its times), and a re-sent check must carry them."""
    if before.status == "awaiting_shift" or (before.start_ms, before.end_ms) == (after.start_ms, after.end_ms):
        return after, []
    shift = shift_json(after)
    booking = after.filled if after.status == "filled" else after.hold
    if booking is None or booking.person_id is None:
        return after, []
    if after.status != "filled" and after.hold_check is not None:
        check = replace(Check.from_wire(after.hold_check), shift=shift)
        after = replace(after, hold_check=check.to_wire())
    msg = Retime(
        booking_id=booking.booking_id,
        shift_id=after.shift_id,
        person_id=booking.person_id,
        shift=shift,
        cause=cause.id,
    )
    return after, [msg]
