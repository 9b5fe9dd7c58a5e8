"""Requests on the shift stage: park, queue, and decide the head of the queue (reject at once, or hold and check).

A request for a shift that is filled, cancelled or gone is rejected at once; otherwise the shift rules run,
the shift is *held* for the request and a :class:`~.messages.Check` goes to the person stage
(:mod:`.person`); later requests queue behind the hold, in order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from rosterhub.envelope import Envelope
from rosterhub.streams.booking.messages import Check
from rosterhub.streams.booking.outcome import Step, ToPerson
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.booking.rules import SHIFT, RuleContext, RuleResult, run, shift_open, stage
from rosterhub.streams.booking.rules.result import fail
from rosterhub.streams.booking.saga import booking_request, missing_inputs, request_of, shift_json, shift_spec
from rosterhub.streams.booking.state import ParkedRequest, ShiftState, to_ms
from rosterhub.streams.booking.verdict import reject

__all__ = ["drain", "requested"]


def requested(state: ShiftState | None, env: Envelope, now: datetime, policies: BookingPolicies) -> Step:
    booking_id = env.data["booking_id"]
    if state is not None and (booking_id in state.decided or state.waiting(booking_id)):
        return Step(state)  # already decided or waiting: a redelivered request changes nothing
    req = request_of(env, parked_at_ms=to_ms(now))
    if state is None or state.status == "awaiting_shift":
        base = state or ShiftState(shift_id=env.data["shift_id"], status="awaiting_shift")
        return Step(replace(base, parked=(*base.parked, req)))
    if state.hold is not None:
        return Step(replace(state, queue=(*state.queue, req)))
    return drain(replace(state, queue=(*state.queue, req)), now, policies, [], [])


def drain(
    state: ShiftState, now: datetime, policies: BookingPolicies, outputs: list[Envelope], person: list[ToPerson]
) -> Step:
    """Decide queued requests in order until one holds the shift (or none is left)."""
    while state.hold is None and state.queue and state.status != "awaiting_shift":
        req, state = state.queue[0], replace(state, queue=state.queue[1:])
        state, out, check = _begin(state, req, now, policies)
        outputs += out
        person += check
    return Step(state, outputs, person)


def _begin(
    state: ShiftState, req: ParkedRequest, now: datetime, policies: BookingPolicies
) -> tuple[ShiftState, list[Envelope], list[ToPerson]]:
    """Reject at once, or run the shift rules, hold the shift and ask the person stage."""
    opened = shift_open(state, req.booking_id)
    if not opened.passed:
        state, out = reject(state, req, [opened], now)
        return state, [out], []
    pre = _pre_checks(state, req, policies)
    policy = policies.get(state.trust_ods or "")
    if any(not r.passed for r in pre if r.rule != "worker_known") or policy is None:
        state, out = reject(state, req, [opened, *pre], now)
        return state, [out], []
    ctx = RuleContext(booking_request(req), shift_spec(shift_json(state)), policy)
    # shift_open was judged from the state above, before a context could be built
    results = [opened, *pre, *run(ctx, (r for r in stage(SHIFT) if r.id != opened.rule), policy)]
    if req.person_id is None:  # nobody to check: every shift rule is reported, the person rules cannot run
        state, out = reject(state, req, results, now)
        return state, [out], []
    check = Check(
        booking_id=req.booking_id,
        shift_id=state.shift_id,
        person_id=req.person_id,
        request={"extra": req.extra, "vendor": req.vendor},
        person_v=req.person_v,
        shift=shift_json(state),
        shift_results=[r.to_avro() for r in results],
    )
    held = replace(state, hold=req, hold_check=check.to_wire(), held_at_ms=to_ms(now), hold_sent_ms=to_ms(now))
    return held, [], [check]


def _pre_checks(state: ShiftState, req: ParkedRequest, policies: BookingPolicies) -> list[RuleResult]:
    out = []
    if req.person_id is None:
        ids = ", ".join(f"{i.get('system')}|{i.get('value')}" for i in req.worker.get("identifiers") or ()) or "none"
        out.append(fail("worker_known", "WORKER_UNKNOWN", f"no single person holds the identifiers: {ids}"))
    missing = missing_inputs(req)
    if missing:
        text = f"the {req.vendor} request does not carry the worker's {' and '.join(missing)}"
        out.append(fail("request_complete", "REQUEST_INCOMPLETE", text))
    if policies.get(state.trust_ods or "") is None:
        out.append(fail("booking_policy", "NO_BOOKING_POLICY", f"no booking policy for trust {state.trust_ods}"))
    return out
