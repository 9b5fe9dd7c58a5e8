"""The shift stage of the booking saga: (shift state, input) -> (new state, events, person checks).

Pure: no Kafka, no clock (``now`` is passed in), no files (policies are passed in). One
writer per shift (the table is keyed by shift id) decides every request for that shift:

* a request for a shift that is filled, cancelled or gone is rejected at once;
* otherwise the shift rules run, the shift is *held* for the request and a *check* goes
  to the person stage (:mod:`.person`); later requests queue behind the hold, in order;
* the person stage's *answer* carries every rule's result: BookingConfirmed (+ ShiftFilled)
  when all passed, else BookingRejected; the hold is released and the queue decided.

Vendor cancellations, no-shows and shift cancellations free or close the shift, tell the
person stage to drop the booking, and become the hub's own BookingCancelled / NoShow.
A filled (or held) shift the platform re-times sends a *retime* to the person stage; if the
new times clash with another of the person's bookings the person stage answers with a
*conflict* and the booking is cancelled by the hub (:func:`conflict`). A hold whose answer
never comes re-sends its check and is finally rejected ``PERSON_CHECK_TIMEOUT`` (:func:`tick`).
Every id is derived from the booking id, so re-deciding after a crash repeats the same ids.
See docs/decisions/0007-booking-saga.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.envelope import Envelope, event_id
from rosterhub.streams.booking.cancellation import late_fee, notice_hours
from rosterhub.streams.booking.fill_facts import fill_facts
from rosterhub.streams.booking.policy import BookingPolicies, BookingPolicy
from rosterhub.streams.booking.rules import SHIFT, RuleContext, RuleResult, run, shift_open, stage
from rosterhub.streams.booking.rules.result import fail
from rosterhub.streams.booking.saga import (
    CHECK,
    RELEASE,
    RETIME,
    booking_request,
    missing_inputs,
    ordered,
    request_of,
    shift_json,
    shift_spec,
)
from rosterhub.streams.booking.state import ParkedRequest, ShiftState, from_ms, to_ms

__all__ = [
    "BOOKING_REQUESTED",
    "SHIFT_POSTED",
    "SOURCE",
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

SHIFT_POSTED = "rosterhub.shift.v1.ShiftPosted"
SHIFT_UPDATED = "rosterhub.shift.v1.ShiftUpdated"
SHIFT_RELEASED = "rosterhub.shift.v1.ShiftReleased"
SHIFT_CANCELLED = "rosterhub.shift.v1.ShiftCancelled"
BOOKING_REQUESTED = "rosterhub.booking.v1.BookingRequested"
BOOKING_CONFIRMED = "rosterhub.booking.v1.BookingConfirmed"
BOOKING_REJECTED = "rosterhub.booking.v1.BookingRejected"
BOOKING_CANCELLED = "rosterhub.booking.v1.BookingCancelled"
SHIFT_FILLED = "rosterhub.booking.v1.ShiftFilled"
NO_SHOW = "rosterhub.booking.v1.NoShow"
SOURCE = "/rosterhub/booking"


@dataclass(frozen=True, slots=True)
class HoldTimers:
    """When a hold is overdue: re-send its check after ``resend``, reject the request after ``timeout``."""

    grace: timedelta  # parked requests: SHIFT_UNKNOWN after this
    resend: timedelta
    timeout: timedelta


@dataclass(frozen=True, slots=True)
class Step:
    """What one input produced: the new state, events for events.booking, messages for the person stage."""

    state: ShiftState | None
    outputs: list[Envelope] = field(default_factory=list)
    person: list[dict[str, Any]] = field(default_factory=list)  # saga checks and releases (key: person_id)


def step(state: ShiftState | None, env: Envelope, *, now: datetime, policies: BookingPolicies | None = None) -> Step:
    """One input from events.shift, events.booking (vendor-authored only) or booking-requests."""
    policies = policies or BookingPolicies({})
    if env.type in (SHIFT_POSTED, SHIFT_UPDATED):
        return _posted(state, env, now, policies)
    if env.source == SOURCE or (state is None and env.type != BOOKING_REQUESTED):
        return Step(state)  # decisions we wrote ourselves; news of a shift we never saw
    if env.type == BOOKING_REQUESTED:
        return _requested(state, env, now, policies)
    assert state is not None
    if env.type == SHIFT_RELEASED:
        if state.status == "awaiting_shift":
            return Step(state)
        return Step(replace(state, tier=_wider(state.tier, _sym(env.data["to_tier"]))))
    if env.type == SHIFT_CANCELLED:
        return _shift_cancelled(state, env, now, policies)
    if env.type == BOOKING_CANCELLED:
        return _booking_cancelled(state, env, now, policies)
    if env.type == NO_SHOW:
        return _no_show(state, env, now)
    return Step(state)  # events for other processors


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
        state, decision = _reject(state, parked, results, now)
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


def due(state: ShiftState, *, now: datetime, timers: HoldTimers) -> bool:
    """Something for :func:`tick` to do: a parked request past the grace, or a hold waiting past ``resend``."""
    at = due_ms(state, timers=timers)
    return at is not None and at <= to_ms(now)


def due_ms(state: ShiftState, *, timers: HoldTimers) -> int | None:
    """When :func:`tick` next has something to do for this shift (epoch ms), or None: nothing parked or held.

    The timer keeps this per shift in a :class:`~rosterhub.streams.schedule.Schedule` instead of decoding every
    shift on every beat. A hold's timeout needs no instant of its own: it is only ever acted on by a tick that is
    due for a re-send (:func:`tick` gives up instead of re-sending).
    """
    instants = []
    if state.status == "awaiting_shift" and state.parked:
        instants.append(min(p.parked_at_ms for p in state.parked) + _ms(timers.grace))
    if state.hold is not None and state.hold_sent_ms is not None:
        instants.append(state.hold_sent_ms + _ms(timers.resend))
    return min(instants, default=None)


def tick(state: ShiftState, *, now: datetime, timers: HoldTimers, policies: BookingPolicies | None = None) -> Step:
    """The timer's step: expire parked requests; re-send a waiting hold's check, or give up on it.

    A hold older than ``timeout`` is rejected ``PERSON_CHECK_TIMEOUT`` (with the shift rules' results) as if the
    person stage had answered so, releasing the person (who may have been recorded) and deciding the queue. Else a
    check last sent ``resend`` ago is sent again, byte for byte: the person stage answers it from its stored
    answer if the answer was lost, or checks it now if the check was.
    """
    parked = expire(state, now=now, grace=timers.grace)
    state = parked.state or state
    ms = to_ms(now)
    if state.hold is None or state.hold_check is None or state.hold_sent_ms is None:
        return parked
    if state.hold_sent_ms > ms - _ms(timers.resend):
        return parked
    if _hold_expired(state, ms, timers):
        waited = (ms - (state.held_at_ms or ms)) / 1000
        text = f"no answer from the person stage within {waited:.0f} s (timeout {timers.timeout.total_seconds():g} s)"
        timeout = fail("person_check", "PERSON_CHECK_TIMEOUT", text).to_avro()
        # "recorded": the person stage may have recorded it after all, so release it either way.
        msg = {
            "booking_id": state.hold.booking_id,
            "results": [*state.hold_check["shift_results"], timeout],
            "recorded": True,
        }
        gave_up = answer(state, msg, now=now, policies=policies)
        return Step(gave_up.state, [*parked.outputs, *gave_up.outputs], [*parked.person, *gave_up.person])
    resent = replace(state, hold_sent_ms=ms, hold_resends=state.hold_resends + 1)
    if state.hold_restamp is not None:  # the check was refused: nothing to re-send until it is stamped again
        return Step(resent, parked.outputs, parked.person)
    return Step(resent, parked.outputs, [*parked.person, state.hold_check])


def _ms(d: timedelta) -> int:
    return int(d.total_seconds() * 1000)


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
    return _drain(cleared, now, policies or BookingPolicies({}), [], [])


def _hold_expired(state: ShiftState, ms: int, timers: HoldTimers) -> bool:
    """Held ``timeout`` ago, and the check has been sent often enough, ``resend`` apart, to span the timeout: a
    worker catching up on a backlog re-sends before it gives up, rather than failing holds it has just made."""
    sends = state.hold_resends + 1
    return (
        state.held_at_ms is not None
        and state.held_at_ms <= ms - _ms(timers.timeout)
        and sends * _ms(timers.resend) >= _ms(timers.timeout)
    )


def conflict(
    state: ShiftState | None, msg: dict[str, Any], *, now: datetime, policies: BookingPolicies | None = None
) -> Step:
    """The person stage found the filling booking's new times clash with another booking of the person.

    The hub cancels the re-timed booking (``cancelled_by: HUB``, ``WORKER_UNAVAILABLE``, the detail naming the
    clash) and reopens the shift: the person was booked first elsewhere, and the rota manager sees a cancellation
    on their platform rather than a silent double booking. Ignored unless the booking still fills the shift.
    """
    booking_id = msg["booking_id"]
    if state is None or state.status != "filled" or state.filled_by != booking_id or state.filled is None:
        return Step(state)  # already cancelled, or a redelivered conflict
    policies = policies or BookingPolicies({})
    d = {"cancelled_by": "HUB", "reason": "WORKER_UNAVAILABLE", "reason_detail": msg["detail"], "cancelled_at": now}
    out = _cancelled_event(state, state.filled, d, policies, msg["cause"], reopened=True, now=now)
    freed = replace(state, status="open", filled_by=None, filled=None)
    return _drain(freed, now, policies, [out], [_release(state.filled, "re-timed into a clash")])


def answer(
    state: ShiftState | None, msg: dict[str, Any], *, now: datetime, policies: BookingPolicies | None = None
) -> Step:
    """The person stage's answer for the held request: decide it, release the hold, decide the queue."""
    booking_id = msg["booking_id"]
    if state is None or state.hold is None or state.hold.booking_id != booking_id:
        return Step(state)  # a redelivered answer for a booking already decided
    if msg.get("restamp") is not None:
        # The person stage has seen an identity change for the stamped person after the copy that stamped it:
        # keep the hold and stamp again once this worker's copy has the change (docs/decisions/0012).
        if msg.get("person_id") != state.hold.person_id or state.hold_restamp is not None:
            return Step(state)  # for an earlier stamp, or already waiting to restamp
        return Step(replace(state, hold_restamp=int(msg["restamp"])))
    req, results = state.hold, ordered(msg["results"])
    state = replace(state, hold=None, hold_check=None, held_at_ms=None, hold_sent_ms=None, hold_resends=0)
    release = [_release(req, "rejected")] if msg.get("recorded") else []
    if booking_id in state.withdrawn:
        results = [*results, fail("shift_open", "BOOKING_WITHDRAWN", "cancelled by the platform").to_avro()]
        state, out = _reject_raw(replace(state, withdrawn=_minus(state.withdrawn, booking_id)), req, results, now)
        return _drain(state, now, policies or BookingPolicies({}), [out], release)
    if state.status != "open":
        text = f"the shift was {state.status} while the person check ran"
        results = [r for r in results if r["rule"] != "shift_open"]
        results = ordered([fail("shift_open", "SHIFT_NOT_OPEN", text).to_avro(), *results])
        state, out = _reject_raw(state, req, results, now)
        return _drain(state, now, policies or BookingPolicies({}), [out], release)
    if all(r["passed"] for r in results) and msg.get("recorded"):
        state, outs = _confirm(state, req, results, now, (policies or BookingPolicies({})).get(state.trust_ods or ""))
        return _drain(state, now, policies or BookingPolicies({}), outs, [])
    state, out = _reject_raw(state, req, results, now)
    return _drain(state, now, policies or BookingPolicies({}), [out], release)


# --- shifts ---------------------------------------------------------------------------------------------------


_TIERS = ("OWN_BANK", "COLLABORATIVE_BANK", "AGENCY_TIER_1", "AGENCY_TIER_2", "AGENCY_TIER_3")


def _wider(current: str, offered: str) -> str:
    """The release cascade only widens: a platform's ShiftUpdated (whose ``tier`` defaults to OWN_BANK) or a
    late ShiftReleased never takes a shift back from workers the hub already released it to."""
    rank = {t: i for i, t in enumerate(_TIERS)}
    return max(current, offered, key=lambda t: rank.get(t, 0))


def _sym(v: Any) -> str:
    return v if isinstance(v, str) else str(getattr(v, "value", v))


def _posted(state: ShiftState | None, env: Envelope, now: datetime, policies: BookingPolicies) -> Step:
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
        staff_group=_sym(d["staff_group"]) if d.get("staff_group") else base.staff_group,
        grade=d.get("grade", base.grade),
        tier=_wider(base.tier, _sym(d["tier"])) if d.get("tier") else base.tier,
        shift_type=_sym(d["shift_type"]) if d.get("shift_type") else base.shift_type,
        rate=str(rate) if rate is not None else None,
        vendor=d.get("vendor", base.vendor),
        posted_at_ms=to_ms(d["posted_at"]) if d.get("posted_at") else base.posted_at_ms,
        parked=(),
        queue=(*base.queue, *base.parked),  # requests that arrived first, in arrival order
    )
    opened, person = _retimed(base, opened, env)
    return _drain(opened, now, policies, [], person)


