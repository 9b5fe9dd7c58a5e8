"""What one input to the shift stage produces (:class:`Step`), and the event types it reads and writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.models import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    NoShow,
    ShiftCancelled,
    ShiftFilled,
    ShiftPosted,
    ShiftReleased,
    ShiftUpdated,
)
from rosterhub.streams.booking.messages import Check, Release, Retime
from rosterhub.streams.booking.state import ShiftState

__all__ = [
    "BOOKING_CANCELLED",
    "BOOKING_CONFIRMED",
    "BOOKING_REJECTED",
    "BOOKING_REQUESTED",
    "NO_SHOW",
    "SHIFT_CANCELLED",
    "SHIFT_FILLED",
    "SHIFT_POSTED",
    "SHIFT_RELEASED",
    "SHIFT_UPDATED",
    "SOURCE",
    "Step",
    "ToPerson",
]

SHIFT_POSTED = ShiftPosted.AVRO_NAME
SHIFT_UPDATED = ShiftUpdated.AVRO_NAME
SHIFT_RELEASED = ShiftReleased.AVRO_NAME
SHIFT_CANCELLED = ShiftCancelled.AVRO_NAME
BOOKING_REQUESTED = BookingRequested.AVRO_NAME
BOOKING_CONFIRMED = BookingConfirmed.AVRO_NAME
BOOKING_REJECTED = BookingRejected.AVRO_NAME
BOOKING_CANCELLED = BookingCancelled.AVRO_NAME
SHIFT_FILLED = ShiftFilled.AVRO_NAME
NO_SHOW = NoShow.AVRO_NAME
#: The booking processor's CloudEvents source, declared once: the decision index, availability, KPI and payroll
#: tell its outcomes from vendors' events of the same type by it.
SOURCE = "/rosterhub/booking"

#: What the shift stage sends the person stage (key: person id).
ToPerson = Check | Release | Retime


@dataclass(frozen=True, slots=True)
class Step:
    """What one input produced: the new state, events for events.booking, messages for the person stage."""

    state: ShiftState | None
    outputs: list[Envelope] = field(default_factory=list)
    person: list[ToPerson] = field(default_factory=list)  # saga checks, releases and retimes


def hub_event(
    type_: str,
    kind: str,
    booking_id: str,
    data: dict[str, Any],
    *,
    now: datetime,
    cause: str,
    subject: str | None = None,
) -> Envelope:
    """An event the shift stage writes: its id derived from the booking id (the same on every re-decision), caused
    by ``cause``; the subject is the booking unless the event is about something else (ShiftFilled: the shift)."""
    return Envelope(
        type=type_,
        source=SOURCE,
        data=data,
        id=event_id(kind, booking_id),
        subject=booking_id if subject is None else subject,
        time=now,
        extensions={"causationid": cause},
    )
