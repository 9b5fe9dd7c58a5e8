"""The shift stage of the booking saga: (shift state, input) -> (new state, events, person-stage messages).

Pure: no Kafka, no clock (``now`` is passed in), no files (policies are passed in). One writer per shift
(the table is keyed by shift id) decides every request for that shift. :func:`step` routes one input to the
module whose job it is:

* :mod:`.shifts`: postings, updates and releases open the shift and widen its tier; re-timing a filled or
  held shift sends a *retime* to the person stage;
* :mod:`.queue`: requests park (shift unknown), queue behind a hold, or are decided: rejected at once, or the
  shift rules run, the shift is *held* and a *check* goes to the person stage (:mod:`.person`);
* :mod:`.replies`: the person stage's *answer* decides the held request (:mod:`.verdict` writes
  BookingConfirmed + ShiftFilled, or BookingRejected), a *conflict* cancels a re-timed booking;
* :mod:`.cancels`: vendor cancellations, no-shows and shift cancellations;
* :mod:`.holds`: the timers: parked requests that wait too long, holds whose answer never comes.

The saga's messages are typed (:mod:`.messages`); the event types and :class:`~.outcome.Step` are in
:mod:`.outcome`. Every id is derived from the booking id, so re-deciding
after a crash repeats the same ids. See docs/decisions/0007-booking-saga.md.
"""

from __future__ import annotations

from datetime import datetime

from rosterhub.envelope import Envelope
from rosterhub.streams.booking.cancels import booking_cancelled, no_show, shift_cancelled
from rosterhub.streams.booking.holds import HoldTimers, due, due_ms, expire, restamp, restamped, tick
from rosterhub.streams.booking.outcome import (
    BOOKING_CANCELLED,
    BOOKING_REQUESTED,
    NO_SHOW,
    SHIFT_CANCELLED,
    SHIFT_POSTED,
    SHIFT_RELEASED,
    SHIFT_UPDATED,
    SOURCE,
    Step,
)
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.booking.queue import requested
from rosterhub.streams.booking.replies import answer, conflict
from rosterhub.streams.booking.shifts import posted, released
from rosterhub.streams.booking.state import ShiftState

__all__ = [
    "HoldTimers",
    "Step",
    "answer",
    "conflict",
    "due",
    "due_ms",
    "expire",
    "restamp",
    "restamped",
    "step",
    "tick",
]


def step(state: ShiftState | None, env: Envelope, *, now: datetime, policies: BookingPolicies | None = None) -> Step:
    """One input from events.shift, events.booking (vendor-authored only) or booking-requests."""
    policies = policies or BookingPolicies({})
    if env.type in (SHIFT_POSTED, SHIFT_UPDATED):
        return posted(state, env, now, policies)
    if env.source == SOURCE or (state is None and env.type != BOOKING_REQUESTED):
        return Step(state)  # decisions we wrote ourselves; news of a shift we never saw
    if env.type == BOOKING_REQUESTED:
        return requested(state, env, now, policies)
    assert state is not None
    if env.type == SHIFT_RELEASED:
        return released(state, env)
    if env.type == SHIFT_CANCELLED:
        return shift_cancelled(state, env, now, policies)
    if env.type == BOOKING_CANCELLED:
        return booking_cancelled(state, env, now, policies)
    if env.type == NO_SHOW:
        return no_show(state, env, now)
    return Step(state)  # events for other processors