def _retimed(before: ShiftState, after: ShiftState, cause: Envelope) -> tuple[ShiftState, list[dict[str, Any]]]:
    """New times for a filled or held shift: the person stage must move the booking (overlap and working-time
    checks of the person's later requests read its times), and a re-sent check must carry them."""
    if before.status == "awaiting_shift" or (before.start_ms, before.end_ms) == (after.start_ms, after.end_ms):
        return after, []
    shift = shift_json(after)
    booking = after.filled if after.status == "filled" else after.hold
    if booking is None or booking.person_id is None:
        return after, []
    if after.status != "filled" and after.hold_check is not None:
        after = replace(after, hold_check={**after.hold_check, "shift": shift})
    msg = {
        "kind": RETIME,
        "booking_id": booking.booking_id,
        "shift_id": after.shift_id,
        "person_id": booking.person_id,
        "shift": shift,
        "cause": cause.id,
    }
    return after, [msg]


# --- requests -------------------------------------------------------------------------------------------------


def _requested(state: ShiftState | None, env: Envelope, now: datetime, policies: BookingPolicies) -> Step:
    booking_id = env.data["booking_id"]
    if state is not None and (booking_id in state.decided or state.waiting(booking_id)):
        return Step(state)  # already decided or waiting: a redelivered request changes nothing
    req = request_of(env, parked_at_ms=to_ms(now))
    if state is None or state.status == "awaiting_shift":
        base = state or ShiftState(shift_id=env.data["shift_id"], status="awaiting_shift")
        return Step(replace(base, parked=(*base.parked, req)))
    if state.hold is not None:
        return Step(replace(state, queue=(*state.queue, req)))
    return _drain(replace(state, queue=(*state.queue, req)), now, policies, [], [])


