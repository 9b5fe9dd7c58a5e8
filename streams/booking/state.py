"""What the booking processor remembers per shift: small, JSON-able, versioned.

Kept in a faust table keyed by shift id (changelog-backed), so a restarted worker
resumes with the same answers. Only ids, versions, instants and the requests waiting.

A request can arrive before its shift: the two live on different topics, and Kafka
orders records only within one partition of one topic. Such a request is *parked* on
an ``awaiting_shift`` state and decided when the shift arrives, or rejected with
``SHIFT_UNKNOWN`` once a grace period has passed (a timer, not the next event).

The saga (docs/decisions/0007-booking-saga.md) adds a *hold*: while the person stage
checks one request, the shift is held for it and later requests wait in ``queue``, in
arrival order, to be decided after the hold resolves (or times out: ``hold_check`` keeps
the check as sent so it can be re-sent with the same ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from rosterhub.instants import from_ms, to_ms  # re-exported: the booking modules import them from here
from rosterhub.streams.plain import row

__all__ = ["ParkedRequest", "ShiftState", "from_ms", "to_ms"]


@dataclass(frozen=True, slots=True)
class ParkedRequest:
    """A BookingRequested waiting (for its shift, or behind a hold), as the envelope's JSON-able parts.

    ``extra`` holds what the rules need from the request (membership, grade, staff group, home trust,
    agency, framework, charge rate as a string, break glass, authoriser, WTR opt-out).
    """

    event_id: str
    source: str
    booking_id: str
    worker: dict[str, Any]
    vendor: str
    requested_at_ms: int
    parked_at_ms: int
    extra: dict[str, Any] = field(default_factory=dict)
    #: The person's identity version the stamp was made at (docs/decisions/0012); None: not stamped
    person_v: int | None = None

    @property
    def person_id(self) -> str | None:
        return self.worker.get("person_id")

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> ParkedRequest | None:
        return None if value is None else cls(**value)


@dataclass(frozen=True, slots=True)
class ShiftState:
    shift_id: str
    status: str  # "awaiting_shift" | "open" | "filled" | "cancelled" | "no_show"
    version: int = 0
    trust_ods: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    trust_name: str | None = None
    filled_by: str | None = None  # booking id that filled it
    decided: tuple[str, ...] = field(default_factory=tuple)  # booking ids already decided (idempotency)
    parked: tuple[ParkedRequest, ...] = field(default_factory=tuple)
    # What the shift rules need (from ShiftPosted / ShiftUpdated / ShiftReleased).
    staff_group: str | None = None
    grade: str | None = None
    tier: str = "OWN_BANK"
    shift_type: str = "OTHER"
    rate: str | None = None  # bank hourly rate, decimal as a string
    vendor: str | None = None  # host platform
    posted_at_ms: int | None = None
    # The saga: the request the person stage is checking, the ones waiting behind it, the one that filled it.
    hold: ParkedRequest | None = None
    queue: tuple[ParkedRequest, ...] = field(default_factory=tuple)
    filled: ParkedRequest | None = None
    withdrawn: tuple[str, ...] = field(default_factory=tuple)  # held booking ids the vendor cancelled meanwhile
    # The hold's timer (docs/decisions/0007): the check as sent, when the hold began and when the check was last
    # sent, so a hold whose answer never comes re-sends the same check and, later, gives up.
    hold_check: dict[str, Any] | None = None
    held_at_ms: int | None = None
    hold_sent_ms: int | None = None
    hold_resends: int = 0
    #: The person stage refused the hold's stamp as older than this identity version: the request waits, held,
    #: until this worker's crosswalk copy has applied that version and stamps it again (docs/decisions/0012).
    hold_restamp: int | None = None
    #: The records the last inputs of this shift sent, by input (streams/outbox.py, docs/decisions/0013): an input
    #: delivered again after a crash sends them again instead of finding its effect here and sending nothing.
    outbox: tuple[Any, ...] = ()

    def to_table(self) -> dict[str, Any]:
        # asdict's value without its deepcopy: written several times per decision
        return row(self, lists=("decided", "withdrawn", "parked", "queue"))

    @classmethod
    def from_table(cls, value: dict[str, Any] | None) -> ShiftState | None:
        if value is None:
            return None
        return cls(
            **{
                **value,
                "decided": tuple(value.get("decided", ())),
                "withdrawn": tuple(value.get("withdrawn", ())),
                "parked": tuple(ParkedRequest(**p) for p in value.get("parked", ())),
                "queue": tuple(ParkedRequest(**p) for p in value.get("queue", ())),
                "hold": ParkedRequest.from_json(value.get("hold")),
                "filled": ParkedRequest.from_json(value.get("filled")),
                "outbox": tuple(tuple(e) for e in value.get("outbox", ())),
            }
        )

    def waiting(self, booking_id: str) -> bool:
        """The booking is parked, held or queued here (a redelivered request changes nothing)."""
        pending = (*self.parked, *self.queue, *((self.hold,) if self.hold else ()))
        return any(p.booking_id == booking_id for p in pending)

    def with_decision(self, booking_id: str, *, filled: bool, request: ParkedRequest | None = None) -> ShiftState:
        return replace(
            self,
            decided=(*self.decided, booking_id),
            status="filled" if filled else self.status,
            filled_by=booking_id if filled else self.filled_by,
            filled=request if filled else self.filled,
        )
