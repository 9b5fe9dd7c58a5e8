"""What the availability processor remembers per shift: small, JSON-able, one faust table row.

Besides the shift's own fields (to publish the view) it keeps what makes the processor
idempotent and ordered: the highest version applied (``version``), the highest version
the host platform itself sent (``vendor_version``, which orders its ShiftPosted/Updated/
Cancelled: the hub's own ShiftReleased bumps ``version`` but must not make the platform's
next update look old), the ids of recent events, the booking ids already decided and
the ones still pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from rosterhub.instants import from_ms, to_ms  # re-exported for the availability modules
from rosterhub.streams.plain import TableRow, tuples

__all__ = ["OPEN_STATUSES", "SEEN_KEPT", "ShiftView", "from_ms", "to_ms"]

#: Statuses in which the shift can be booked (REQUESTED: a decision is pending, the shift is not yet held).
OPEN_STATUSES = frozenset({"POSTED", "RELEASED", "REQUESTED"})
#: How many recent event ids a shift remembers for redelivery (versions and booking ids cover older ones).
SEEN_KEPT = 32


@dataclass(frozen=True, slots=True)
class ShiftView(TableRow):
    LISTS = ("pending", "decided", "seen")

    shift_id: str
    known: bool = False  # a ShiftPosted/Updated gave the shift's fields (booking facts can come first)
    status: str = "POSTED"
    version: int = 0
    vendor_version: int = 0
    revision: int = 0
    tier: str = "OWN_BANK"
    tier_since_ms: int = 0
    released: bool = False  # moved down the cascade at least once: open again means RELEASED, not POSTED
    trust_ods: str = ""
    trust_name: str | None = None
    vendor: str = ""
    vendor_shift_id: str = ""
    ward: str = ""
    staff_group: str = "OTHER"
    grade: str = ""
    shift_type: str = "OTHER"
    start_ms: int = 0
    end_ms: int = 0
    hourly_rate: str | None = None  # decimal as text
    booking_id: str | None = None
    filled_by: dict[str, Any] | None = None
    filled_via: str | None = None
    next_release_ms: int | None = None
    next_release_tier: str | None = None
    due_ms: int | None = None  # when the timer must look at this shift next (release or completion)
    pending: tuple[str, ...] = field(default_factory=tuple)  # requested booking ids awaiting a decision
    decided: tuple[str, ...] = field(default_factory=tuple)  # booking ids with a hub decision
    seen: tuple[str, ...] = field(default_factory=tuple)  # recent event ids

    @property
    def open(self) -> bool:
        return self.known and self.status in OPEN_STATUSES

    @classmethod
    def from_table(cls, value: Mapping[str, Any] | None) -> ShiftView | None:
        """As :meth:`TableRow.from_table`, but a key that is not a field of the view is ignored."""
        if value is None:
            return None
        names = {f.name for f in fields(cls)}
        return cls(**tuples({k: v for k, v in value.items() if k in names}, cls.LISTS))
