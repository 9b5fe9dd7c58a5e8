"""Timers on the shift stage: parked requests whose shift never came, and holds whose answer never came.

A request parked on an unknown shift is rejected ``SHIFT_UNKNOWN`` after the grace (:func:`expire`). A hold
whose answer never comes re-sends its check and is finally rejected ``PERSON_CHECK_TIMEOUT`` (:func:`tick`).
The agent keeps each shift's next due instant (:func:`due_ms`) in a schedule, and puts this worker's clock on
the timer fields a step sets (:func:`restamp`). A hold the person stage refused for an old identity stamp is
stamped again from the crosswalk copy (:func:`restamped`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rosterhub.streams.booking.answer_delay import PATIENCE
from rosterhub.streams.booking.messages import Answer, Check
from rosterhub.streams.booking.outcome import Step
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.booking.queue import drain
from rosterhub.streams.booking.replies import answer
from rosterhub.streams.booking.rules import shift_open
from rosterhub.streams.booking.rules.result import fail
from rosterhub.streams.booking.state import ShiftState, to_ms
from rosterhub.streams.booking.verdict import reject

__all__ = ["HoldTimers", "due", "due_ms", "expire", "resend_wait_ms", "restamp", "restamped", "tick"]


@dataclass(frozen=True, slots=True)
class HoldTimers:
    """When a hold is overdue: re-send its check after ``resend``, reject the request after ``timeout``."""

    grace: timedelta  # parked requests: SHIFT_UNKNOWN after this
    resend: timedelta
    timeout: timedelta


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
        results = [shift_open(None, parked.booking_id)]
        state, decision = reject(state, parked, results, now)
        outputs.append(decision)
    kept = tuple(p for p in state.parked if p not in overdue)
    return Step(replace(state, parked=kept), outputs)


def restamp(before: ShiftState | None, after: ShiftState | None, *, clock: datetime) -> ShiftState | None:
    """Put this worker's clock on the timer fields a step just set: new parked requests and a new hold.

    The agent decides with ``now`` = the input record's timestamp, so re-processing a record after a crash or a
    rebalance repeats ``decided_at`` and the CloudEvents time exactly, not only the event id. Timers must measure
    the worker's own clock instead: a request read from a backlog has an old timestamp and would otherwise be
    overdue (``SHIFT_UNKNOWN``) before its shift, further back in the backlog, is read.
    """
    if after is None:
        return None
    ms = to_ms(clock)
    seen = {p.booking_id for p in before.parked} if before else set()
    parked = tuple(p if p.booking_id in seen else replace(p, parked_at_ms=ms) for p in after.parked)
    held_before = before.hold.booking_id if before and before.hold else None
    if after.hold is not None and after.hold.booking_id != held_before:
        after = replace(after, held_at_ms=ms, hold_sent_ms=ms)
    return replace(after, parked=parked) if parked != after.parked else after


def due(state: ShiftState, *, now: datetime, timers: HoldTimers, delay_ms: int = 0) -> bool:
    """Something for :func:`tick` to do: a parked request past the grace, or a hold waiting past its re-send."""
    at = due_ms(state, timers=timers, delay_ms=delay_ms)
    return at is not None and at <= to_ms(now)


def resend_wait_ms(timers: HoldTimers, delay_ms: int) -> int:
    """How long a hold waits for its answer before re-sending the check: ``resend``, or :data:`PATIENCE` times the
    answer delay this worker has lately seen, if longer (streams/booking/answer_delay.py: under a backlog a
    re-send only lengthens it)."""
    return max(_ms(timers.resend), PATIENCE * delay_ms)


def due_ms(state: ShiftState, *, timers: HoldTimers, delay_ms: int = 0) -> int | None:
    """When :func:`tick` next has something to do for this shift (epoch ms), or None: nothing parked or held.

    The timer keeps this per shift in a :class:`~rosterhub.streams.schedule.Schedule` instead of decoding every
    shift on every beat. A hold's timeout needs no instant of its own: it is only ever acted on by a tick that is
    due for a re-send (:func:`tick` gives up instead of re-sending).
    """
    instants = []
    if state.status == "awaiting_shift" and state.parked:
        instants.append(min(p.parked_at_ms for p in state.parked) + _ms(timers.grace))
    if state.hold is not None and state.hold_sent_ms is not None:
        instants.append(state.hold_sent_ms + resend_wait_ms(timers, delay_ms))
    return min(instants, default=None)


def tick(
    state: ShiftState,
    *,
    now: datetime,
    timers: HoldTimers,
    policies: BookingPolicies | None = None,
    delay_ms: int = 0,
) -> Step:
    """The timer's step: expire parked requests; re-send a waiting hold's check, or give up on it.

    A hold older than ``timeout`` is rejected ``PERSON_CHECK_TIMEOUT`` (with the shift rules' results) as if the
    person stage had answered so, releasing the person (who may have been recorded) and deciding the queue. Else a
    check last sent :func:`resend_wait_ms` ago (``delay_ms``: the answer delay the tick carries) is sent again,
    byte for byte: the person stage answers it from its stored answer if the answer was lost, or checks it now if
    the check was.
    """
    parked = expire(state, now=now, grace=timers.grace)
    state = parked.state or state
    ms = to_ms(now)
    if state.hold is None or state.hold_check is None or state.hold_sent_ms is None:
        return parked
    if state.hold_sent_ms > ms - resend_wait_ms(timers, delay_ms):
        return parked
    check = Check.from_wire(state.hold_check)
    if _hold_expired(state, ms, timers):
        waited = (ms - (state.held_at_ms or ms)) / 1000
        text = f"no answer from the person stage within {waited:.0f} s (timeout {timers.timeout.total_seconds():g} s)"
        timeout = fail("person_check", "PERSON_CHECK_TIMEOUT", text).to_avro()
        # "recorded": the person stage may have recorded it after all, so release it either way.
        gave_up = Answer(
            booking_id=state.hold.booking_id,
            shift_id=state.shift_id,
            person_id=state.hold.person_id,
            results=[*check.shift_results, timeout],
            recorded=True,
        )
        decided = answer(state, gave_up, now=now, policies=policies)
        return Step(decided.state, [*parked.outputs, *decided.outputs], [*parked.person, *decided.person])
    resent = replace(state, hold_sent_ms=ms, hold_resends=state.hold_resends + 1)
    if state.hold_restamp is not None:  # the check was refused: nothing to re-send until it is stamped again
        return Step(resent, parked.outputs, parked.person)
    return Step(resent, parked.outputs, [*parked.person, check])


def restamped(
    state: ShiftState, person: str | None, version: int | None, *, now: datetime, policies: BookingPolicies | None
) -> Step:
    """Stamp the held request again from a crosswalk copy that has the identity change the person stage reported.

    The request goes back to the head of the queue with the new stamp (``person`` None: the copy, exact as of its
    step, has no single person for it, as the resolver would say: rejected ``WORKER_UNKNOWN``), so the shift rules
    and the check are made again exactly as for a first request; the old check was refused and recorded nothing.
    """
    if state.hold is None or state.hold_restamp is None:
        return Step(state)
    req = state.hold
    worker = {**req.worker, "person_id": person}
    again = replace(req, worker=worker, person_v=version if person is not None else None)
    cleared = replace(
        state,
        hold=None,
        hold_check=None,
        held_at_ms=None,
        hold_sent_ms=None,
        hold_resends=0,
        hold_restamp=None,
        queue=(again, *state.queue),
    )
    return drain(cleared, now, policies or BookingPolicies({}), [], [])


def _ms(d: timedelta) -> int:
    return int(d.total_seconds() * 1000)


def _hold_expired(state: ShiftState, ms: int, timers: HoldTimers) -> bool:
    """Held ``timeout`` ago, and the check has been sent often enough, ``resend`` apart, to span the timeout: a
    worker catching up on a backlog re-sends before it gives up, rather than failing holds it has just made."""
    sends = state.hold_resends + 1
    return (
        state.held_at_ms is not None
        and state.held_at_ms <= ms - _ms(timers.timeout)
        and sends * _ms(timers.resend) >= _ms(timers.timeout)
    )
