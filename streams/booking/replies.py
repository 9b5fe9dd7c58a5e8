"""The person stage's replies on the shift stage: an :class:`~.messages.Answer` decides the held request, a
:class:`~.messages.Conflict` cancels a booking whose new times clash with another of the person's bookings.

The answer carries every rule's result: BookingConfirmed (+ ShiftFilled) when all passed and the person stage
recorded the booking, else BookingRejected; the hold is released and the queue decided (:func:`.queue.drain`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from rosterhub.streams.booking.cancels import cancelled_event
from rosterhub.streams.booking.messages import Answer, Conflict
from rosterhub.streams.booking.outcome import Step
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.booking.queue import drain
from rosterhub.streams.booking.rules.result import fail
from rosterhub.streams.booking.saga import ordered
from rosterhub.streams.booking.state import ShiftState
from rosterhub.streams.booking.verdict import confirm, reject_raw, release

__all__ = ["answer", "conflict"]


def answer(state: ShiftState | None, msg: Answer, *, now: datetime, policies: BookingPolicies | None = None) -> Step:
    """The person stage's answer for the held request: decide it, release the hold, decide the queue."""
    booking_id = msg.booking_id
    if state is None or state.hold is None or state.hold.booking_id != booking_id:
        return Step(state)  # a redelivered answer for a booking already decided
    policies = policies or BookingPolicies({})
    if msg.restamp is not None:
        # The person stage has seen an identity change for the stamped person after the copy that stamped it:
        # keep the hold and stamp again once this worker's copy has the change (docs/decisions/0012).
        if msg.person_id != state.hold.person_id or state.hold_restamp is not None:
            return Step(state)  # for an earlier stamp, or already waiting to restamp
        return Step(replace(state, hold_restamp=int(msg.restamp)))
    req, results = state.hold, ordered(msg.results)
    state = replace(state, hold=None, hold_check=None, held_at_ms=None, hold_sent_ms=None, hold_resends=0)
    freed = [release(req, "rejected")] if msg.recorded else []
    if booking_id in state.withdrawn:
        results = [*results, fail("shift_open", "BOOKING_WITHDRAWN", "cancelled by the platform").to_avro()]
        withdrawn = tuple(b for b in state.withdrawn if b != booking_id)
        state, out = reject_raw(replace(state, withdrawn=withdrawn), req, results, now)
        return drain(state, now, policies, [out], list(freed))
    if state.status != "open":
        text = f"the shift was {state.status} while the person check ran"
        results = [r for r in results if r["rule"] != "shift_open"]
        results = ordered([fail("shift_open", "SHIFT_NOT_OPEN", text).to_avro(), *results])
        state, out = reject_raw(state, req, results, now)
        return drain(state, now, policies, [out], list(freed))
    if all(r["passed"] for r in results) and msg.recorded:
        state, outs = confirm(state, req, results, now, policies.get(state.trust_ods or ""))
        return drain(state, now, policies, outs, [])
    state, out = reject_raw(state, req, results, now)
    return drain(state, now, policies, [out], list(freed))


def conflict(
    state: ShiftState | None, msg: Conflict, *, now: datetime, policies: BookingPolicies | None = None
) -> Step:
    """The person stage found the filling booking's new times clash with another booking of the person.

    The hub cancels the re-timed booking (``cancelled_by: HUB``, ``WORKER_UNAVAILABLE``, the detail naming the
    clash) and reopens the shift: the person was booked first elsewhere, and the rota manager sees a cancellation
    on their platform rather than a silent double booking. Ignored unless the booking still fills the shift.
    """
    booking_id = msg.booking_id
    if state is None or state.status != "filled" or state.filled_by != booking_id or state.filled is None:
        return Step(state)  # already cancelled, or a redelivered conflict
    policies = policies or BookingPolicies({})
    d = {"cancelled_by": "HUB", "reason": "WORKER_UNAVAILABLE", "reason_detail": msg.detail, "cancelled_at": now}
    out = cancelled_event(state, state.filled, d, policies, msg.cause, reopened=True, now=now)
    freed = replace(state, status="open", filled_by=None, filled=None)
    return drain(freed, now, policies, [out], [release(state.filled, "re-timed into a clash")])
