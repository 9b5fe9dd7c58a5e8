"""What the booking processor remembers per shift: small, JSON-able, versioned.

Kept in a faust table keyed by shift id (changelog-backed), so a restarted worker
resumes with the same answers. Only ids, versions and instants: never whole documents.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

__all__ = ["ShiftState", "from_ms", "to_ms"]


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class ShiftState:
    shift_id: str
    version: int
    status: str  # "open" | "filled"
    trust_ods: str
    start_ms: int
    end_ms: int
    trust_name: str | None = None
    filled_by: str | None = None  # booking id that filled it
    decided: tuple[str, ...] = field(default_factory=tuple)  # booking ids already decided (idempotency)

    def to_table(self) -> dict[str, Any]:
        d = asdict(self)
        d["decided"] = list(self.decided)
        return d

    @classmethod
    def from_table(cls, value: dict[str, Any] | None) -> ShiftState | None:
        if value is None:
            return None
        return cls(**{**value, "decided": tuple(value.get("decided", ()))})

    def with_decision(self, booking_id: str, *, filled: bool) -> ShiftState:
        return replace(
            self,
            decided=(*self.decided, booking_id),
            status="filled" if filled else self.status,
            filled_by=booking_id if filled else self.filled_by,
        )
