"""Endings on the shift stage: a vendor's cancellation or no-show, and the trust cancelling the shift.

They free or close the shift, tell the person stage to drop the booking (:class:`~.messages.Release`) and
become the hub's own BookingCancelled / NoShow (notice recomputed from instants, the late-cancellation fee
per the host trust's policy). A request still waiting is withdrawn instead.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.events.base import symbol
from rosterhub.streams.booking.cancellation import late_fee, notice_hours
from rosterhub.streams.booking.outcome import BOOKING_CANCELLED, NO_SHOW, Step, ToPerson, hub_event
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.booking.queue import drain
from rosterhub.streams.booking.rules.result import fail
from rosterhub.streams.booking.state import ParkedRequest, ShiftState, from_ms
from rosterhub.streams.booking.verdict import host, reject, release

__all__ = ["booking_cancelled", "cancelled_event", "no_show", "shift_cancelled"]


def cancelled_event(
    state: ShiftState,
    req: ParkedRequest,
    d: dict[str, Any],
    policies: BookingPolicies,
    cause: str,
    *,
    reopened: bool,
    now: datetime,
) -> Envelope:
    """The hub's BookingCancelled: notice recomputed from instants, the fee per the host trust's policy."""
    assert state.start_ms is not None
    start, at = from_ms(state.start_ms), d.get("cancelled_at") or now
    notice = notice_hours(start, at)
    party = symbol(d.get("cancelled_by") or "UNKNOWN")
    policy = policies.get(state.trust_ods or "")
    fee, fee_hours = late_fee(policy.cancellation, notice, party) if policy else (False, None)
    data = {
        "booking_id": req.booking_id,
        "shift_id": state.shift_id,
        "worker": req.worker,
        "host_trust": host(state),
        "cancelled_by": party,
        "reason": symbol(d.get("reason") or "OTHER"),
        "reason_detail": d.get("reason_detail"),
        "start": start,
        "cancelled_at": at,
        "notice_hours": notice,
        "late_cancellation_fee": fee,
        "fee_hours": fee_hours,
        "shift_reopened": reopened,
    }
    return hub_event(BOOKING_CANCELLED, "cancelled", req.booking_id, data, now=now, cause=cause)


def booking_cancelled(state: ShiftState, env: Envelope, now: datetime, policies: BookingPolicies) -> Step:
    booking_id = env.data["booking_id"]
    if state.filled is None or state.filled_by != booking_id or state.status != "filled":
        return _withdraw(state, booking_id, now) or Step(state)
    req = state.filled
    reopened = bool(env.data.get("shift_reopened", True))
    out = cancelled_event(state, req, env.data, policies, env.id, reopened=reopened, now=now)
    freed = replace(state, status="open" if reopened else "cancelled", filled_by=None, filled=None)
    return drain(freed, now, policies, [out], [release(req, "cancelled")])


def shift_cancelled(state: ShiftState, env: Envelope, now: datetime, policies: BookingPolicies) -> Step:
    if state.status in ("cancelled", "awaiting_shift"):
        return Step(state)
    outputs: list[Envelope] = []
    person: list[ToPerson] = []
    if state.status == "filled" and state.filled is not None:
        req = state.filled
        outputs.append(cancelled_event(state, req, env.data, policies, env.id, reopened=False, now=now))
        person.append(release(req, "shift cancelled"))
    closed = replace(state, status="cancelled", filled_by=None, filled=None)
    text = "the shift was cancelled by the trust"
    for queued in closed.queue:  # the held one is rejected when its answer comes
        closed, out = reject(closed, queued, [fail("shift_open", "SHIFT_NOT_OPEN", text)], now)
        outputs.append(out)
    return Step(replace(closed, queue=()), outputs, person)


def no_show(state: ShiftState, env: Envelope, now: datetime) -> Step:
    booking_id = env.data["booking_id"]
    if state.filled is None or state.filled_by != booking_id or state.status != "filled":
        return Step(state)
    req, d = state.filled, env.data
    assert state.start_ms is not None
    data = {
        "booking_id": booking_id,
        "shift_id": state.shift_id,
        "worker": req.worker,
        "host_trust": host(state),
        "start": from_ms(state.start_ms),
        "recorded_at": d.get("recorded_at") or now,
        "recorded_by": d.get("recorded_by"),
        "notice_hours": d.get("notice_hours"),
        "detail": d.get("detail"),
    }
    out = hub_event(NO_SHOW, "no-show", booking_id, data, now=now, cause=env.id)
    return Step(replace(state, status="no_show"), [out], [release(req, "no-show")])


def _withdraw(state: ShiftState, booking_id: str, now: datetime) -> Step | None:
    """A vendor cancelled a request still waiting: queued ones are rejected now, a held one on its answer."""
    if state.hold is not None and state.hold.booking_id == booking_id:
        return Step(replace(state, withdrawn=(*state.withdrawn, booking_id)))
    queued = next((q for q in state.queue if q.booking_id == booking_id), None)
    if queued is None:
        return None
    state = replace(state, queue=tuple(q for q in state.queue if q.booking_id != booking_id))
    state, out = reject(state, queued, [fail("shift_open", "BOOKING_WITHDRAWN", "cancelled by the platform")], now)
    return Step(state, [out])
