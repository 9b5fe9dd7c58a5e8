"""A simulated platform's own copy of the trust's shifts, as the hub's updates leave it.

Every simulator that receives the hub's updates (Patchwork, Locum's Nest, FHIR, HealthRoster,
NHSP, ESR) turns its wire format into the few operations below and applies them here, so a
test can ask each platform the same questions (:meth:`PlatformState.open_shifts`,
:meth:`PlatformState.shift`) and check that every platform converges to the hub's view.
Shifts are keyed by the hub's shift id (``<vendor>:<trust>:<id>``), which every update
carries. Updates are deduplicated on the hub's idempotency key, as a real receiver must.
Pure and thread-safe; no I/O.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

__all__ = ["OPS", "Op", "PlatformState", "ShiftCopy"]

Op = Literal["post", "offer", "withdraw", "confirm", "reject", "fill", "cancel", "no_show"]
OPS: tuple[str, ...] = get_args(Op)


@dataclass(frozen=True, slots=True)
class ShiftCopy:
    """One shift as this platform shows it."""

    shift_id: str
    status: str = "open"  # open | filled | withdrawn | cancelled | no_show
    own: bool = False  # the platform's own shift (else a partner's shift offered to it)
    booking_id: str | None = None
    filled_by: str | None = None  # worker name or register number, as the platform shows it
    reference: str | None = None  # the hub's idempotency key of the last update applied to it
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlatformState:
    """What one platform holds. ``apply`` returns False for a repeat (same key) or an unknown shift."""

    shifts: dict[str, ShiftCopy] = field(default_factory=dict)
    bookings: dict[str, str] = field(default_factory=dict)  # hub or platform booking id -> status
    applied: list[str] = field(default_factory=list)  # keys in the order they were applied
    #: hub timesheet id -> what the hub said of it (``status`` queried | approved, ``reason``, ``detail``...)
    timesheets: dict[str, dict[str, Any]] = field(default_factory=dict)
    repeats: int = 0
    _keys: set[str] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def open_shifts(self) -> set[str]:
        with self._lock:
            return {sid for sid, s in self.shifts.items() if s.status == "open"}

    def shift(self, shift_id: str) -> ShiftCopy | None:
        with self._lock:
            return self.shifts.get(shift_id)

    def seen(self, key: str) -> bool:
        with self._lock:
            return key in self._keys

    def _first(self, key: str) -> bool:
        """True the first time the hub's idempotency ``key`` arrives (then applied); a repeat is only counted.
        Called under the lock."""
        if key in self._keys:
            self.repeats += 1
            return False
        self._keys.add(key)
        self.applied.append(key)
        return True

    def timesheet(self, key: str, timesheet_id: str, status: str, **detail: Any) -> bool:
        """The hub queried or approved one of this platform's timesheets; False for a repeat (same key)."""
        with self._lock:
            if not self._first(key):
                return False
            self.timesheets[timesheet_id] = {"status": status, "reference": key, **detail}
            return True

    def apply(
        self,
        key: str,
        op: Op,
        shift_id: str,
        *,
        booking_id: str | None = None,
        worker: str | None = None,
        reopen: bool = False,
        **detail: Any,
    ) -> bool:
        """Apply one update (``key`` is the hub's idempotency key; ``post`` is the platform's own shift)."""
        if op not in OPS:
            raise ValueError(f"unknown operation {op!r}; known: {', '.join(OPS)}")
        with self._lock:
            if not self._first(key):
                return False
            current = self.shifts.get(shift_id)
            if booking_id is not None:
                status = {
                    "confirm": "confirmed",
                    "reject": "rejected",
                    "fill": "confirmed",
                    "cancel": "cancelled",
                    "no_show": "no_show",
                }.get(op)
                if status:
                    self.bookings[booking_id] = status
            if op in ("post", "offer"):
                base = current or ShiftCopy(shift_id, own=op == "post")
                self.shifts[shift_id] = replace(
                    base,
                    status="open",
                    booking_id=None,
                    filled_by=None,
                    reference=key,
                    detail={**base.detail, **detail},
                )
                return True
            if current is None:
                if op not in ("fill", "cancel", "no_show", "withdraw"):
                    return True  # a booking decision about a shift this platform does not list
                current = ShiftCopy(shift_id, status="open", own=True)
            if op == "withdraw":
                new = replace(current, status="withdrawn")
            elif op == "fill":
                new = replace(current, status="filled", booking_id=booking_id, filled_by=worker)
            elif op == "cancel":
                new = replace(current, status="open" if reopen else "cancelled", booking_id=None, filled_by=None)
            elif op == "no_show":
                new = replace(current, status="no_show")
            else:  # confirm / reject on a listed shift: the shift itself follows from fill / withdraw
                return True
            self.shifts[shift_id] = replace(new, reference=key, detail={**new.detail, **detail})
            return True