def _drain(
    state: ShiftState, now: datetime, policies: BookingPolicies, outputs: list[Envelope], person: list[dict[str, Any]]
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
) -> tuple[ShiftState, list[Envelope], list[dict[str, Any]]]:
    """Reject at once, or run the shift rules, hold the shift and ask the person stage."""
    opened = shift_open(state, req.booking_id)
    if not opened.passed:
        state, out = _reject(state, req, [opened], now)
        return state, [out], []
    pre = _pre_checks(state, req, policies)
    policy = policies.get(state.trust_ods or "")
    if any(not r.passed for r in pre if r.rule != "worker_known") or policy is None:
        state, out = _reject(state, req, [opened, *pre], now)
        return state, [out], []
    ctx = RuleContext(booking_request(req), shift_spec(shift_json(state)), policy)
    # shift_open was judged from the state above, before a context could be built
    results = [opened, *pre, *run(ctx, (r for r in stage(SHIFT) if r.id != opened.rule), policy)]
    if req.person_id is None:  # nobody to check: every shift rule is reported, the person rules cannot run
        state, out = _reject(state, req, results, now)
        return state, [out], []
    check = {
        "kind": CHECK,
        "booking_id": req.booking_id,
        "shift_id": state.shift_id,
        "person_id": req.person_id,
        "request": {"extra": req.extra, "vendor": req.vendor},
        "person_v": req.person_v,
        "shift": shift_json(state),
        "shift_results": [r.to_avro() for r in results],
    }
    held = replace(state, hold=req, hold_check=check, held_at_ms=to_ms(now), hold_sent_ms=to_ms(now))
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


