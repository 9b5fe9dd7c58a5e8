"""The shift stage's decisions as events: BookingRejected, BookingConfirmed + ShiftFilled.

Every id is derived from the booking id, so re-deciding after a crash repeats the same ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.envelope import Envelope
from rosterhub.streams.booking.fill_facts import fill_facts
from rosterhub.streams.booking.messages import Release
from rosterhub.streams.booking.outcome import BOOKING_CONFIRMED, BOOKING_REJECTED, SHIFT_FILLED, hub_event
from rosterhub.streams.booking.policy import BookingPolicy
from rosterhub.streams.booking.rules import RuleResult
from rosterhub.streams.booking.saga import ordered
from rosterhub.streams.booking.state import ParkedRequest, ShiftState, from_ms

__all__ = ["confirm", "host", "reject", "reject_raw", "release"]


def host(state: ShiftState) -> dict[str, Any] | None:
    return {"ods_code": state.trust_ods, "name": state.trust_name} if state.trust_ods else None


def reject(
    state: ShiftState, req: ParkedRequest, results: list[RuleResult], now: datetime
) -> tuple[ShiftState, Envelope]:
    return reject_raw(state, req, ordered([r.to_avro() for r in results]), now)


def reject_raw(
    state: ShiftState, req: ParkedRequest, results: list[dict[str, Any]], now: datetime
) -> tuple[ShiftState, Envelope]:
    codes = [r["reason_code"] for r in results if not r["passed"] and r["reason_code"]]
    data = {**_common(state, req, results, now), "host_trust": host(state), "reason_codes": codes}
    decision = _event(BOOKING_REJECTED, "decision", req, data, now, req.event_id)
    return state.with_decision(req.booking_id, filled=False), decision


def confirm(
    state: ShiftState, req: ParkedRequest, results: list[dict[str, Any]], now: datetime, policy: BookingPolicy | None
) -> tuple[ShiftState, list[Envelope]]:
    assert state.start_ms is not None and state.end_ms is not None
    times = {"start": from_ms(state.start_ms), "end": from_ms(state.end_ms)}
    data = {**_common(state, req, results, now), "host_trust": host(state), **times, "tier": state.tier}
    confirmed = _event(BOOKING_CONFIRMED, "decision", req, data, now, req.event_id)
    home = req.extra.get("home_trust")
    filled = {
        "shift_id": state.shift_id,
        "booking_id": req.booking_id,
        "worker": req.worker,
        "host_trust": host(state),
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
    shift_filled = _event(SHIFT_FILLED, "filled", req, filled, now, confirmed.id)
    return state.with_decision(req.booking_id, filled=True, request=req), [confirmed, shift_filled]


def release(req: ParkedRequest, why: str) -> Release:
    """Tell the person stage to drop the booking from the person's timeline."""
    return Release(booking_id=req.booking_id, person_id=req.person_id, reason=why)


def _common(state: ShiftState, req: ParkedRequest, results: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "booking_id": req.booking_id,
        "shift_id": state.shift_id,
        "worker": req.worker,
        "rule_results": results,
        "decided_at": now,
        "vendor": req.vendor,
    }


def _event(type_: str, kind: str, req: ParkedRequest, data: dict[str, Any], now: datetime, causation: str) -> Envelope:
    subject = str(data[default_catalogue().get(type_).subject_field])  # ShiftFilled: the shift, not the booking
    return hub_event(type_, kind, req.booking_id, data, now=now, cause=causation, subject=subject)
