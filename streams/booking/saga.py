"""The values the booking rules are built from, as the two saga stages pass them, and the decision order.

The messages themselves are typed in :mod:`.messages` (a check carries :func:`shift_json` and the request's
``extra``; the stages rebuild the rules' view with :func:`shift_spec` and :func:`booking_request`). Instants
are epoch milliseconds, decimals strings, enums their symbols, so a redelivered message is byte-identical and
decisions made from it are too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.events.models.common import MembershipType, ReleaseTier, ShiftType, StaffGroup
from rosterhub.streams.booking.messages import HEADER, dumps, loads  # identity sends the person stage its messages
from rosterhub.streams.booking.rules import BookingRequest, ShiftSpec, registry
from rosterhub.streams.booking.state import ParkedRequest, ShiftState, from_ms, to_ms
from rosterhub.streams.identity.outputs import PERSON_VERSION

__all__ = [
    "HEADER",
    "POST_CHECKS",
    "PRE_CHECKS",
    "booking_request",
    "dumps",
    "loads",
    "ordered",
    "request_of",
    "shift_json",
    "shift_spec",
]

#: Checks the shift stage makes before any rule can run; they sort before the rules in a decision.
PRE_CHECKS = ("worker_known", "request_complete", "booking_policy")
#: Checks about the saga itself, after every rule: the person stage never answered (``PERSON_CHECK_TIMEOUT``).
POST_CHECKS = ("person_check",)
_PRE = {check: i - len(PRE_CHECKS) for i, check in enumerate(PRE_CHECKS)}
_POST = {check: 1_000_000 + i for i, check in enumerate(POST_CHECKS)}

#: Request fields the rules read, beyond the envelope's own (booking id, shift id, worker, vendor, time).
EXTRA_FIELDS = (
    "membership",
    "grade",
    "staff_group",
    "home_trust",
    "substantive_employer",
    "agency",
    "framework",
    "charge_rate",
    "break_glass",
    "break_glass_authoriser",
    "wtr_opt_out",
)


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if hasattr(v, "value") and not isinstance(v, (str, int, float, bool)):
        return v.value  # an enum
    return v


def request_of(env: Envelope, *, parked_at_ms: int) -> ParkedRequest:
    """A BookingRequested envelope as the JSON-able request the shift table keeps."""
    d = env.data
    extra = {k: _plain(d.get(k)) for k in EXTRA_FIELDS if d.get(k) is not None}
    worker = {**d["worker"], "identifiers": [dict(i) for i in d["worker"].get("identifiers") or ()]}
    version = env.extensions.get(PERSON_VERSION)
    return ParkedRequest(
        event_id=env.id,
        source=env.source,
        booking_id=d["booking_id"],
        worker=worker,
        vendor=d["vendor"],
        requested_at_ms=to_ms(d["requested_at"]),
        parked_at_ms=parked_at_ms,
        extra=extra,
        person_v=int(version) if version is not None and worker.get("person_id") else None,
    )


def missing_inputs(req: ParkedRequest) -> list[str]:
    """Request fields the rules cannot do without (membership missing is the rules' MEMBERSHIP_UNKNOWN)."""
    return [k for k in ("grade", "staff_group") if not req.extra.get(k)]


def booking_request(req: ParkedRequest) -> BookingRequest:
    """The rules' view of a request; call only when :func:`missing_inputs` is empty."""
    x = req.extra
    rate = x.get("charge_rate")
    return BookingRequest(
        booking_id=req.booking_id,
        person_id=req.person_id or "",
        membership=MembershipType(x.get("membership") or "OTHER"),
        grade=x["grade"],
        staff_group=StaffGroup(x["staff_group"]),
        home_trust=x.get("home_trust"),
        substantive_employer=x.get("substantive_employer"),
        agency=x.get("agency"),
        framework=x.get("framework"),
        charge_rate=Decimal(rate) if rate is not None else None,
        break_glass=bool(x.get("break_glass")),
        break_glass_authoriser=x.get("break_glass_authoriser"),
        wtr_opt_out=bool(x.get("wtr_opt_out")),
    )


def shift_json(state: ShiftState) -> dict[str, Any]:
    """What the person stage needs of the shift (it has no shift table of its own)."""
    return {
        "shift_id": state.shift_id,
        "version": state.version,
        "trust": state.trust_ods,
        "staff_group": state.staff_group,
        "grade": state.grade,
        "start": state.start_ms,
        "end": state.end_ms,
        "tier": state.tier,
        "rate": state.rate,
        "shift_type": state.shift_type,
        "status": state.status,
        "filled_by": state.filled_by,
    }


def shift_spec(s: dict[str, Any]) -> ShiftSpec:
    return ShiftSpec(
        shift_id=s["shift_id"],
        trust=s["trust"],
        staff_group=StaffGroup(s["staff_group"]),
        grade=s["grade"],
        start=from_ms(s["start"]),
        end=from_ms(s["end"]),
        tier=ReleaseTier(s["tier"]),
        rate=Decimal(s["rate"]) if s.get("rate") is not None else None,
        shift_type=ShiftType(s["shift_type"]),
        status=s.get("status", "open"),
        filled_by=s.get("filled_by"),
    )


def ordered(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results (Avro dicts) in decision order: pre-checks, then the rules in evaluation order."""
    return sorted(results, key=lambda r: _rank(r["rule"]))


def _rank(rule: str) -> int:
    """Pre-checks, then the registered rules in evaluation order, then the saga's own checks, then anything else."""
    at = registry.position(rule)
    return at if at is not None else _PRE.get(rule, _POST.get(rule, 2_000_000))