# --- decisions ------------------------------------------------------------------------------------------------


def _common(state: ShiftState, req: ParkedRequest, results: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "booking_id": req.booking_id,
        "shift_id": state.shift_id,
        "worker": req.worker,
        "rule_results": results,
        "decided_at": now,
        "vendor": req.vendor,
    }


def _host(state: ShiftState) -> dict[str, Any] | None:
    return {"ods_code": state.trust_ods, "name": state.trust_name} if state.trust_ods else None


def _event(
    type_: str, kind: str, state: ShiftState, req: ParkedRequest, data: dict[str, Any], now: datetime, causation: str
) -> Envelope:
    return Envelope(
        type=type_,
        source=SOURCE,
        data=data,
        id=event_id(kind, req.booking_id),
        subject=str(data[default_catalogue().get(type_).subject_field]),  # ShiftFilled: the shift, not the booking
        time=now,
        extensions={"causationid": causation},
    )


def _reject(
    state: ShiftState, req: ParkedRequest, results: list[RuleResult], now: datetime
) -> tuple[ShiftState, Envelope]:
    return _reject_raw(state, req, ordered([r.to_avro() for r in results]), now)


def _reject_raw(
    state: ShiftState, req: ParkedRequest, results: list[dict[str, Any]], now: datetime
) -> tuple[ShiftState, Envelope]:
    codes = [r["reason_code"] for r in results if not r["passed"] and r["reason_code"]]
    data = {**_common(state, req, results, now), "host_trust": _host(state), "reason_codes": codes}
    decision = _event(BOOKING_REJECTED, "decision", state, req, data, now, req.event_id)
    return state.with_decision(req.booking_id, filled=False), decision


