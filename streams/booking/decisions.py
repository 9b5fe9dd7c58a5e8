"""Booking id -> where its decision is on ``events.booking``, and a decision as a JSON document.

Pure: no Kafka. The read model behind ``GET /bookings/{id}/explain`` and ``rosterhub explain
<booking-id>`` keeps only a (partition, offset) per booking id, taken from the CloudEvents
headers (``ce_type``, ``ce_source``, ``ce_subject`` = booking id) without decoding a body, and
fetches the one record it needs on demand (:mod:`.decision_reader`). ``events.booking`` is kept
forever, so an offset names a decision for good and the index is rebuilt from the topic after a
restart; it reads the processor's *output*, so it is the same whatever number of workers wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rosterhub.envelope import Envelope, headers_dict
from rosterhub.events.models import BookingConfirmed, BookingRejected
from rosterhub.streams.booking.outcome import SOURCE
from rosterhub.streams.booking.rules import RuleResult, explain_decision, reason_codes

__all__ = [
    "DECISION_TYPES",
    "DecisionIndex",
    "DecisionRef",
    "decision_booking_id",
    "decision_document",
]

DECISION_TYPES = frozenset({BookingConfirmed.AVRO_NAME, BookingRejected.AVRO_NAME})


@dataclass(frozen=True, slots=True)
class DecisionRef:
    """Where one decision record is on events.booking."""

    partition: int
    offset: int


def decision_booking_id(headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None) -> str | None:
    """The booking id of a record if it is a booking decision by the hub (from its headers), else None."""
    h = headers_dict(headers)
    if h.get("ce_type", b"").decode(errors="replace") not in DECISION_TYPES:
        return None
    if (
        h.get("ce_source", b"").decode(errors="replace") != SOURCE
    ):  # the booking processor's own outcomes are decisions (vendor events are inputs)
        return None
    subject = h.get("ce_subject")
    return subject.decode(errors="replace") if subject else None


class DecisionIndex:
    """Booking id -> the latest decision record seen for it (a redelivered decision replaces the earlier one)."""

    def __init__(self) -> None:
        self._refs: dict[str, DecisionRef] = {}

    def __len__(self) -> int:
        return len(self._refs)

    def apply(self, partition: int, offset: int, headers: Any) -> str | None:
        """Index one record of events.booking; returns the booking id when it was a decision."""
        booking_id = decision_booking_id(headers)
        if booking_id is not None:
            seen = self._refs.get(booking_id)
            if seen is None or seen.partition != partition or offset > seen.offset:
                self._refs[booking_id] = DecisionRef(partition, offset)
        return booking_id

    def get(self, booking_id: str) -> DecisionRef | None:
        return self._refs.get(booking_id)


def decision_document(env: Envelope, ref: DecisionRef | None = None) -> dict[str, Any]:
    """A decision as JSON for the API and ``--json``: outcome, every rule with its code's meaning, and the text."""
    d = env.data
    results = [RuleResult.from_avro(r) for r in d.get("rule_results", [])]
    confirmed = env.type.endswith("BookingConfirmed")
    meanings = reason_codes()
    event: dict[str, Any] = {"id": env.id, "type": env.type, "source": env.source, "time": env.time}
    if ref is not None:
        event |= {"partition": ref.partition, "offset": ref.offset}
    doc = {
        "booking_id": d.get("booking_id"),
        "shift_id": d.get("shift_id"),
        "outcome": "CONFIRMED" if confirmed else "REJECTED",
        "decided_at": d.get("decided_at"),
        "host_trust": d.get("host_trust"),
        "vendor": d.get("vendor"),
        "worker": d.get("worker"),
        "reason_codes": [{"code": c, "meaning": meanings.get(c)} for c in d.get("reason_codes") or []],
        "rules": [
            {
                "rule": r.rule,
                "passed": r.passed,
                "mark": "FAIL" if not r.passed else "note" if r.reason_code else "pass",
                "reason_code": r.reason_code,
                "meaning": meanings.get(r.reason_code) if r.reason_code else None,
                "detail": r.detail,
            }
            for r in results
        ],
        "explanation": explain_decision({"type": env.type, "data": d}),
        "event": event,
    }
    return {key: _jsonable(value) for key, value in doc.items()}


def _jsonable(value: Any) -> Any:
    """Decoded Avro as plain JSON: instants and dates as ISO 8601, decimals as strings (no float rounding)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value
