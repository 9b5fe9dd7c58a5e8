"""One step of the booking processor: (state, incoming event) -> (new state, events out).

Pure: no Kafka, no clock (``now`` is passed in). The faust agent around it only reads
the table, calls :func:`step`, writes the table and sends what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rosterhub.envelope import Envelope, event_id
from rosterhub.streams.booking.rules import RuleResult, shift_open
from rosterhub.streams.booking.state import ShiftState, from_ms, to_ms

__all__ = ["BOOKING_REQUESTED", "SHIFT_POSTED", "Step", "step"]

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
        return Step(_posted(state, env))
    if env.type == BOOKING_REQUESTED:
        return _decide(state, env, now)
    return Step(state)  # decisions we wrote ourselves, and events for other processors


def _posted(state: ShiftState | None, env: Envelope) -> ShiftState | None:
    d = env.data
    if state is not None and state.version >= d["version"]:
        return state  # a replayed or late older version never overwrites a newer one
    return ShiftState(
        shift_id=d["shift_id"],
        version=d["version"],
        status=state.status if state else "open",
        trust_ods=d["trust"]["ods_code"],
        trust_name=d["trust"].get("name"),
        start_ms=to_ms(d["start"]),
        end_ms=to_ms(d["end"]),
        filled_by=state.filled_by if state else None,
        decided=state.decided if state else (),
    )


def _decide(state: ShiftState | None, env: Envelope, now: datetime) -> Step:
    req = env.data
    booking_id = req["booking_id"]
    if state is not None and booking_id in state.decided:
        return Step(state)  # already decided: a redelivered request changes nothing
    results = [shift_open(state, booking_id)]
    confirmed = all(r.passed for r in results)
    common = {
        "booking_id": booking_id,
        "shift_id": req["shift_id"],
        "worker": req["worker"],
        "rule_results": [r.to_avro() for r in results],
        "decided_at": now,
    }
    host = {"ods_code": state.trust_ods, "name": state.trust_name} if state else None
    if confirmed and state is not None:
        data = {**common, "host_trust": host, "start": from_ms(state.start_ms), "end": from_ms(state.end_ms)}
        out_type = BOOKING_CONFIRMED
    else:
        data = {**common, "host_trust": host, "reason_codes": _codes(results)}
        out_type = BOOKING_REJECTED
    decision = Envelope(
        type=out_type, source=SOURCE, data=data, id=event_id("decision", booking_id), subject=booking_id,
        time=now, extensions={"causationid": env.id},
    )  # fmt: skip
    new_state = state.with_decision(booking_id, filled=confirmed) if state is not None else None
    return Step(new_state, [decision])


def _codes(results: list[RuleResult]) -> list[str]:
    return [r.reason_code for r in results if not r.passed and r.reason_code]