def _confirm(
    state: ShiftState, req: ParkedRequest, results: list[dict[str, Any]], now: datetime, policy: BookingPolicy | None
) -> tuple[ShiftState, list[Envelope]]:
    assert state.start_ms is not None and state.end_ms is not None
    times = {"start": from_ms(state.start_ms), "end": from_ms(state.end_ms)}
    data = {**_common(state, req, results, now), "host_trust": _host(state), **times, "tier": state.tier}
    confirmed = _event(BOOKING_CONFIRMED, "decision", state, req, data, now, req.event_id)
    home = req.extra.get("home_trust")
    filled = {
        "shift_id": state.shift_id,
        "booking_id": req.booking_id,
        "worker": req.worker,
        "host_trust": _host(state),
        "home_trust": {"ods_code": home, "name": None} if home else None,
        "staff_group": state.staff_group or "OTHER",
        "shift_type": state.shift_type,
        "tier": state.tier,
        "membership_type": req.extra.get("membership") or "OTHER",
        **times,
        "posted_at": from_ms(state.posted_at_ms) if state.posted_at_ms else None,
        "filled_at": now,
        "vendor": req.vendor,
        **fill_facts(state, req, results, policy),  # rate, cap, framework, break glass: the KPIs' facts
    }
    shift_filled = _event(SHIFT_FILLED, "filled", state, req, filled, now, confirmed.id)
    return state.with_decision(req.booking_id, filled=True, request=req), [confirmed, shift_filled]


def _release(req: ParkedRequest, why: str) -> dict[str, Any]:
    return {"kind": RELEASE, "booking_id": req.booking_id, "person_id": req.person_id, "reason": why}


