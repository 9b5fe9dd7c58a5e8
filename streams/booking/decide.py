"""One step of the booking processor: (state, incoming event) -> (new state, events out).

Pure: no Kafka, no clock (``now`` is passed in). The faust agent around it only reads
the table, calls :func:`step` (or :func:`expire` from a timer), writes the table and
sends what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from rosterhub.envelope import Envelope, event_id
from rosterhub.streams.booking.rules import RuleResult, shift_open
from rosterhub.streams.booking.state import ParkedRequest, ShiftState, from_ms, to_ms

__all__ = ["BOOKING_REQUESTED", "SHIFT_POSTED", "Step", "expire", "step"]

SHIFT_POSTED = "rosterhub.shift.v1.ShiftPosted"
BOOKING_REQUESTED = "rosterhub.booking.v1.BookingRequested"
BOOKING_CONFIRMED = "rosterhub.booking.v1.BookingConfirmed"
BOOKING_REJECTED = "rosterhub.booking.v1.BookingRejected"
SOURCE = "/rosterhub/booking"


@dataclass(frozen=True, slots=True)
class Step:
    state: ShiftState | None
    outputs: list[Envelope] = field(default_factory=list)


def step(state: ShiftState | None, env: Envelope, *, now: datetime) -> Step:
    if env.type == SHIFT_POSTED:
        return _posted(state, env, now)
    if env.type == BOOKING_REQUESTED:
        return _requested(state, env, now)
    return Step(state)  # decisions we wrote ourselves, and events for other processors


def expire(state: ShiftState, *, now: datetime, grace: timedelta) -> Step:
    """Reject parked requests whose shift has not arrived within ``grace`` (called by a timer)."""
    if state.status != "awaiting_shift" or not state.parked:
        return Step(state)
    cutoff = to_ms(now - grace)
    overdue = [p for p in state.parked if p.parked_at_ms <= cutoff]
    if not overdue:
        return Step(state)
    outputs = []
    for parked in overdue:
        state, decision = _decide(state, _unpark(state.shift_id, parked), now)
        outputs.append(decision)
    kept = tuple(p for p in state.parked if p not in overdue)
    return Step(replace(state, parked=kept), outputs)


def _posted(state: ShiftState | None, env: Envelope, now: datetime) -> Step:
    d = env.data
    if state is not None and state.version >= d["version"]:
        return Step(state)  # a replayed or late older version never overwrites a newer one
    opened = ShiftState(
        shift_id=d["shift_id"],
        version=d["version"],
        status="open" if state is None or state.status == "awaiting_shift" else state.status,
        trust_ods=d["trust"]["ods_code"],
        trust_name=d["trust"].get("name"),
        start_ms=to_ms(d["start"]),
        end_ms=to_ms(d["end"]),
        filled_by=state.filled_by if state else None,
        decided=state.decided if state else (),
    )
    outputs = []
    for parked in state.parked if state else ():  # requests that arrived first, in arrival order
        opened, decision = _decide(opened, _unpark(opened.shift_id, parked), now)
        outputs.append(decision)
    return Step(opened, outputs)


def _requested(state: ShiftState | None, env: Envelope, now: datetime) -> Step:
    booking_id = env.data["booking_id"]
    if state is not None and (booking_id in state.decided or any(p.booking_id == booking_id for p in state.parked)):
        return Step(state)  # already decided or waiting: a redelivered request changes nothing
    if state is None or state.status == "awaiting_shift":
        parked = ParkedRequest(
            event_id=env.id, source=env.source, booking_id=booking_id, worker=env.data["worker"],
            vendor=env.data["vendor"], requested_at_ms=to_ms(env.data["requested_at"]), parked_at_ms=to_ms(now),
        )  # fmt: skip
        base = state or ShiftState(shift_id=env.data["shift_id"], status="awaiting_shift")
        return Step(replace(base, parked=(*base.parked, parked)))
    new_state, decision = _decide(state, env, now)
    return Step(new_state, [decision])


def _unpark(shift_id: str, p: ParkedRequest) -> Envelope:
    data = {"booking_id": p.booking_id, "shift_id": shift_id, "worker": p.worker, "vendor": p.vendor,
            "requested_at": from_ms(p.requested_at_ms)}  # fmt: skip
    return Envelope(type=BOOKING_REQUESTED, source=p.source, data=data, id=p.event_id)


def _decide(state: ShiftState, env: Envelope, now: datetime) -> tuple[ShiftState, Envelope]:
    req = env.data
    booking_id = req["booking_id"]
    known = state.status != "awaiting_shift"
    results = [shift_open(state if known else None, booking_id)]
    confirmed = all(r.passed for r in results)
    common = {
        "booking_id": booking_id,
        "shift_id": req["shift_id"],
        "worker": req["worker"],
        "rule_results": [r.to_avro() for r in results],
        "decided_at": now,
    }
    host = {"ods_code": state.trust_ods, "name": state.trust_name} if known else None
    if confirmed and state.start_ms is not None and state.end_ms is not None:
        data = {**common, "host_trust": host, "start": from_ms(state.start_ms), "end": from_ms(state.end_ms)}
        out_type = BOOKING_CONFIRMED
    else:
        data = {**common, "host_trust": host, "reason_codes": _codes(results)}
        out_type = BOOKING_REJECTED
    decision = Envelope(
        type=out_type, source=SOURCE, data=data, id=event_id("decision", booking_id), subject=booking_id,
        time=now, extensions={"causationid": env.id},
    )  # fmt: skip
    return state.with_decision(booking_id, filled=confirmed), decision


def _codes(results: list[RuleResult]) -> list[str]:
    return [r.reason_code for r in results if not r.passed and r.reason_code]
