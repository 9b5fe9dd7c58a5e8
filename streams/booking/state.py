"""What the booking processor remembers per shift: small, JSON-able, versioned.

Kept in a faust table keyed by shift id (changelog-backed), so a restarted worker
resumes with the same answers. Only ids, versions, instants and parked requests.

A request can arrive before its shift: the two live on different topics, and Kafka
orders records only within one partition of one topic. Such a request is *parked* on
an ``awaiting_shift`` state and decided when the shift arrives, or rejected with
``SHIFT_UNKNOWN`` once a grace period has passed (a timer, not the next event).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

__all__ = ["ParkedRequest", "ShiftState", "from_ms", "to_ms"]


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class ParkedRequest:
    """A BookingRequested waiting for its shift: the envelope's parts, JSON-able."""

    event_id: str
    source: str
    booking_id: str
    worker: dict[str, Any]
    vendor: str
    requested_at_ms: int
    parked_at_ms: int


@dataclass(frozen=True, slots=True)
class ShiftState:
    shift_id: str
    status: str  # "awaiting_shift" | "open" | "filled"
    version: int = 0
    trust_ods: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    trust_name: str | None = None
    filled_by: str | None = None  # booking id that filled it
    decided: tuple[str, ...] = field(default_factory=tuple)  # booking ids already decided (idempotency)
    parked: tuple[ParkedRequest, ...] = field(default_factory=tuple)

    def to_table(self) -> dict[str, Any]:
        d = asdict(self)
        d["decided"] = list(self.decided)
        d["parked"] = [asdict(p) for p in self.parked]
        return d

    @classmethod
    def from_table(cls, value: dict[str, Any] | None) -> ShiftState | None:
        if value is None:
            return None
        return cls(
            **{
                **value,
                "decided": tuple(value.get("decided", ())),
                "parked": tuple(ParkedRequest(**p) for p in value.get("parked", ())),
            }
        )

    def with_decision(self, booking_id: str, *, filled: bool) -> ShiftState:
        return replace(
            self,
            decided=(*self.decided, booking_id),
            status="filled" if filled else self.status,
            filled_by=booking_id if filled else self.filled_by,
        )