def _minus(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return tuple(i for i in items if i != item)


# --- cancellations and no-shows -------------------------------------------------------------------------------


def _cancelled_event(
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
    party = _sym(d.get("cancelled_by") or "UNKNOWN")
    policy = policies.get(state.trust_ods or "")
    fee, fee_hours = late_fee(policy.cancellation, notice, party) if policy else (False, None)
    data = {
        "booking_id": req.booking_id,
        "shift_id": state.shift_id,
        "worker": req.worker,
        "host_trust": _host(state),
        "cancelled_by": party,
        "reason": _sym(d.get("reason") or "OTHER"),
        "reason_detail": d.get("reason_detail"),
        "start": start,
        "cancelled_at": at,
        "notice_hours": notice,
        "late_cancellation_fee": fee,
        "fee_hours": fee_hours,
        "shift_reopened": reopened,
    }
    return Envelope(
        type=BOOKING_CANCELLED,
        source=SOURCE,
        data=data,
        id=event_id("cancelled", req.booking_id),
        subject=req.booking_id,
        time=now,
        extensions={"causationid": cause},
    )


def _withdraw(state: ShiftState, booking_id: str, now: datetime) -> Step | None:
    """A vendor cancelled a request still waiting: queued ones are rejected now, a held one on its answer."""
    if state.hold is not None and state.hold.booking_id == booking_id:
        return Step(replace(state, withdrawn=(*state.withdrawn, booking_id)))
    queued = next((q for q in state.queue if q.booking_id == booking_id), None)
    if queued is None:
        return None
    state = replace(state, queue=tuple(q for q in state.queue if q.booking_id != booking_id))
    state, out = _reject(state, queued, [fail("shift_open", "BOOKING_WITHDRAWN", "cancelled by the platform")], now)
    return Step(state, [out])


def _booking_cancelled(state: ShiftState, env: Envelope, now: datetime, policies: BookingPolicies) -> Step:
    booking_id = env.data["booking_id"]
    if state.filled is None or state.filled_by != booking_id or state.status != "filled":
        return _withdraw(state, booking_id, now) or Step(state)
    req = state.filled
    reopened = bool(env.data.get("shift_reopened", True))
    out = _cancelled_event(state, req, env.data, policies, env.id, reopened=reopened, now=now)
    freed = replace(state, status="open" if reopened else "cancelled", filled_by=None, filled=None)
    return _drain(freed, now, policies, [out], [_release(req, "cancelled")])


def _shift_cancelled(state: ShiftState, env: Envelope, now: datetime, policies: BookingPolicies) -> Step:
    if state.status in ("cancelled", "awaiting_shift"):
        return Step(state)
    outputs, person = [], []
    if state.status == "filled" and state.filled is not None:
        req = state.filled
        outputs.append(_cancelled_event(state, req, env.data, policies, env.id, reopened=False, now=now))
        person.append(_release(req, "shift cancelled"))
    closed = replace(state, status="cancelled", filled_by=None, filled=None)
    text = "the shift was cancelled by the trust"
    for queued in closed.queue:  # the held one is rejected when its answer comes
        closed, out = _reject(closed, queued, [fail("shift_open", "SHIFT_NOT_OPEN", text)], now)
        outputs.append(out)
    return Step(replace(closed, queue=()), outputs, person)


def _no_show(state: ShiftState, env: Envelope, now: datetime) -> Step:
    booking_id = env.data["booking_id"]
    if state.filled is None or state.filled_by != booking_id or state.status != "filled":
        return Step(state)
    req, d = state.filled, env.data
    assert state.start_ms is not None
    data = {
        "booking_id": booking_id,
        "shift_id": state.shift_id,
        "worker": req.worker,
        "host_trust": _host(state),
        "start": from_ms(state.start_ms),
        "recorded_at": d.get("recorded_at") or now,
        "recorded_by": d.get("recorded_by"),
        "notice_hours": d.get("notice_hours"),
        "detail": d.get("detail"),
    }
    out = Envelope(
        type=NO_SHOW,
        source=SOURCE,
        data=data,
        id=event_id("no-show", booking_id),
        subject=booking_id,
        time=now,
        extensions={"causationid": env.id},
    )
    return Step(replace(state, status="no_show"), [out], [_release(req, "no-show")])
